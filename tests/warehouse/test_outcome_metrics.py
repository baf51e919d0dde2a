"""The outcome marts (outcome-metrics.md §2–§6 and the §7 clarifications), checked against small
cases computed by hand from the spec's formulas.

Every expected value is written out here from the spec; nothing is taken from the code under
test. Each test builds its own small warehouse from `staging.*` and reads `mart.*`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry, load_instrument_registry, parse_instrument_registry
from tests.warehouse.staging import CBCL, CBCL_JEUGDIGE, END, Staging, approx, fetch
from warehouse.sql import execute

REPO = Path(__file__).resolve().parents[2]

# The spec's rows (delivery-format §7) for CBCL and SDQ, plus WELZIJN: an invented scale on which a
# higher score is BETTER (d = -1), so that the reversed direction can be checked.
REGISTRY_CSV = """instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff
CBCL,totaal,24,100,true,10,0.94,64
SDQ,totaal,0,40,true,5.8,0.80,17
WELZIJN,totaal,0,100,false,10,0.84,40
"""
REGISTRY = parse_instrument_registry(REGISTRY_CSV)

# S_diff = sqrt(2) · sd_ref · sqrt(1 − r)  (outcome-metrics §3)
S_DIFF_CBCL = math.sqrt(2) * 10 * math.sqrt(1 - 0.94)  # = sqrt(12) ≈ 3.464102; 1.96·S_diff ≈ 6.7896
S_DIFF_SDQ = math.sqrt(2) * 5.8 * math.sqrt(1 - 0.80)  # ≈ 3.668242; 1.96·S_diff ≈ 7.1898
S_DIFF_WELZIJN = math.sqrt(2) * 10 * math.sqrt(1 - 0.84)  # = sqrt(32) ≈ 5.656854; 1.96·S_diff ≈ 11.0874

# Student t, 0.975 quantile, from a printed table (not computed).
T975 = {2: 4.302653, 9: 2.262157, 10: 2.228139}

SDQ = ("SDQ", "totaal", "ouder")
WELZIJN = ("WELZIJN", "totaal", "jeugdige")

SCORE_COLUMNS = [
    "level", "organisation", "team", "intervention", "period", "instrument", "schaal",
    "informant", "n_ended", "n_paired", "response_rate", "mean_start", "mean_end",
    "mean_improvement", "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved",
    "pct_unchanged", "pct_deteriorated", "n_clinical_start", "pct_recovered", "suppressed",
]
TRAJECTORY_COLUMNS = [
    "level", "organisation", "team", "intervention", "period", "n_ended", "pct_planned_end",
    "pct_goals_achieved", "mean_satisfaction", "suppressed",
]
GROUP_KEY = ("level", "organisation", "team", "intervention", "period")
SCORE_KEY = (*GROUP_KEY, "instrument", "schaal", "informant")


@pytest.fixture
def registry() -> InstrumentRegistry:
    """What `wh.build()` uses here unless a test passes another (the shared `wh` asks for it)."""
    return REGISTRY


def _where(level: str, period: str, organisation: str | None, team: str | None,
           intervention: str | None) -> tuple[str, list]:
    return (
        "level = ? AND period = ? AND organisation IS NOT DISTINCT FROM ? "
        "AND team IS NOT DISTINCT FROM ? AND intervention IS NOT DISTINCT FROM ?",
        [level, period, organisation, team, intervention],
    )


def score_rows(
    wh: Staging,
    level: str = "consortium",
    period: str = "all",
    organisation: str | None = None,
    team: str | None = None,
    intervention: str | None = None,
    measure: tuple[str, str, str] = CBCL,
) -> list[dict]:
    where, params = _where(level, period, organisation, team, intervention)
    return fetch(
        wh.con,
        f"SELECT * FROM mart.outcome_scores WHERE {where} "
        "AND instrument = ? AND schaal = ? AND informant = ?",
        [*params, *measure],
    )


def score_row(wh: Staging, **group: object) -> dict:
    rows = score_rows(wh, **group)
    assert len(rows) == 1, rows
    return rows[0]


def trajectory_rows(
    wh: Staging,
    level: str = "consortium",
    period: str = "all",
    organisation: str | None = None,
    team: str | None = None,
    intervention: str | None = None,
) -> list[dict]:
    where, params = _where(level, period, organisation, team, intervention)
    return fetch(wh.con, f"SELECT * FROM mart.trajectory_indicators WHERE {where}", params)


def trajectory_row(wh: Staging, **group: object) -> dict:
    rows = trajectory_rows(wh, **group)
    assert len(rows) == 1, rows
    return rows[0]


# --- §2 start and end score -------------------------------------------------------------------


def test_pairing_uses_earliest_start_and_latest_end(wh: Staging) -> None:
    wh.trajectory("t1", einddatum=END)
    # inserted out of date order, so the file's line order cannot decide
    wh.measurement("t1", "start", "2025-02-10", 60)  # later start: not x_s
    wh.measurement("t1", "start", "2025-01-10", 70)  # earliest start: x_s = 70
    wh.measurement("t1", "tussen", "2025-03-10", 40)  # tussen: never used
    wh.measurement("t1", "eind", "2025-06-01", 58)  # latest eind: x_e = 58
    wh.measurement("t1", "eind", "2025-05-01", 66)  # earlier eind: not x_e
    wh.measurement("t1", "tussen", "2025-06-05", 30)  # a tussen after the last eind: not x_e
    wh.build()

    row = score_row(wh)
    assert row["n_paired"] == 1
    assert row["n_ended"] == 1
    assert row["mean_start"] == approx(70)
    assert row["mean_end"] == approx(58)
    assert row["mean_improvement"] == approx(+1 * (70 - 58))  # CBCL: higher is worse, d = +1


def test_pairing_requires_end_dated_after_start(wh: Staging) -> None:
    # a: start and eind on the same day -> no pair
    wh.trajectory("a", einddatum=END)
    wh.measurement("a", "start", "2025-03-01", 70)
    wh.measurement("a", "eind", "2025-03-01", 60)
    # b: eind before start -> no pair
    wh.trajectory("b", einddatum=END)
    wh.measurement("b", "start", "2025-03-01", 70)
    wh.measurement("b", "eind", "2025-02-01", 60)
    # c: only a start; d: start and tussen only; e: only an eind -> no pair
    wh.trajectory("c", einddatum=END)
    wh.measurement("c", "start", "2025-01-10", 70)
    wh.trajectory("d", einddatum=END)
    wh.measurement("d", "start", "2025-01-10", 70)
    wh.measurement("d", "tussen", "2025-04-10", 60)
    wh.trajectory("e", einddatum=END)
    wh.measurement("e", "eind", "2025-06-10", 60)
    # f: start by the parent, eind by the youth: two measures, neither paired
    wh.trajectory("f", einddatum=END)
    wh.measurement("f", "start", "2025-01-10", 70, measure=CBCL)
    wh.measurement("f", "eind", "2025-06-10", 60, measure=CBCL_JEUGDIGE)
    # g: eind one day after start -> the only pair, 80 -> 75
    wh.trajectory("g", einddatum=END)
    wh.measurement("g", "start", "2025-01-10", 80)
    wh.measurement("g", "eind", "2025-01-11", 75)
    wh.build()

    row = score_row(wh)
    assert row["n_ended"] == 7
    assert row["n_paired"] == 1
    assert row["mean_start"] == approx(80)
    assert row["mean_end"] == approx(75)
    assert row["response_rate"] == approx(1 / 7)
    assert score_rows(wh, measure=CBCL_JEUGDIGE) == []


def test_pairing_excludes_running_trajectories(wh: Staging) -> None:
    wh.trajectory("running", einddatum=None)  # no einddatum, yet start and eind scores
    wh.scores("running", 70, 60)
    wh.pair("ended", 80, 70)
    # provider p2 has only a running trajectory (with scores): no rows at all for p2
    wh.trajectory("p2-running", provider="p2", einddatum=None)
    wh.scores("p2-running", 75, 55, provider="p2")
    wh.build()

    row = score_row(wh)
    assert row["n_ended"] == 1
    assert row["n_paired"] == 1
    assert row["mean_start"] == approx(80)
    assert row["mean_improvement"] == approx(80 - 70)
    assert trajectory_row(wh)["n_ended"] == 1
    assert score_rows(wh, level="organisation", organisation="p2") == []
    assert trajectory_rows(wh, level="organisation", organisation="p2") == []


# --- §3 improvement, RCI, clinical status --------------------------------------------------------


def test_improvement_higher_is_worse_uses_d_plus_one(wh: Staging) -> None:
    wh.pair("t1", 70, 60)  # Δ = +1·(70 − 60) = 10
    wh.pair("t2", 66, 68)  # Δ = +1·(66 − 68) = −2
    wh.pair("t3", 80, 62)  # Δ = +1·(80 − 62) = 18
    wh.build()

    row = score_row(wh)
    assert row["n_paired"] == 3
    assert row["mean_start"] == approx((70 + 66 + 80) / 3)
    assert row["mean_end"] == approx((60 + 68 + 62) / 3)
    assert row["mean_improvement"] == approx((10 - 2 + 18) / 3)


def test_improvement_lower_is_worse_uses_d_minus_one(wh: Staging) -> None:
    wh.pair("t1", 30, 45, measure=WELZIJN)  # Δ = −1·(30 − 45) = 15
    wh.pair("t2", 50, 42, measure=WELZIJN)  # Δ = −1·(50 − 42) = −8
    wh.pair("t3", 20, 20, measure=WELZIJN)  # Δ = 0
    wh.build()

    row = score_row(wh, measure=WELZIJN)
    assert row["n_paired"] == 3
    assert row["mean_start"] == approx((30 + 50 + 20) / 3)
    assert row["mean_end"] == approx((45 + 42 + 20) / 3)
    assert row["mean_improvement"] == approx((15 - 8 + 0) / 3)


def test_rci_classes_just_around_plus_and_minus_1_96(wh: Staging) -> None:
    # 1.96 · sqrt(12) = 6.78964; my own arithmetic, checked:
    # 6.7897 / sqrt(12) ≈ 1.960018 and 6.7896 / sqrt(12) ≈ 1.959989
    assert 6.7897 / S_DIFF_CBCL > 1.96 > 6.7896 / S_DIFF_CBCL
    wh.pair("a", 70, 63.2103)  # Δ = 6.7897   RCI ≈ +1.960018 -> improved
    wh.pair("b", 70, 63.2104)  # Δ = 6.7896   RCI ≈ +1.959989 -> unchanged
    wh.pair("c", 63.2103, 70)  # Δ = −6.7897  RCI ≈ −1.960018 -> deteriorated
    wh.pair("d", 63.2104, 70)  # Δ = −6.7896  RCI ≈ −1.959989 -> unchanged
    wh.pair("e", 70, 70)  # Δ = 0         RCI = 0 -> unchanged
    wh.pair("f", 80, 60)  # Δ = 20        RCI ≈ 5.77 -> improved
    # the shipped registry holds the spec's CBCL totaal row (sd_ref 10, r 0.94)
    wh.build(registry=load_instrument_registry(REPO / "schemas" / "defaults" / "instruments.csv"))

    row = score_row(wh)
    assert row["n_paired"] == 6
    assert row["pct_improved"] == approx(2 / 6)
    assert row["pct_unchanged"] == approx(3 / 6)
    assert row["pct_deteriorated"] == approx(1 / 6)


def test_rci_uses_each_measures_sd_ref_and_r(wh: Staging) -> None:
    # SDQ: S_diff ≈ 3.668242. Δ 7.2 -> 1.96279 improved; Δ 7.18 -> 1.95734 unchanged
    # (with CBCL's S_diff, Δ 7.18 would be 2.07: improved)
    assert 7.2 / S_DIFF_SDQ > 1.96 > 7.18 / S_DIFF_SDQ
    wh.pair("s1", 20, 12.8, measure=SDQ)
    wh.pair("s2", 20, 12.82, measure=SDQ)
    # WELZIJN (higher is better): S_diff ≈ 5.656854. Δ = −(30 − 41.09) = 11.09 -> 1.96046
    # improved; Δ = 11.08 -> 1.95869 unchanged; Δ = −(41.09 − 30) = −11.09 -> deteriorated
    assert 11.09 / S_DIFF_WELZIJN > 1.96 > 11.08 / S_DIFF_WELZIJN
    wh.pair("w1", 30, 41.09, measure=WELZIJN)
    wh.pair("w2", 30, 41.08, measure=WELZIJN)
    wh.pair("w3", 41.09, 30, measure=WELZIJN)
    wh.build()

    sdq = score_row(wh, measure=SDQ)
    assert (sdq["pct_improved"], sdq["pct_unchanged"], sdq["pct_deteriorated"]) == (
        approx(1 / 2), approx(1 / 2), approx(0))
    welzijn = score_row(wh, measure=WELZIJN)
    assert (welzijn["pct_improved"], welzijn["pct_unchanged"], welzijn["pct_deteriorated"]) == (
        approx(1 / 3), approx(1 / 3), approx(1 / 3))


def test_clinical_recovery_higher_is_worse(wh: Staging) -> None:
    # CBCL cut-off 64: clinical at start when x_s ≥ 64, non-clinical at end when x_e < 64;
    # reliably improved when Δ > 1.96·sqrt(12) ≈ 6.79
    wh.pair("a", 64, 50)  # clinical (boundary), end 50 < 64, Δ 14 improved -> recovered
    wh.pair("b", 63, 40)  # not clinical at start (Δ 23 improved)
    wh.pair("c", 75, 64)  # clinical, end 64 is not < 64 -> not recovered (Δ 11 improved)
    wh.pair("d", 68, 63)  # clinical, non-clinical end, Δ 5 unchanged -> not recovered
    wh.pair("e", 80, 60)  # clinical, non-clinical end, Δ 20 improved -> recovered
    wh.build()

    row = score_row(wh)
    assert row["n_clinical_start"] == 4  # a, c, d, e
    assert row["pct_recovered"] == approx(2 / 4)  # a, e
    assert row["pct_improved"] == approx(4 / 5)  # a, b, c, e
    assert row["pct_unchanged"] == approx(1 / 5)  # d


def test_clinical_recovery_null_when_no_one_clinical_at_start(wh: Staging) -> None:
    wh.pair("a", 63, 40)  # 63 < 64: not clinical
    wh.pair("b", 50, 45)
    wh.build()

    row = score_row(wh)
    assert row["n_clinical_start"] == 0
    assert row["pct_recovered"] is None
    assert row["n_paired"] == 2


def test_clinical_recovery_lower_is_worse(wh: Staging) -> None:
    # WELZIJN cut-off 40, higher is better: clinical at start when x_s ≤ 40, non-clinical at end
    # when x_e > 40; reliably improved when Δ = −(x_s − x_e) > 1.96·sqrt(32) ≈ 11.09
    wh.pair("a", 40, 55, measure=WELZIJN)  # clinical (boundary), 55 > 40, Δ 15 -> recovered
    wh.pair("b", 41, 60, measure=WELZIJN)  # 41 > 40: not clinical (Δ 19 improved)
    wh.pair("c", 28, 40, measure=WELZIJN)  # clinical, end 40 not > 40 (Δ 12 improved)
    wh.pair("d", 35, 45, measure=WELZIJN)  # clinical, 45 > 40, Δ 10 unchanged -> not recovered
    wh.build()

    row = score_row(wh, measure=WELZIJN)
    assert row["n_clinical_start"] == 3  # a, c, d
    assert row["pct_recovered"] == approx(1 / 3)  # a
    assert row["pct_improved"] == approx(3 / 4)  # a, b, c


# --- §4 group score figures --------------------------------------------------------------------


def test_group_figures_three_pairs(wh: Staging) -> None:
    starts, ends = [70, 66, 80], [60, 64, 62]
    for i, (x_s, x_e) in enumerate(zip(starts, ends, strict=True)):
        wh.pair(f"t{i}", x_s, x_e)
    wh.build()
    # Δ = 10, 2, 18; mean 10; Σ(Δ − 10)² = 0 + 64 + 64 = 128; sd = sqrt(128 / 2) = 8
    # starts: mean 72; Σ(x_s − 72)² = 4 + 36 + 64 = 104; sd_start = sqrt(104 / 2) = sqrt(52)
    # CI: 10 ± t(0.975, 2) · 8 / sqrt(3) = 10 ± 19.873078
    half = T975[2] * 8 / math.sqrt(3)

    row = score_row(wh)
    assert row["n_paired"] == 3
    assert row["mean_start"] == approx(72)
    assert row["mean_end"] == approx(62)
    assert row["mean_improvement"] == approx(10)
    assert row["sd_improvement"] == approx(8)
    assert row["ci_low"] == pytest.approx(10 - half, abs=1e-5)
    assert row["ci_high"] == pytest.approx(10 + half, abs=1e-5)
    assert row["effect_size"] == approx(10 / math.sqrt(52))


def test_group_figures_ten_pairs_use_t_with_nine_df(wh: Staging) -> None:
    # x_s = 70 + i, x_e = 70 − i, so Δ = 2i for i = 0..9
    for i in range(10):
        wh.pair(f"t{i}", 70 + i, 70 - i)
    wh.build()
    # mean Δ = 2·4.5 = 9; Σ(Δ − 9)² = 81+49+25+9+1+1+9+25+49+81 = 330; sd = sqrt(330 / 9)
    sd = math.sqrt(330 / 9)
    # starts 70..79: mean 74.5; Σ(x_s − 74.5)² = 2·(0.25+2.25+6.25+12.25+20.25) = 82.5
    sd_start = math.sqrt(82.5 / 9)
    half = T975[9] * sd / math.sqrt(10)

    row = score_row(wh)
    assert row["n_paired"] == 10
    assert row["mean_start"] == approx(74.5)
    assert row["mean_end"] == approx(65.5)
    assert row["mean_improvement"] == approx(9)
    assert row["sd_improvement"] == approx(sd)
    assert row["ci_low"] == pytest.approx(9 - half, abs=1e-5)
    assert row["ci_high"] == pytest.approx(9 + half, abs=1e-5)
    assert row["effect_size"] == approx(9 / sd_start)


def test_group_effect_size_null_when_sd_start_is_zero(wh: Staging) -> None:
    # every start 80, x_e = 80 − i, so Δ = i for i = 0..10
    for i in range(11):
        wh.pair(f"t{i}", 80, 80 - i)
    wh.build()
    # mean Δ = 5; Σ(Δ − 5)² = 2·(25+16+9+4+1) = 110; sd = sqrt(110 / 10) = sqrt(11)
    # CI: 5 ± t(0.975, 10) · sqrt(11) / sqrt(11) = 5 ± 2.228139
    row = score_row(wh)
    assert row["n_paired"] == 11
    assert row["mean_improvement"] == approx(5)
    assert row["sd_improvement"] == approx(math.sqrt(11))
    assert row["ci_low"] == pytest.approx(5 - T975[10], abs=1e-5)
    assert row["ci_high"] == pytest.approx(5 + T975[10], abs=1e-5)
    assert row["effect_size"] is None  # sd_start = 0


def test_group_single_pair_has_no_sd_ci_or_effect_size(wh: Staging) -> None:
    wh.pair("t1", 70, 61)
    wh.build()

    row = score_row(wh)
    assert row["n_paired"] == 1
    assert row["mean_start"] == approx(70)
    assert row["mean_end"] == approx(61)
    assert row["mean_improvement"] == approx(9)
    assert row["sd_improvement"] is None
    assert row["ci_low"] is None
    assert row["ci_high"] is None
    assert row["effect_size"] is None  # sd_start undefined for n = 1


def test_levels_group_by_the_right_columns(wh: Staging) -> None:
    # team "A" exists at both providers: the team level groups by provider AND team
    wh.pair("t1", 70, 60, provider="p1", team="A", interventie="I1")  # Δ 10
    wh.pair("t2", 72, 70, provider="p1", team="A", interventie="I2")  # Δ 2
    wh.pair("t3", 80, 62, provider="p1", team="B", interventie="I1")  # Δ 18
    wh.pair("t4", 66, 60, provider="p2", team="A", interventie="I1")  # Δ 6
    wh.build()

    # (level, organisation, team, intervention): (n, mean Δ)
    expected = {
        ("consortium", None, None, None): (4, (10 + 2 + 18 + 6) / 4),
        ("organisation", "p1", None, None): (3, (10 + 2 + 18) / 3),
        ("organisation", "p2", None, None): (1, 6),
        ("team", "p1", "A", None): (2, (10 + 2) / 2),
        ("team", "p1", "B", None): (1, 18),
        ("team", "p2", "A", None): (1, 6),
        ("intervention", None, None, "I1"): (3, (10 + 18 + 6) / 3),
        ("intervention", None, None, "I2"): (1, 2),
        ("organisation_intervention", "p1", None, "I1"): (2, (10 + 18) / 2),
        ("organisation_intervention", "p1", None, "I2"): (1, 2),
        ("organisation_intervention", "p2", None, "I1"): (1, 6),
    }
    for period in ("all", "2025"):  # every einddatum lies in 2025
        scores = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE period = ?", [period])
        got = {(r["level"], r["organisation"], r["team"], r["intervention"]): r for r in scores}
        assert len(scores) == len(got) == len(expected)
        assert set(got) == set(expected)
        for group, (n, mean) in expected.items():
            assert got[group]["n_paired"] == n, group
            assert got[group]["n_ended"] == n, group
            assert got[group]["mean_improvement"] == approx(mean), group
        trajectories = fetch(
            wh.con, "SELECT * FROM mart.trajectory_indicators WHERE period = ?", [period])
        got_t = {(r["level"], r["organisation"], r["team"], r["intervention"]): r["n_ended"]
                 for r in trajectories}
        assert len(trajectories) == len(got_t)
        assert got_t == {group: n for group, (n, _) in expected.items()}


def test_periods_calendar_year_of_einddatum_and_all(wh: Staging) -> None:
    wh.pair("t1", 70, 60, einddatum="2024-12-31", start="2024-06-01", end="2024-12-01")  # Δ 10
    wh.pair("t2", 80, 62, einddatum="2025-01-01", start="2024-06-01", end="2024-12-20")  # Δ 18
    wh.trajectory("t3", einddatum="2025-06-15")  # ended, no scores
    wh.trajectory("t4", einddatum=None)  # running: no period at all
    wh.scores("t4", 90, 50)
    wh.build()

    periods = {r[0] for r in execute(wh.con, "SELECT DISTINCT period FROM mart.outcome_scores")}
    periods |= {r[0] for r in execute(
        wh.con, "SELECT DISTINCT period FROM mart.trajectory_indicators")}
    assert periods == {"2024", "2025", "all"}

    assert trajectory_row(wh, period="2024")["n_ended"] == 1
    assert trajectory_row(wh, period="2025")["n_ended"] == 2
    assert trajectory_row(wh, period="all")["n_ended"] == 3
    y2024, y2025, every = (score_row(wh, period=p) for p in ("2024", "2025", "all"))
    assert (y2024["n_paired"], y2024["mean_improvement"], y2024["response_rate"]) == (
        1, approx(10), approx(1 / 1))
    assert (y2025["n_paired"], y2025["mean_improvement"], y2025["response_rate"]) == (
        1, approx(18), approx(1 / 2))
    assert (every["n_paired"], every["mean_improvement"], every["response_rate"]) == (
        2, approx((10 + 18) / 2), approx(2 / 3))


def test_levels_null_the_columns_they_do_not_group_by(wh: Staging) -> None:
    wh.pair("t1", 70, 60, provider="p1", team="A", interventie="I1")
    wh.pair("t2", 72, 70, provider="p2", team="B", interventie="I2")
    wh.build()

    # which of organisation, team, intervention each level fills
    filled = {
        "consortium": (False, False, False),
        "organisation": (True, False, False),
        "team": (True, True, False),
        "intervention": (False, False, True),
        "organisation_intervention": (True, False, True),
    }
    for table in ("mart.outcome_scores", "mart.trajectory_indicators"):
        rows = fetch(wh.con, f"SELECT * FROM {table}")
        assert {r["level"] for r in rows} == set(filled)
        for r in rows:
            shape = tuple(r[c] is not None for c in ("organisation", "team", "intervention"))
            assert shape == filled[r["level"]], (table, r)
        assert {r["organisation"] for r in rows if r["level"] == "organisation"} == {"p1", "p2"}


# --- §4 trajectory figures and response rate ---------------------------------------------------


def test_trajectory_figures_planned_end_goals_satisfaction(wh: Staging) -> None:
    wh.trajectory("a", einddatum=END, reden_einde=1, doelrealisatie=1, tevredenheid=7.5)
    wh.trajectory("b", einddatum=END, reden_einde=1, doelrealisatie=3, tevredenheid=8)
    wh.trajectory("c", einddatum=END, reden_einde=2, doelrealisatie=2, tevredenheid=None)
    wh.trajectory("d", einddatum=END, reden_einde=3, doelrealisatie=None, tevredenheid=6)
    wh.trajectory("e", einddatum=END, reden_einde=5, doelrealisatie=1, tevredenheid=9)
    wh.trajectory("f", einddatum=END, reden_einde=4, doelrealisatie=None, tevredenheid=None)
    wh.trajectory("running", einddatum=None, doelrealisatie=1, tevredenheid=10)  # not ended
    wh.build()

    row = trajectory_row(wh)
    assert row["n_ended"] == 6
    # reden 1 among those not 5: a, b of a, b, c, d, f
    assert row["pct_planned_end"] == approx(2 / 5)
    # doelrealisatie 1 or 2 among known (a 1, b 3, c 2, e 1): a, c, e
    assert row["pct_goals_achieved"] == approx(3 / 4)
    # tevredenheid known for a, b, d, e
    assert row["mean_satisfaction"] == approx((7.5 + 8 + 6 + 9) / 4)
    assert row["suppressed"] is False


def test_trajectory_figures_null_when_nothing_to_compute(wh: Staging) -> None:
    wh.trajectory("a", provider="p2", einddatum=END, reden_einde=5)
    wh.trajectory("b", provider="p2", einddatum=END, reden_einde=5)
    wh.build()

    row = trajectory_row(wh, level="organisation", organisation="p2")
    assert row["n_ended"] == 2
    assert row["pct_planned_end"] is None  # denominator (not reden 5) is 0
    assert row["pct_goals_achieved"] is None  # no doelrealisatie known
    assert row["mean_satisfaction"] is None  # no tevredenheid known
    assert row["suppressed"] is False


def test_reden_einde_5_counts_in_n_ended_scores_goals_and_satisfaction(wh: Staging) -> None:
    wh.pair("a", 70, 60, reden_einde=1, doelrealisatie=3, tevredenheid=6)  # Δ 10
    wh.pair("b", 80, 60, reden_einde=5, doelrealisatie=1, tevredenheid=9)  # Δ 20
    wh.trajectory("c", einddatum=END, reden_einde=2)
    wh.trajectory("d", einddatum=END, reden_einde=5)
    wh.build()

    scores = score_row(wh)
    assert scores["n_ended"] == 4
    assert scores["n_paired"] == 2
    assert scores["response_rate"] == approx(2 / 4)
    assert scores["mean_improvement"] == approx((10 + 20) / 2)
    trajectories = trajectory_row(wh)
    assert trajectories["n_ended"] == 4
    assert trajectories["pct_planned_end"] == approx(1 / 2)  # a of a, c
    assert trajectories["pct_goals_achieved"] == approx(1 / 2)  # b of a, b
    assert trajectories["mean_satisfaction"] == approx((6 + 9) / 2)


def test_response_rate_is_per_measure(wh: Staging) -> None:
    # four ended trajectories; CBCL paired for three, SDQ for one, CBCL-by-youth for two
    for tid in ("a", "b", "c", "d"):
        wh.trajectory(tid, einddatum=END)
    for tid in ("a", "b", "c"):
        wh.scores(tid, 70, 60, measure=CBCL)
    wh.scores("a", 20, 10, measure=SDQ)
    for tid in ("b", "d"):
        wh.scores(tid, 70, 65, measure=CBCL_JEUGDIGE)
    wh.build()

    assert score_row(wh, measure=CBCL)["response_rate"] == approx(3 / 4)
    assert score_row(wh, measure=SDQ)["response_rate"] == approx(1 / 4)
    assert score_row(wh, measure=CBCL_JEUGDIGE)["response_rate"] == approx(2 / 4)
    for measure in (CBCL, SDQ, CBCL_JEUGDIGE):
        assert score_row(wh, measure=measure)["n_ended"] == 4


# --- §5 small numbers ---------------------------------------------------------------------------

SUPPRESSIBLE_SCORE = [c for c in SCORE_COLUMNS if c not in (*SCORE_KEY, "suppressed")]
SUPPRESSIBLE_TRAJECTORY = [c for c in TRAJECTORY_COLUMNS if c not in (*GROUP_KEY, "suppressed")]


def test_suppression_k10_hides_score_row_even_when_trajectory_row_shown(wh: Staging) -> None:
    # p1: 10 ended, 9 paired   -> trajectory row shown, score row suppressed
    for i in range(10):
        wh.trajectory(f"p1-{i}", provider="p1", einddatum=END)
        if i < 9:
            wh.scores(f"p1-{i}", 70, 60, provider="p1")
    # p2: 10 ended, 10 paired  -> both shown (exactly k)
    for i in range(10):
        wh.pair(f"p2-{i}", 70, 60, provider="p2")
    # p3: 9 ended, 9 paired    -> both suppressed
    for i in range(9):
        wh.pair(f"p3-{i}", 70, 60, provider="p3")
    wh.build(k=10)

    p1 = score_row(wh, level="organisation", organisation="p1")
    assert p1["suppressed"] is True
    assert {c: p1[c] for c in SUPPRESSIBLE_SCORE} == dict.fromkeys(SUPPRESSIBLE_SCORE)
    p1_t = trajectory_row(wh, level="organisation", organisation="p1")
    assert (p1_t["suppressed"], p1_t["n_ended"]) == (False, 10)

    p2 = score_row(wh, level="organisation", organisation="p2")
    assert p2["suppressed"] is False
    assert (p2["n_paired"], p2["n_ended"], p2["response_rate"]) == (10, 10, approx(1.0))
    assert p2["mean_improvement"] == approx(10)
    assert trajectory_row(wh, level="organisation", organisation="p2")["n_ended"] == 10

    p3 = score_row(wh, level="organisation", organisation="p3")
    assert p3["suppressed"] is True
    assert {c: p3[c] for c in SUPPRESSIBLE_SCORE} == dict.fromkeys(SUPPRESSIBLE_SCORE)
    p3_t = trajectory_row(wh, level="organisation", organisation="p3")
    assert p3_t["suppressed"] is True
    assert {c: p3_t[c] for c in SUPPRESSIBLE_TRAJECTORY} == dict.fromkeys(SUPPRESSIBLE_TRAJECTORY)

    consortium = score_row(wh)  # 29 ended, 28 paired
    assert consortium["suppressed"] is False
    assert (consortium["n_ended"], consortium["n_paired"]) == (29, 28)
    assert consortium["response_rate"] == approx(28 / 29)
    # the keys of a suppressed row stay, so reports can say "< k"
    assert (p3["level"], p3["organisation"], p3["period"], p3["instrument"]) == (
        "organisation", "p3", "all", "CBCL")


@pytest.mark.parametrize(
    ("k", "p1_shown", "p2_shown"),
    [(1, True, True), (2, True, True), (3, False, True), (4, False, False), (5, False, False)],
)
def test_suppression_threshold_follows_k(
    wh: Staging, k: int, p1_shown: bool, p2_shown: bool
) -> None:
    for i in range(2):  # p1: 2 ended, 2 paired
        wh.pair(f"p1-{i}", 70, 60, provider="p1", doelrealisatie=1)
    for i in range(3):  # p2: 3 ended, 3 paired
        wh.pair(f"p2-{i}", 70, 60, provider="p2", doelrealisatie=1)
    wh.build(k=k)

    for provider, n, shown in (("p1", 2, p1_shown), ("p2", 3, p2_shown), (None, 5, k <= 5)):
        level = "organisation" if provider else "consortium"
        scores = score_row(wh, level=level, organisation=provider)
        trajectories = trajectory_row(wh, level=level, organisation=provider)
        assert scores["suppressed"] is (not shown)
        assert trajectories["suppressed"] is (not shown)
        if shown:
            assert (scores["n_paired"], scores["n_ended"], trajectories["n_ended"]) == (n, n, n)
            assert scores["mean_improvement"] == approx(10)
            assert trajectories["pct_goals_achieved"] == approx(1.0)
        else:
            assert {c: scores[c] for c in SUPPRESSIBLE_SCORE} == dict.fromkeys(SUPPRESSIBLE_SCORE)
            assert {c: trajectories[c] for c in SUPPRESSIBLE_TRAJECTORY} == dict.fromkeys(
                SUPPRESSIBLE_TRAJECTORY)


# --- §7.1 which rows exist, §6 columns ----------------------------------------------------------


def test_no_rows_with_a_count_of_zero(wh: Staging) -> None:
    wh.pair("a", 70, 60, provider="p1")
    wh.pair("b", 20, 10, provider="p1", measure=SDQ)
    wh.trajectory("c", provider="p2", einddatum=END)  # ended, never paired
    wh.trajectory("d", provider="p2", einddatum=END)
    wh.measurement("d", "start", "2025-01-10", 70, provider="p2")  # a start only
    wh.trajectory("e", provider="p3", einddatum=None)  # running only
    wh.build()

    assert trajectory_row(wh, level="organisation", organisation="p2")["n_ended"] == 2
    assert score_rows(wh, level="organisation", organisation="p2") == []
    assert score_rows(wh, level="organisation", organisation="p2", measure=SDQ) == []
    assert trajectory_rows(wh, level="organisation", organisation="p3") == []
    assert score_rows(wh, level="organisation", organisation="p3") == []
    assert score_row(wh, level="organisation", organisation="p1", measure=SDQ)["n_paired"] == 1
    assert execute(wh.con, "SELECT count(*) FROM mart.outcome_scores "
                           "WHERE n_paired = 0 OR n_ended = 0") == [(0,)]
    assert execute(wh.con, "SELECT count(*) FROM mart.trajectory_indicators "
                           "WHERE n_ended = 0") == [(0,)]


def test_tables_have_exactly_the_contract_columns_in_order(wh: Staging) -> None:
    wh.pair("a", 70, 60)
    wh.build()

    for table, columns in (("mart.outcome_scores", SCORE_COLUMNS),
                           ("mart.trajectory_indicators", TRAJECTORY_COLUMNS)):
        cursor = wh.con.execute(f"SELECT * FROM {table} LIMIT 0")
        types = {c[0]: str(c[1]) for c in cursor.description}
        cursor.fetchall()
        assert list(types) == columns, table
        assert types["period"] == "VARCHAR"  # §7.5: period is text
        assert types["suppressed"] == "BOOLEAN"


def test_tables_exist_with_contract_columns_when_staging_is_empty(wh: Staging) -> None:
    counts = wh.build()

    assert (counts.outcome_score_rows, counts.trajectory_indicator_rows) == (0, 0)
    for table, columns in (("mart.outcome_scores", SCORE_COLUMNS),
                           ("mart.trajectory_indicators", TRAJECTORY_COLUMNS)):
        cursor = wh.con.execute(f"SELECT * FROM {table}")
        assert [c[0] for c in cursor.description] == columns
        assert cursor.fetchall() == []


# --- delivery-format §7: the shipped instrument registry ---------------------------------------


def test_registry_default_ships_the_spec_rows() -> None:
    registry = load_instrument_registry(REPO / "schemas" / "defaults" / "instruments.csv")
    # instrument, schaal, min, max, higher is worse, sd_ref, r, clinical from
    spec_rows = [
        ("CBCL", "totaal", 24, 100, True, 10, 0.94, 64),
        ("CBCL", "internaliseren", 29, 100, True, 10, 0.90, 64),
        ("CBCL", "externaliseren", 28, 100, True, 10, 0.92, 64),
        ("YSR", "totaal", 24, 100, True, 10, 0.90, 64),
        ("TRF", "totaal", 24, 100, True, 10, 0.92, 64),
        ("SDQ", "totaal", 0, 40, True, 5.8, 0.80, 17),
        ("OBVL", "totaal", 20, 80, True, 10, 0.93, 63),
    ]
    for instrument, schaal, low, high, worse, sd_ref, r, cutoff in spec_rows:
        entry = registry.get(instrument, schaal)
        assert entry is not None, (instrument, schaal)
        assert (entry.min, entry.max, entry.higher_is_worse, entry.sd_ref, entry.r,
                entry.cutoff) == (low, high, worse, sd_ref, approx(r), cutoff)

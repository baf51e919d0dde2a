"""Safe publication (outcome-metrics §5): primary suppression below k, secondary suppression so
that no suppressed count follows from subtracting shown counts along the hierarchies and periods,
reason codes, rounding of published counts, and the `[suppression]` settings that switch them.

The hand-made cases spell out, cell by cell, what the rule in warehouse/marts.py
(`suppression_pattern`) gives; the random cases (many small groups) run a reader's differencing
attacks (differencing_attack.py, written without the build's code) against the published tables:
repeated subtraction along every relation, and solving all relations together.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from schemas.config import (
    ConfigError,
    InstrumentRegistry,
    _load_consortium,
    parse_instrument_registry,
)
from tests.warehouse.differencing_attack import attack
from tests.warehouse.staging import CBCL, CBCL_JEUGDIGE, CLOCK, Staging, fetch
from warehouse import marts
from warehouse.connection import open_warehouse
from warehouse.marts import MartCounts, build_marts
from warehouse.sql import execute

REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
GROUP_KEY = ("level", "organisation", "team", "intervention", "period")
MEASURE = ("instrument", "schaal", "informant")
SCORE_FIGURES = (
    "n_ended", "n_paired", "response_rate", "mean_start", "mean_end", "mean_improvement",
    "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved", "pct_unchanged",
    "pct_deteriorated", "n_clinical_start", "pct_recovered",
)
TRAJECTORY_FIGURES = ("n_ended", "pct_planned_end", "pct_goals_achieved", "mean_satisfaction")


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


def build(wh: Staging, k: int, *, secondary: bool = True, round_to: int = 0) -> MartCounts:
    """As the pipeline builds: with reason codes, and secondary suppression unless told not to."""
    return build_marts(wh.con, wh.registry, k, secondary=secondary, round_to=round_to,
                       reason_codes=True)


def trajectory_pattern(wh: Staging) -> dict[tuple, str]:
    """Suppressed trajectory-indicator rows: group -> reason."""
    rows = fetch(wh.con, "SELECT * FROM mart.trajectory_indicators WHERE suppressed")
    return {tuple(r[c] for c in GROUP_KEY): r["suppression_reason"] for r in rows}


def score_pattern(wh: Staging, measure: tuple[str, str, str] = CBCL) -> dict[tuple, str]:
    """Suppressed score rows of one measure: group -> reason."""
    rows = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE suppressed "
                         "AND instrument = ? AND schaal = ? AND informant = ?", list(measure))
    return {tuple(r[c] for c in GROUP_KEY): r["suppression_reason"] for r in rows}


def both_periods(cells: dict[tuple, str], periods: tuple[str, ...] = ("2025", "all")) -> dict:
    """(level, organisation, team, intervention) -> reason, written out for each period."""
    return {(*group, period): reason for group, reason in cells.items() for period in periods}


def team_group(organisation: str, team: str) -> tuple:
    return ("team", organisation, team, None)


# --- hand-made cases ------------------------------------------------------------------------


def test_second_team_suppressed_is_the_smallest_shown_ties_by_key(wh: Staging) -> None:
    # k = 3, one organisation, one intervention, one year; everyone paired on CBCL.
    # Teams A 6, B 2, C 4, D 4: B is below k; organisation p1 = A + B + C + D is shown, so B
    # would be 16 − 6 − 4 − 4. The smallest shown team is C or D (4 each): C comes first.
    for team, n in (("A", 6), ("B", 2), ("C", 4), ("D", 4)):
        for i in range(n):
            wh.pair(f"{team}{i}", 70, 60, team=team)
    build(wh, k=3)

    expected = both_periods({team_group("p1", "B"): "primary", team_group("p1", "C"): "secondary"})
    assert trajectory_pattern(wh) == expected
    assert score_pattern(wh) == expected
    shown = fetch(wh.con, "SELECT team, n_ended, suppression_reason FROM mart.trajectory_indicators "
                          "WHERE level = 'team' AND period = 'all' AND NOT suppressed ORDER BY team")
    assert shown == [{"team": "A", "n_ended": 6, "suppression_reason": None},
                     {"team": "D", "n_ended": 4, "suppression_reason": None}]
    (organisation,) = fetch(wh.con, "SELECT n_ended, suppressed, suppression_reason FROM "
                                    "mart.trajectory_indicators WHERE level = 'organisation' "
                                    "AND period = 'all'")
    assert organisation == {"n_ended": 16, "suppressed": False, "suppression_reason": None}


def test_organisation_below_k_hides_the_other_organisation_and_follows_down(wh: Staging) -> None:
    # k = 3, one intervention, one year. p1: team A 4, team B 5. p2: a single team X of 2.
    # p2 (and its team, and p2 × I1) are below k. Consortium 11 = p1 + p2, so p1 is hidden too;
    # then p1 = A + B would give p1 away, so its smaller team A goes; and p1 = p1 × I1 (its only
    # intervention), so p1 × I1 goes. I1 = p1 × I1 + p2 × I1 has two hidden cells: stays shown.
    for team, n in (("A", 4), ("B", 5)):
        for i in range(n):
            wh.pair(f"p1-{team}{i}", 70, 60, provider="p1", team=team)
    for i in range(2):
        wh.pair(f"p2-X{i}", 70, 60, provider="p2", team="X")
    build(wh, k=3)

    expected = both_periods({
        ("organisation", "p2", None, None): "primary",
        team_group("p2", "X"): "primary",
        ("organisation_intervention", "p2", None, "I1"): "primary",
        ("organisation", "p1", None, None): "secondary",
        team_group("p1", "A"): "secondary",
        ("organisation_intervention", "p1", None, "I1"): "secondary",
    })
    assert trajectory_pattern(wh) == expected
    assert score_pattern(wh) == expected
    assert attack(wh.con) == {}

    # Primary suppression alone (the bare build) lets a reader subtract: 11 − 9 = 2.
    build_marts(wh.con, wh.registry, 3)
    recovered = attack(wh.con)["trajectories"]
    assert recovered[("organisation", "p2", None, None, "all")] == 2


def test_year_relations_single_child_hides_its_parent(wh: Staging) -> None:
    # k = 3, one organisation, one intervention, two years. Teams (2024, 2025):
    # A (6, 6), B (0, 2), C (0, 4), E (3, 0). p1 2024 = 9, 2025 = 12, all = 21.
    #  - p1/2025 = A + B + C, B below k: the smallest shown, C/2025, is hidden;
    #  - p1/all = A + B + C + E, B below k: the smallest shown, E/all (3), is hidden;
    #  - C/all = C/2025 (C's only year): C/2025 is hidden, so C/all is hidden too;
    #  - E/all = E/2024: E/2024 hidden;
    #  - p1/2024 = A + E: E/2024 hidden, so A/2024 is hidden; then A/all = A/2024 + A/2025
    #    has one hidden cell: A/2025 is hidden. A/all (12) and p1 stay shown.
    for team, year, n in (("A", 2024, 6), ("A", 2025, 6), ("B", 2025, 2), ("C", 2025, 4),
                          ("E", 2024, 3)):
        for i in range(n):
            wh.pair(f"{team}{year}-{i}", 70, 60, team=team, einddatum=f"{year}-06-15",
                    start=f"{year}-01-10", end=f"{year}-06-10", startdatum=f"{year}-01-01")
    build(wh, k=3)

    expected = {
        (*team_group("p1", "B"), "2025"): "primary",
        (*team_group("p1", "B"), "all"): "primary",
        (*team_group("p1", "C"), "2025"): "secondary",
        (*team_group("p1", "C"), "all"): "secondary",
        (*team_group("p1", "E"), "2024"): "secondary",
        (*team_group("p1", "E"), "all"): "secondary",
        (*team_group("p1", "A"), "2024"): "secondary",
        (*team_group("p1", "A"), "2025"): "secondary",
    }
    assert trajectory_pattern(wh) == expected
    assert score_pattern(wh) == expected
    assert attack(wh.con) == {}


def test_shown_score_row_hides_n_ended_the_trajectory_table_hides(wh: Staging) -> None:
    # k = 3. p1: 5 ended and paired; p2: 4 ended and paired; p3: 2 ended, never paired.
    # Trajectory table: p3 below k, so p2 (the smallest shown) is hidden. Score table: p1 5,
    # p2 4, both shown. p2's score row must not show n_ended = 4 (11 − 5 − 4 would give p3).
    for i in range(5):
        wh.pair(f"p1-{i}", 70, 60, provider="p1")
    for i in range(4):
        wh.pair(f"p2-{i}", 70, 60, provider="p2")
    for i in range(2):
        wh.trajectory(f"p3-{i}", provider="p3", einddatum="2025-06-15")
    build(wh, k=3)

    trajectory = {("organisation", p, None, None): reason
                  for p, reason in (("p2", "secondary"), ("p3", "primary"))}
    trajectory |= {("organisation_intervention", p, None, "I1"): reason
                   for p, reason in (("p2", "secondary"), ("p3", "primary"))}
    trajectory |= {team_group(p, "A"): reason for p, reason in (("p2", "secondary"), ("p3", "primary"))}
    assert trajectory_pattern(wh) == both_periods(trajectory)
    assert score_pattern(wh) == {}
    p2 = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE level = 'organisation' "
                       "AND organisation = 'p2' AND period = 'all'")[0]
    assert (p2["suppressed"], p2["n_paired"], p2["mean_improvement"]) == (False, 4, 10)
    assert (p2["n_ended"], p2["response_rate"]) == (None, None)
    p1 = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE level = 'organisation' "
                       "AND organisation = 'p1' AND period = 'all'")[0]
    assert (p1["n_ended"], p1["response_rate"]) == (5, 1.0)
    assert attack(wh.con) == {}


def test_secondary_rows_are_nulled_like_primary_ones(wh: Staging) -> None:
    for team, n in (("A", 6), ("B", 2), ("C", 4)):
        for i in range(n):
            wh.pair(f"{team}{i}", 70, 60, team=team, doelrealisatie=1, tevredenheid=8)
    build(wh, k=3)

    for table, figures in (("mart.outcome_scores", SCORE_FIGURES),
                           ("mart.trajectory_indicators", TRAJECTORY_FIGURES)):
        rows = fetch(wh.con, f"SELECT * FROM {table} WHERE suppressed")
        assert {r["suppression_reason"] for r in rows} == {"primary", "secondary"}
        for row in rows:
            assert {f: row[f] for f in figures} == dict.fromkeys(figures), (table, row)
        assert execute(wh.con, f"SELECT count(*) FROM {table} WHERE NOT suppressed "
                               "AND suppression_reason IS NOT NULL") == [(0,)]


# --- random data: many small groups -----------------------------------------------------------

K = 5
YEARS = (2024, 2025)
MEASURES = (CBCL, CBCL_JEUGDIGE)


class Truth:
    """The true counts, from the generated rows (not from the build)."""

    def __init__(self) -> None:
        self.ended: Counter = Counter()
        self.paired: dict[tuple, Counter] = {m: Counter() for m in MEASURES}

    def add(self, provider: str, team: str, intervention: str, year: int,
            measures: list[tuple]) -> None:
        for period in (str(year), "all"):
            for group in (
                ("consortium", None, None, None, period),
                ("organisation", provider, None, None, period),
                ("team", provider, team, None, period),
                ("intervention", None, None, intervention, period),
                ("organisation_intervention", provider, None, intervention, period),
            ):
                self.ended[group] += 1
                for measure in measures:
                    self.paired[measure][group] += 1


def random_rows(seed: int) -> tuple[list[dict], list[dict], Truth]:
    """Three to five providers with one to three teams and one to three interventions each, a
    few dozen trajectories each, ending in 2024 or 2025 (some still running); most paired on
    the parents' CBCL, fewer on the youth's. Plenty of groups below k = 5."""
    rng = random.Random(seed)
    trajectories: list[dict] = []
    measurements: list[dict] = []
    truth = Truth()
    for p in range(rng.randint(3, 5)):
        provider = f"p{p + 1}"
        teams = ["A", "B", "C"][: rng.randint(1, 3)]
        interventions = sorted(rng.sample(["I1", "I2", "I3", "I4"], rng.randint(1, 3)))
        team_weights = [rng.random() + 0.1 for _ in teams]
        for n in range(rng.randint(6, 40)):
            tid = f"{provider}-{n}"
            team = rng.choices(teams, team_weights)[0]
            intervention = rng.choice(interventions)
            year = rng.choice(YEARS)
            running = rng.random() < 0.1
            einddatum = date(year, rng.randint(1, 12), rng.randint(1, 28))
            startdatum = einddatum - timedelta(days=rng.randint(60, 400))
            trajectories.append({
                "provider": provider, "trajectory_id": tid, "client_id": f"c-{tid}",
                "team": team, "interventie": intervention, "startdatum": startdatum,
                "einddatum": None if running else einddatum,
                "reden_einde": None if running else rng.randint(1, 5),
                "doelrealisatie": rng.choice([None, 1, 2, 3]),
                "tevredenheid": rng.choice([None, float(rng.randint(1, 10))]),
            })
            paired = [m for m, chance in zip(MEASURES, (0.75, 0.4), strict=True)
                      if rng.random() < chance]
            for measure in paired:
                for meetmoment, datum in (("start", startdatum + timedelta(days=3)),
                                          ("eind", einddatum - timedelta(days=3))):
                    measurements.append({
                        "provider": provider, "trajectory_id": tid,
                        "instrument": measure[0], "schaal": measure[1], "informant": measure[2],
                        "meetmoment": meetmoment, "datum": datum,
                        "score": float(rng.randint(40, 90)),
                    })
            if not running:
                truth.add(provider, team, intervention, year, paired)
    return trajectories, measurements, truth


def stored_dates(row: dict) -> dict:
    """A generated row's dates as the warehouse stores them (tests/warehouse/staging.py)."""
    tid, stored = row["trajectory_id"], {}
    for column, month, day in (("startdatum", "start_month", "start_day"), ("einddatum", "end_month", "end_day")):
        if column in row:
            value = row[column]
            stored |= {month: value and value.replace(day=1), day: value and CLOCK.day(tid, value)}
    if "datum" in row:
        stored["measured_day"] = CLOCK.day(tid, row["datum"])
    return stored


def stage(wh: Staging, trajectories: list[dict], measurements: list[dict]) -> None:
    """Bulk-write rows into staging (one delivery per provider), in the order given; any column
    not named gets the neutral value the shared `insert_row` gives."""
    neutral = {"BOOLEAN": False, "INTEGER": 0, "BIGINT": 0, "DOUBLE": 0.0}
    for table, rows in (("trajectories", trajectories), ("measurements", measurements)):
        columns = execute(
            wh.con,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'staging' AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        full = []
        for number, row in enumerate(rows, start=2):
            delivery_id = wh.delivery("2025-12", row["provider"])
            given = {**row, "delivery_id": delivery_id, "month": "2025-12", "row_number": number}
            if table == "trajectories":
                given |= {"age_at_start": 12, "geslacht": "X", "hulpvorm": "ambulant"}
            given |= stored_dates(given)
            full.append({name: given.get(name, neutral.get(kind, "")) for name, kind in columns})
        frame = pd.DataFrame(full, columns=[name for name, _ in columns], dtype=object)
        wh.con.register("stage_frame", frame)
        try:
            execute(wh.con, f"INSERT INTO staging.{table} BY NAME SELECT * FROM stage_frame")
        finally:
            wh.con.unregister("stage_frame")


def published_rows(wh: Staging) -> tuple[list[dict], list[dict]]:
    return (fetch(wh.con, "SELECT * FROM mart.trajectory_indicators"),
            fetch(wh.con, "SELECT * FROM mart.outcome_scores"))


SEEDS = [3, 11, 17, 19, 29, 47, 69, 101, 2024, 7, 42, 88]


@pytest.mark.parametrize("seed", SEEDS)
def test_differencing_attack_recovers_nothing(wh: Staging, seed: int) -> None:
    trajectories, measurements, truth = random_rows(seed)
    stage(wh, trajectories, measurements)

    # Primary suppression alone: the attacks work, and what they find is the truth.
    build_marts(wh.con, wh.registry, K)
    found = attack(wh.con)
    assert found, "these data should be open to differencing without secondary suppression"
    assert_true_counts(found, truth)
    solved = attack(wh.con, linear=True)
    assert_true_counts(solved, truth)
    assert all(set(found[table]) <= set(solved[table]) for table in found)

    build(wh, K)
    assert attack(wh.con) == {}
    assert attack(wh.con, linear=True) == {}

    trajectory_rows, score_rows = published_rows(wh)
    reasons = Counter(r["suppression_reason"] for r in trajectory_rows + score_rows)
    assert reasons["primary"] and reasons["secondary"]  # both kinds occur on these data
    for row in trajectory_rows:
        true = truth.ended[tuple(row[c] for c in GROUP_KEY)]
        expect_reason(row, true)
        if not row["suppressed"]:
            assert row["n_ended"] == true
    for row in score_rows:
        true = truth.paired[tuple(row[c] for c in MEASURE)][tuple(row[c] for c in GROUP_KEY)]
        expect_reason(row, true)
        if not row["suppressed"]:
            assert row["n_paired"] == true
    # every group with a true count has a row, and no other row exists (§7.1)
    assert len(trajectory_rows) == len(truth.ended)
    assert len(score_rows) == sum(len(counts) for counts in truth.paired.values())


def assert_true_counts(found: dict, truth: Truth) -> None:
    for table, recovered in found.items():
        true = truth.ended if table == "trajectories" else truth.paired[table]
        assert recovered == {group: true[group] for group in recovered}


def test_relations_taken_together_are_covered_too(
    wh: Staging, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On these data, hiding so that no single relation has exactly one hidden cell is not
    # enough: a reader who solves all relations at once (organisation × intervention × year)
    # still finds counts. The build's second step (_determined_cells) closes that.
    trajectories, measurements, truth = random_rows(3)
    stage(wh, trajectories, measurements)
    monkeypatch.setattr(marts, "_determined_cells", lambda relations, reasons: [])
    build(wh, K)
    assert attack(wh.con) == {}
    solved = attack(wh.con, linear=True)
    assert solved
    assert_true_counts(solved, truth)

    monkeypatch.undo()
    build(wh, K)
    assert attack(wh.con, linear=True) == {}


def expect_reason(row: dict, true: int) -> None:
    """Primary exactly below k; secondary only on groups of at least k; shown rows carry none."""
    reason = row["suppression_reason"]
    assert row["suppressed"] is (reason is not None)
    assert (reason == "primary") is (true < K), row
    assert reason in (None, "primary", "secondary")


def test_pattern_is_deterministic_across_builds_and_insertion_order(
    wh: Staging, tmp_path: Path
) -> None:
    trajectories, measurements, _ = random_rows(SEEDS[0])
    stage(wh, trajectories, measurements)
    build(wh, K)
    first = published_pattern(wh)
    build(wh, K)
    assert published_pattern(wh) == first

    shuffled = random.Random(99)
    trajectories, measurements = trajectories[:], measurements[:]
    shuffled.shuffle(trajectories)
    shuffled.shuffle(measurements)
    with open_warehouse(tmp_path / "other.duckdb") as con:
        other = Staging(con, REGISTRY)
        stage(other, trajectories, measurements)
        build(other, K)
        assert published_pattern(other) == first
    assert any(row[-1] == "secondary" for row in first)


def published_pattern(wh: Staging) -> list[tuple]:
    """Every published row's keys, counts and reason, in a fixed order."""
    return execute(wh.con, """
        SELECT level, organisation, team, intervention, period, NULL, NULL, NULL, n_ended,
               NULL, suppression_reason
        FROM mart.trajectory_indicators
        UNION ALL
        SELECT level, organisation, team, intervention, period, instrument, schaal, informant,
               n_ended, n_paired, suppression_reason
        FROM mart.outcome_scores
        ORDER BY ALL NULLS FIRST""")


# --- rounding ----------------------------------------------------------------------------------


def rounded(n: int, to: int, k: int) -> int:
    """Nearest multiple of `to` (halves up), never below the smallest multiple that is ≥ k."""
    nearest = (n + to // 2) // to * to if to % 2 else (2 * n + to) // (2 * to) * to
    return max(nearest, -(-k // to) * to)


def test_rounded_counts_are_multiples_never_below_k_figures_from_true_counts(wh: Staging) -> None:
    trajectories, measurements, truth = random_rows(SEEDS[1])
    stage(wh, trajectories, measurements)
    k, to = 7, 5  # k not a multiple of 5: a count of 7 would round to 5, so it shows 10
    build(wh, k)
    exact_trajectories, exact_scores = published_rows(wh)
    build(wh, k, round_to=to)
    trajectory_rows, score_rows = published_rows(wh)

    assert len(trajectory_rows) == len(exact_trajectories) and len(score_rows) == len(exact_scores)
    for row, exact in zip(trajectory_rows, exact_trajectories, strict=True):
        assert row["suppression_reason"] == exact["suppression_reason"]  # same pattern
        assert {f: row[f] for f in TRAJECTORY_FIGURES[1:]} == {f: exact[f] for f in TRAJECTORY_FIGURES[1:]}
        if not row["suppressed"]:
            assert row["n_ended"] % to == 0 and row["n_ended"] >= k
            assert row["n_ended"] == rounded(exact["n_ended"], to, k)
    for row, exact in zip(score_rows, exact_scores, strict=True):
        assert row["suppression_reason"] == exact["suppression_reason"]
        shares = ("response_rate", "mean_improvement", "pct_improved", "pct_recovered")
        assert {f: row[f] for f in shares} == {f: exact[f] for f in shares}
        for count in ("n_ended", "n_paired", "n_clinical_start"):
            if row[count] is not None:
                assert row[count] % to == 0
                assert row[count] == rounded(exact[count], to, 0 if count == "n_clinical_start" else k)
        if not row["suppressed"]:
            assert row["n_paired"] >= k
    assert any(r["n_paired"] is not None and r["n_paired"] != e["n_paired"]
               for r, e in zip(score_rows, exact_scores, strict=True))  # something was rounded
    assert truth.ended  # the data had groups at all


def test_rounding_helper_matches_hand_values() -> None:
    assert [rounded(n, 5, 7) for n in (7, 8, 12, 13, 17, 18)] == [10, 10, 10, 15, 15, 20]
    assert [rounded(n, 10, 10) for n in (10, 14, 15, 24, 25)] == [10, 10, 20, 20, 30]
    assert [rounded(n, 5, 0) for n in (0, 2, 3, 7)] == [0, 0, 5, 5]


# --- quality guard ---------------------------------------------------------------------------


def test_quality_checks_accept_reason_column_and_rounding_but_not_reordering(wh: Staging) -> None:
    from schemas.quality import DELIVERY_CHECKS, CheckStatus, load_quality_config
    from warehouse.quality import WAREHOUSE_CHECK_IDS, validate_warehouse

    quality = load_quality_config(
        Path(__file__).resolve().parents[2] / "schemas" / "defaults" / "quality.toml",
        set(DELIVERY_CHECKS) | set(WAREHOUSE_CHECK_IDS),
    )
    trajectories, measurements, _ = random_rows(SEEDS[2])
    stage(wh, trajectories, measurements)
    build(wh, 7, round_to=5)

    checks = {r.check_id: r for r in validate_warehouse(wh.con, 7, quality).results}
    assert checks["warehouse_contract_columns"].status is CheckStatus.PASS
    assert checks["warehouse_contract_columns"].denominator == 2
    assert checks["warehouse_suppression_holds"].status is CheckStatus.PASS
    assert checks["warehouse_shares_in_range"].status is CheckStatus.PASS

    execute(wh.con, "CREATE OR REPLACE TABLE mart.trajectory_indicators AS "
                    "SELECT suppression_reason, * EXCLUDE (suppression_reason) "
                    "FROM mart.trajectory_indicators")
    checks = {r.check_id: r for r in validate_warehouse(wh.con, 7, quality).results}
    assert checks["warehouse_contract_columns"].status is CheckStatus.FAIL
    assert checks["warehouse_contract_columns"].numerator == 1


# --- configuration ---------------------------------------------------------------------------

CONSORTIUM = """[providers]
de-boog = "De Boog"

[interventions]
MST = "Multisysteemtherapie"

[suppression]
k = 10
{extra}
"""


def consortium(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "consortium.toml"
    path.write_text(CONSORTIUM.format(extra=extra), encoding="utf-8")
    return path


def test_config_suppression_defaults_and_settings(tmp_path: Path) -> None:
    defaults = _load_consortium(consortium(tmp_path, ""))
    assert (defaults["secondary_suppression"], defaults["round_counts_to"]) == (True, 0)
    shipped = _load_consortium(Path(__file__).resolve().parents[2] / "schemas" / "defaults"
                               / "consortium.toml")
    assert (shipped["k"], shipped["secondary_suppression"], shipped["round_counts_to"]) == (10, True, 0)
    set_ = _load_consortium(consortium(tmp_path, "secondary = false\nround_counts_to = 5"))
    assert (set_["secondary_suppression"], set_["round_counts_to"]) == (False, 5)


@pytest.mark.parametrize(("extra", "line", "words"), [
    ('secondary = "yes"', 9, "secondary must be true or false"),
    ("secondary = 1", 9, "secondary must be true or false"),
    ("round_counts_to = -5", 9, "round_counts_to must be a whole number"),
    ("round_counts_to = 2.5", 9, "round_counts_to must be a whole number"),
    ("round_counts_to = true", 9, "round_counts_to must be a whole number"),
    ("secundary = true", 9, "no setting 'secundary'"),
    ("\nround_counts_to = 'five'", 10, "round_counts_to must be a whole number"),
])
def test_config_suppression_errors_name_the_line(
    tmp_path: Path, extra: str, line: int, words: str
) -> None:
    path = consortium(tmp_path, extra)
    with pytest.raises(ConfigError) as caught:
        _load_consortium(path)
    assert caught.value.line == line
    assert words in caught.value.problem

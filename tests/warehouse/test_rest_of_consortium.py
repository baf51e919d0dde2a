"""The rest-of-the-consortium tables (`mart.outcome_scores_rest`, `mart.trajectory_indicators_rest`):
per organisation, the figures over every other provider's trajectories, defined exactly as in
outcome-metrics §3–§4, and hidden whenever they would give away a count that the contract tables
hide (§5). Expected values are worked out by hand below, not taken from the code."""

from __future__ import annotations

import math

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from tests.warehouse.staging import Staging, approx, fetch
from warehouse.marts import build_marts

REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
T975_DF2 = 4.302653  # Student t, 0.975 quantile, 2 degrees of freedom, from a printed table
FIGURES = (
    "n_ended", "n_paired", "response_rate", "mean_start", "mean_end", "mean_improvement",
    "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved", "pct_unchanged",
    "pct_deteriorated", "n_clinical_start", "pct_recovered",
)


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


def rest_scores(wh: Staging, organisation: str, period: str = "all") -> dict:
    (row,) = fetch(wh.con, "SELECT * FROM mart.outcome_scores_rest WHERE organisation = ? "
                           "AND period = ?", [organisation, period])
    return row


def rest_indicators(wh: Staging, organisation: str, period: str = "all") -> dict:
    (row,) = fetch(wh.con, "SELECT * FROM mart.trajectory_indicators_rest WHERE organisation = ? "
                           "AND period = ?", [organisation, period])
    return row


def build(wh: Staging, k: int, secondary: bool = True) -> None:
    build_marts(wh.con, wh.registry, k, secondary=secondary, reason_codes=True)


def three_providers(wh: Staging) -> None:
    """p1: two pairs; p2: two pairs and one ended trajectory without scores; p3: one pair."""
    wh.pair("a1", 70, 60, provider="p1")
    wh.pair("a2", 66, 66, provider="p1")
    wh.pair("b1", 80, 70, provider="p2", doelrealisatie=1, tevredenheid=8)
    wh.pair("b2", 60, 62, provider="p2", reden_einde=2, doelrealisatie=3, tevredenheid=6)
    wh.trajectory("b3", provider="p2", einddatum="2025-06-15", reden_einde=1)
    wh.pair("c1", 72, 50, provider="p3", reden_einde=5, tevredenheid=10)


def test_rest_of_p1_is_p2_and_p3_computed_by_hand(wh: Staging) -> None:
    three_providers(wh)
    build(wh, k=1)
    row = rest_scores(wh, "p1")
    # Pairs of p2 and p3: (80, 70), (60, 62), (72, 50); improvements (d = +1) 10, -2, 22.
    assert (row["level"], row["team"], row["intervention"]) == ("rest_of_consortium", None, None)
    assert row["n_paired"] == 3 and row["n_ended"] == 4  # b3 ended without scores
    assert row["response_rate"] == approx(3 / 4)
    assert row["mean_start"] == approx(212 / 3)
    assert row["mean_end"] == approx(182 / 3)
    assert row["mean_improvement"] == approx(10)
    # deviations 0, -12, 12: variance 288 / 2 = 144
    assert row["sd_improvement"] == approx(12)
    half = T975_DF2 * 12 / math.sqrt(3)
    assert row["ci_low"] == pytest.approx(10 - half, rel=1e-5)
    assert row["ci_high"] == pytest.approx(10 + half, rel=1e-5)
    # start deviations from 212/3: 28/3, -32/3, 4/3 -> variance (784 + 1024 + 16) / 9 / 2
    assert row["effect_size"] == approx(10 / math.sqrt(1824 / 18))
    # S_diff = sqrt(12) ≈ 3.4641: RCI 2.89 improved, -0.58 unchanged, 6.35 improved
    assert row["pct_improved"] == approx(2 / 3)
    assert row["pct_unchanged"] == approx(1 / 3)
    assert row["pct_deteriorated"] == approx(0)
    # clinical at start (>= 64): 80 and 72; recovered (end < 64 and improved): 72 -> 50 only
    assert row["n_clinical_start"] == 2
    assert row["pct_recovered"] == approx(1 / 2)
    assert row["suppressed"] is False and row["suppression_reason"] is None

    indicators = rest_indicators(wh, "p1")
    assert indicators["n_ended"] == 4
    # reden_einde 1, 2, 1, 5: the 5 leaves the denominator -> 2 of 3
    assert indicators["pct_planned_end"] == approx(2 / 3)
    assert indicators["pct_goals_achieved"] == approx(1 / 2)  # doelrealisatie 1 and 3 known
    assert indicators["mean_satisfaction"] == approx(8)  # 8, 6, 10
    # every provider with an ended trajectory gets its rest rows, in both periods
    (count,) = wh.con.execute("SELECT count(*) FROM mart.trajectory_indicators_rest").fetchone()
    assert count == 3 * 2
    assert rest_scores(wh, "p1", "2025") | {"period": "all"} == row


def test_rest_of_one_of_two_providers_equals_the_other_organisation_row(wh: Staging) -> None:
    """With two providers the rest of one is the other: every figure must match the contract
    table's organisation row to the last digit (the definitions cannot drift apart)."""
    wh.pair("a1", 70, 60, provider="p1")
    wh.pair("a2", 66, 58, provider="p1", doelrealisatie=2, tevredenheid=7)
    wh.pair("b1", 80, 70, provider="p2")
    wh.pair("b2", 60, 62, provider="p2", reden_einde=3)
    wh.pair("b3", 75, 61, provider="p2", doelrealisatie=1)
    build(wh, k=1)
    for left_out, other in (("p1", "p2"), ("p2", "p1")):
        (organisation,) = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE level = "
                                        "'organisation' AND organisation = ? AND period = 'all'", [other])
        rest = rest_scores(wh, left_out)
        assert {c: rest[c] for c in FIGURES} == {c: organisation[c] for c in FIGURES}
        (indicators,) = fetch(wh.con, "SELECT * FROM mart.trajectory_indicators WHERE level = "
                                      "'organisation' AND organisation = ? AND period = 'all'", [other])
        rest_ind = rest_indicators(wh, left_out)
        for column in ("n_ended", "pct_planned_end", "pct_goals_achieved", "mean_satisfaction"):
            assert rest_ind[column] == indicators[column]


def pairs(wh: Staging, provider: str, count: int) -> None:
    for number in range(count):
        wh.pair(f"{provider}-{number}", 70, 60 - number, provider=provider)


def test_rest_hidden_whenever_the_organisation_is_hidden_even_without_secondary(wh: Staging) -> None:
    """p1 has 2 < k = 3: its row is hidden. Its rest (p2 + p3 = 10) is large, but shown it would
    give p1's count as consortium − rest: so it is hidden too, also when the consortium switched
    secondary suppression off. The rests of p2 and p3 stay shown."""
    pairs(wh, "p1", 2)
    pairs(wh, "p2", 5)
    pairs(wh, "p3", 5)
    build(wh, k=3, secondary=False)
    assert rest_scores(wh, "p1")["suppression_reason"] == "secondary"
    assert rest_indicators(wh, "p1")["suppression_reason"] == "secondary"
    hidden = rest_scores(wh, "p1")
    assert all(hidden[c] is None for c in FIGURES) and hidden["suppressed"] is True
    assert rest_scores(wh, "p2")["n_paired"] == 7 and rest_scores(wh, "p3")["n_paired"] == 7

    # With secondary suppression the consortium hides p2 as well (the smallest other cell), and
    # its rest follows; p3's rest is still consortium − p3 of two shown rows.
    build(wh, k=3)
    reasons = {o: rest_scores(wh, o)["suppression_reason"] for o in ("p1", "p2", "p3")}
    assert reasons == {"p1": "secondary", "p2": "secondary", "p3": None}
    assert rest_scores(wh, "p3")["n_paired"] == 7


def test_rest_below_k_is_hidden_by_its_own_count(wh: Staging) -> None:
    pairs(wh, "p1", 5)
    pairs(wh, "p2", 2)
    build(wh, k=3, secondary=False)
    assert rest_scores(wh, "p1")["suppression_reason"] == "primary"  # p2's 2 trajectories
    assert rest_scores(wh, "p2")["suppression_reason"] == "secondary"  # p2's own row is hidden
    assert rest_scores(wh, "p1")["n_paired"] is None and rest_scores(wh, "p1")["mean_end"] is None


def test_bare_build_has_contract_columns_in_rest_tables_too(wh: Staging) -> None:
    pairs(wh, "p1", 2)
    pairs(wh, "p2", 2)
    wh.build()
    columns = [c[0] for c in wh.con.execute("SELECT * FROM mart.outcome_scores_rest").description]
    assert "suppression_reason" not in columns and "suppressed" in columns

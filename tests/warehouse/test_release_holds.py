"""Release protection (warehouse/release.py) on hand-made histories: the issue's own case (one
more client ends care in a team of ten), the k-th change that releases a figure again, an
erasure, a correction, and the unprotected marts equal to what a build without releases gives.
The random attacker over a year of releases is in tests/warehouse/test_release_protection.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from tests.warehouse.staging import Staging, fetch
from warehouse.marts import build_marts
from warehouse.publish import publish_analyst_copy
from warehouse.sql import execute

REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
K = 10


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


def release(wh: Staging, protect: bool | None = True) -> None:
    build_marts(wh.con, wh.registry, K, secondary=True, reason_codes=True,
                release_protection=protect)


def team_row(wh: Staging, team: str = "A", level: str = "team") -> dict:
    (row,) = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE level = ? AND period = 'all' "
                   "AND (team = ? OR ? <> 'team')", [level, team, level])
    return row


def ten_and_a_neighbour(wh: Staging) -> None:
    """Team A: ten clients; team B: twelve (so the organisation is not A alone)."""
    for i in range(10):
        wh.pair(f"a{i}", 60 + i, 50 + i, team="A", month="2025-05")
    for i in range(12):
        wh.pair(f"b{i}", 70, 55 + i % 3, team="B", month="2025-05")


def one_more_in_team_a(wh: Staging) -> None:
    wh.pair("a-new", 77, 52, team="A", month="2025-06")


def test_the_issues_case_is_recovered_without_protection(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    release(wh, protect=False)
    before = team_row(wh)
    one_more_in_team_a(wh)
    release(wh, protect=False)
    after = team_row(wh)
    start = after["n_paired"] * after["mean_start"] - before["n_paired"] * before["mean_start"]
    end = after["n_paired"] * after["mean_end"] - before["n_paired"] * before["mean_end"]
    assert (round(start, 6), round(end, 6)) == (77, 52)  # the attack works on unprotected marts
    assert not after["held"]


def test_one_more_client_holds_every_figure_it_would_change(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    release(wh)
    first = {level: team_row(wh, level=level) for level in ("team", "organisation", "consortium")}
    (first_build,) = execute(wh.con, "SELECT build_id FROM privacy.releases WHERE seq = 1")[0]
    one_more_in_team_a(wh)
    release(wh)
    for level, before in first.items():
        after = team_row(wh, level=level)
        assert after["held"], level
        assert after["held_from_build"] == first_build
        assert after["suppression_reason"] == "release"
        for figure in ("n_paired", "mean_start", "mean_end", "mean_improvement", "ci_low"):
            assert after[figure] == before[figure], (level, figure)
    # team B did not change: it is current, not held
    assert not team_row(wh, "B")["held"]


def test_a_figure_is_released_again_once_k_trajectories_changed(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    release(wh)
    for i in range(K - 1):
        wh.pair(f"late{i}", 65, 60, team="A", month="2025-06")
        release(wh)
        assert team_row(wh)["held"], i
    wh.pair("tenth", 65, 60, team="A", month="2025-07")
    release(wh)
    row = team_row(wh)
    assert not row["held"] and row["n_paired"] == 2 * K
    assert row["mean_start"] == round((sum(60 + i for i in range(10)) + 10 * 65) / 20, 2)


def test_an_erasure_does_not_reveal_the_erased_client(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    one_more_in_team_a(wh)
    release(wh)
    before = team_row(wh)
    for table in ("staging.trajectories", "staging.measurements"):
        execute(wh.con, f"DELETE FROM {table} WHERE trajectory_id = 'a-new'")
    release(wh)
    after = team_row(wh)
    assert after["held"] and after["n_paired"] == before["n_paired"] == 11
    assert after["mean_start"] == before["mean_start"]


def test_a_corrected_score_is_a_change_of_one(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    release(wh)
    before = team_row(wh)
    execute(wh.con, "UPDATE staging.measurements SET score = score + 7 "
                    "WHERE trajectory_id = 'a3' AND meetmoment = 'eind'")
    release(wh)
    after = team_row(wh)
    assert after["held"] and after["mean_end"] == before["mean_end"]


def test_a_held_figure_cannot_be_had_by_subtraction(wh: Staging) -> None:
    """Team A and its organisation changed by one: held. Provider p2 grew by k, but consortium
    = p1 + p2, so a current p2 beside a current consortium would give p1's current figures:
    the closure holds one of them too."""
    ten_and_a_neighbour(wh)
    for i in range(10):
        wh.pair(f"c{i}", 80, 60, team="C", provider="p2", month="2025-05")
    release(wh)
    one_more_in_team_a(wh)
    for i in range(K):  # p2 grows by k: its rows are current
        wh.pair(f"c-new{i}", 80, 61, team="C", provider="p2", month="2025-06")
    release(wh)
    rows = fetch(wh.con, "SELECT level, organisation, team, held, suppressed, suppression_reason "
                         "FROM mart.outcome_scores WHERE period = 'all'")
    current = {(r["level"], r["organisation"], r["team"]) for r in rows
               if not r["held"] and not r["suppressed"]}
    assert ("team", "p1", "A") not in current
    assert ("organisation", "p1", None) not in current
    # consortium = p1 + p2 with p1 hidden: a current consortium row beside a current p2 row
    # would give p1 away; the closure holds one of them
    assert not ({("consortium", None, None), ("organisation", "p2", None)} <= current)
    held = {(r["level"], r["organisation"], r["team"]) for r in rows if r["held"]}
    assert held & {("consortium", None, None), ("organisation", "p2", None)}


def test_without_protection_the_marts_equal_a_build_without_releases(wh: Staging, tmp_path: Path) -> None:
    ten_and_a_neighbour(wh)
    one_more_in_team_a(wh)
    build_marts(wh.con, wh.registry, K, secondary=True, reason_codes=True)
    plain = {t: fetch(wh.con, f"SELECT * EXCLUDE (held, held_from_build) FROM mart.{t}")
             for t in ("outcome_scores", "trajectory_indicators", "outcome_scores_rest",
                       "trajectory_indicators_rest")}
    release(wh, protect=False)
    for table, rows in plain.items():
        released = fetch(wh.con, f"SELECT * EXCLUDE (held, held_from_build) FROM mart.{table}")
        assert released == rows
        assert not any(r["held"] for r in fetch(wh.con, f"SELECT held FROM mart.{table}"))
    assert publish_analyst_copy(wh.con, tmp_path / "analyst.duckdb") > 0


def test_two_changes_of_k_that_differ_by_one_trajectory_are_not_both_published(wh: Staging) -> None:
    """Team T gains ten trajectories in intervention I1 and one (y) in I2; the organisation ×
    I1 row gains the same ten. Each changed by k or more, but T's change minus I1's change is y
    alone. I3 (unchanged, the smallest) is where plain closure would hide; the guard must
    hold T or organisation × I1 instead."""
    for intervention, count in (("I1", 10), ("I2", 10), ("I3", 10)):
        for i in range(count):
            wh.pair(f"t-{intervention}-{i}", 60, 50, team="T", interventie=intervention, month="2025-05")
    for intervention in ("I1", "I2"):
        for i in range(10):
            wh.pair(f"u-{intervention}-{i}", 70, 50, team="U", interventie=intervention, month="2025-05")
    release(wh)
    for i in range(10):
        wh.pair(f"t-I1-new{i}", 61, 52, team="T", interventie="I1", month="2025-06")
    wh.pair("y", 90, 30, team="T", interventie="I2", month="2025-06")
    release(wh)
    rows = {(r["level"], r["team"], r["intervention"]): r for r in fetch(
        wh.con, "SELECT * FROM mart.outcome_scores WHERE period = 'all' AND organisation = 'p1'")}
    fresh = {key for key, r in rows.items() if not r["held"] and not r["suppressed"]}
    assert not {("team", "T", None), ("organisation_intervention", None, "I1")} <= fresh, fresh

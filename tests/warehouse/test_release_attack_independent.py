"""An independent attack on release protection (issue 12 item 1; warehouse/release.py): small
hand-made histories in which a reader who keeps every release derives a figure of fewer than k
trajectories. Each test asserts that the attack recovers NOTHING. Written by a reviewer who did
not write the protection; the holes it found (corrections of one component hiding a new client's
other components, a registry edit, an erasure beside corrections, the existing attacker's claims
judged per figure, and a client moving team crashing the protected build) were closed in
warehouse/release.py and warehouse/marts.py, and the tests keep them closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from tests.warehouse.release_attack import (
    SCORE_COMPONENTS,
    TRAJECTORIES,
    TRAJECTORY_COMPONENTS,
    attack,
)
from tests.warehouse.release_scenarios import RING, build_with, run_scenario, scenario
from tests.warehouse.staging import Staging, fetch
from warehouse.marts import build_marts
from warehouse.privacy import forget_client
from warehouse.sql import execute

REGISTRY_TEXT = (
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,{cutoff}\n"
)
REGISTRY = parse_instrument_registry(REGISTRY_TEXT.format(cutoff=64))
K = 5


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


def release(wh: Staging, protect: bool | None = True, registry: InstrumentRegistry | None = None) -> None:
    build_marts(wh.con, registry or wh.registry, K, secondary=True, reason_codes=True,
                release_protection=protect)


def score_rows(wh: Staging, table: str = "outcome_scores") -> dict[tuple, dict]:
    return {(r["level"], r["organisation"], r["team"], r["intervention"], r["period"]): r
            for r in fetch(wh.con, f"SELECT * FROM mart.{table}")}


def indicator_rows(wh: Staging, table: str = "trajectory_indicators") -> dict[tuple, dict]:
    return score_rows(wh, table)


def published(row: dict) -> bool:
    return not row["suppressed"]


def total(row: dict, mean: str, count: str = "n_paired") -> float:
    """What a reader reconstructs from a published row: count × rounded mean (or share)."""
    return row[count] * row[mean]


def differences(before: dict[tuple, dict], after: dict[tuple, dict], mean: str,
                count: str = "n_paired") -> dict[tuple, tuple[int, float]]:
    """Per row published in both releases with different figures: (change in n, change in
    n × mean). Only rows whose n changed by fewer than K are listed: a change of n by one,
    with the figure's sum known to the unit, is the figure of that one trajectory if every
    other trajectory's contribution to THIS figure is unchanged."""
    found = {}
    for key, old in before.items():
        new = after.get(key)
        if new is None or not (published(old) and published(new)) or new["held"]:
            continue
        if old[count] is None or new[count] is None or old[mean] is None or new[mean] is None:
            continue
        change_n = new[count] - old[count]
        # a mean rounded to 2 decimals (a share to 3) puts n × mean within n × half a unit of
        # the sum; integer scores (0/1 flags) make the sum's change exact when that is < 0.5
        unit = 0.005 if "pct" not in mean else 0.0005
        if 0 < abs(change_n) < K and unit * (new[count] + old[count]) < 0.5:
            found[key] = (change_n, round(total(new, mean, count) - total(old, mean, count)))
    return found


TEAM_A = ("team", "p1", "A", None, "all")


def ten_and_a_neighbour(wh: Staging) -> None:
    """Team A: ten clients (start 60..69); team B: twelve, so the organisation is not A alone."""
    for i in range(10):
        wh.pair(f"a{i}", 60 + i, 50 + i, team="A", month="2025-05")
    for i in range(12):
        wh.pair(f"b{i}", 70, 55 + i % 3, team="B", month="2025-05")


# --- hole 1: a version is one opaque unknown, but its figures are separate sums -----------------
#
# The guard (ReleaseGuard, select_release_changes.sql) treats a trajectory version
# (trajectory_ref, value_hash over x_start, x_end, flags) as ONE unknown: a corrected end score
# makes a "changed" trajectory, so k−1 end-score corrections plus one new client count as k
# changes and the team's figures are published afresh. But mean_start is a sum of x_start
# alone, which the corrections did not touch: n₂·mean_start₂ − n₁·mean_start₁ is the new
# client's start score, at every level the client is in.


def corrections_of_the_end_score_and_one_new_client(wh: Staging) -> None:
    for i in range(K - 1):  # a late or corrected end measurement: x_end changes, x_start not
        execute(wh.con, "UPDATE staging.measurements SET score = score + 7 "
                        "WHERE trajectory_id = ? AND meetmoment = 'eind'", [f"a{i}"])
    wh.pair("a-new", 77, 52, team="A", month="2025-06")


def recovered_start_scores(wh: Staging, protect: bool) -> dict[tuple, float]:
    ten_and_a_neighbour(wh)
    release(wh, protect)
    before = score_rows(wh)
    corrections_of_the_end_score_and_one_new_client(wh)
    release(wh, protect)
    after = score_rows(wh)
    return {key: change for key, (n, change) in differences(before, after, "mean_start").items()
            if n == 1}


def test_control_unprotected_start_score_of_the_new_client_is_recovered(wh: Staging) -> None:
    recovered = recovered_start_scores(wh, protect=False)
    assert recovered[TEAM_A] == 77


def test_end_score_corrections_do_not_hide_the_new_clients_start_score(wh: Staging) -> None:
    recovered = recovered_start_scores(wh, protect=True)
    leaks = {key: value for key, value in recovered.items() if value == 77}
    assert not leaks, f"start score of one client recovered (truth 77): {leaks}"


def test_a_registry_edit_does_not_make_one_new_client_publishable(wh: Staging) -> None:
    ten_and_a_neighbour(wh)  # team A starts 60..69, ends 50..59
    release(wh)
    before = score_rows(wh)
    # cutoff 64 -> 60: clinical_start flips for a0..a3 (start 60..63) and nobody else
    edited = parse_instrument_registry(REGISTRY_TEXT.format(cutoff=60))
    wh.pair("a-new", 77, 52, team="A", month="2025-06")
    release(wh, registry=edited)
    after = score_rows(wh)
    start = {key: v for key, (n, v) in differences(before, after, "mean_start").items() if n == 1}
    end = {key: v for key, (n, v) in differences(before, after, "mean_end").items() if n == 1}
    leaks = {key: (start[key], end.get(key)) for key in start if (start[key], end.get(key)) == (77, 52)}
    assert not leaks, f"one client's start and end score recovered (truth 77, 52): {leaks}"


def indicator_team_of_ten(wh: Staging) -> None:
    for i in range(10):
        wh.trajectory(f"a{i}", einddatum="2025-05-15", month="2025-05", team="A",
                      doelrealisatie=1, tevredenheid=7)
    for i in range(12):
        wh.trajectory(f"b{i}", einddatum="2025-05-15", month="2025-05", team="B",
                      doelrealisatie=1, tevredenheid=8)


def test_goal_corrections_do_not_hide_the_new_clients_satisfaction(wh: Staging) -> None:
    indicator_team_of_ten(wh)
    release(wh)
    before = indicator_rows(wh)
    for i in range(K - 1):
        execute(wh.con, "UPDATE staging.trajectories SET doelrealisatie = 3 WHERE trajectory_id = ?",
                [f"a{i}"])
    wh.trajectory("a-new", einddatum="2025-06-15", month="2025-06", team="A", reden_einde=2,
                  doelrealisatie=1, tevredenheid=3)
    release(wh)
    after = indicator_rows(wh)
    satisfaction = {key: v for key, (n, v) in
                    differences(before, after, "mean_satisfaction", "n_ended").items() if n == 1}
    planned = {key: v for key, (n, v) in
               differences(before, after, "pct_planned_end", "n_ended").items() if n == 1}
    leaks = {key: (satisfaction[key], planned.get(key)) for key in satisfaction
             if (satisfaction[key], planned.get(key)) == (3, 0)}
    assert not leaks, f"one client's satisfaction and planned end recovered (truth 3, 0): {leaks}"


def test_an_erasure_beside_end_score_corrections_does_not_reveal_the_erased_client(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    wh.pair("a-gone", 81, 40, team="A", month="2025-05")
    for table in ("trajectories", "measurements"):  # as the read step stores them: labelled
        execute(wh.con, f"UPDATE staging.{table} SET local_client_id = 'l-' || trajectory_id")
    release(wh)
    before = score_rows(wh)
    for i in range(K - 1):
        execute(wh.con, "UPDATE staging.measurements SET score = score + 7 "
                        "WHERE trajectory_id = ? AND meetmoment = 'eind'", [f"a{i}"])
    forget_client(wh.con, "p1", "clientnummer", ["c-a-gone"], [], (), RING)
    release(wh)
    after = score_rows(wh)
    start = {key: -v for key, (n, v) in differences(before, after, "mean_start").items() if n == -1}
    leaks = {key: v for key, v in start.items() if v == 81}
    assert not leaks, f"the erased client's start score recovered (truth 81): {leaks}"


# --- the same hole in the existing random consortia ------------------------------------------
#
# release_truth.Truth.judge used to count as a claim's support every trajectory that differs
# between its two sides in ANY value, as the guard did; so it called "not small" a claim whose
# stated figure (say the sum of start scores) rests on fewer than k trajectories while a k-th
# differs only in another value (scenario corrections change an end score or a satisfaction).
# Judged per figure, the existing attacker's own claims recovered figures of fewer than k
# trajectories with protection on in seeds 3, 6 and 7. Both now judge per figure component; this
# check, written apart from the judge, keeps seed 6 honest.


def recovered_per_figure(seed: int, root: Path) -> list[str]:
    """The existing attacker's exact, unmixed claims whose stated non-count figure rests on
    1 … k−1 trajectories, counting for each figure only the trajectories whose contribution to
    THAT figure differs between the two sides."""
    plan = scenario(seed)
    run = run_scenario(plan, root, build_with(True))
    result = attack(run.releases, plan.k)
    found = []
    for claims in result.claims.values():
        for claim in claims:
            names = TRAJECTORY_COMPONENTS if claim.table == TRAJECTORIES else SCORE_COMPONENTS
            position = {name: i for i, name in enumerate(names)}
            after, after_sums = run.truth.members(claim.table, claim.after, result.universe)
            before, before_sums = run.truth.members(claim.table, claim.before, result.universe)
            a, b = dict(after), dict(before)
            if (set(a) - set(b)) and (set(b) - set(a)):
                continue  # one group minus another: no figure of either
            if any(v != after_sums[position[n]] - before_sums[position[n]] for n, v in claim.figures):
                continue
            for name, value in claim.figures:
                i = position[name]
                support = {t for t in set(a) | set(b) if (t in a) != (t in b) or a[t][i] != b[t][i]}
                if name != "n" and 0 < len(support) < plan.k:
                    before_text = (f" minus {result.universe.describe(claim.before.region)} of release "
                                   f"{run.build_ids.index(claim.before.origin)}" if claim.before else "")
                    found.append(f"{claim.table}: {result.universe.describe(claim.after.region)} of "
                                 f"release {run.build_ids.index(claim.after.origin)}{before_text}: "
                                 f"{name}={value} rests on {len(support)} trajectories (k={plan.k})")
    return sorted(set(found))


@pytest.mark.slow
def test_random_consortium_seed_6_judged_per_figure_recovers_nothing(tmp_path: Path) -> None:
    found = recovered_per_figure(6, tmp_path / "seed-6")
    assert not found, "\n".join(found[:8])


# --- probes that held ---------------------------------------------------------------------------


def no_small_difference(before: dict, after: dict) -> dict:
    """Every fresh row whose count moved by 1 … k−1 since the other release (there must be none)."""
    return {key: v for mean in ("mean_start", "mean_end") for key, v in
            differences(before, after, mean).items()}


def test_rest_of_consortium_does_not_give_a_providers_one_new_client(wh: Staging) -> None:
    """p2 gains one client: its organisation row and the rest of the consortium of p1 (= p2)
    both move by one; the consortium too. None is published afresh."""
    ten_and_a_neighbour(wh)
    for i in range(12):
        wh.pair(f"c{i}", 66, 50 + i % 4, team="C", provider="p2", month="2025-05")
    release(wh)
    before = {t: score_rows(wh, t) for t in ("outcome_scores", "outcome_scores_rest")}
    wh.pair("c-new", 90, 31, team="C", provider="p2", month="2025-06")
    release(wh)
    after = {t: score_rows(wh, t) for t in ("outcome_scores", "outcome_scores_rest")}
    for table in before:
        assert not no_small_difference(before[table], after[table]), table
    assert after["outcome_scores_rest"][("rest_of_consortium", "p1", None, None, "all")]["held"]


def test_a_client_moving_team_is_not_published_from_either_team(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    release(wh)
    before = score_rows(wh)
    execute(wh.con, "UPDATE staging.trajectories SET team = 'B' WHERE trajectory_id = 'a9'")
    release(wh)
    after = score_rows(wh)
    assert not no_small_difference(before, after)
    assert after[TEAM_A]["held"] and after[("team", "p1", "B", None, "all")]["held"]


def test_a_small_provider_leaving_does_not_give_its_clients_away(wh: Staging) -> None:
    """p3 (three clients, always below k) stops delivering: the consortium and the rest of the
    consortium of p1 lose exactly p3's three; neither is published afresh."""
    ten_and_a_neighbour(wh)
    for i in range(3):
        wh.pair(f"d{i}", 88, 40, team="D", provider="p3", month="2025-05")
    release(wh)
    before = {t: score_rows(wh, t) for t in ("outcome_scores", "outcome_scores_rest")}
    for table in ("staging.trajectories", "staging.measurements", "staging.deliveries"):
        execute(wh.con, f"DELETE FROM {table} WHERE provider = 'p3'")
    release(wh)
    after = {t: score_rows(wh, t) for t in ("outcome_scores", "outcome_scores_rest")}
    for table in before:
        assert not no_small_difference(before[table], after[table]), table

"""A third, independent attack on release protection (issue 12 item 1; warehouse/release.py):
new angles beside those of test_release_attack_independent.py, whose helpers it reuses. Each
test asserts that the attack recovers nothing. Two holes it found are closed and kept closed
here: a rotation while a trajectory was absent made it count as two changes when it came back
(now `unlinked`, rekey_release_tokens.sql), and the echelon search missed a difference of two
figures among many small classes (now checked directly); the rest are probes that held."""

from __future__ import annotations

import numpy as np
import pytest

from pseudonymise.keys import KeyRing, new_key
from pseudonymise.pseudonyms import Pseudonymiser
from schemas.config import InstrumentRegistry, parse_instrument_registry
from tests.warehouse.staging import Staging, fetch
from tests.warehouse.test_release_attack_independent import (
    REGISTRY,
    TEAM_A,
    K,
    differences,
    indicator_rows,
    release,
    score_rows,
    ten_and_a_neighbour,
)
from warehouse.privacy import rekey_warehouse
from warehouse.pseudonym_keys import ensure_key_ring_covers_warehouse
from warehouse.release import small_new_combination
from warehouse.sql import execute


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


def one_client(before: dict, after: dict, mean: str, count: str = "n_paired") -> dict[tuple, float]:
    """Rows whose published count moved by exactly one: the moved n × mean is that client's."""
    return {key: value for key, (n, value) in differences(before, after, mean, count).items()
            if abs(n) == 1}


# --- rotate-key between releases ------------------------------------------------------------
#
# Release protection knows a trajectory by md5 of its pseudonym (build_release_tokens.sql).
# rotate-key re-keys the references of every pseudonym still stored in the warehouse
# (rekey_release_tokens.sql, via the mapping of warehouse/privacy.py rekey_warehouse) but a
# trajectory that is not stored at that moment (its month was re-sent without it: a correction
# replaces its month whole, stage_waiting_intake.sql) keeps its old reference. When it comes
# back under the new key it looks like a new trajectory, and its old version like one that left:
# every returning trajectory counts as TWO changes. Two such plus one new client make k = 5
# "changes", so the team is published afresh; the reader subtracts the last shown release and
# gets the new client's scores.


def labelled(wh: Staging, ring: KeyRing, tids: dict[str, str]) -> None:
    """Give the staged rows real pseudonyms (rotation needs their labels): `tids` maps the
    test's short id to its traject_id at the provider."""
    p = Pseudonymiser(ring)
    for short, number in tids.items():
        tid = p.trajectory("p1", number)
        execute(wh.con, "UPDATE staging.trajectories SET trajectory_id = ?, client_id = ?, "
                        "local_client_id = ? WHERE trajectory_id = ?",
                [tid, p.client("p1", f"C{number}", None), p.local_client("p1", f"C{number}"), short])
        execute(wh.con, "UPDATE staging.measurements SET trajectory_id = ?, local_client_id = ? "
                        "WHERE trajectory_id = ?", [tid, p.local_client("p1", f"C{number}"), short])


def returning_pair(wh: Staging, ring: KeyRing, short: str, number: str, x_start: float,
                   x_end: float, month: str) -> None:
    wh.pair(short, x_start, x_end, team="A", month=month)
    labelled(wh, ring, {short: number})


def rotation_history(wh: Staging, protect: bool) -> tuple[dict, dict]:
    ring = KeyRing((new_key(),))
    ten_and_a_neighbour(wh)  # team A: a0..a9 (May); team B: b0..b11
    labelled(wh, ring, {f"a{i}": f"TA{i}" for i in range(10)} | {f"b{i}": f"TB{i}" for i in range(12)})
    for j in range(2):  # two more clients of team A, delivered with April
        returning_pair(wh, ring, f"x{j}", f"TX{j}", 66, 58, "2025-04")
    ensure_key_ring_covers_warehouse(wh.con, ring)
    release(wh, protect)  # release 1: team A = a0..a9, x0, x1 (12)
    first = score_rows(wh)
    # April is re-sent without x0 and x1 (a correction replaces its month whole)
    execute(wh.con, "DELETE FROM staging.measurements WHERE month = '2025-04'")
    execute(wh.con, "DELETE FROM staging.trajectories WHERE month = '2025-04'")
    release(wh, protect)  # release 2: team A lost two: held
    key = new_key()
    rekey_warehouse(wh.con, ring, key)  # databank rotate-key
    ring = ring.with_key(key)
    # April re-sent once more, with x0 and x1 as before (same traject_id, same scores), and one
    # new client in June
    for j in range(2):
        returning_pair(wh, ring, f"x{j}", f"TX{j}", 66, 58, "2025-04")
    wh.pair("new", 77, 52, team="A", month="2025-06")
    labelled(wh, ring, {"new": "TNEW"})
    release(wh, protect)  # release 3: team A = a0..a9, x0, x1, new (13)
    return first, score_rows(wh)


def test_control_without_protection_rotation_history_gives_the_new_client(wh: Staging) -> None:
    first, third = rotation_history(wh, protect=False)
    assert one_client(first, third, "mean_start")[TEAM_A] == 77


def test_rotation_does_not_make_returning_trajectories_count_twice(wh: Staging) -> None:
    first, third = rotation_history(wh, protect=True)
    start = one_client(first, third, "mean_start")
    end = one_client(first, third, "mean_end")
    leaks = {key: (start[key], end.get(key)) for key in start if (start[key], end.get(key)) == (77, 52)}
    assert not leaks, f"one client's start and end score recovered (truth 77, 52): {leaks}"


# --- the algebra: a difference of two figures that the echelon search misses -----------------
#
# small_new_combination looks for a combination of small support among single classes, pairs,
# and the rows of echelon forms under 24 column orders. A vector of small support is an echelon
# row only when exactly one of its classes is a pivot; with many small classes and a row space
# of high dimension, its classes are nearly always all pivots. Below: 40 classes of one
# trajectory each, 37 independent 0/1 figures (as the figures of many cells over many releases
# are), two of which differ by exactly three classes: figure B minus figure A is the sum of three
# trajectories (k = 4). Brute force (the difference of two rows) finds it; the search does not.


def two_figures_three_apart(classes: int, seed: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    a = classes // 2
    figures = (rng.random((classes - 4, classes)) < 0.5).astype(float)
    figures[0, a:a + 3] = 0  # figure A
    figure_b = figures[0].copy()
    figure_b[a:a + 3] = 1  # figure B = figure A and three trajectories more
    figures = np.vstack([figures, figure_b])
    return figures, a


def test_brute_force_confirms_the_three_trajectory_difference() -> None:
    figures, a = two_figures_three_apart(40, seed=0)
    difference = figures[-1] - figures[0]
    assert set(np.flatnonzero(difference)) == {a, a + 1, a + 2}  # 3 trajectories < k = 4
    assert np.linalg.matrix_rank(figures) == figures.shape[0]  # every figure adds information


def test_control_the_search_finds_it_among_few_classes() -> None:
    figures, _ = two_figures_three_apart(20, seed=0)
    members = [np.array([i]) for i in range(figures.shape[1])]
    assert small_new_combination(figures, np.zeros(figures.shape[0], bool), members, 4) is not None


def test_the_search_finds_a_difference_of_two_figures_among_many_classes() -> None:
    figures, a = two_figures_three_apart(40, seed=0)
    members = [np.array([i]) for i in range(figures.shape[1])]
    found = small_new_combination(figures, np.zeros(figures.shape[0], bool), members, 4)
    assert found is not None, f"missed: figure B − figure A = classes {a}, {a + 1}, {a + 2} (3 trajectories)"


# --- probes that held ---------------------------------------------------------------------------


def assert_no_one_client(before: dict, after: dict, truth: tuple[float, float]) -> None:
    start = one_client(before, after, "mean_start")
    end = one_client(before, after, "mean_end")
    leaks = {key: (start[key], end.get(key)) for key in start if (start[key], end.get(key)) == truth}
    assert not leaks, f"one client's start and end score recovered (truth {truth}): {leaks}"


def test_an_end_year_corrected_into_2024_beside_one_new_client_gives_nothing(wh: Staging) -> None:
    ten_and_a_neighbour(wh)
    release(wh)
    before = score_rows(wh)
    execute(wh.con, "UPDATE staging.trajectories SET end_month = DATE '2024-12-01' "
                    "WHERE trajectory_id IN ('a0', 'a1', 'a2', 'a3')")
    wh.pair("new", 77, 52, team="A", month="2025-06")
    release(wh)
    assert_no_one_client(before, score_rows(wh), (77, 52))


def test_a_team_renamed_beside_one_new_client_gives_nothing(wh: Staging) -> None:
    """Every trajectory of team A moves to a new team code at once; one new client joins it."""
    ten_and_a_neighbour(wh)
    release(wh)
    before = score_rows(wh)
    execute(wh.con, "UPDATE staging.trajectories SET team = 'A2' WHERE team = 'A'")
    wh.pair("new", 77, 52, team="A2", month="2025-06")
    release(wh)
    after = score_rows(wh)
    renamed = after.get(("team", "p1", "A2", None, "all"))
    if renamed is not None and not renamed["suppressed"]:  # A2 (11) against A (10) of before
        old = before[TEAM_A]
        recovered = (round(renamed["n_paired"] * renamed["mean_start"] - old["n_paired"] * old["mean_start"]),
                     round(renamed["n_paired"] * renamed["mean_end"] - old["n_paired"] * old["mean_end"]))
        assert renamed["n_paired"] - old["n_paired"] != 1 or recovered != (77, 52), recovered
    assert_no_one_client(before, after, (77, 52))


TRF = ("TRF", "totaal", "leerkracht")


def cbcl_rows(wh: Staging) -> dict[tuple, dict]:
    return {(r["level"], r["organisation"], r["team"], r["intervention"], r["period"]): r
            for r in fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE instrument = 'CBCL'")}


def test_a_corrected_second_measure_does_not_hide_a_new_client_on_the_first(wh: Staging) -> None:
    """Team A has CBCL and TRF; k−1 TRF corrections and one new client with CBCL only."""
    both = parse_instrument_registry(
        "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
        "CBCL,totaal,24,100,true,10,0.94,64\nTRF,totaal,24,100,true,10,0.94,64\n")
    ten_and_a_neighbour(wh)
    for i in range(10):
        wh.scores(f"a{i}", 60, 50, measure=TRF, month="2025-05")
    release(wh, registry=both)
    before = cbcl_rows(wh)
    for i in range(K - 1):
        execute(wh.con, "UPDATE staging.measurements SET score = score + 3 "
                        "WHERE trajectory_id = ? AND instrument = 'TRF' AND meetmoment = 'eind'", [f"a{i}"])
    wh.pair("new", 77, 52, team="A", month="2025-06")
    release(wh, registry=both)
    assert_no_one_client(before, cbcl_rows(wh), (77, 52))


def test_a_late_satisfaction_answer_beside_goal_corrections_is_not_published(wh: Staging) -> None:
    """a0 never answered; its answer (3) arrives later, beside k−1 corrections of goals: the
    satisfaction of the ten changed in one trajectory only."""
    for i in range(10):
        wh.trajectory(f"a{i}", einddatum="2025-05-15", month="2025-05", team="A", doelrealisatie=1,
                      tevredenheid=None if i == 0 else 7)
    for i in range(12):
        wh.trajectory(f"b{i}", einddatum="2025-05-15", month="2025-05", team="B", doelrealisatie=1,
                      tevredenheid=8)
    release(wh)
    before = indicator_rows(wh)
    execute(wh.con, "UPDATE staging.trajectories SET tevredenheid = 3 WHERE trajectory_id = 'a0'")
    for i in range(1, K):
        execute(wh.con, "UPDATE staging.trajectories SET doelrealisatie = 4 WHERE trajectory_id = ?", [f"a{i}"])
    release(wh)
    after = indicator_rows(wh)
    for key, row in after.items():
        old = before.get(key)
        if old is None or row["suppressed"] or row["held"] or old["suppressed"]:
            continue
        assert row["mean_satisfaction"] == old["mean_satisfaction"], (key, "satisfaction republished")


def provider_rows(wh: Staging) -> dict[str, dict[tuple, dict]]:
    return {t: score_rows(wh, t) for t in ("outcome_scores", "outcome_scores_rest")}


def recovered_through_a_provider_swap(wh: Staging, protect: bool) -> list[tuple]:
    """p3 (10) leaves and p4 (10) joins in the month p2 gains one client (77, 52): the consortium
    moves by 1 net and the rest of p1 by 21, but consortium(after) − consortium(before) − p4 + p3
    is the new client, and so is rest-of-p1(after) − p4 − p2(before). Returns the combinations,
    of rows fresh in the second release, that give the new client's start score."""
    ten_and_a_neighbour(wh)
    for i in range(12):
        wh.pair(f"c{i}", 66, 50 + i % 4, team="C", provider="p2", month="2025-05")
    for i in range(10):
        wh.pair(f"d{i}", 62, 49 + i % 5, team="D", provider="p3", month="2025-05")
    release(wh, protect)
    before = provider_rows(wh)
    for table in ("staging.trajectories", "staging.measurements", "staging.deliveries"):
        execute(wh.con, f"DELETE FROM {table} WHERE provider = 'p3'")
    for i in range(10):
        wh.pair(f"e{i}", 64, 51 + i % 3, team="E", provider="p4", month="2025-06")
    wh.pair("new", 77, 52, team="C", provider="p2", month="2025-06")
    release(wh, protect)
    after = provider_rows(wh)

    def total(rows: dict, key: tuple) -> float | None:
        row = rows.get(key)
        if row is None or row["suppressed"]:
            return None
        return row["n_paired"] * row["mean_start"]

    scores, rest = ("outcome_scores", "outcome_scores_rest")
    org = lambda p: ("organisation", p, None, None, "all")  # noqa: E731
    consortium = ("consortium", None, None, None, "all")
    found = []
    for name, plus, minus in (
        ("consortium", [(after, scores, consortium), (before, scores, org("p3"))],
         [(before, scores, consortium), (after, scores, org("p4"))]),
        ("rest of p1", [(after, rest, ("rest_of_consortium", "p1", None, None, "all"))],
         [(after, scores, org("p4")), (before, scores, org("p2"))]),
    ):
        parts = [total(r[t], key) for r, t, key in plus + minus]
        fresh = all(not after[t][key]["held"] for r, t, key in plus + minus if r is after and key in after[t])
        if None not in parts and fresh:
            value = sum(parts[: len(plus)]) - sum(parts[len(plus):])
            if round(value) == 77 and abs(value - 77) < 0.5:
                found.append((name, value))
    return found


def test_control_without_protection_a_provider_swap_gives_the_new_client(wh: Staging) -> None:
    assert recovered_through_a_provider_swap(wh, protect=False)


def test_a_provider_leaving_and_another_joining_do_not_give_a_new_client(wh: Staging) -> None:
    found = recovered_through_a_provider_swap(wh, protect=True)
    assert not found, f"the new client's start score recovered (truth 77): {found}"

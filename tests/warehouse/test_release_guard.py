"""The algebra of the release guard (warehouse/release.py small_new_combination) on figures
written out by hand: rows are published figures, columns classes of trajectory versions, and the
guard must find exactly the combinations that rest on fewer than k trajectories and that the
earlier figures did not already give. The guard inside real builds is tested in
test_release_holds.py and by the attacker in test_release_protection.py."""

from __future__ import annotations

import numpy as np

from warehouse.release import small_new_combination

K = 10


def members(*sizes: int) -> list[np.ndarray]:
    """Classes of the given sizes, each its own trajectories."""
    out, start = [], 0
    for size in sizes:
        out.append(np.arange(start, start + size))
        start += size
    return out


def found(rows: list[list[int]], old: int, sizes: list[int] | list[np.ndarray]) -> set[int] | None:
    matrix = np.array(rows, dtype=float)
    is_old = np.arange(len(rows)) < old
    classes = members(*sizes) if isinstance(sizes[0], int) else sizes
    result = small_new_combination(matrix, is_old, classes, K)
    return None if result is None else {int(c) for c in result}


def test_one_more_client_in_a_team_of_ten_is_found() -> None:
    # the team of ten last month; this month the same ten and one more
    assert found([[1, 0], [1, 1]], old=1, sizes=[10, 1]) == {1}


def test_a_group_that_grew_by_k_is_not_a_leak() -> None:
    assert found([[1, 0], [1, 1]], old=1, sizes=[10, 10]) is None


def test_what_earlier_releases_already_gave_is_not_counted_again() -> None:
    # both figures were public before; showing the second again adds nothing
    assert found([[1, 0], [1, 1], [1, 1]], old=2, sizes=[10, 1]) is None


def test_a_combination_of_three_figures_is_found() -> None:
    """The consortium's 'all' this month minus an organisation's row minus last month's 'all':
    classes: last month's 25 (a), the organisation's 12 (b, new this year), 4 new elsewhere (c).
    No figure differs from another by fewer than k, yet all − organisation − last = c."""
    rows = [
        [1, 0, 0],  # consortium, last month
        [1, 1, 1],  # consortium, now
        [0, 1, 0],  # organisation, now
    ]
    assert found(rows, old=1, sizes=[25, 12, 4]) == {2}


def test_the_team_that_gained_ten_and_one_is_found() -> None:
    """A team gained ten trajectories in I1 (c) and one in I2 (d); the organisation × I1 row
    gained the same ten. Each figure changed by ten or more; team − its old value − (org×I1 −
    its old value) is the one in I2."""
    rows = [
        [1, 0, 0, 0],  # team, last month (a)
        [0, 1, 0, 0],  # organisation × I1, last month (b)
        [1, 0, 1, 1],  # team now
        [0, 1, 1, 0],  # organisation × I1 now
    ]
    assert found(rows, old=2, sizes=[12, 15, 10, 1]) == {3}


def test_a_corrected_score_is_one_trajectory_in_two_versions() -> None:
    """Twelve trajectories; one of them corrected: its old version (class b) is replaced by its
    new one (class c). Both classes are the same trajectory, so the difference concerns one."""
    classes = [np.arange(0, 11), np.array([11]), np.array([11])]
    assert found([[1, 1, 0], [1, 0, 1]], old=1, sizes=classes) == {1, 2}


def test_many_corrections_of_the_same_few_trajectories_stay_small() -> None:
    """Five trajectories corrected at once: ten versions, but five people; k = 10 must hold it."""
    classes = [np.arange(0, 20), np.arange(20, 25), np.arange(20, 25)]
    assert found([[1, 1, 0], [1, 0, 1]], old=1, sizes=classes) == {1, 2}


def test_hidden_figures_pin_nothing_down() -> None:
    """Three small classes that are only ever published together, month after month."""
    assert found([[1, 1, 1], [1, 1, 1]], old=1, sizes=[3, 4, 5]) is None


def test_a_figure_resting_only_on_few_trajectories_is_found_within_one_release() -> None:
    # parent minus shown children: 12 = 7 + 3 + (2 hidden) inside a single, first release
    rows = [[1, 1, 1], [1, 0, 0], [0, 1, 0]]
    assert found(rows, old=0, sizes=[5, 5, 2]) in ({0}, {1}, {2})


def test_a_combination_larger_than_a_pair_among_many_classes_is_found() -> None:
    """Random public history of 40 large-enough sums, then one fresh figure that, with three
    old ones, isolates three small classes of two trajectories each (six, below k)."""
    generator = np.random.default_rng(3)
    classes = 30
    sizes = [12] * 24 + [2] * 6
    old = []
    for _ in range(40):
        row = np.zeros(classes)
        row[generator.choice(24, size=8, replace=False)] = 1
        row[24:] = 1  # the small classes only ever appear together, with large ones
        old.append(row)
    fresh = old[0].copy()
    fresh[24:27] = 0  # the same figure without three of the small classes
    rows = [list(r) for r in old] + [list(fresh)]
    assert found(rows, old=40, sizes=sizes) == {24, 25, 26}

"""Release protection: a reader who keeps every release learns nothing about fewer than k
trajectories by comparing them (issue "privacy across releases"; PRIVACY.md §5).

Within one release, primary and secondary suppression (warehouse/marts.py) keep every hidden
figure hidden. Across releases they do not: when one more client ends care in a team of ten,
n₂·mean₂ − n₁·mean₁ on two analysts' copies is that client's scores. Statistical offices answer
this three ways: OpenSAFELY rounds every published count (integer scores still pin down n); ONS
perturbs each cell with noise keyed to its set of people (the same set, the same noise; a reader
averaging differences over many cells learns the value anyway, and every figure is off); Eurostat
keeps a suppression pattern stable over periods. This module follows the last, per figure:

- every build is a release; the warehouse remembers, per comparison cell (table, measure, level,
  group, period), each set of trajectory versions a release published a figure from
  (privacy.release_tokens: md5 references and value hashes, never a pseudonym or a value);
- a cell whose set now differs from ANY set it was published from by 1 to k−1 versions (a new
  trajectory, an erased one, a corrected score, a moved team) is not republished: it keeps the
  figures it was last published with, marked `held` with the build they are from;
- a held figure's current value is as unknown to the reader as a suppressed one, so the same
  secondary closure over every sum relation (marts.suppression_pattern) hides, by holding,
  what would otherwise give it away by subtraction, and the rest-of-consortium rows follow the
  organisation and consortium rows they are the difference of;
- those rules see one figure or one relation at a time; ReleaseGuard then checks everything a
  reader holds at once (every figure of every release, as sums over trajectory versions) and
  holds more until no linear combination new in this release rests on fewer than k trajectories;
- figures carry no more precision than a reader needs (means 2 decimals, shares 3).

A figure therefore changes only when at least k of the trajectories behind it changed, and then
a comparison of two releases yields an aggregate of at least k trajectories. With
`[publication] release_protection = false` every build publishes its current figures (a closed
analysts' room); the memory is kept either way, so switching protection on later protects
against what was published meanwhile."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import numpy as np

from warehouse.sql import execute, run_sql

NULL_MARK = "\x1e"
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Release:
    """What a build needs to publish as a release: its id and whether to protect."""

    build_id: str
    protect: bool


def cell_key(family: str, measure: tuple[str | None, str | None, str | None],
             group: tuple) -> str:
    """The cell's key, as the SQL macro release_cell makes it (create_release_cell_macro.sql)."""
    parts = (family, *measure, *group)
    return SEPARATOR.join(NULL_MARK if part is None else str(part) for part in parts)


def start_release(con: duckdb.DuckDBPyConnection, build_id: str) -> int:
    """Number this build as the next release and record its trajectory versions; returns the
    release's sequence number. Runs inside the build's transaction."""
    run_sql(con, "create_release_cell_macro")
    (seq,) = execute(con, "SELECT coalesce(max(seq), 0) + 1 FROM privacy.releases")[0]
    execute(con, "INSERT INTO privacy.releases VALUES (?, ?, now()::TIMESTAMP)", [seq, build_id])
    run_sql(con, "build_release_tokens", {"seq": seq})
    return seq


def changed_cells(con: duckdb.DuckDBPyConnection, k: int, seq: int) -> set[str]:
    """Cells that may not be published afresh now, because their set
    of trajectory versions is not one a release already showed, yet differs by fewer than k
    versions from a set that a release showed (its difference would be the figure of those
    few) or that a release hid to protect another figure ('secondary': such a hidden value is
    pinned down in part, e.g. a hidden year = 'all' minus the other years, so showing it now
    would reveal the small cell it protected). A set hidden for itself (below k, or held for a
    change of fewer than k) is not compared: its value is pinned only through the partners that
    protected it, which this rule keeps hidden; so a group that grows by one a month is shown
    again once it grew by k. Also kept as temp table release_small (mark_rest_release_holds.sql);
    release_known and release_change_since_shown are left for ReleaseGuard."""
    rows = run_sql(con, "select_release_changes", {"k": k, "seq": seq})
    latest = dict(execute(
        con, "SELECT cell, max(seq) FROM privacy.cell_publications WHERE shown GROUP BY cell"))
    same_as_shown = {cell for cell, _, shown, _, changed in rows if shown and changed == 0}
    near = {
        cell for cell, _, shown, protects_other, changed in rows
        if (shown and 0 < changed < k) or (protects_other and changed < k)
    }
    small = near - same_as_shown
    # how much of a cell a reader does not know when it is held: its change since last shown
    # (k or more when its size alone differs by k: not computed)
    change = {cell: changed for cell, base, shown, _, changed in rows
              if shown and base == latest.get(cell)}
    execute(con, "CREATE OR REPLACE TEMP TABLE release_change_since_shown (cell VARCHAR, changed INTEGER)")
    for cell in latest:
        change.setdefault(cell, k)
    if change:
        execute(con, "INSERT INTO release_change_since_shown SELECT unnest(?), unnest(?)",
                [list(change), list(change.values())])
    execute(con, "CREATE OR REPLACE TEMP TABLE release_known (cell VARCHAR)")
    if same_as_shown:
        execute(con, "INSERT INTO release_known SELECT unnest(?)", [sorted(same_as_shown)])
    execute(con, "CREATE OR REPLACE TEMP TABLE release_small (cell VARCHAR)")
    if small:
        execute(con, "INSERT INTO release_small SELECT unnest(?)", [sorted(small)])
    return small


class ReleaseGuard:
    """The check that closes release protection over every combination of figures a reader who
    keeps every release holds, not only over each figure on its own or each sum relation.

    Every published figure (count, sum of scores, share numerator) is a sum over a set of
    trajectory versions; so is every figure a release is about to show afresh. Versions that
    every such figure treats alike form a class: a reader can learn a class only as a whole,
    and everything the reader can compute is a linear combination of the figures, i.e. a
    vector in their row space over the classes. The release may show its fresh figures only
    if that row space gains no vector resting on fewer than k trajectories (distinct
    trajectories: a corrected score's old and new version are one). This is judged per figure
    component (a count, a sum of start scores, a flag): a trajectory whose end score was
    corrected adds the same start score before and after, so for the start scores its two
    versions are one variable, and a new client beside k−1 such corrections is found. Such a vector can only
    rest on classes of fewer than k trajectories, and it lies in the row space exactly when
    every vector of the null space gives it 0; so the search runs in the kernel of the null
    space restricted to the small classes: each small class alone, each pair, and echelon
    forms of that kernel under several orders of its columns (a vector of small support is a
    row of the echelon form whenever exactly one of its classes is a pivot). A combination an
    earlier release already made public cannot be taken back and is not counted again.

    When a new one is found, the fresh figure with the fewest trajectories among those that
    touch it is held (it keeps its last published value, already public) and the pattern is
    closed again (warehouse/marts.py _store_suppression_pattern), until none is found. This
    covers every level, period, the rest-of-consortium rows that earlier releases showed,
    erasures and corrections alike, without listing relations: the sets themselves are the
    relations."""

    def __init__(self, con: duckdb.DuckDBPyConnection, k: int, seq: int) -> None:
        self.con = con
        self.k = k
        self.seq = seq
        # cells whose current set an earlier release showed: their figures are public already
        self.known = {row[0] for row in execute(con, "SELECT cell FROM release_known")}
        self.change_since_shown = dict(execute(con, "SELECT cell, changed FROM release_change_since_shown"))
        self._figures: dict[tuple, list[_Figures]] = {}

    def leaking(self, family: str, measure: tuple, fresh: list[tuple],
                candidates: Iterable[tuple] = ()) -> tuple | None:
        """The fresh group to hold next, or None when showing every fresh group makes no figure
        of fewer than k trajectories follow from everything published. `candidates`: every
        group that a later pattern of this table and measure might show (loaded once; a pattern
        closed again after a hold may show a group it hid before)."""
        cells = {group: cell_key(family, measure, group) for group in fresh}
        cells = {group: cell for group, cell in cells.items() if cell not in self.known}
        if not cells:
            return None
        partitions = self._figures.get((family, measure))
        if partitions is None or not set(cells) <= set(partitions[0].fresh):
            everything = {group: cell_key(family, measure, group) for group in candidates}
            everything = {g: c for g, c in everything.items() if c not in self.known} | cells
            partitions = self._load(family, measure, everything)
            self._figures[(family, measure)] = partitions
        for figures in partitions:
            chosen = figures.rows_to_hold(list(cells), self.k)
            if chosen is not None:
                return chosen
        return None

    def _load(self, family: str, measure: tuple, cells: dict[tuple, str]) -> list[_Figures]:
        """One set of figures per way the figure components tell a trajectory's versions apart
        (usually one: without corrections every component sees the same versions)."""
        groups = list(cells)
        instrument, schaal, informant = measure
        same_as: dict[int, dict[tuple[str, str], str]] = {}
        for component, trajectory_ref, value_hash, first in run_sql(
            self.con, "select_release_guard_partitions",
            {"family": family, "instrument": instrument, "schaal": schaal, "informant": informant,
             "components": COMPONENTS[family]},
        ):
            same_as.setdefault(component, {})[(trajectory_ref, value_hash)] = first
        partitions = list({tuple(sorted(m.items())): m for m in same_as.values()}.values()) or [{}]
        execute(self.con, "CREATE OR REPLACE TEMP TABLE release_guard_fresh (position INTEGER, cell VARCHAR)")
        execute(self.con, "INSERT INTO release_guard_fresh SELECT unnest(?), unnest(?)",
                [list(range(len(groups))), [cells[g] for g in groups]])
        prefix = cell_key(family, measure, ()) + SEPARATOR
        loaded = []
        for mapping in partitions:
            execute(self.con, "CREATE OR REPLACE TEMP TABLE release_guard_same_as "
                              "(trajectory_ref VARCHAR, value_hash VARCHAR, same_as VARCHAR)")
            if mapping:
                keys = list(mapping)
                execute(self.con, "INSERT INTO release_guard_same_as SELECT unnest(?), unnest(?), unnest(?)",
                        [[r for r, _ in keys], [v for _, v in keys], [mapping[key] for key in keys]])
            classes = run_sql(self.con, "select_release_guard_classes",
                              {"seq": self.seq, "prefix": prefix, "fresh_count": len(groups),
                               "family": family, "instrument": instrument, "schaal": schaal,
                               "informant": informant})
            loaded.append(_Figures.from_classes(classes, groups, self.k))
        for temp in ("release_guard_fresh", "release_guard_figures", "release_guard_same_as"):
            execute(self.con, f"DROP TABLE IF EXISTS {temp}")
        return loaded


# figure components per table, as build_release_tokens.sql hashes them (component_hashes)
COMPONENTS = {"trajectories": 5, "scores": 10}


@dataclass
class _Figures:
    """One table and measure: which classes of trajectory versions every figure rests on. The
    figures earlier releases showed enter only as an orthonormal basis of their span (what a
    reader can compute from them), computed once per build: their number grows with every
    release, the span's dimension not beyond the number of classes."""

    fresh_incidence: np.ndarray  # fresh figures x classes, 0/1
    old_basis: np.ndarray  # orthonormal rows spanning the earlier figures, x classes
    old_signature: np.ndarray  # per class, an id of its column among the earlier figures
    members: list[np.ndarray]  # per class, its trajectories (as indices)
    unlinked: np.ndarray  # per class: holds versions a key rotation could not follow
    fresh: dict[tuple, int]  # fresh group -> its figure's row
    # pairs of figures whose difference rests on 1 to k-1 trajectories and is not public yet:
    # (fresh row, other fresh row or -1 for an earlier figure); see _small_differences
    small_differences: list[tuple[int, int]]

    @classmethod
    def from_classes(cls, classes: list[tuple], groups: list[tuple], k: int) -> _Figures:
        figure_count = classes[0][2] if classes else len(groups)
        incidence = np.zeros((figure_count, len(classes)))
        trajectory_index: dict[str, int] = {}
        members = []
        for column, (figures, trajectories, _, _) in enumerate(classes):
            incidence[figures, column] = 1.0
            members.append(np.array([trajectory_index.setdefault(t, len(trajectory_index))
                                     for t in trajectories], dtype=int))
        old = np.unique(incidence[len(groups):], axis=0) if figure_count > len(groups) else incidence[:0]
        _, old_signature = np.unique(old.T, axis=0, return_inverse=True) if old.shape[0] else (
            None, np.zeros(len(classes), dtype=int))
        unlinked = np.array([bool(row[3]) for row in classes], dtype=bool)
        old_basis = _orthonormal_row_space(old)
        return cls(incidence[: len(groups)], old_basis, np.asarray(old_signature).ravel(), members,
                   unlinked, {group: row for row, group in enumerate(groups)},
                   _small_differences(incidence[: len(groups)], old, old_basis, members, unlinked, k))

    def rows_to_hold(self, shown_groups: list[tuple], k: int) -> tuple | None:
        """The fresh group to hold so that the new combination found disappears."""
        fresh_rows = np.array([self.fresh[group] for group in shown_groups], dtype=int)
        shown_rows = set(fresh_rows.tolist())
        group_of_row = {row: group for group, row in self.fresh.items()}
        for row, other in self.small_differences:
            if row in shown_rows and (other < 0 or other in shown_rows):
                return group_of_row[row]
        fresh = np.unique(self.fresh_incidence[fresh_rows], axis=0)  # the same set twice says it once
        used = np.flatnonzero(fresh.any(axis=0) | (np.abs(self.old_basis) > 1e-12).any(axis=0))
        if not used.size:
            return None
        # classes that every figure still shown treats alike merge (exactly: by their columns
        # among the fresh figures and their signature among the earlier ones)
        keys = np.column_stack([self.old_signature[used], fresh[:, used].T])
        _, first, class_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        class_of = class_of.ravel()
        representative = used[first]
        by_class = np.argsort(class_of, kind="stable")
        bounds = np.searchsorted(class_of[by_class], np.arange(first.size + 1))
        members = [np.unique(np.concatenate([self.members[used[i]] for i in by_class[start:end]]))
                   for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
        unlinked = np.zeros(first.size, dtype=bool)
        np.logical_or.at(unlinked, class_of, self.unlinked[used])
        old_part = self.old_basis[:, representative]
        # in merged coordinates the earlier figures' rows are the basis's columns, one per class
        class_matrix = np.vstack([old_part, fresh[:, representative]])
        is_old = np.arange(class_matrix.shape[0]) < old_part.shape[0]
        found = small_new_combination(class_matrix, is_old, members, k, unlinked=unlinked)
        if found is None:
            return None
        member_counts = np.array([m.size for m in members], dtype=float)
        sizes = {tuple(row): float(row @ member_counts) for row in fresh[:, representative]}
        candidates = [(group, self.fresh_incidence[self.fresh[group]][representative]) for group in shown_groups]
        touching = [(group, row) for group, row in candidates if row[found].any()] or candidates
        chosen, _ = min(touching, key=lambda item: (sizes[tuple(item[1])], shown_groups.index(item[0])))
        return chosen


_TOLERANCE = 1e-8


def _small_differences(fresh: np.ndarray, old: np.ndarray, old_basis: np.ndarray,
                       members: list[np.ndarray], unlinked: np.ndarray, k: int) -> list[tuple[int, int]]:
    """Every pair (fresh figure, another fresh or earlier figure) whose difference rests on 1 to
    k−1 trajectories and does not follow from the earlier figures alone: the most direct
    differencing there is, checked exhaustively (the echelon search of small_new_combination
    can miss such a vector among many small classes). A trajectory adds at most two versions to
    a difference, so only pairs of fewer than 2k linked versions are counted exactly."""
    if not fresh.shape[0]:
        return []
    others = np.vstack([fresh, old])
    sizes = np.array([m.size for m in members], dtype=float)
    weighted = (fresh @ sizes)[:, None] + (others @ sizes)[None, :] - 2 * (fresh * sizes) @ others.T
    differing = fresh.sum(axis=1)[:, None] + others.sum(axis=1)[None, :] - 2 * fresh @ others.T
    found: list[tuple[int, int]] = []
    for row, other in zip(*np.nonzero((weighted < 2 * k - 0.5) & (differing > 0.5)), strict=True):
        if other < fresh.shape[0] and other <= row:
            continue  # each pair of fresh figures once
        difference = fresh[row] - others[other]
        support = np.flatnonzero(difference)
        count = np.unique(np.concatenate([members[c] for c in support])).size
        if count == 0 and unlinked[support].any():
            count = 1
        if not 0 < count < k:
            continue
        if old_basis.shape[0] and np.linalg.norm(difference - old_basis.T @ (old_basis @ difference)) < 1e-6:
            continue  # public already
        found.append((int(row), int(other) if other < fresh.shape[0] else -1))
    return found


def _orthonormal_row_space(matrix: np.ndarray) -> np.ndarray:
    if not matrix.size:
        return np.zeros((0, matrix.shape[1]))
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    tolerance = (singular.max() if singular.size else 0.0) * max(matrix.shape) * np.finfo(float).eps
    return vt[: int((singular > max(tolerance, _TOLERANCE)).sum())]


def _null_space(matrix: np.ndarray) -> np.ndarray:
    """Rows spanning {x : matrix @ x = 0}."""
    rows, columns = matrix.shape
    if not rows:
        return np.eye(columns)
    # the whole of V is needed; U only as wide as the matrix is tall
    _, singular, vt = np.linalg.svd(matrix, full_matrices=rows < columns)
    tolerance = (singular.max() if singular.size else 0.0) * max(matrix.shape) * np.finfo(float).eps
    return vt[int((singular > max(tolerance, _TOLERANCE)).sum()):]


def _echelon_rows(basis: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The reduced echelon form of `basis`, pivots taken in `order` of the columns."""
    a = basis[:, order].copy()
    rows, columns = a.shape
    pivot_row = 0
    for column in range(columns):
        if pivot_row == rows:
            break
        pivot = pivot_row + int(np.argmax(np.abs(a[pivot_row:, column])))
        if abs(a[pivot, column]) < 1e-9:
            continue
        a[[pivot_row, pivot]] = a[[pivot, pivot_row]]
        a[pivot_row] /= a[pivot_row, column]
        others = np.arange(rows) != pivot_row
        a[others] -= np.outer(a[others, column], a[pivot_row])
        pivot_row += 1
    out = np.zeros_like(a[:pivot_row])
    out[:, order] = a[:pivot_row]
    return out


def small_new_combination(class_matrix: np.ndarray, is_old: np.ndarray, members: list[np.ndarray],
                          k: int, orders: int = 24, unlinked: np.ndarray | None = None) -> np.ndarray | None:
    """Classes on which a linear combination of the figures (rows of `class_matrix`) rests
    that concerns 1 to k-1 trajectories and that the earlier figures (`is_old`) alone do not
    give, or None when the search finds none. `members`: each class's trajectories; `unlinked`:
    classes that also hold versions a key rotation could not follow, which may be any other
    trajectory's earlier self (so they add no trajectory, but a combination of only such
    versions concerns at least one)."""
    unlinked = np.zeros(len(members), dtype=bool) if unlinked is None else unlinked
    sizes = np.array([len(m) for m in members])
    small = np.flatnonzero(sizes < k)
    if not small.size:
        return None
    null = _null_space(class_matrix)
    kernel = _null_space(null[:, small]) if null.shape[0] else np.eye(small.size)
    if not kernel.shape[0]:
        return None
    old_space = _orthonormal_row_space(class_matrix[is_old])
    columns = class_matrix.shape[1]

    def judged(vector_on_small: np.ndarray) -> np.ndarray | None:
        scale = np.abs(vector_on_small).max()
        if scale < 1e-9:
            return None
        support = small[np.abs(vector_on_small) > 1e-7 * scale]
        total = sizes[support].sum()  # a trajectory can lie in several classes: at least the union
        count = total if 0 < total < k else np.unique(np.concatenate([members[c] for c in support])).size
        if count == 0 and unlinked[support].any():
            count = 1
        if not 0 < count < k:
            return None
        full = np.zeros(columns)
        full[small] = vector_on_small / scale
        residual = full - old_space.T @ (old_space @ full) if old_space.shape[0] else full
        if np.linalg.norm(residual) < 1e-6:
            return None  # public already
        return support

    candidates: list[np.ndarray] = []
    # each class alone, and pairs: columns of the restricted null space that vanish or are parallel
    restricted = null[:, small] if null.shape[0] else np.zeros((0, small.size))
    norms = np.linalg.norm(restricted, axis=0) if restricted.shape[0] else np.zeros(small.size)
    for i in np.flatnonzero(norms < 1e-7):
        unit = np.zeros(small.size)
        unit[i] = 1.0
        candidates.append(unit)
    alive = np.flatnonzero(norms >= 1e-7)
    if alive.size > 1:
        normalised = restricted[:, alive] / norms[alive]
        cosine = normalised.T @ normalised
        for a, b in zip(*np.nonzero(np.triu(np.abs(cosine) > 1 - 1e-9, 1)), strict=True):
            pair = np.zeros(small.size)
            pair[alive[a]] = norms[alive[b]]
            pair[alive[b]] = -np.sign(cosine[a, b]) * norms[alive[a]]
            candidates.append(pair)
    for candidate in candidates:
        support = judged(candidate)
        if support is not None:
            return support
    # two figures' difference, directly: a fresh row minus any other row (the echelon search
    # below can miss it when most small classes are pivots)
    is_small = np.zeros(columns, dtype=bool)
    is_small[small] = True
    for fresh_row in np.flatnonzero(~is_old):
        differences = class_matrix[fresh_row] - class_matrix
        outside = (np.abs(differences[:, ~is_small]) > 1e-9).any(axis=1)
        for other in np.flatnonzero(~outside):
            if other != fresh_row:
                support = judged(differences[other, small])
                if support is not None:
                    return support
    # larger combinations: echelon forms under several column orders
    generator = np.random.default_rng(len(small) * 7919 + kernel.shape[0])
    by_size = np.argsort(sizes[small], kind="stable")
    for attempt in range(orders):
        if attempt == 0:
            order = by_size
        elif attempt == 1:
            order = by_size[::-1]
        else:
            order = generator.permutation(small.size)
        best: np.ndarray | None = None
        for row in _echelon_rows(kernel, order):
            support = judged(row)
            if support is not None and (best is None or support.size < best.size):
                best = support
        if best is not None:
            return best
    return None


def finish_release(con: duckdb.DuckDBPyConnection, release: Release, seq: int) -> None:
    """Held rows, precision, and the memory of what this release shows (apply_release_protection.sql)."""
    _add_missing_columns(con)
    run_sql(con, "apply_release_protection",
            {"protect": release.protect, "seq": seq, "build_id": release.build_id})
    for temp in ("release_small", "release_known", "release_change_since_shown",
                 "release_cells_now"):
        execute(con, f"DROP TABLE IF EXISTS {temp}")
    execute(con, "DROP VIEW IF EXISTS release_cell_tokens")


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A mart column added by a newer version is added to the remembered rows too (null for
    figures published before it existed), so held rows keep the mart's shape."""
    for table in ("outcome_scores", "trajectory_indicators", "outcome_scores_rest",
                  "trajectory_indicators_rest"):
        shown = dict(execute(
            con, "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'privacy' AND table_name = ?", [f"shown_{table}"]))
        if not shown:
            continue
        for column, kind in execute(
            con, "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'mart' AND table_name = ?", [table]
        ):
            if column not in shown and column not in ("held", "held_from_build"):
                execute(con, f'ALTER TABLE privacy.shown_{table} ADD COLUMN "{column}" {kind}')

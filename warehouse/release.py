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
- figures carry no more precision than a reader needs (means 2 decimals, shares 3).

A figure therefore changes only when at least k of the trajectories behind it changed, and then
a comparison of two releases yields an aggregate of at least k trajectories. With
`[publication] release_protection = false` every build publishes its current figures (a closed
analysts' room); the memory is kept either way, so switching protection on later protects
against what was published meanwhile."""

from __future__ import annotations

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


TRAJECTORY_FAMILY = ("trajectories", (None, None, None))


def start_release(con: duckdb.DuckDBPyConnection, build_id: str) -> int:
    """Number this build as the next release and record its trajectory versions; returns the
    release's sequence number. Runs inside the build's transaction."""
    run_sql(con, "create_release_cell_macro")
    (seq,) = execute(con, "SELECT coalesce(max(seq), 0) + 1 FROM privacy.releases")[0]
    execute(con, "INSERT INTO privacy.releases VALUES (?, ?, now()::TIMESTAMP)", [seq, build_id])
    run_sql(con, "build_release_tokens", {"seq": seq})
    return seq


def changed_cells(con: duckdb.DuckDBPyConnection, k: int, seq: int) -> tuple[set[str], set[str]]:
    """(small, unchanged). Small: cells that may not be published afresh now, because their set
    of trajectory versions is not one a release already showed, yet differs by fewer than k
    versions from a set that a release showed (its difference would be the figure of those
    few) or that a release hid to protect another figure ('secondary': such a hidden value is
    pinned down in part, e.g. a hidden year = 'all' minus the other years, so showing it now
    would reveal the small cell it protected). A set hidden for itself (below k, or held for a
    change of fewer than k) is not compared: its value is pinned only through the partners that
    protected it, which this rule keeps hidden; so a group that grows by one a month is shown
    again once it grew by k. Unchanged: cells whose set equals the one last shown. Also kept as temp
    tables release_small and release_unchanged."""
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
    unchanged = {cell for cell, base, shown, _, changed in rows
                 if shown and changed == 0 and base == latest.get(cell)}
    for name, cells in (("release_small", small), ("release_unchanged", unchanged)):
        execute(con, f"CREATE OR REPLACE TEMP TABLE {name} (cell VARCHAR)")
        if cells:
            execute(con, f"INSERT INTO {name} SELECT unnest(?)", [sorted(cells)])
    return small, unchanged


class ReleaseGuard:
    """The check that closes release protection over combinations of figures, not only over
    each figure on its own. Two figures can each have changed by k or more while their
    changes differ by one trajectory: a team that gained ten trajectories in one intervention
    and one in another, beside that organisation × intervention row which gained the same ten.
    Subtracting the two changes gives the one trajectory. So, per table and measure: the changes
    of every figure about to be published afresh (since its last publication; all of it when
    new) are vectors over the trajectory versions; versions that every such change treats alike
    form a class; a class (or two classes together, added or subtracted) holding fewer than k
    versions must not be a linear combination of those changes. When one is, the freshly
    published cell with the smallest change that touches it is held as well, and the pattern
    is closed again (warehouse/marts.py _store_suppression_pattern)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, k: int, seq: int) -> None:
        self.con = con
        self.k = k
        self.seq = seq
        self.latest = dict(execute(
            con, "SELECT cell, max(seq) FROM privacy.cell_publications WHERE shown GROUP BY cell"))
        self.unchanged = {row[0] for row in execute(con, "SELECT cell FROM release_unchanged")}
        # cells whose current set an earlier release showed: their figures are public already
        self.known = {row[0] for row in execute(con, "SELECT cell FROM release_known")}
        self.change_since_shown = dict(execute(con, "SELECT cell, changed FROM release_change_since_shown"))

    def leaking(self, family: str, measure: tuple, fresh: list[tuple]) -> tuple | None:
        """The fresh group to hold next, or None when no small class can be isolated."""
        cells = [(group, cell_key(family, measure, group)) for group in fresh]
        cells = [(group, cell) for group, cell in cells if cell not in self.unchanged]
        if not cells:
            return None
        frame = [(position, cell, self.latest.get(cell, 0))
                 for position, (_, cell) in enumerate(cells, start=1)]
        execute(self.con, "CREATE OR REPLACE TEMP TABLE release_fresh "
                          "(position INTEGER, cell VARCHAR, base_seq INTEGER)")
        execute(self.con, "INSERT INTO release_fresh SELECT * FROM (SELECT unnest(?) AS p, "
                          "unnest(?) AS c, unnest(?) AS b)",
                [[f[0] for f in frame], [f[1] for f in frame], [f[2] for f in frame]])
        classes = run_sql(self.con, "select_release_change_classes", {"seq": self.seq})
        execute(self.con, "DROP TABLE release_fresh")
        light = [i for i, (_, size) in enumerate(classes) if size < self.k]
        if not light:
            return None
        matrix = np.zeros((len(cells), len(classes)))
        for column, (pattern, _) in enumerate(classes):
            for signed in pattern:
                matrix[abs(signed) - 1, column] = 1.0 if signed > 0 else -1.0
        isolated = _isolated_classes(matrix, light, [size for _, size in classes], self.k)
        if not isolated:
            return None
        # hold the cell with the smallest change among those touching the first isolated class
        touching = [row for row in range(len(cells)) if matrix[row, isolated[0]] != 0]
        changes = np.abs(matrix) @ np.array([size for _, size in classes], dtype=float)
        chosen = min(touching, key=lambda row: (changes[row], row))
        return cells[chosen][0]


def _isolated_classes(matrix: np.ndarray, light: list[int], sizes: list[int], k: int) -> list[int]:
    """Light classes whose figures follow from the rows of `matrix` (alone, or as the sum or
    difference of two light classes of fewer than k versions together). A combination of
    classes is determined exactly when every vector of the null space of `matrix` gives it 0."""
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    tolerance = (singular.max() if singular.size else 0.0) * max(matrix.shape) * np.finfo(float).eps
    rank = int((singular > tolerance).sum())
    null = vt[rank:]
    if not len(null):
        return light
    found = [j for j in light if np.linalg.norm(null[:, j]) < 1e-6]
    if found:
        return found
    for a_index, a in enumerate(light):
        for b in light[a_index + 1:]:
            if sizes[a] + sizes[b] >= k:
                continue
            if (np.linalg.norm(null[:, a] + null[:, b]) < 1e-6
                    or np.linalg.norm(null[:, a] - null[:, b]) < 1e-6):
                return [a, b]
    return []


def finish_release(con: duckdb.DuckDBPyConnection, release: Release, seq: int) -> None:
    """Held rows, precision, and the memory of what this release shows (apply_release_protection.sql)."""
    _add_missing_columns(con)
    run_sql(con, "apply_release_protection",
            {"protect": release.protect, "seq": seq, "build_id": release.build_id})
    for temp in ("release_small", "release_unchanged", "release_known", "release_change_since_shown",
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

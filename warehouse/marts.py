"""Core state and the outcome marts (outcome-metrics.md). Figures are computed set-based in DuckDB;
Python adds the Student-t quantile, which DuckDB does not have, and the suppression pattern
(outcome-metrics §5): primary suppression below k and secondary suppression over the small group
tables, so that no suppressed count follows from subtracting shown counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from schemas.config import InstrumentRegistry
from schemas.teams import TeamRegister
from warehouse.builds import BuildInputs, record_build
from warehouse.connection import transaction
from warehouse.crash import crash_point
from warehouse.release import (
    Release,
    ReleaseGuard,
    cell_key,
    changed_cells,
    finish_release,
    start_release,
)
from warehouse.sql import execute, run_sql
from warehouse.teams import build_team_names, reconcile_stored_teams


@dataclass(frozen=True)
class MartCounts:
    core_trajectories: int
    core_measurements: int
    outcome_score_rows: int
    outcome_score_rows_suppressed: int
    trajectory_indicator_rows: int
    trajectory_indicator_rows_suppressed: int


def load_instrument_registry_table(
    con: duckdb.DuckDBPyConnection, registry: InstrumentRegistry
) -> None:
    """The marts read the registry in force for this build, so an edit applies everywhere."""
    frame = pd.DataFrame(
        [
            (i.instrument, i.schaal, i.min, i.max, i.higher_is_worse, i.sd_ref, i.r, i.cutoff)
            for i in registry.instruments
        ],
        columns=["instrument", "schaal", "min", "max", "higher_is_worse", "sd_ref", "r", "cutoff"],
    )
    con.register("registry_frame", frame)
    try:
        run_sql(con, "replace_instrument_registry")
    finally:
        con.unregister("registry_frame")


def build_core(con: duckdb.DuckDBPyConnection) -> None:
    run_sql(con, "build_core_trajectories")
    run_sql(con, "build_core_measurements")


def _register_t_critical(con: duckdb.DuckDBPyConnection) -> None:
    """Two-sided 95 % Student-t quantiles for exactly the degrees of freedom this build needs."""
    dfs = [row[0] for row in execute(
        con, "SELECT DISTINCT n_paired - 1 FROM score_groups WHERE n_paired >= 2"
    )]
    frame = pd.DataFrame({"df": pd.Series(dfs, dtype="int64")})
    frame["t_975"] = stats.t.ppf(0.975, frame["df"]) if len(frame) else pd.Series(dtype="float64")
    execute(con, "CREATE OR REPLACE TEMP TABLE t_critical (df BIGINT, t_975 DOUBLE)")
    if len(frame):
        con.register("t_frame", frame)
        try:
            execute(con, "INSERT INTO t_critical SELECT df, t_975 FROM t_frame")
        finally:
            con.unregister("t_frame")


def build_marts(
    con: duckdb.DuckDBPyConnection,
    registry: InstrumentRegistry,
    k: int,
    *,
    secondary: bool = False,
    round_to: int = 0,
    reason_codes: bool = False,
    record: BuildInputs | None = None,
    release_protection: bool | None = None,
    teams: Mapping[str, TeamRegister] | None = None,
) -> MartCounts:
    """Rebuild core and marts from staging in one transaction: readers of the warehouse see the
    previous build or this one, never a mix.

    `secondary` adds secondary suppression, `round_to` > 1 rounds published counts to multiples
    of it, `reason_codes` adds the `suppression_reason` column after the contract columns. The
    defaults give what this function gave before (primary suppression, exactly the contract
    columns); the pipeline (assets/marts.py) passes the consortium's `[suppression]` settings,
    where secondary suppression is on unless switched off, and always asks for reason codes.

    `release_protection` (the pipeline passes `[publication] release_protection`) makes the
    build a release (warehouse/release.py): True holds figures a reader keeping every release
    could difference, False publishes current figures; either way the marts get `held` and
    `held_from_build` and the release is remembered. None (the default) leaves releases out.

    `teams` (the consortium's registers) makes stored teams follow the register and names them in
    mart.teams; without it stored teams are left as they are and named by their codes."""
    # One thread: a parallel sum adds in varying order, and analysts comparing builds must see
    # the same figure to the last digit when the data did not change. The same for BLAS under
    # the suppression pattern's and the release guard's algebra: a threaded SVD rounds by its
    # thread count, and which cell is held must not depend on the machine. It is also faster:
    # these matrices are a few hundred wide, and on a busy two-core machine OpenBLAS's threads
    # made each SVD eight times slower (165 ms against 21 ms, measured on the guard's largest).
    execute(con, "SET threads = 1")
    blas = threadpool_limits(limits=1, user_api="blas")
    try:
        crash_point("build:start")
        with transaction(con):
            load_instrument_registry_table(con, registry)
            if teams is not None:
                reconcile_stored_teams(con, teams)
            build_core(con)
            build_team_names(con, teams or {})
            crash_point("build:core-built-uncommitted")
            # in the same transaction: a build and its record, or neither
            build_id = record_build(con, record) if record is not None else uuid.uuid4().hex[:12]
            release = None if release_protection is None else Release(build_id, release_protection)
            build_marts_from_core(
                con, k, secondary=secondary, round_to=round_to, reason_codes=reason_codes,
                release=release,
            )
            crash_point("build:marts-built-uncommitted")
        crash_point("build:committed")
    finally:
        execute(con, "RESET threads")
        blas.restore_original_limits()
    return mart_counts(con)


def build_marts_from_core(
    con: duckdb.DuckDBPyConnection,
    k: int,
    *,
    secondary: bool = False,
    round_to: int = 0,
    reason_codes: bool = False,
    release: Release | None = None,
) -> None:
    """The marts from core.* and ref.instruments as they stand (no transaction of its own)."""
    run_sql(con, "build_group_membership")
    run_sql(con, "build_paired_scores")
    run_sql(con, "build_score_groups")
    run_sql(con, "build_trajectory_groups")
    _register_t_critical(con)
    small: set[str] = set()
    guard = None
    if release is not None:
        seq = start_release(con, release.build_id)
        small = changed_cells(con, k, seq)
        if release.protect:
            guard = ReleaseGuard(con, k, seq)
        else:
            small = set()
    _store_suppression_pattern(con, k, secondary, small, guard)
    run_sql(con, "create_publication_macros")
    parameters = {"k": k, "round_to": round_to}
    run_sql(con, "create_outcome_scores", parameters)
    run_sql(con, "create_trajectory_indicators", parameters)
    _build_rest_of_consortium(con, parameters, hold=bool(small))
    if release is not None:
        finish_release(con, release, seq)
    elif reason_codes:
        run_sql(con, "add_held_columns")
    if not reason_codes:
        run_sql(con, "drop_suppression_reasons")
    run_sql(con, "create_mart_deliveries")
    for temp in ("group_membership", "paired_scores", "score_groups", "trajectory_groups",
                 "t_critical", "trajectory_suppression", "score_suppression"):
        execute(con, f"DROP TABLE IF EXISTS {temp}")
    execute(con, "DROP MACRO IF EXISTS temp.published_count")


REST_TABLES = {"outcome_scores": "outcome_scores_rest",
               "trajectory_indicators": "trajectory_indicators_rest"}


def _build_rest_of_consortium(con: duckdb.DuckDBPyConnection, parameters: dict, hold: bool = False) -> None:
    """mart.outcome_scores_rest and mart.trajectory_indicators_rest: per organisation, the same
    figures over every other provider's trajectories (level 'rest_of_consortium', `organisation`
    = the provider left out), the comparison the dashboard shows an organisation.

    Why the renames: the figures must be defined exactly as in the contract tables, so the very
    same SQL files build them, over a group_membership of rest groups. Those files write
    mart.outcome_scores and mart.trajectory_indicators; the finished contract tables step aside
    meanwhile (inside the build's transaction, so no reader sees it). The rest's suppression
    pattern (store_rest_suppression_pattern.sql) hides a rest row whenever the organisation's or
    the consortium's row is hidden, so no shown rest row adds a count to subtract."""
    for table in REST_TABLES:
        execute(con, f"ALTER TABLE mart.{table} RENAME TO {table}_whole")
    run_sql(con, "build_rest_group_membership")
    run_sql(con, "build_score_groups")
    run_sql(con, "build_trajectory_groups")
    _register_t_critical(con)
    run_sql(con, "store_rest_suppression_pattern", parameters)
    if hold:
        run_sql(con, "mark_rest_release_holds")
    run_sql(con, "create_outcome_scores", parameters)
    run_sql(con, "create_trajectory_indicators", parameters)
    for table, rest in REST_TABLES.items():
        execute(con, f"DROP TABLE IF EXISTS mart.{rest}")
        execute(con, f"ALTER TABLE mart.{table} RENAME TO {rest}")
        execute(con, f"ALTER TABLE mart.{table}_whole RENAME TO {table}")


# --- suppression pattern (outcome-metrics §5) ------------------------------------------------

PRIMARY = "primary"  # the group's own count is below k
SECONDARY = "secondary"  # hidden so that another suppressed count cannot be recovered
RELEASE = "release"  # changed by fewer than k since last published: held (warehouse/release.py)
ALL_PERIODS = "all"
GROUP_KEY = ("level", "organisation", "team", "intervention", "period")
MEASURE_KEY = ("instrument", "schaal", "informant")
LEVELS = ("consortium", "organisation", "team", "intervention", "organisation_intervention")
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}

# (level, organisation, team, intervention, period), as in the group tables
Group = tuple[str, str | None, str | None, str | None, str]
Relation = tuple[Group, tuple[Group, ...]]


def group_order(group: Group) -> tuple:
    """The stable order that breaks ties: level as in LEVELS, then the keys (null first)."""
    level, *keys, period = group
    return (_LEVEL_RANK[level], *((key is not None, key or "") for key in keys), period)


def partition_relations(groups: Iterable[Group]) -> list[Relation]:
    """Every relation "parent = sum of its children" among the published groups of one table and
    measure. Each ended trajectory has exactly one provider, one team of that provider, one
    intervention and one end year, so these are exact partitions:

    - consortium = its organisations; consortium = its interventions;
    - organisation = its teams; organisation = its organisation × intervention groups;
    - intervention = its organisation × intervention groups;
    - a group in period 'all' = the same group in each calendar year.

    Only groups with a row are listed: a child without a row has count 0, which readers know.
    Teams and interventions cross, so no relation joins them."""
    present = sorted(set(groups), key=group_order)
    children: dict[tuple[str, Group], list[Group]] = {}

    def child_of(relation: str, parent: Group, child: Group) -> None:
        children.setdefault((relation, parent), []).append(child)

    for group in present:
        level, organisation, team, intervention, period = group
        consortium: Group = ("consortium", None, None, None, period)
        if level == "organisation":
            child_of("organisations", consortium, group)
        elif level == "team":
            child_of("teams", ("organisation", organisation, None, None, period), group)
        elif level == "intervention":
            child_of("interventions", consortium, group)
        elif level == "organisation_intervention":
            child_of("organisations", ("intervention", None, None, intervention, period), group)
            child_of("interventions", ("organisation", organisation, None, None, period), group)
        if period != ALL_PERIODS:
            child_of("years", (level, organisation, team, intervention, ALL_PERIODS), group)
    return [(parent, tuple(kids)) for (_, parent), kids in sorted(
        children.items(), key=lambda item: (group_order(item[0][1]), item[0][0]))]


def suppression_pattern(
    counts: Mapping[Group, int], k: int, secondary: bool = True,
    preset: Mapping[Group, str] | None = None,
    known: frozenset[Group] = frozenset(),
    min_hidden_total: int = 0,
    unknown_part: Mapping[Group, int] | None = None,
) -> dict[Group, str | None]:
    """The reason each group is suppressed (None: shown). Primary: its count is below k.

    Secondary, deterministic, repeated until nothing changes:

    1. In every relation "parent = sum of children" (partition_relations) the number of
       suppressed cells, parent included, must be 0 or at least 2: a single unknown follows by
       subtraction (or, for a parent, by addition). While a relation has exactly one suppressed
       cell, the shown child with the smallest count is suppressed too (ties: group_order), or
       the parent when that cell is its only child.
    2. Relations can also be combined (organisation = its teams = its organisation ×
       intervention groups, years within each): when the relations taken together still fix a
       suppressed count (_determined_cells), the shown cell with the smallest count in a
       relation of the first such cell is suppressed, and step 1 runs again.

    `preset` hides further cells from the start, with their reason (release protection holds a
    figure whose trajectories changed by fewer than k since it was last published: its current
    value is as unknown to a reader as a suppressed one, so the same closure protects it).
    Release protection also names the `known` cells, whose current set of trajectories an
    earlier release showed: hiding them would protect nothing, so they are never chosen; and
    asks for `min_hidden_total` = k: in every relation, what the hidden cells leave unknown
    together must be 0 or at least k trajectories, or the relation gives a figure of fewer than
    k (the parent minus the shown children). A hidden cell leaves its whole set unknown, except
    a held one, whose earlier figures are public: it leaves only its change since
    (`unknown_part`).

    Relations and cells are visited in group_order, so the same counts always give the same
    pattern, whatever order the rows came in."""
    preset = preset or {}
    reasons: dict[Group, str | None] = {
        group: (PRIMARY if count < k else preset.get(group)) for group, count in counts.items()
    }
    if not secondary:
        return reasons
    relations = partition_relations(counts)
    for parent, kids in relations:
        if parent not in counts or sum(counts[kid] for kid in kids) != counts[parent]:
            raise ValueError(f"group counts do not add up along the hierarchy at {parent}")

    relation_cells = [(parent, *kids) for parent, kids in relations]

    def smallest_shown(cells: Iterable[Group]) -> Group | None:
        shown = [cell for cell in cells if reasons[cell] is None and cell not in known]
        return min(shown, key=lambda cell: (counts[cell], group_order(cell)), default=None)

    unknown = unknown_part or {}

    def too_small_a_total(parent: Group, kids: list[Group]) -> bool:
        if not min_hidden_total:
            return False
        hidden = [cell for cell in (parent, *kids) if reasons[cell] is not None]
        total = sum(unknown.get(cell, counts[cell]) for cell in hidden)
        return 0 < total < min_hidden_total

    while True:
        changed = True
        while changed:
            changed = False
            for parent, *kids in relation_cells:
                hidden = sum(reasons[cell] is not None for cell in (parent, *kids))
                if hidden != 1 and not too_small_a_total(parent, kids):
                    continue
                candidate = smallest_shown(kids) or (
                    parent if reasons[parent] is None and parent not in known else None)
                if candidate is None:  # nothing left to hide here that would protect anything
                    continue
                reasons[candidate] = SECONDARY
                changed = True
        determined = _determined_cells(relations, reasons)
        if not determined:
            return reasons
        # The smallest shown cell in a relation of the first fixed cell; when all of those are
        # suppressed already, in a relation of any fixed cell; at worst in any relation with a
        # suppressed cell. Suppressing everything leaves nothing fixed, so this ends.
        fixed = set(determined)
        chosen = (
            smallest_shown(cell for cells in relation_cells if determined[0] in cells for cell in cells)
            or smallest_shown(cell for cells in relation_cells if fixed & set(cells) for cell in cells)
            or smallest_shown(cell for cells in relation_cells
                              if any(reasons[c] for c in cells) for cell in cells)
        )
        if chosen is None:
            if known:
                # every shown cell beside a hidden one is public already (release protection):
                # what those pin down was given by earlier releases, hiding them protects nothing
                return reasons
            # cannot happen without release protection (see above); never loop on a surprise
            raise RuntimeError("secondary suppression found no cell left to suppress")
        reasons[chosen] = SECONDARY


def _determined_cells(relations: list[Relation], reasons: Mapping[Group, str | None]) -> list[Group]:
    """Suppressed cells whose count follows from the shown counts by any combination of the
    relations, in group_order. The relations restricted to the suppressed cells form a matrix
    A (parent +1, children −1); a cell's count is fixed exactly when its unit vector lies in
    A's row space, that is when the null space of A is zero at that cell. A is small and made
    of 0 and ±1, so the singular values that are not zero are far above the tolerance."""
    hidden = sorted((cell for cell, reason in reasons.items() if reason), key=group_order)
    index = {cell: i for i, cell in enumerate(hidden)}
    rows = []
    for parent, kids in relations:
        row = np.zeros(len(hidden))
        for cell, sign in ((parent, 1.0), *((kid, -1.0) for kid in kids)):
            if cell in index:
                row[index[cell]] = sign
        if row.any():
            rows.append(row)
    if not rows:
        return []
    matrix = np.array(rows)
    # the whole of V is needed for the null space; U only as wide as A is tall
    _, singular, vt = np.linalg.svd(matrix, full_matrices=matrix.shape[0] < matrix.shape[1])
    rank = int((singular > singular.max() * max(matrix.shape) * np.finfo(float).eps).sum())
    null_space = vt[rank:]
    free = np.linalg.norm(null_space, axis=0) > 1e-6 if len(null_space) else np.zeros(len(hidden), bool)
    return [cell for cell, is_free in zip(hidden, free, strict=True) if not is_free]


def _store_suppression_pattern(
    con: duckdb.DuckDBPyConnection, k: int, secondary: bool, held: set[str] | None = None,
    guard: ReleaseGuard | None = None,
) -> None:
    """Both tables' patterns into temp tables trajectory_suppression and score_suppression: the
    trajectory table on n_ended, the score table per measure on n_paired. `held`: the cells
    (release.cell_key) release protection holds, hidden from the start with reason 'release';
    `guard` then holds more until no combination of the figures this and every earlier release
    showed rests on fewer than k trajectories, closing the pattern again after each."""
    held = held or set()

    def pattern(family: str, measure: tuple, counts: Mapping[Group, int]) -> dict[Group, str | None]:
        preset = {g: RELEASE for g in counts if cell_key(family, measure, g) in held} if held else {}
        known = frozenset(g for g in counts if cell_key(family, measure, g) in guard.known) if guard else frozenset()
        while True:
            reasons = suppression_pattern(
                counts, k, secondary, preset, known=known, min_hidden_total=k if guard else 0,
                unknown_part={g: guard.change_since_shown[c] for g in counts
                              if (c := cell_key(family, measure, g)) in guard.change_since_shown}
                if guard else None,
            )
            if guard is None:
                return reasons
            more = guard.leaking(family, measure, [g for g, reason in reasons.items() if reason is None],
                                 candidates=[g for g, count in counts.items() if count >= k])
            if more is None:
                return reasons
            preset[more] = RELEASE

    ended = {tuple(row[:5]): row[5] for row in run_sql(con, "select_trajectory_group_counts")}
    trajectory_rows = [
        (*group, reason)
        for group, reason in pattern("trajectories", (None, None, None), ended).items()
    ]
    per_measure: dict[tuple, dict[Group, int]] = {}
    for row in run_sql(con, "select_score_group_counts"):
        per_measure.setdefault(tuple(row[5:8]), {})[tuple(row[:5])] = row[8]
    score_rows = [
        (*group, *measure, reason)
        for measure, paired in sorted(per_measure.items())
        for group, reason in pattern("scores", measure, paired).items()
    ]
    frames = {
        "trajectory_suppression_frame": pd.DataFrame(
            trajectory_rows, columns=[*GROUP_KEY, "reason"], dtype=object),
        "score_suppression_frame": pd.DataFrame(
            score_rows, columns=[*GROUP_KEY, *MEASURE_KEY, "reason"], dtype=object),
    }
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        run_sql(con, "store_suppression_pattern")
    finally:
        for name in frames:
            con.unregister(name)


def mart_counts(con: duckdb.DuckDBPyConnection) -> MartCounts:
    (row,) = run_sql(con, "count_mart_rows")
    return MartCounts(*(int(v) for v in row))

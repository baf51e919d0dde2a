"""Core state and the outcome marts (outcome-metrics.md). Everything set-based in DuckDB; the only
Python is the Student-t quantile, which DuckDB does not have."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
from scipy import stats

from schemas.config import InstrumentRegistry
from warehouse.connection import transaction
from warehouse.sql import execute, run_sql


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


def build_marts(con: duckdb.DuckDBPyConnection, registry: InstrumentRegistry, k: int) -> MartCounts:
    """Rebuild core and marts from staging in one transaction: readers of the warehouse see the
    previous build or this one, never a mix."""
    # One thread: a parallel sum adds in varying order, and analysts comparing builds must see
    # the same figure to the last digit when the data did not change.
    execute(con, "SET threads = 1")
    try:
        with transaction(con):
            load_instrument_registry_table(con, registry)
            build_core(con)
            build_marts_from_core(con, k)
    finally:
        execute(con, "RESET threads")
    return mart_counts(con)


def build_marts_from_core(con: duckdb.DuckDBPyConnection, k: int) -> None:
    """The marts from core.* and ref.instruments as they stand (no transaction of its own)."""
    run_sql(con, "build_group_membership")
    run_sql(con, "build_paired_scores")
    run_sql(con, "build_score_groups")
    run_sql(con, "build_trajectory_groups")
    _register_t_critical(con)
    run_sql(con, "create_outcome_scores", {"k": k})
    run_sql(con, "create_trajectory_indicators", {"k": k})
    run_sql(con, "create_mart_deliveries")
    for temp in ("group_membership", "paired_scores", "score_groups", "trajectory_groups", "t_critical"):
        execute(con, f"DROP TABLE IF EXISTS {temp}")


def mart_counts(con: duckdb.DuckDBPyConnection) -> MartCounts:
    (row,) = run_sql(con, "count_mart_rows")
    return MartCounts(*(int(v) for v in row))

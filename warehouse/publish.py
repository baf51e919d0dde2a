"""Publishing the analysts' copy: written to a temporary file beside the target and renamed into
place, so a reader opens the previous build or the new one, never half of one, and an analyst
holding the old file open never blocks the pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from warehouse.crash import crash_point
from warehouse.permissions import share_with_group
from warehouse.sql import execute, run_sql

PUBLISHED_TABLES = (
    "mart.outcome_scores", "mart.trajectory_indicators", "mart.deliveries", "mart.build_info",
    "mart.outcome_scores_rest", "mart.trajectory_indicators_rest", "mart.teams",
)


def published_build_id(target: Path) -> str | None:
    """The build the analysts' copy holds (None if absent or older than build records)."""
    if not target.is_file():
        return None
    try:
        con = duckdb.connect(str(target), read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.execute("SELECT build_id FROM mart.build_info").fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return rows[0][0] if rows else None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_analyst_copy(con: duckdb.DuckDBPyConnection, target: Path) -> int:
    """Copy the mart schema into a fresh DuckDB file and atomically replace the target.
    Returns the number of rows published."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in target.parent.glob(f".{target.name}.*.tmp*"):  # left by a killed publisher
        leftover.unlink(missing_ok=True)
    run_sql(con, "create_mart_build_info")
    execute(con, "ATTACH ? AS publication", [str(temporary)])
    rows = 0
    try:
        execute(con, "CREATE SCHEMA publication.mart")
        for table in PUBLISHED_TABLES:
            name = table.split(".")[1]
            execute(con, f"CREATE TABLE publication.mart.{name} AS SELECT * FROM {table}")
            rows += execute(con, f"SELECT count(*) FROM publication.mart.{name}")[0][0]
        crash_point("publish:copied")
    finally:
        execute(con, "DETACH publication")
    crash_point("publish:detached")
    with temporary.open("rb+") as handle:
        os.fsync(handle.fileno())
    crash_point("publish:synced")
    share_with_group(temporary)  # the analysts' group reads it (warehouse/permissions.py)
    os.replace(temporary, target)
    crash_point("publish:renamed")
    _fsync_directory(target.parent)
    return rows

"""Build records: a fingerprint of everything core and marts are made from. Equal fingerprints
mean an identical build, so the nightly rebuild can say "nothing new" and leave the published
copy alone; consecutive records tell which deliveries changed a number."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

import duckdb

from warehouse.sql import execute, run_sql


@dataclass(frozen=True)
class BuildInputs:
    fingerprint: str
    delivery_ids: list[str]


def build_inputs(con: duckdb.DuckDBPyConnection, config_hash: str) -> BuildInputs:
    ((deliveries, delivery_ids, objections, erasures, rotations),) = run_sql(con, "select_build_inputs")
    payload = json.dumps([deliveries, objections, erasures, rotations, config_hash])
    return BuildInputs(hashlib.sha256(payload.encode()).hexdigest()[:24], list(delivery_ids))


def last_build(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    rows = execute(con, "SELECT build_id, fingerprint FROM staging.builds ORDER BY built_at DESC LIMIT 1")
    return rows[0] if rows else None


MART_TABLES = ("outcome_scores", "trajectory_indicators", "outcome_scores_rest",
               "trajectory_indicators_rest", "teams")


def marts_exist(con: duckdb.DuckDBPyConnection) -> bool:
    """Every mart this version builds: a warehouse from an older version rebuilds once."""
    (count,) = execute(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mart' "
        "AND table_name IN (SELECT unnest(?))",
        [list(MART_TABLES)],
    )[0]
    return count == len(MART_TABLES)


def is_up_to_date(con: duckdb.DuckDBPyConnection, inputs: BuildInputs) -> bool:
    latest = last_build(con)
    return latest is not None and latest[1] == inputs.fingerprint and marts_exist(con)


def record_build(con: duckdb.DuckDBPyConnection, inputs: BuildInputs) -> str:
    build_id = uuid.uuid4().hex[:12]
    execute(
        con,
        "INSERT INTO staging.builds VALUES (?, ?, ?, ?)",
        [build_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), inputs.fingerprint, inputs.delivery_ids],
    )
    return build_id


def warehouse_digest(con: duckdb.DuckDBPyConnection) -> str:
    return run_sql(con, "select_warehouse_digest")[0][0]


def record_validation(con: duckdb.DuckDBPyConnection, build_id: str, passed: bool) -> None:
    """Kept with a digest of core and marts, so a later run can tell they have not changed since."""
    execute(
        con,
        "INSERT INTO staging.validations VALUES (?, ?, ?, ?)",
        [build_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), warehouse_digest(con), passed],
    )


def passed_validation_unchanged(con: duckdb.DuckDBPyConnection, build_id: str) -> bool:
    """The build passed the warehouse guard and core and marts are still what it read: running
    the guard again could only say the same (a changed file, e.g. edited by hand, is checked)."""
    rows = run_sql(con, "select_last_validation", {"build_id": build_id})
    return bool(rows) and rows[0][0] and rows[0][1] == warehouse_digest(con)

"""Loading validated deliveries: first into `intake` (what the read step produced), then staged
as the version in force of its (provider, month). Each write is one transaction, so a crash
leaves either the previous state or the new one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from pseudonymise.minimise import STORED_MEASUREMENT_FIELDS, STORED_TRAJECTORY_FIELDS
from schemas.counts import DeliveryCounts
from warehouse.connection import transaction
from warehouse.crash import crash_point
from warehouse.sql import execute, run_sql

# What is stored of a delivery: its lineage and the minimised fields (pseudonymise/minimise.py).
STAGED_TRAJECTORY_COLUMNS = ["delivery_id", "provider", "month", *STORED_TRAJECTORY_FIELDS]
STAGED_MEASUREMENT_COLUMNS = ["delivery_id", "provider", "month", *STORED_MEASUREMENT_FIELDS]
QUARANTINE_COLUMNS = [
    "delivery_id", "provider", "month", "table_name", "row_number", "column_name", "reason_code",
    "trajectory_id", "local_client_id",
]


@dataclass(frozen=True)
class DeliveryRecord:
    """Lineage of one delivery attempt: counts and fault codes, never content."""

    delivery_id: str
    provider: str
    month: str
    files_json: str
    received_at: dt.datetime
    status: str
    counts: DeliveryCounts
    fault_codes: str
    config_hash: str


@dataclass(frozen=True)
class LatestAttempt:
    delivery_id: str
    status: str
    config_hash: str


def latest_attempt(con: duckdb.DuckDBPyConnection, provider: str, month: str) -> LatestAttempt | None:
    rows = run_sql(con, "select_latest_attempt", {"provider": provider, "month": month})
    return LatestAttempt(*rows[0]) if rows else None


def _with_lineage(frame: pd.DataFrame, record: DeliveryRecord, columns: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    frame["delivery_id"] = record.delivery_id
    frame["provider"] = record.provider
    frame["month"] = record.month
    return frame.reindex(columns=columns)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    con.register("incoming_frame", frame)
    try:
        execute(con, f"INSERT INTO {table} BY NAME SELECT * FROM incoming_frame")
    finally:
        con.unregister("incoming_frame")


def write_intake(
    con: duckdb.DuckDBPyConnection,
    record: DeliveryRecord,
    trajectories: pd.DataFrame,
    measurements: pd.DataFrame,
    quarantine: pd.DataFrame,
    objections: pd.DataFrame | None = None,
) -> None:
    keys = {"provider": record.provider, "month": record.month}
    crash_point("intake:before")
    with transaction(con):
        run_sql(con, "delete_intake", keys)
        _insert(con, "intake.trajectories", _with_lineage(trajectories, record, STAGED_TRAJECTORY_COLUMNS))
        _insert(con, "intake.measurements", _with_lineage(measurements, record, STAGED_MEASUREMENT_COLUMNS))
        _insert(con, "intake.quarantine", _with_lineage(quarantine, record, QUARANTINE_COLUMNS))
        if objections is not None and not objections.empty:
            objected = objections.copy()
            objected["provider"], objected["month"] = record.provider, record.month
            objected["recorded_at"] = record.received_at
            _insert(con, "intake.objections", objected)
        crash_point("intake:written-uncommitted")
        fields = {k: v for k, v in record.__dict__.items() if k != "counts"} | record.counts.columns()
        record_frame = pd.DataFrame([fields]).rename(columns={"files_json": "files"})
        record_frame["is_current"] = False
        _insert(con, "intake.deliveries", record_frame)


@dataclass(frozen=True)
class StagedIntake:
    provider: str
    month: str
    status: str
    delivery_id: str


def stage_waiting_intake(con: duckdb.DuckDBPyConnection) -> list[StagedIntake]:
    """Promote every intake waiting for staging, in one transaction: an accepted one replaces
    its month whole, a rejected one is only recorded. Objections are then applied once, not once
    per delivery: re-scanning staging after each of hundreds of deliveries made a first load
    quadratic, and once per provider still scanned it ten times in a nightly."""
    waiting = [StagedIntake(*row) for row in run_sql(con, "select_waiting_intakes")]
    if not waiting:
        return []
    with transaction(con):
        run_sql(con, "stage_waiting_intake")
        run_sql(con, "purge_objections")
        run_sql(con, "record_staging_exclusions")
        crash_point("stage:staged-uncommitted")
        run_sql(con, "delete_staged_intake")
    crash_point("stage:committed")
    return waiting

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


@dataclass(frozen=True)
class DeliveryIntake:
    """What the read step stores of one judged delivery: its lineage and its minimised rows."""

    record: DeliveryRecord
    trajectories: pd.DataFrame
    measurements: pd.DataFrame
    quarantine: pd.DataFrame
    objections: pd.DataFrame | None = None


def _with_lineage(frame: pd.DataFrame, record: DeliveryRecord, columns: list[str]) -> pd.DataFrame:
    return frame.assign(delivery_id=record.delivery_id, provider=record.provider, month=record.month).reindex(
        columns=columns
    )


def _objections(intake: DeliveryIntake) -> pd.DataFrame | None:
    if intake.objections is None or intake.objections.empty:
        return None
    record = intake.record
    return intake.objections.assign(provider=record.provider, month=record.month, recorded_at=record.received_at)


def _record_row(record: DeliveryRecord) -> dict:
    fields = {k: v for k, v in record.__dict__.items() if k != "counts"} | record.counts.columns()
    return fields | {"is_current": False}


def _insert(con: duckdb.DuckDBPyConnection, table: str, frames: list[pd.DataFrame | None]) -> None:
    """The rows of many deliveries in one statement: a statement's fixed cost, not the rows, was
    most of the cost of writing a small delivery."""
    present = [f for f in frames if f is not None and not f.empty]
    if not present:
        return
    frame = present[0] if len(present) == 1 else pd.concat(present, ignore_index=True)
    con.register("incoming_frame", frame)
    try:
        execute(con, f"INSERT INTO {table} BY NAME SELECT * FROM incoming_frame")
    finally:
        con.unregister("incoming_frame")


def write_intake(con: duckdb.DuckDBPyConnection, intakes: list[DeliveryIntake]) -> None:
    """Many judged deliveries into intake in one transaction, each replacing an earlier intake
    of its (provider, month): a crash leaves all of them or none."""
    if not intakes:
        return
    keys = pd.DataFrame(
        {"provider": [i.record.provider for i in intakes], "month": [i.record.month for i in intakes]}
    )
    crash_point("intake:before")
    with transaction(con):
        con.register("intake_keys", keys)
        try:
            run_sql(con, "delete_intake")
        finally:
            con.unregister("intake_keys")
        _insert(con, "intake.trajectories",
                [_with_lineage(i.trajectories, i.record, STAGED_TRAJECTORY_COLUMNS) for i in intakes])
        _insert(con, "intake.measurements",
                [_with_lineage(i.measurements, i.record, STAGED_MEASUREMENT_COLUMNS) for i in intakes])
        _insert(con, "intake.quarantine",
                [_with_lineage(i.quarantine, i.record, QUARANTINE_COLUMNS) for i in intakes])
        _insert(con, "intake.objections", [_objections(i) for i in intakes])
        crash_point("intake:written-uncommitted")
        records = pd.DataFrame([_record_row(i.record) for i in intakes]).rename(columns={"files_json": "files"})
        _insert(con, "intake.deliveries", [records])


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

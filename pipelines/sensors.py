"""Sensors: each pending delivery in landing/ becomes one run for its (provider, month) partition;
when no warehouse-writing run is queued or running and the published copy is not of the current
inputs, one rebuild is requested.

Both decide from the warehouse's own records through the ledger (warehouse/ledger.py), exactly as
`databank run` does, never from a cursor of what they saw: after `databank run` the daemon finds
nothing to do, and after the daemon ingested a delivery `databank run` finds nothing either. While
a run holds the warehouse (DuckDB admits no reader then) they skip the tick and look again."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable

import dagster as dg
from dagster import SensorEvaluationContext

from assets.deliveries import WAREHOUSE_WRITE_TAGS
from assets.partitions import delivery_partition_key, provider_partitions
from assets.resources import HomeResource
from pipelines.jobs import ingest_job, rebuild_job
from pipelines.runner import IN_PROCESS_TAG
from schemas.config import ConfigError, config_fingerprint
from warehouse.builds import build_inputs
from warehouse.home import DatabankHome
from warehouse.ledger import (
    LandingState,
    LedgerEntry,
    classify_landing,
    has_anything_to_build,
    in_state,
    publication_current,
)
from warehouse.status import WarehouseInUse, read_warehouse

# Seconds between sensor evaluations; an operator (or a test) may shorten it.
SENSOR_INTERVAL_SECONDS = int(os.environ.get("DATABANK_SENSOR_INTERVAL_SECONDS", "30"))
# A delivery or a build whose runs failed this often is left for a person (and `databank run`).
MAX_ATTEMPTS = 3

DELIVERY_ID_TAG = "databank/delivery_id"
BUILD_INPUTS_TAG = "databank/build_inputs"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
ENDED_BADLY = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def delivery_run_requests(
    ledger: list[LedgerEntry], config_hash: str, failed_attempts: Callable[[str], int]
) -> tuple[list[dg.RunRequest], list[str]]:
    """One request per pending delivery, keyed by its bytes and the configuration (a run key is
    never launched twice), and by how often its runs failed, so a crashed run is tried again, up
    to MAX_ATTEMPTS. Returns the requests and notes for the sensor's log."""
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    for entry in in_state(ledger, LandingState.PENDING):
        assert entry.delivery_id is not None
        failures = failed_attempts(entry.delivery_id)
        if failures >= MAX_ATTEMPTS:
            notes.append(f"{entry.name}: its runs failed {failures} times; left for a person")
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{entry.provider}/{entry.month}:{entry.delivery_id}:{config_hash}:{failures}",
                partition_key=delivery_partition_key(entry.provider, entry.month),
                tags={
                    **WAREHOUSE_WRITE_TAGS,
                    "databank/delivery": f"{entry.provider}/{entry.month}",
                    DELIVERY_ID_TAG: entry.delivery_id,
                },
            )
        )
    for entry in in_state(ledger, LandingState.UNPARTITIONABLE):
        notes.append(f"{entry.name} cannot be a delivery ({entry.faults[0].code}); `databank run` reports it")
    return requests, notes


def _ledger(databank: DatabankHome, today: dt.date, now: float) -> list[LedgerEntry] | dg.SkipReason:
    try:
        config = databank.config()
    except ConfigError as error:
        return dg.SkipReason(f"configuration problem: {error}")
    config_hash = config_fingerprint(databank.config_dir)
    try:
        with read_warehouse(databank.warehouse) as con:
            return classify_landing(databank.landing, con, config, config_hash, today, now)
    except WarehouseInUse as busy:
        return dg.SkipReason(f"{busy}; looking again at the next tick")


def _count_runs(instance: dg.DagsterInstance, tags: dict[str, str], statuses: list) -> int:
    return instance.get_runs_count(filters=dg.RunsFilter(tags=tags, statuses=statuses))


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns each pending delivery in landing/ (new or changed bytes, by the warehouse's "
    "records) into one run for its partition.",
)
def landing_sensor(context: SensorEvaluationContext, home: HomeResource) -> dg.SensorResult | dg.SkipReason:
    databank = home.home
    ledger = _ledger(databank, dt.date.today(), time.time())
    if isinstance(ledger, dg.SkipReason):
        return ledger
    config_hash = config_fingerprint(databank.config_dir)
    requests, notes = delivery_run_requests(
        ledger, config_hash,
        lambda delivery_id: _count_runs(context.instance, {DELIVERY_ID_TAG: delivery_id}, ENDED_BADLY),
    )
    for note in sorted(set(notes)):
        context.log.warning(note)
    if not requests:
        return dg.SkipReason("no pending delivery")
    known = set(context.instance.get_dynamic_partitions(provider_partitions.name))
    new_providers = sorted({e.provider for e in in_state(ledger, LandingState.PENDING)} - known)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [provider_partitions.build_add_request(new_providers)] if new_providers else []
        ),
    )


@dg.sensor(
    job=rebuild_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When no warehouse-writing run is queued or running and the published copy is not "
    "of the current inputs, one rebuild and republication (several ingest runs: one rebuild).",
)
def rebuild_when_stale(context: SensorEvaluationContext, home: HomeResource) -> dg.RunRequest | dg.SkipReason:
    in_flight = [  # a killed `databank run` leaves its runs "started" until the next one closes them
        run for run in context.instance.get_runs(
            filters=dg.RunsFilter(tags=WAREHOUSE_WRITE_TAGS, statuses=IN_FLIGHT)
        )
        if not IN_PROCESS_TAG.items() <= run.tags.items()
    ]
    if in_flight:
        return dg.SkipReason(f"{len(in_flight)} warehouse run(s) queued or running; rebuilding after them")
    databank = home.home
    try:
        databank.config()
    except ConfigError as error:
        return dg.SkipReason(f"configuration problem: {error}")
    config_hash = config_fingerprint(databank.config_dir)
    try:
        with read_warehouse(databank.warehouse) as con:
            if con is None or not has_anything_to_build(con):
                return dg.SkipReason("nothing delivered yet")
            if publication_current(con, databank, config_hash):
                return dg.SkipReason("the published copy is of the current inputs")
            inputs = build_inputs(con, config_hash).fingerprint
    except WarehouseInUse as busy:
        return dg.SkipReason(f"{busy}; looking again at the next tick")
    failures = _count_runs(context.instance, {BUILD_INPUTS_TAG: inputs}, ENDED_BADLY)
    if failures >= MAX_ATTEMPTS:
        return dg.SkipReason(f"rebuilding these inputs failed {failures} times; left for a person")
    return dg.RunRequest(
        run_key=f"rebuild:{inputs}:{failures}", tags={**WAREHOUSE_WRITE_TAGS, BUILD_INPUTS_TAG: inputs}
    )

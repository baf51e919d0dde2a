"""Sensors: a delivery dropped in landing becomes a run for its (provider, month) partition;
a successful ingest is followed by one rebuild and republication. Neither opens the warehouse
(DuckDB would refuse while a run holds it), so what was seen lives in the sensor's cursor."""


import datetime as dt
import json
import time

import dagster as dg
from dagster import RunStatusSensorContext, SensorEvaluationContext

from assets.deliveries import WAREHOUSE_WRITE_TAGS
from assets.partitions import delivery_partition_key, provider_partitions
from assets.resources import HomeResource
from pipelines.jobs import ingest_job, rebuild_job
from pseudonymise.landing import (
    delivery_files_in,
    fingerprint_delivery,
    is_month_folder,
    is_stable,
    scan_landing,
)
from schemas.config import PROVIDER_CODE


def landing_run_requests(
    landing_root: object, cursor: dict, known_providers: set[str], now: float, today: dt.date
) -> tuple[list[dg.RunRequest], set[str], dict, list[str]]:
    """Plain function so tests can drive it; returns requests, new providers, the new cursor and
    notes on folders that cannot be a partition."""
    seen: dict = dict(cursor)
    requests: list[dg.RunRequest] = []
    new_providers: set[str] = set()
    notes: list[str] = []
    this_month = f"{today.year:04d}-{today.month:02d}"
    for delivery in scan_landing(landing_root):  # type: ignore[arg-type]
        if delivery.is_link:
            notes.append("a symlinked landing folder is refused; `databank run` reports it")
            continue
        if not PROVIDER_CODE.match(delivery.provider) or not is_month_folder(delivery.month):
            notes.append("a landing folder is not <provider>/<YYYY-MM>; `databank run` reports it")
            continue
        if delivery.month > this_month:
            notes.append(f"{delivery.provider} {delivery.month} lies in the future; `databank run` reports it")
            continue
        files = delivery_files_in(delivery.folder)
        if not files:
            continue
        stats = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]
        if not is_stable(delivery.folder, now, files):
            continue
        slot = f"{delivery.provider}/{delivery.month}"
        entry = seen.get(slot)
        if entry and entry["stat"] == stats:
            continue
        fingerprint = fingerprint_delivery(delivery.provider, delivery.month, delivery.folder)
        if entry and entry["id"] == fingerprint.delivery_id:
            seen[slot] = {"id": fingerprint.delivery_id, "stat": stats}
            continue
        previous = entry["id"] if entry else "none"
        requests.append(
            dg.RunRequest(
                run_key=f"{slot}:{previous}->{fingerprint.delivery_id}",
                partition_key=delivery_partition_key(delivery.provider, delivery.month),
                tags={**WAREHOUSE_WRITE_TAGS, "databank/delivery": slot},
            )
        )
        seen[slot] = {"id": fingerprint.delivery_id, "stat": stats}
        if delivery.provider not in known_providers:
            new_providers.add(delivery.provider)
    return requests, new_providers, seen, notes


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns each new or changed delivery in landing/ into a run for its partition.",
)
def landing_sensor(context: SensorEvaluationContext, home: HomeResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(provider_partitions.name))
    requests, new_providers, seen, notes = landing_run_requests(
        home.home.landing, cursor, known, time.time(), dt.date.today()
    )
    for note in sorted(set(notes)):
        context.log.warning(note)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [provider_partitions.build_add_request(sorted(new_providers))] if new_providers else []
        ),
        cursor=json.dumps(seen, sort_keys=True),
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=rebuild_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After deliveries are staged, rebuild the marts and republish once.",
)
def rebuild_after_ingest(context: RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    waiting = context.instance.get_runs(
        filters=dg.RunsFilter(
            job_name=rebuild_job.name,
            statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED],
        ),
        limit=1,
    )
    if waiting:
        return dg.SkipReason("a rebuild is already waiting; it will include this delivery")
    return dg.RunRequest(run_key=f"rebuild-after-{context.dagster_run.run_id}", tags=WAREHOUSE_WRITE_TAGS)

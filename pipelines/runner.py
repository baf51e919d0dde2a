"""`databank run` and `databank demo`: the same Dagster graph the daemon runs, executed in this
process against the home's Dagster instance. Pending deliveries are read in runs over partition
ranges, so a first load of years of months is one run, and so is a nightly."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pseudonymise.keys import load_key_ring
from pseudonymise.landing import (
    LandingDelivery,
    fingerprint_delivery,
    is_stable,
    remove_processed_delivery,
    scan_landing,
)
from schemas.anonymity import load_anonymity_config
from schemas.check import folder_faults, rejected
from schemas.config import ConsortiumConfig, config_fingerprint, defaults_note
from schemas.faults import Fault
from schemas.report import write_report
from warehouse.builds import build_inputs, is_up_to_date, last_build, passed_validation_unchanged
from warehouse.connection import open_warehouse, writer_lock
from warehouse.crash import crash_point
from warehouse.home import DatabankHome
from warehouse.load import needs_processing
from warehouse.publish import published_build_id
from warehouse.sql import execute, run_sql

if TYPE_CHECKING:  # Dagster is imported only when there is work for it (see _publication_current)
    import dagster as dg

# The run's own events go to Dagster's event log; the terminal gets our summary only.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

# Folder faults that keep a delivery out of Dagster: such a folder cannot name a partition.
UNPARTITIONABLE = {
    "FILE_INVALID_PROVIDER_FOLDER", "FILE_INVALID_MONTH_FOLDER", "FILE_MONTH_IN_FUTURE",
    "FILE_MONTH_TOO_EARLY",
}


class PipelineFailed(Exception):
    """The pipeline itself failed (not a delivery): the message names the step, never data."""


@dataclass
class RunSummary:
    judged: list[tuple[str, str, str]] = field(default_factory=list)  # provider, month, status
    unpartitionable: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    still_being_written: list[tuple[str, str]] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)
    up_to_date: bool = False  # nothing new: no Dagster run, the published copy stands

    def lines(self, home: DatabankHome) -> list[str]:
        out = []
        for provider, month, status in self.judged:
            out.append(f"  {provider} {month}: {status}  (report: {home.report_dir(provider, month)})")
        for provider, month in self.unpartitionable:
            out.append(f"  {provider}/{month}: rejected  (report: {home.report_dir(provider, month)})")
        for provider, month in self.still_being_written:
            out.append(f"  {provider} {month}: files still being written, left for the next run")
        if self.unchanged:
            out.append(f"  {self.unchanged} deliveries unchanged since they were processed")
        if self.up_to_date:
            out.append("  nothing new since the last build: the published copy is current")
        if not out:
            out.append("  no deliveries in landing/")
        return out


def _instance(home: DatabankHome) -> dg.DagsterInstance:
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    return dg.DagsterInstance.get()


IN_PROCESS_TAG = {"databank/launched_by": "databank-cli"}


def _runs_marker(home: DatabankHome) -> Path:
    """Present while this command has in-process Dagster runs going: if a killed command left it,
    the next one must go through Dagster to mark those runs failed."""
    return home.dagster_home / "in-process-runs"


def _publication_current(home: DatabankHome, config_hash: str) -> bool:
    """Nothing to do: no delivery waits, the last build is of exactly the current inputs, core and
    marts are what passed the warehouse guard, the analysts' copy and the dashboard show that
    build, and no killed command left runs to close. Checked without
    importing Dagster, so a nightly with nothing new costs a second, not a Dagster run."""
    if _runs_marker(home).exists():
        return False
    with open_warehouse(home.warehouse) as con:
        latest = last_build(con)
        if latest is None or not is_up_to_date(con, build_inputs(con, config_hash)):
            return False
        if not passed_validation_unchanged(con, latest[0]):
            return False
    from warehouse.dashboard import DASHBOARD_FORMAT, dashboard_build_id

    return (
        published_build_id(home.publication) == latest[0]
        and dashboard_build_id(home.dashboard) == (latest[0], DASHBOARD_FORMAT)
    )


def _mart_sizes(home: DatabankHome) -> dict[str, int]:
    with open_warehouse(home.warehouse) as con:
        return {
            table: execute(con, f"SELECT count(*) FROM mart.{table}")[0][0]
            for table in ("outcome_scores", "trajectory_indicators")
        }


def _close_abandoned_runs(instance: dg.DagsterInstance) -> None:
    """An in-process run only ever runs inside a `databank` command holding the writer lock.
    Holding it now, any such run still marked as started was killed: mark it failed, so the UI
    and the daemon's queue do not wait for it."""
    import dagster as dg

    abandoned = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags=IN_PROCESS_TAG,
        )
    )
    for run in abandoned:
        instance.report_run_failed(run, "the databank process running it ended without finishing")


def _check_result(result: dg.ExecuteInProcessResult, what: str) -> None:
    if result.success:
        return
    failures = [
        event.step_key or "run"
        for event in result.all_events
        if event.is_step_failure or event.event_type_value == "RUN_FAILURE"
    ]
    raise PipelineFailed(
        f"{what} failed in step(s) {', '.join(sorted(set(failures))) or 'unknown'}; "
        f"see the run {result.run_id} in the Dagster UI or its event log"
    )


def contiguous_blocks(ordered: Sequence[str], wanted: set[str]) -> list[list[str]]:
    """The wanted partition keys as maximal runs of consecutive keys in Dagster's order (month,
    then provider): each is one Dagster run over a partition range that holds only wanted keys,
    so lineage records exactly the deliveries read, while a first load (every provider, every
    month) or a nightly (every provider, one month) is a single run."""
    blocks: list[list[str]] = []
    previous = -2
    for index, key in enumerate(ordered):
        if key not in wanted:
            continue
        if index == previous + 1:
            blocks[-1].append(key)
        else:
            blocks.append([key])
        previous = index
    return blocks


def run_pipeline(
    home: DatabankHome,
    today: dt.date,
    progress: Callable[[str], None] = lambda _: None,
) -> RunSummary:
    """Process every new or changed delivery, rebuild the marts and republish. The whole run
    holds the warehouse's writer lock: a second run waits, then finds nothing left to do.
    `today` decides which months lie in the future, here and in the read step (the caller reads
    the clock, so no decision below depends on the day a test runs)."""
    home.prepare()
    config = home.config()
    if note := defaults_note(home.config_dir):
        progress(note)  # once per run, not per delivery
    load_key_ring(home.key_file)  # stop here, with how to create one, if there is no key
    with writer_lock(home.warehouse, on_wait=progress):
        return _run_locked(home, config, today, progress)


def _run_locked(
    home: DatabankHome, config: ConsortiumConfig, today: dt.date, progress: Callable[[str], None]
) -> RunSummary:
    from pipelines.definitions import build_definitions

    config_hash = config_fingerprint(home.config_dir)
    summary = RunSummary()
    crash_point("run:start")

    partitionable: list[LandingDelivery] = []
    for delivery in scan_landing(home.landing):
        faults = [
            f for f in folder_faults(delivery.provider, delivery.month, config, today)
            if f.code in UNPARTITIONABLE
        ]
        if delivery.is_link:
            faults = [Fault("FILE_UNSAFE_PATH", detail=delivery.folder.name)]
        if faults:
            write_report(
                rejected(delivery.provider, delivery.month, faults, config).verdict,
                home.report_dir(delivery.provider, delivery.month),
            )
            summary.unpartitionable.append((delivery.provider, delivery.month))
        else:
            partitionable.append(delivery)

    now = time.time()
    settled = []
    for delivery in partitionable:
        if is_stable(delivery.folder, now):
            settled.append(delivery)
        else:
            summary.still_being_written.append((delivery.provider, delivery.month))

    delete_landing = load_anonymity_config(home.config_dir).landing_after_processing == "delete"
    with open_warehouse(home.warehouse) as con:
        pending = []
        for delivery in settled:
            fingerprint = fingerprint_delivery(delivery.provider, delivery.month, delivery.folder)
            if needs_processing(con, delivery.provider, delivery.month, fingerprint.delivery_id, config_hash):
                pending.append((delivery, fingerprint.delivery_id))
            else:
                summary.unchanged += 1
                if delete_landing:  # processed before a crash could remove the files
                    remove_processed_delivery(
                        delivery.provider, delivery.month, delivery.folder, fingerprint.delivery_id
                    )
    crash_point("run:scanned")

    if not pending and _publication_current(home, config_hash):
        summary.up_to_date = True
        summary.mart_rows = _mart_sizes(home)
        return summary

    from dagster._core.definitions.partitions.context import partition_loading_context
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from assets.deliveries import TODAY_TAG, WAREHOUSE_WRITE_TAGS
    from assets.partitions import delivery_partition_key, delivery_partitions, provider_partitions

    instance = _instance(home)
    _close_abandoned_runs(instance)
    _runs_marker(home).touch()
    definitions = build_definitions(home)
    known = set(instance.get_dynamic_partitions(provider_partitions.name))
    new_providers = sorted({d.provider for d, _ in pending} - known)
    if new_providers:
        instance.add_dynamic_partitions(provider_partitions.name, new_providers)

    ingest = definitions.resolve_job_def("ingest_deliveries")
    with partition_loading_context(dynamic_partitions_store=instance):
        ordered = delivery_partitions.get_partition_keys()
    wanted = {str(delivery_partition_key(d.provider, d.month)) for d, _ in pending}
    for block in contiguous_blocks(ordered, wanted):
        what = f"{len(block)} deliveries ({block[0]} to {block[-1]})" if len(block) > 1 else block[0]
        progress(f"reading {what}")
        result = ingest.execute_in_process(
            run_config=QUIET_LOGS,
            instance=instance,
            tags={
                **WAREHOUSE_WRITE_TAGS,
                **IN_PROCESS_TAG,
                TODAY_TAG: today.isoformat(),
                ASSET_PARTITION_RANGE_START_TAG: block[0],
                ASSET_PARTITION_RANGE_END_TAG: block[-1],
            },
            raise_on_error=False,
        )
        _check_result(result, f"reading {what}")
        crash_point("run:deliveries-ingested")

    if pending:
        with open_warehouse(home.warehouse) as con:
            ids = [delivery_id for _, delivery_id in pending]
            rows = run_sql(con, "select_delivery_statuses", {"delivery_ids": ids})
        summary.judged = [(p, m, s) for p, m, s in rows]

    progress("rebuilding the marts and publishing")
    summary.mart_rows = rebuild_and_publish(home, instance, definitions)
    return summary


def rebuild_and_publish(
    home: DatabankHome,
    instance: dg.DagsterInstance | None = None,
    definitions: dg.Definitions | None = None,
) -> dict[str, int]:
    """The rebuild job in-process (also after an erasure or a key rotation); returns mart sizes."""
    from assets.deliveries import WAREHOUSE_WRITE_TAGS
    from pipelines.definitions import build_definitions

    instance = instance or _instance(home)
    definitions = definitions or build_definitions(home)
    rebuild = definitions.resolve_job_def("rebuild_and_publish")
    with writer_lock(home.warehouse):
        _close_abandoned_runs(instance)
        _runs_marker(home).touch()
        result = rebuild.execute_in_process(
            run_config=QUIET_LOGS, instance=instance, tags={**WAREHOUSE_WRITE_TAGS, **IN_PROCESS_TAG},
            raise_on_error=False,
        )
        _runs_marker(home).unlink(missing_ok=True)  # every run of this command has ended
    _check_result(result, "rebuilding and publishing")
    crash_point("run:rebuilt")
    return _mart_sizes(home)

"""`databank run` and `databank demo`: the same Dagster graph the daemon runs, executed in this
process against the home's Dagster instance. Pending deliveries are read in runs over partition
ranges, so a first load of years of months is one run, and so is a nightly."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.partition_runs import delivery_boxes
from pseudonymise.clock import TrajectoryClock
from pseudonymise.landing import remove_processed_delivery
from schemas.anonymity import REPORT_NAMES, load_anonymity_config
from schemas.check import rejected, shown_name
from schemas.config import ConsortiumConfig, config_fingerprint, defaults_note
from schemas.report import write_report
from warehouse.anonymity import reported_warnings
from warehouse.connection import open_warehouse, writer_lock
from warehouse.crash import crash_point
from warehouse.home import DatabankHome
from warehouse.ledger import (
    LandingState,
    LedgerEntry,
    classify_landing,
    in_state,
    judged_since,
    publication_current,
)
from warehouse.minimise import convert_old_rows
from warehouse.pseudonym_keys import ensure_home_key_ring
from warehouse.sql import execute, run_sql

if TYPE_CHECKING:  # Dagster is imported only when there is work for it (see _publication_current)
    import dagster as dg

# The run's own events go to Dagster's event log; the terminal gets our summary only.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

class PipelineFailed(Exception):
    """The pipeline itself failed (not a delivery): the message names the step, never data."""


class DeliveriesNotJudged(PipelineFailed):
    """The run ended with settled deliveries it was asked to judge and did not: it published what
    it did judge, and says which ones are left (the accounting invariant of issue 11)."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary
        names = ", ".join(f"{p}/{m}" for p, m in summary.not_judged)
        super().__init__(f"{len(summary.not_judged)} pending deliveries were not judged: {names}")


@dataclass
class RunSummary:
    judged: list[tuple[str, str, str]] = field(default_factory=list)  # provider, month, status
    unpartitionable: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    waiting_for_configuration: list[tuple[str, str]] = field(default_factory=list)
    still_being_written: list[tuple[str, str]] = field(default_factory=list)
    not_judged: list[tuple[str, str]] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)
    up_to_date: bool = False  # nothing new: no Dagster run, the published copy stands
    # k-anonymity classes below [anonymity] k (warehouse, extract scopes): warned, never a failure
    anonymity_warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Every landing folder in exactly one outcome."""
        by_status = Counter(status for _, _, status in self.judged)
        return {
            "accepted": by_status["accepted"],
            "accepted with quarantine": by_status["accepted_with_quarantine"],
            "rejected": by_status["rejected"] + len(self.unpartitionable),
            "unchanged": self.unchanged,
            "rejected before, waiting for a configuration change": len(self.waiting_for_configuration),
            "still being written": len(self.still_being_written),
            "not judged": len(self.not_judged),
        }

    def lines(self, home: DatabankHome) -> list[str]:
        out = []
        for provider, month, status in self.judged:
            out.append(f"  {provider} {month}: {status}  (report: {home.report_dir(provider, month)})")
        for provider, month in self.unpartitionable:
            # The report folder is named by the steward's folder names: shown, never printed raw
            # (a line break or a terminal escape sequence in a folder name stays inert).
            out.append(f"  {shown_name(provider)}/{shown_name(month)}: rejected  "
                       f"(report: {shown_name(str(home.report_dir(provider, month)), limit=None)})")
        for provider, month in self.still_being_written:
            out.append(f"  {provider} {month}: files still being written after waiting; not judged")
        for provider, month in self.not_judged:
            out.append(f"  {provider} {month}: NOT JUDGED")
        if not (self.judged or self.unpartitionable or self.unchanged or self.still_being_written
                or self.waiting_for_configuration or self.not_judged):
            out.append("  no deliveries in landing/")
        else:
            out.append("  " + ", ".join(f"{n} {what}" for what, n in self.counts().items() if n))
        if self.up_to_date:
            out.append("  nothing new since the last build: the published copy is current")
        for warning in self.anonymity_warnings:
            out.append(f"  warning: {warning}")
        if self.anonymity_warnings:
            out.append(f"  (counts only; see {shown_name(str(home.databank_reports / 'anonimiteit.html'), limit=None)})")
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
    """Nothing to do (warehouse.ledger.publication_current) and no killed command left runs to
    close. Checked without importing Dagster, so a nightly with nothing new costs a second."""
    if _runs_marker(home).exists():
        return False
    with open_warehouse(home.warehouse) as con:
        return publication_current(con, home, config_hash)


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


# An explicit `databank run` waits this long for files still being written before it gives up on
# them (and fails, naming them); the sensor instead simply looks again at its next tick.
SETTLE_WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class Clock:
    """The run's notion of time, injected so a test decides what "future" and "settled" mean."""

    today: Callable[[], dt.date] = dt.date.today
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


def run_pipeline(
    home: DatabankHome,
    today: dt.date | None = None,
    progress: Callable[[str], None] = lambda _: None,
    clock: Clock | None = None,
) -> RunSummary:
    """Process every new or changed delivery, rebuild the marts and republish. The whole run
    holds the warehouse's writer lock: a second run waits, then finds nothing left to do. Raises
    DeliveriesNotJudged (after publishing what it did judge) when a pending delivery was not.
    `today` (or the clock's day) decides which months lie in the future, here and in the read
    step: the caller reads the clock, so no decision below depends on the day a test runs."""
    if clock is None and today is None:
        raise TypeError("run_pipeline needs the day (today=) or a clock")
    clock = clock or Clock()
    if today is not None:
        clock = Clock(today=lambda: today, now=clock.now, sleep=clock.sleep)
    home.prepare()
    config = home.config()
    if note := defaults_note(home.config_dir):
        progress(note)  # once per run, not per delivery
    with writer_lock(home.warehouse, on_wait=progress):
        ring = ensure_home_key_ring(home)  # stop before any change if the key file cannot serve this warehouse
        with open_warehouse(home.warehouse) as con:  # a warehouse from before minimisation: once
            convert_old_rows(con, TrajectoryClock(ring.current), load_anonymity_config(home.config_dir))
        summary = _run_locked(home, config, clock, progress)
    if summary.not_judged:
        raise DeliveriesNotJudged(summary)
    return summary


def _settled_ledger(
    home: DatabankHome, config: ConsortiumConfig, config_hash: str, clock: Clock,
    progress: Callable[[str], None],
) -> list[LedgerEntry]:
    """The ledger once no file is being written any more, or the wait is over (saying so)."""
    deadline = clock.now() + SETTLE_WAIT_SECONDS
    told = False
    while True:
        with open_warehouse(home.warehouse) as con:
            ledger = classify_landing(home.landing, con, config, config_hash, clock.today(), clock.now())
        writing = in_state(ledger, LandingState.BEING_WRITTEN)
        if not writing or clock.now() >= deadline:
            return ledger
        if not told:
            progress(
                f"waiting up to {SETTLE_WAIT_SECONDS:.0f} s for files still being written: "
                + ", ".join(e.name for e in writing)
            )
            told = True
        clock.sleep(2.0)


def _run_locked(
    home: DatabankHome, config: ConsortiumConfig, clock: Clock, progress: Callable[[str], None]
) -> RunSummary:
    config_hash = config_fingerprint(home.config_dir)
    summary = RunSummary()
    crash_point("run:start")

    ledger = _settled_ledger(home, config, config_hash, clock, progress)
    for entry in in_state(ledger, LandingState.UNPARTITIONABLE):
        write_report(
            rejected(entry.provider, entry.month, list(entry.faults), config).verdict,
            home.report_dir(entry.provider, entry.month),
        )
        summary.unpartitionable.append((entry.provider, entry.month))
    summary.still_being_written = [
        (e.provider, e.month) for e in in_state(ledger, LandingState.BEING_WRITTEN)
    ]
    summary.waiting_for_configuration = [
        (e.provider, e.month) for e in in_state(ledger, LandingState.WAITING_FOR_CONFIGURATION)
    ]
    unchanged = in_state(ledger, LandingState.UNCHANGED)
    summary.unchanged = len(unchanged)
    if load_anonymity_config(home.config_dir).landing_after_processing == "delete":
        for entry in unchanged:  # processed before a crash could remove the files
            assert entry.delivery_id is not None
            remove_processed_delivery(entry.provider, entry.month, entry.folder, entry.delivery_id)
    pending = in_state(ledger, LandingState.PENDING)
    crash_point("run:scanned")

    if not pending and _publication_current(home, config_hash):
        summary.up_to_date = True
        summary.mart_rows = _mart_sizes(home)
        summary.not_judged = list(summary.still_being_written)
        summary.anonymity_warnings = _anonymity_warnings(home)
        return summary

    from pipelines.definitions import build_definitions

    preload = _preload_great_expectations()
    try:
        instance = _instance(home)
        _close_abandoned_runs(instance)
        _runs_marker(home).touch()
        definitions = build_definitions(home)
        if pending:
            _ingest(instance, definitions, pending, clock.today(), progress)
            with open_warehouse(home.warehouse) as con:
                judged, missing = judged_since(con, pending, config_hash)
                rows = run_sql(con, "select_delivery_statuses", {"delivery_ids": [e.delivery_id for e in judged]})
            statuses = {(p, m): s for p, m, s in rows}
            summary.judged = sorted((e.provider, e.month, statuses[(e.provider, e.month)]) for e in judged)
            summary.not_judged = sorted((e.provider, e.month) for e in missing)
        summary.not_judged = sorted(summary.not_judged + summary.still_being_written)

        progress("rebuilding the marts and publishing")
        summary.mart_rows = rebuild_and_publish(home, instance, definitions)
    finally:
        preload.join()  # never leave the interpreter with an import half done
    summary.anonymity_warnings = _anonymity_warnings(home)
    return summary


def _preload_great_expectations() -> threading.Thread:
    """Import Great Expectations beside the run: the warehouse guard needs it in every rebuild,
    and importing it costs seconds of pure Python (scipy, altair, ...), which here overlaps with
    Dagster's start-up and the read step's DuckDB and Polars work (which release the GIL) instead
    of following them. The guard's own import then finds the module loaded (or waits for it);
    a failed import here is left for the guard to meet and report."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

    def load() -> None:
        try:
            import great_expectations  # noqa: F401
        except Exception:  # noqa: BLE001 - the guard's own import raises it where it is reported
            pass

    thread = threading.Thread(target=load, name="preload-great-expectations", daemon=True)
    thread.start()
    return thread


def _anonymity_warnings(home: DatabankHome) -> list[str]:
    """The warnings of the warehouse's last k-anonymity report (written by the build)."""
    share = load_anonymity_config(home.config_dir).extract_share
    return reported_warnings(home.databank_reports / REPORT_NAMES[0], share)


def _ingest(
    instance: dg.DagsterInstance, definitions: dg.Definitions, pending: list[LedgerEntry],
    today: dt.date, progress: Callable[[str], None],
) -> None:
    """One in-process ingest run per box of pending deliveries (pipelines/partition_runs.py). Each
    box is checked against Dagster's own reading of its range before the run, and the partitions
    materialised are counted after it: what Dagster did, not what we meant."""
    import dagster as dg

    from assets.deliveries import TODAY_TAG, WAREHOUSE_WRITE_TAGS
    from assets.partitions import delivery_partition_key, delivery_partitions, provider_partitions

    known = instance.get_dynamic_partitions(provider_partitions.name)
    new_providers = sorted({e.provider for e in pending} - set(known))
    if new_providers:
        instance.add_dynamic_partitions(provider_partitions.name, new_providers)
    provider_order = instance.get_dynamic_partitions(provider_partitions.name)
    ingest = definitions.resolve_job_def("ingest_deliveries")
    materialised: set[str] = set()
    for box in delivery_boxes([(e.provider, e.month) for e in pending], provider_order):
        start = delivery_partition_key(box.providers[0], box.months[0])
        end = delivery_partition_key(box.providers[-1], box.months[-1])
        read = set(delivery_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(start, end), dynamic_partitions_store=instance
        ))
        meant = {str(delivery_partition_key(p, m)) for p, m in box.cells()}
        if read != meant:
            raise PipelineFailed(
                f"Dagster would read {len(read)} partitions for a box of {len(meant)} deliveries "
                f"({box.describe()}); nothing was run"
            )
        progress(f"reading {box.describe()}")
        result = ingest.execute_in_process(
            run_config=QUIET_LOGS,
            instance=instance,
            tags={
                **WAREHOUSE_WRITE_TAGS, **IN_PROCESS_TAG, TODAY_TAG: today.isoformat(),
                **partition_range_tags(start, end),
            },
            raise_on_error=False,
        )
        _check_result(result, f"reading {box.describe()}")
        materialised |= {
            event.partition for event in result.get_asset_materialization_events()
            if event.asset_key == dg.AssetKey("pseudonymised_delivery") and event.partition
        }
        crash_point("run:deliveries-ingested")
    wanted = {str(delivery_partition_key(e.provider, e.month)) for e in pending}
    if materialised != wanted:
        raise PipelineFailed(
            f"Dagster recorded {len(materialised)} delivery partitions for {len(wanted)} pending "
            f"deliveries (missing: {', '.join(sorted(wanted - materialised)) or 'none'})"
        )


def partition_range_tags(start: object, end: object) -> dict[str, str]:
    """The run tags that make a run cover a partition range (Dagster has no public constant)."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    return {ASSET_PARTITION_RANGE_START_TAG: str(start), ASSET_PARTITION_RANGE_END_TAG: str(end)}


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

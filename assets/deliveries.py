"""Per-delivery assets: the read step (read, pseudonymise, validate, report) and staging. Both
take a partition range, so a backfill of hundreds of deliveries is one run, not hundreds."""


import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext

from assets.partitions import delivery_partitions, provider_and_month
from assets.resources import HomeResource, KeyResource
from pseudonymise.clock import TrajectoryClock
from pseudonymise.landing import (
    DeliveryFingerprint,
    fingerprint_delivery,
    remove_processed_delivery,
)
from pseudonymise.minimise import minimise_measurements, minimise_trajectories
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read_step import ReadDelivery, judge_deliveries, read_delivery
from schemas.anonymity import (
    AnonymityConfig,
    anonymity_report,
    load_anonymity_config,
    write_anonymity_report,
)
from schemas.config import ConsortiumConfig, config_fingerprint, defaults_note
from schemas.counts import DeliveryCounts
from schemas.quality import QualityConfig, delivery_quality, write_quality_report
from schemas.report import write_report
from schemas.validation import ValidatedDelivery
from warehouse.connection import open_warehouse
from warehouse.crash import crash_point
from warehouse.home import DatabankHome
from warehouse.ledger import is_pending
from warehouse.load import DeliveryIntake, DeliveryRecord, stage_waiting_intake, write_intake
from warehouse.minimise import convert_old_rows
from warehouse.privacy import erasure_tokens
from warehouse.pseudonym_keys import ensure_key_ring_covers_warehouse

WAREHOUSE_WRITE_TAGS = {"databank/warehouse": "write"}
# The day a run judges its deliveries by (YYYY-MM-DD): `databank run` sets it from its own clock,
# so the read step and the folder checks before it agree, and a test can fix it.
TODAY_TAG = "databank/today"


class ReadStepFailed(Exception):
    """An unexpected error while raw values were in memory, stripped of its message."""


@dataclass(frozen=True)
class DeliveryOutcome:
    """Counts only: this is what reaches Dagster's metadata and logs. The counts are the one
    definition of schemas/counts.py, as judged (before staging applies objections recorded in
    other months)."""

    provider: str
    month: str
    status: str
    counts: DeliveryCounts = DeliveryCounts()
    fault_codes: str = ""
    quality_failed: tuple[str, ...] = ()  # ids of data-quality checks that did not pass


# Deliveries judged in one Pandera call: its fixed cost per call is shared (most of the judging
# time of a small delivery; at national scale most of Pandera's cost is per row), while memory
# holds at most this many deliveries' pseudonymised rows (raw values never outlive their own read).
JUDGED_TOGETHER = 16


@dataclass(frozen=True)
class _Waiting:
    provider: str
    month: str
    fingerprint: DeliveryFingerprint
    read: ReadDelivery


def read_deliveries_into_intake(
    con: duckdb.DuckDBPyConnection,
    home: DatabankHome,
    config: ConsortiumConfig,
    config_hash: str,
    quality: QualityConfig,
    pseudonymiser: Pseudonymiser,
    deliveries: list[tuple[str, str]],
    today: dt.date,
    anonymity: AnonymityConfig | None = None,
) -> tuple[list[DeliveryOutcome], list[tuple[str, str]]]:
    """(outcomes, partitions not read: without a delivery folder, or rewritten while read). A delivery whose bytes were already processed
    is 'unchanged'; every other one is judged, reported to the steward and written to intake as
    pseudonymise/minimise.py stores it, generalised as config/privacy.toml says (`anonymity`, read
    from the home when not given)."""
    anonymity = anonymity or load_anonymity_config(home.config_dir)
    outcomes: list[DeliveryOutcome] = []
    absent: list[tuple[str, str]] = []
    waiting: list[_Waiting] = []

    def judge_waiting() -> None:
        where = f"{waiting[0].provider} {waiting[0].month} to {waiting[-1].provider} {waiting[-1].month}"
        try:
            verdicts = judge_deliveries([w.read for w in waiting], config)
        except Exception as error:
            raise _read_step_failed(error, where) from None
        intakes = []
        for item, validated in zip(waiting, verdicts, strict=True):
            outcome, intake = _record_judged(home, config_hash, quality, anonymity, pseudonymiser.clock, item, validated)
            outcomes.append(outcome)
            intakes.append(intake)
        write_intake(con, intakes)  # the batch in one transaction: a statement per table
        waiting.clear()

    for provider, month in deliveries:
        folder = home.landing / provider / month
        if not _is_delivery_folder(folder):
            absent.append((provider, month))
            continue
        fingerprint = fingerprint_delivery(provider, month, folder)
        if not is_pending(con, provider, month, fingerprint.delivery_id, config_hash):
            outcomes.append(DeliveryOutcome(provider, month, "unchanged"))
            continue
        try:
            read = read_delivery(folder, provider, month, config, pseudonymiser, today)
        except Exception as error:
            raise _read_step_failed(error, f"{provider} {month}") from None
        if fingerprint_delivery(provider, month, folder) != fingerprint:
            # Rewritten while it was read: what was read may be neither version. Nothing is
            # recorded, so the delivery stays pending and the run's accounting names it.
            absent.append((provider, month))
            continue
        waiting.append(_Waiting(provider, month, fingerprint, read))
        if len(waiting) == JUDGED_TOGETHER:
            judge_waiting()
    if waiting:
        judge_waiting()
    return outcomes, absent


def _read_step_failed(error: Exception, where: str) -> ReadStepFailed:
    """A bug, not a fault in a delivery: its message may quote raw cells, and Dagster stores
    messages and causes in the event log, so only the type and place go on."""
    return ReadStepFailed(
        f"{type(error).__name__} in the read step of {where}; the message is withheld because it "
        "may contain values from the delivery"
    )


def _record_judged(
    home: DatabankHome,
    config_hash: str,
    quality: QualityConfig,
    anonymity: AnonymityConfig,
    clock: TrajectoryClock,
    item: _Waiting,
    validated: ValidatedDelivery,
) -> tuple[DeliveryOutcome, DeliveryIntake]:
    """The steward's reports (from the validated rows, dates and all), and what intake will hold
    of the delivery: its rows, minimised, and its lineage."""
    provider, month, fingerprint = item.provider, item.month, item.fingerprint
    verdict = validated.verdict
    crash_point("read:judged")
    write_report(verdict, home.report_dir(provider, month))
    quality_report = delivery_quality(validated, quality)
    write_quality_report(quality_report, home.report_dir(provider, month))
    trajectories = minimise_trajectories(validated.trajectories, anonymity, clock)
    measurements = minimise_measurements(validated.measurements, clock)
    write_anonymity_report(
        anonymity_report(trajectories.assign(provider=provider), anonymity, f"levering {provider} {month}"),
        home.report_dir(provider, month),
    )
    file_codes = ",".join(sorted({f.code for f in verdict.file_faults}))
    outcome = DeliveryOutcome(
        provider=provider,
        month=month,
        status=verdict.status.value,
        counts=DeliveryCounts.from_verdict(verdict),
        fault_codes=file_codes,
        quality_failed=tuple(r.check_id for r in quality_report.failed()),
    )
    record = DeliveryRecord(
        delivery_id=fingerprint.delivery_id,
        provider=provider,
        month=month,
        files_json=fingerprint.files_json(),
        received_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        status=outcome.status,
        counts=outcome.counts,
        fault_codes=file_codes,
        config_hash=config_hash,
    )
    return outcome, DeliveryIntake(record, trajectories, measurements, validated.quarantine, validated.objections)


def _is_delivery_folder(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink()


def _fail_on_absent(absent: list[tuple[str, str]]) -> None:
    """Runs are launched for pending deliveries only: reading an empty partition and recording it
    as materialised is how deliveries went missing unnoticed before (issue 11)."""
    if absent:
        raise dg.Failure(
            f"{len(absent)} partitions of this run were not read (no delivery in landing/, or its "
            "files were rewritten while they were read; the next run reads them): "
            + ", ".join(f"{p} {m}" for p, m in absent[:20])
        )


def _outcome_table(outcomes: list[DeliveryOutcome], home: DatabankHome) -> str:
    """Per delivery of the run: its verdict, counts (read, quarantined, loaded, objections) and a
    link to the steward's report."""
    lines = [
        "| provider | month | status | trajecten | metingen | quarantined | loaded | bezwaar | file faults | report |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        c = o.counts
        report = (home.report_dir(o.provider, o.month) / "rapport.html").as_uri()
        lines.append(
            f"| {o.provider} | {o.month} | {o.status} | {c.read_trajecten} | {c.read_metingen} | "
            f"{c.quarantined} | {c.loaded} | {c.excluded} | {o.fault_codes} | [rapport]({report}) |"
        )
    return "\n".join(lines)


def judging_day(tags: Mapping[str, str]) -> dt.date:
    """The run's TODAY_TAG; runs launched by the sensor or the UI carry none and are judged on
    the day they run (month-in-future is decided by it)."""
    day = tags.get(TODAY_TAG)
    return dt.date.fromisoformat(day) if day else dt.date.today()


@dg.asset(
    partitions_def=delivery_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="deliveries",
    kinds={"python", "duckdb"},
    check_specs=[
        dg.AssetCheckSpec("delivery_accepted", asset="pseudonymised_delivery"),
        dg.AssetCheckSpec(
            "delivery_quality", asset="pseudonymised_delivery",
            description="Per-delivery data-quality checks (config/quality.toml) within thresholds.",
        ),
    ],
    description="Each delivery read, pseudonymised (HMAC under HKDF subkeys) and validated "
    "(Pandera); the steward's report written; valid rows and quarantine held in intake.",
)
def pseudonymised_delivery(
    context: AssetExecutionContext, home: HomeResource, key: KeyResource
) -> dg.MaterializeResult:
    databank = home.home
    config = databank.config()
    if note := defaults_note(databank.config_dir):
        context.log.info(note)  # once per run: the sensor's runs have no terminal to say it
    config_hash = config_fingerprint(databank.config_dir)
    quality = databank.quality_config()
    anonymity = load_anonymity_config(databank.config_dir)
    today = judging_day(context.run.tags)
    deliveries = [provider_and_month(key) for key in context.partition_keys]
    _fail_on_absent(
        [(p, m) for p, m in deliveries if not _is_delivery_folder(databank.landing / p / m)]
    )
    with open_warehouse(databank.warehouse) as con:
        ring = ensure_key_ring_covers_warehouse(con, key.load(), Path(key.key_file))
        pseudonymiser = Pseudonymiser(ring, erasure_tokens=erasure_tokens(con))  # erased stay out
        convert_old_rows(con, pseudonymiser.clock, anonymity)  # made before minimisation: once
        outcomes, absent = read_deliveries_into_intake(
            con, databank, config, config_hash, quality, pseudonymiser, deliveries, today, anonymity,
        )
    _fail_on_absent(absent)  # removed while this run read the others
    judged = [o for o in outcomes if o.status != "unchanged"]
    rejected = [o for o in judged if o.status == "rejected"]
    # One line per run, not per delivery: each log line is an event-log write, and the per-delivery
    # verdicts are in the materialisation's `deliveries` table.
    context.log.info(f"{len(judged)} deliveries judged, {len(rejected)} rejected")
    return dg.MaterializeResult(
        metadata={
            "deliveries_judged": len(judged),
            "deliveries_unchanged": len(outcomes) - len(judged),
            "accepted": sum(o.status == "accepted" for o in judged),
            "accepted_with_quarantine": sum(o.status == "accepted_with_quarantine" for o in judged),
            "rejected": len(rejected),
            "rows_trajecten": sum(o.counts.read_trajecten for o in judged),
            "rows_metingen": sum(o.counts.read_metingen for o in judged),
            "quarantined_rows": sum(o.counts.quarantined for o in judged),
            "excluded_by_objection": sum(o.counts.excluded for o in judged),  # rows of both tables
            "loaded_rows": sum(o.counts.loaded for o in judged),
            "deliveries": dg.MetadataValue.md(_outcome_table(judged, databank)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="delivery_quality",
                passed=not any(o.quality_failed for o in judged),
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "deliveries_checked": len(judged),
                    "deliveries_with_failed_checks": sum(bool(o.quality_failed) for o in judged),
                    "failed_checks": dg.MetadataValue.md(
                        "\n".join(
                            f"- {o.provider} {o.month}: {', '.join(o.quality_failed)}"
                            for o in judged if o.quality_failed
                        ) or "none"
                    ),
                },
            ),
            dg.AssetCheckResult(
                check_name="delivery_accepted",
                passed=not rejected,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "rejected": len(rejected),
                    "rejected_deliveries": ", ".join(f"{o.provider} {o.month}" for o in rejected),
                },
            )
        ],
    )


@dg.asset(
    partitions_def=delivery_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[pseudonymised_delivery],
    group_name="deliveries",
    kinds={"duckdb"},
    description="Accepted deliveries become the version in force of their (provider, month), "
    "replacing an earlier one whole; rejected ones are recorded and change nothing.",
)
def staged_delivery(context: AssetExecutionContext, home: HomeResource) -> dg.MaterializeResult:
    databank = home.home
    delete_landing = load_anonymity_config(databank.config_dir).landing_after_processing == "delete"
    statuses: list[str] = []
    removed = 0
    with open_warehouse(databank.warehouse) as con:
        for staged in stage_waiting_intake(con):
            statuses.append(staged.status)
            # Only after the staging transaction committed: a crash before leaves the files.
            if delete_landing and remove_processed_delivery(
                staged.provider, staged.month, databank.landing / staged.provider / staged.month,
                staged.delivery_id,
            ):
                removed += 1
                crash_point("stage:landing-removed")
    return dg.MaterializeResult(
        metadata={
            "staged": sum(s != "rejected" for s in statuses),
            "rejected_recorded": sum(s == "rejected" for s in statuses),
            "landing_deliveries_removed": removed,
        }
    )

"""Inspecting one delivery exactly as the pipeline does: folder names, files, read step,
validation. `databank check` and the pipeline's read asset both call `inspect_delivery`, so a
delivery that check accepts is one the pipeline accepts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pseudonymise.intake import (
    MEASUREMENT_FIELDS,
    TRAJECTORY_FIELDS,
    PseudonymisedDelivery,
    pseudonymise_delivery,
)
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read import locate_delivery_files, read_delivery_tables
from schemas.config import PROVIDER_CODE, ConsortiumConfig
from schemas.delivery import FIRST_MONTH, is_month_folder
from schemas.faults import DeliveryRejected, Fault
from schemas.validation import (
    QUARANTINE_COLUMNS,
    DeliveryVerdict,
    Status,
    ValidatedDelivery,
    validate_deliveries,
    validate_delivery,
)


def folder_faults(provider: str, month: str, config: ConsortiumConfig, today: dt.date) -> list[Fault]:
    """Faults in the folder names alone (§8, §9.1, §9.14): nothing in the files is read."""
    faults: list[Fault] = []
    if not PROVIDER_CODE.match(provider):
        faults.append(Fault("FILE_INVALID_PROVIDER_FOLDER", detail=shown_name(provider)))
    elif provider not in config.providers:
        faults.append(Fault("FILE_UNKNOWN_PROVIDER", detail=provider))
    if not is_month_folder(month):
        faults.append(Fault("FILE_INVALID_MONTH_FOLDER", detail=shown_name(month)))
    elif month > f"{today.year:04d}-{today.month:02d}":
        faults.append(Fault("FILE_MONTH_IN_FUTURE", detail=month))
    elif month < FIRST_MONTH:
        faults.append(Fault("FILE_MONTH_TOO_EARLY", detail=month))
    return faults


def shown_name(name: str, limit: int | None = 60) -> str:
    """A folder or file name as messages may show it: unprintable characters (line breaks,
    terminal escapes) as '?', cut to `limit` characters."""
    return "".join(c if c.isprintable() else "?" for c in name)[:limit]


def rejected(provider: str, month: str, faults: list[Fault], config: ConsortiumConfig) -> ValidatedDelivery:
    return ValidatedDelivery(
        verdict=DeliveryVerdict(provider, month, Status.REJECTED, faults, reject_share=config.reject_share),
        trajectories=pd.DataFrame(columns=TRAJECTORY_FIELDS),
        measurements=pd.DataFrame(columns=MEASUREMENT_FIELDS),
        quarantine=pd.DataFrame(columns=QUARANTINE_COLUMNS),
    )


@dataclass
class ReadDelivery:
    """A delivery after the read step: pseudonymised and waiting to be judged, or already
    rejected (its folder, its files, or a file fault found while reading). Raw values are gone."""

    provider: str
    month: str
    pseudonymised: PseudonymisedDelivery | None = None
    warnings: list[Fault] = field(default_factory=list)
    rejected: ValidatedDelivery | None = None


def read_delivery(
    folder: Path,
    provider: str,
    month: str,
    config: ConsortiumConfig,
    pseudonymiser: Pseudonymiser,
    today: dt.date,
) -> ReadDelivery:
    """Never raises for anything wrong in the delivery: every problem becomes a fault."""
    faults = folder_faults(provider, month, config, today)
    if folder.is_symlink() or folder.parent.is_symlink():
        faults.append(Fault("FILE_UNSAFE_PATH", detail=shown_name(folder.name)))
    if faults:
        return ReadDelivery(provider, month, rejected=rejected(provider, month, faults, config))
    try:
        files = locate_delivery_files(folder)
        warnings = [Fault("WARN_FILE_IGNORED", detail=shown_name(name)) for name in files.ignored]
        tables = read_delivery_tables(files)
        pseudonymised = pseudonymise_delivery(
            tables, provider, month, pseudonymiser, config.column_mapping.get(provider),
            config.teams.get(provider),
        )
        del tables  # raw values end here
    except Exception as error:  # noqa: BLE001 - a defect of ours must not stop the other deliveries
        return ReadDelivery(provider, month, rejected=_failed(provider, month, error, config))
    return ReadDelivery(provider, month, pseudonymised, warnings)


def _failed(provider: str, month: str, error: Exception, config: ConsortiumConfig) -> ValidatedDelivery:
    if isinstance(error, DeliveryRejected):
        return rejected(provider, month, error.faults, config)
    # A defect of ours: its message may quote raw cells, so only the type is kept.
    return rejected(provider, month, [Fault("FILE_PROCESSING_ERROR", detail=type(error).__name__)], config)


def _judge_alone(read: ReadDelivery, config: ConsortiumConfig) -> ValidatedDelivery:
    try:
        validated = validate_delivery(read.pseudonymised, config)
    except Exception as error:  # noqa: BLE001 - see read_delivery
        return _failed(read.provider, read.month, error, config)
    validated.verdict.faults[:0] = read.warnings
    return validated


def judge_deliveries(read: list[ReadDelivery], config: ConsortiumConfig) -> list[ValidatedDelivery]:
    """The verdicts of many read deliveries, validated together (see validate_deliveries); if
    that fails, each alone, so a defect rejects only the delivery that triggers it."""
    waiting = [r for r in read if r.rejected is None]
    try:
        judged = validate_deliveries([r.pseudonymised for r in waiting], config)
    except Exception:  # noqa: BLE001 - find the delivery: judged one by one below
        judged = [_judge_alone(r, config) for r in waiting]
    else:
        for r, validated in zip(waiting, judged, strict=True):
            validated.verdict.faults[:0] = r.warnings
    verdicts = iter(judged)
    return [r.rejected if r.rejected is not None else next(verdicts) for r in read]


def inspect_delivery(
    folder: Path,
    provider: str,
    month: str,
    config: ConsortiumConfig,
    pseudonymiser: Pseudonymiser,
    today: dt.date,
) -> ValidatedDelivery:
    """One delivery, read and judged: what `databank check` shows is what the pipeline does."""
    read = read_delivery(folder, provider, month, config, pseudonymiser, today)
    return read.rejected if read.rejected is not None else _judge_alone(read, config)


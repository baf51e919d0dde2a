"""Inspecting one delivery exactly as the pipeline does: folder names, files, read step,
validation. `databank check` and the pipeline's read asset both call this module
(`inspect_delivery`, or `read_delivery` then `judge_deliveries`), so a delivery that check
accepts is one the pipeline accepts. It sits above what it chains (reading, pseudonymising,
and the contract's validation in `schemas/`), none of which imports it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pseudonymise.intake import pseudonymise_delivery
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read import locate_delivery_files, read_delivery_tables
from schemas.check import folder_faults, rejected, shown_name
from schemas.config import ConsortiumConfig
from schemas.faults import DeliveryRejected, Fault
from schemas.records import PseudonymisedDelivery
from schemas.validation import ValidatedDelivery, validate_deliveries, validate_delivery


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


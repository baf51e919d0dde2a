"""Inspecting one delivery exactly as the pipeline does: folder names, files, read step,
validation. `databank check` and the pipeline's read asset both call `inspect_delivery`, so a
delivery that check accepts is one the pipeline accepts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pseudonymise.intake import MEASUREMENT_FIELDS, TRAJECTORY_FIELDS, pseudonymise_delivery
from pseudonymise.landing import is_month_folder
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read import locate_delivery_files, read_delivery_tables
from schemas.config import PROVIDER_CODE, ConsortiumConfig
from schemas.delivery import FIRST_MONTH
from schemas.faults import DeliveryRejected, Fault
from schemas.validation import (
    QUARANTINE_COLUMNS,
    DeliveryVerdict,
    Status,
    ValidatedDelivery,
    validate_delivery,
)


def folder_faults(provider: str, month: str, config: ConsortiumConfig, today: dt.date) -> list[Fault]:
    """Faults in the folder names alone (§8, §9.1, §9.14): nothing in the files is read."""
    faults: list[Fault] = []
    if not PROVIDER_CODE.match(provider):
        faults.append(Fault("FILE_INVALID_PROVIDER_FOLDER", detail=_shown_name(provider)))
    elif provider not in config.providers:
        faults.append(Fault("FILE_UNKNOWN_PROVIDER", detail=provider))
    if not is_month_folder(month):
        faults.append(Fault("FILE_INVALID_MONTH_FOLDER", detail=_shown_name(month)))
    elif month > f"{today.year:04d}-{today.month:02d}":
        faults.append(Fault("FILE_MONTH_IN_FUTURE", detail=month))
    elif month < FIRST_MONTH:
        faults.append(Fault("FILE_MONTH_TOO_EARLY", detail=month))
    return faults


def _shown_name(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:60]


def rejected(provider: str, month: str, faults: list[Fault], config: ConsortiumConfig) -> ValidatedDelivery:
    return ValidatedDelivery(
        verdict=DeliveryVerdict(provider, month, Status.REJECTED, faults, reject_share=config.reject_share),
        trajectories=pd.DataFrame(columns=TRAJECTORY_FIELDS),
        measurements=pd.DataFrame(columns=MEASUREMENT_FIELDS),
        quarantine=pd.DataFrame(columns=QUARANTINE_COLUMNS),
    )


def inspect_delivery(
    folder: Path,
    provider: str,
    month: str,
    config: ConsortiumConfig,
    pseudonymiser: Pseudonymiser,
    today: dt.date,
) -> ValidatedDelivery:
    """Never raises for anything wrong in the delivery: every problem becomes a fault."""
    faults = folder_faults(provider, month, config, today)
    if folder.is_symlink() or folder.parent.is_symlink():
        faults.append(Fault("FILE_UNSAFE_PATH", detail=_shown_name(folder.name)))
    if faults:
        return rejected(provider, month, faults, config)
    try:
        files = locate_delivery_files(folder)
        warnings = [Fault("WARN_FILE_IGNORED", detail=_shown_name(name)) for name in files.ignored]
        tables = read_delivery_tables(files)
        pseudonymised = pseudonymise_delivery(
            tables, provider, month, pseudonymiser, config.column_mapping.get(provider)
        )
        del tables  # raw values end here
        validated = validate_delivery(pseudonymised, config)
    except DeliveryRejected as rejection:
        return rejected(provider, month, rejection.faults, config)
    except Exception as error:  # noqa: BLE001 - a defect of ours must not stop the other deliveries
        # Its message may quote raw cells: only the type is kept, for the consortium's engineers.
        return rejected(provider, month, [Fault("FILE_PROCESSING_ERROR", detail=type(error).__name__)], config)
    validated.verdict.faults[:0] = warnings
    return validated


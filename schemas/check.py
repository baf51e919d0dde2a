"""The checks on a delivery that need no cell of it: its folder names (§8), a name as messages
may show it, and the verdict of a delivery rejected before or while it was read. Reading and
judging a delivery (`inspect_delivery`) is `pseudonymise/read_step.py`, above this contract."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from schemas.config import PROVIDER_CODE, ConsortiumConfig
from schemas.delivery import FIRST_MONTH, is_month_folder
from schemas.faults import Fault
from schemas.records import MEASUREMENT_FIELDS, TRAJECTORY_FIELDS
from schemas.validation import QUARANTINE_COLUMNS, DeliveryVerdict, Status, ValidatedDelivery


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

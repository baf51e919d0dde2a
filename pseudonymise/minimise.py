"""Data minimisation (AVG art. 5(1)(c)): the last step of reading a delivery, after validation
and the steward's reports, before anything is stored. Validation needs calendar dates (a date
after the reporting month, an end before the start, the age); what is stored keeps only what the
marts, the quality checks, objections and erasures need (PRIVACY.md §1):

- the start and the end as their month (or year, `[generalisation] dates`): the period of
  outcome-metrics §4 is the end's calendar year, the quality checks count in months;
- every date as a day number on the trajectory's keyed clock (pseudonymise/clock.py): the order
  of measurements, the days between a measurement and the start, and a trajectory's length in
  days are exact; the calendar day is not there;
- no postcode digits and no birth year unless the consortium documents a use for them
  (`[generalisation] pc4`, `birth_year` with `[uses]`); the age at start in whole years and sex
  stay, for the case-mix model of outcome-metrics §8."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pseudonymise.clock import EPOCH, TrajectoryClock
from schemas.anonymity import AnonymityConfig

STORED_TRAJECTORY_FIELDS = [
    "row_number", "trajectory_id", "client_id", "local_client_id", "birth_year", "age_at_start",
    "geslacht", "pc4", "team", "interventie", "hulpvorm", "start_month", "end_month", "start_day",
    "end_day", "reden_einde", "doelrealisatie", "tevredenheid",
]
STORED_MEASUREMENT_FIELDS = [
    "row_number", "trajectory_id", "local_client_id", "instrument", "schaal", "informant",
    "meetmoment", "measured_day", "score",
]


def _stamps(dates: pd.Series) -> pd.Series:
    """Dates as datetime64; pd.to_datetime on a column that already is one still walks its first
    values as Timestamp objects, which was most of the cost of minimising a delivery."""
    return dates if pd.api.types.is_datetime64_dtype(dates.dtype) else pd.to_datetime(dates)


def period_start(dates: pd.Series, level: str) -> pd.Series:
    """The first day of each date's month ("month") or year ("year"), at midnight."""
    stamps = _stamps(dates)
    unit = "datetime64[M]" if level == "month" else "datetime64[Y]"
    starts = stamps.to_numpy(dtype="datetime64[ns]").astype(unit).astype("datetime64[ns]")
    return pd.Series(starts, index=dates.index).astype(stamps.dtype)


def clock_offsets(trajectory_ids: pd.Series, clock: TrajectoryClock) -> pd.Series:
    """Each row's offset on its trajectory's clock (Int64), keyed once per distinct trajectory."""
    codes, uniques = pd.factorize(trajectory_ids)
    offsets = np.array([*clock.offsets(uniques.tolist()), 0], dtype="int64")[codes]  # -1: absent
    return pd.Series(pd.arrays.IntegerArray(offsets, codes < 0), index=trajectory_ids.index)


def clock_days(dates: pd.Series, offsets: pd.Series) -> pd.Series:
    """Each date as a day number on its trajectory's clock (Int64; empty stays empty), given the
    rows' `clock_offsets`."""
    stamps = _stamps(dates)
    days = (stamps - pd.Timestamp(EPOCH)).dt.days
    return (days.astype("Int64") + offsets).astype("Int64")


def minimise_trajectories(frame: pd.DataFrame, config: AnonymityConfig, clock: TrajectoryClock) -> pd.DataFrame:
    """Validated trajectory rows (the read step's TRAJECTORY_FIELDS) as stored."""
    out = frame.copy()
    out["start_month"] = period_start(frame["startdatum"], config.dates)
    out["end_month"] = period_start(frame["einddatum"], config.dates)
    offsets = clock_offsets(frame["trajectory_id"], clock)
    out["start_day"] = clock_days(frame["startdatum"], offsets)
    out["end_day"] = clock_days(frame["einddatum"], offsets)
    if config.pc4 == "none":
        out["pc4"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    elif config.pc4 == "pc2":
        out["pc4"] = pd.Series(
            [v[:2] if isinstance(v, str) else None for v in frame["pc4"]], index=out.index, dtype="object"
        )
    if config.birth_year == "none":
        out["birth_year"] = pd.Series([pd.NA] * len(out), index=out.index, dtype="Int64")
    return out[STORED_TRAJECTORY_FIELDS]


def minimise_measurements(frame: pd.DataFrame, clock: TrajectoryClock) -> pd.DataFrame:
    """Validated measurement rows (the read step's MEASUREMENT_FIELDS) as stored."""
    out = frame.copy()
    out["measured_day"] = clock_days(frame["datum"], clock_offsets(frame["trajectory_id"], clock))
    return out[STORED_MEASUREMENT_FIELDS]

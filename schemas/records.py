"""The shape of what the read step hands on: pseudonymised, typed rows and the faults found while
the raw values were at hand. It is contract, not reading: validation judges it, a rejected
delivery has its (empty) columns, and `pseudonymise/` fills it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from schemas.faults import Fault

TRAJECTORY_FIELDS = [
    "row_number", "trajectory_id", "client_id", "local_client_id", "birth_year", "age_at_start", "geslacht", "pc4",
    "team", "interventie", "hulpvorm", "startdatum", "einddatum", "reden_einde",
    "doelrealisatie", "tevredenheid",
]
OBJECTION_FIELDS = ["client_id", "local_client_id"]
MEASUREMENT_FIELDS = [
    "row_number", "trajectory_id", "local_client_id", "instrument", "schaal", "informant", "meetmoment", "datum",
    "score",
]


@dataclass
class PseudonymisedDelivery:
    """What the read step hands on: pseudonymised, typed rows plus the faults it could only find
    while the raw values were at hand."""

    provider: str
    month: str
    trajectories: pd.DataFrame
    measurements: pd.DataFrame
    faults: list[Fault] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    excluded_bezwaar: dict[str, int] = field(default_factory=dict)
    # Rows of clients erased on request (`databank forget`): left out before anything is stored.
    excluded_erased: dict[str, int] = field(default_factory=dict)
    # Pseudonyms of clients who object, so their earlier months can be removed too.
    objections: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OBJECTION_FIELDS))

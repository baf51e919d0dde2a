"""A delivery's row counts, defined once. The run's Dagster metadata, `databank status`, the
warehouse's lineage (`staging.deliveries`) and the steward's report all read them from here, so
"loaded" means the same everywhere:

- read: data rows of trajecten and metingen (headers not counted);
- quarantined: rows of both tables the validation set aside (staging.quarantine);
- excluded: rows of both tables left out because a client objects (bezwaar), whether marked in
  this delivery or recorded before and applied when the delivery was staged, or because the
  client was erased on request (`databank forget`; the steward's report names the two apart);
- loaded: rows that reach staging = read − quarantined − excluded; nothing for a rejected delivery.

An objection recorded later reaches back and removes rows from earlier months too; those rows were
loaded when their delivery was staged, and the objection, not their delivery's counts, records it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from schemas.delivery import METINGEN, TRAJECTEN

if TYPE_CHECKING:
    from schemas.validation import DeliveryVerdict

# The warehouse columns of staging.deliveries / intake.deliveries that hold the counts.
COUNT_COLUMNS = (
    "rows_trajecten", "rows_metingen", "quarantined_trajecten", "quarantined_metingen",
    "excluded_bezwaar", "excluded_bezwaar_metingen",
)


@dataclass(frozen=True)
class DeliveryCounts:
    read_trajecten: int = 0
    read_metingen: int = 0
    quarantined_trajecten: int = 0
    quarantined_metingen: int = 0
    excluded_trajecten: int = 0
    excluded_metingen: int = 0
    accepted: bool = True  # a rejected delivery loads nothing, whatever it read

    @property
    def read(self) -> int:
        return self.read_trajecten + self.read_metingen

    @property
    def quarantined(self) -> int:
        return self.quarantined_trajecten + self.quarantined_metingen

    @property
    def excluded(self) -> int:
        return self.excluded_trajecten + self.excluded_metingen

    @property
    def loaded_trajecten(self) -> int:
        return self.read_trajecten - self.quarantined_trajecten - self.excluded_trajecten if self.accepted else 0

    @property
    def loaded_metingen(self) -> int:
        return self.read_metingen - self.quarantined_metingen - self.excluded_metingen if self.accepted else 0

    @property
    def loaded(self) -> int:
        return self.loaded_trajecten + self.loaded_metingen

    @classmethod
    def from_verdict(cls, verdict: DeliveryVerdict) -> DeliveryCounts:
        """As judged: objections marked in the delivery itself and rows of erased clients (the
        steward's report, `check`)."""
        return cls(
            read_trajecten=verdict.rows_read.get(TRAJECTEN, 0),
            read_metingen=verdict.rows_read.get(METINGEN, 0),
            quarantined_trajecten=verdict.quarantined.get(TRAJECTEN, 0),
            quarantined_metingen=verdict.quarantined.get(METINGEN, 0),
            excluded_trajecten=verdict.excluded_bezwaar.get(TRAJECTEN, 0)
            + verdict.excluded_erased.get(TRAJECTEN, 0),
            excluded_metingen=verdict.excluded_bezwaar.get(METINGEN, 0)
            + verdict.excluded_erased.get(METINGEN, 0),
            accepted=verdict.accepted,
        )

    @classmethod
    def from_columns(cls, status: str, row: dict[str, int | None]) -> DeliveryCounts | None:
        """From a staging.deliveries row; None when the metingen exclusions were not recorded
        (deliveries staged before they were counted: their 'loaded' is not known)."""
        if any(row[column] is None for column in COUNT_COLUMNS):
            return None
        values = [int(row[column]) for column in COUNT_COLUMNS]  # type: ignore[arg-type]
        return cls(*values, accepted=status != "rejected")

    def columns(self) -> dict[str, int]:
        """The warehouse columns (COUNT_COLUMNS) with these counts."""
        return dict(zip(COUNT_COLUMNS, (
            self.read_trajecten, self.read_metingen, self.quarantined_trajecten,
            self.quarantined_metingen, self.excluded_trajecten, self.excluded_metingen,
        ), strict=True))

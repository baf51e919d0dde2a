"""The ledger of the landing folder: what every delivery folder is waiting for, decided from the
warehouse's own records. `databank run`, the landing sensor and `databank status` all ask this
one function, so the command line and the daemon can never disagree about what is pending
(issue 11: a sensor cursor that never saw what `databank run` did relaunched all of it).

Nothing here imports Dagster or reads a cell: folder names, file sizes, times and bytes only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import duckdb

from pseudonymise.landing import (
    LandingDelivery,
    delivery_files_in,
    fingerprint_delivery,
    is_stable,
    scan_landing,
)
from schemas.check import folder_faults, shown_name
from schemas.config import ConsortiumConfig
from schemas.faults import Fault
from warehouse.builds import build_inputs, is_up_to_date, last_build, passed_validation_unchanged
from warehouse.home import DatabankHome
from warehouse.load import latest_attempt
from warehouse.publish import published_build_id
from warehouse.sql import execute

# Folder faults that keep a delivery out of Dagster: such a folder cannot name a partition.
UNPARTITIONABLE = frozenset({
    "FILE_INVALID_PROVIDER_FOLDER", "FILE_INVALID_MONTH_FOLDER", "FILE_MONTH_IN_FUTURE",
    "FILE_MONTH_TOO_EARLY", "FILE_UNSAFE_PATH",
})  # fmt: skip


class LandingState(StrEnum):
    PENDING = "pending"  # new or changed bytes, or rejected under an older configuration
    UNCHANGED = "unchanged"  # these bytes were judged and are in force (or were replaced since)
    WAITING_FOR_CONFIGURATION = "waiting_for_configuration"  # rejected; judged again when the
    # configuration changes (e.g. the provider gets registered) or the bytes do
    BEING_WRITTEN = "being_written"  # a file changed in the last seconds: not settled yet
    UNPARTITIONABLE = "unpartitionable"  # its folder cannot name a delivery: rejected with a report


@dataclass(frozen=True)
class LedgerEntry:
    provider: str
    month: str
    folder: Path
    state: LandingState
    delivery_id: str | None = None  # the bytes' identity, for settled partitionable folders
    faults: tuple[Fault, ...] = field(default=())  # why it is unpartitionable

    @property
    def name(self) -> str:
        """How messages name it: the folder's own words, with unprintable characters shown."""
        return shown_name(f"{self.provider}/{self.month}", limit=90)


def folder_fingerprint_faults(
    delivery: LandingDelivery, config: ConsortiumConfig, today: dt.date
) -> tuple[Fault, ...]:
    if delivery.is_link:
        return (Fault("FILE_UNSAFE_PATH", detail=delivery.folder.name),)
    return tuple(
        f for f in folder_faults(delivery.provider, delivery.month, config, today)
        if f.code in UNPARTITIONABLE
    )


def classify_landing(
    landing: Path,
    con: duckdb.DuckDBPyConnection | None,
    config: ConsortiumConfig,
    config_hash: str,
    today: dt.date,
    now: float,
) -> list[LedgerEntry]:
    """Every `<provider>/<month>` folder under landing, in scan order, with its state. `con` is a
    connection to the warehouse (read-only is enough), None when there is none yet; `today` and
    `now` (epoch seconds) are the caller's clock, so a test decides what "future" and "settled"
    mean."""
    entries: list[LedgerEntry] = []
    for delivery in scan_landing(landing):
        faults = folder_fingerprint_faults(delivery, config, today)
        if faults:
            entries.append(_entry(delivery, LandingState.UNPARTITIONABLE, faults=faults))
            continue
        if not is_stable(delivery.folder, now, delivery_files_in(delivery.folder)):
            entries.append(_entry(delivery, LandingState.BEING_WRITTEN))
            continue
        delivery_id = fingerprint_delivery(delivery.provider, delivery.month, delivery.folder).delivery_id
        state = _judged_state(con, delivery.provider, delivery.month, delivery_id, config_hash)
        entries.append(_entry(delivery, state, delivery_id))
    return entries


def _entry(
    delivery: LandingDelivery, state: LandingState, delivery_id: str | None = None,
    faults: tuple[Fault, ...] = (),
) -> LedgerEntry:
    return LedgerEntry(delivery.provider, delivery.month, delivery.folder, state, delivery_id, faults)


def _judged_state(
    con: duckdb.DuckDBPyConnection | None, provider: str, month: str, delivery_id: str,
    config_hash: str,
) -> LandingState:
    """The same bytes change nothing; a rejected delivery is judged again only under a changed
    configuration. Intake is not an attempt: an intake a crash left before staging is read again."""
    latest = None if con is None else latest_attempt(con, provider, month)
    if latest is None or latest.delivery_id != delivery_id:
        return LandingState.PENDING
    if latest.status != "rejected":
        return LandingState.UNCHANGED
    if latest.config_hash != config_hash:
        return LandingState.PENDING
    return LandingState.WAITING_FOR_CONFIGURATION


def is_pending(
    con: duckdb.DuckDBPyConnection, provider: str, month: str, delivery_id: str, config_hash: str
) -> bool:
    """The read step's own look, under the writer lock: the same rule as the ledger's."""
    return _judged_state(con, provider, month, delivery_id, config_hash) == LandingState.PENDING


def in_state(entries: Iterable[LedgerEntry], *states: LandingState) -> list[LedgerEntry]:
    return [e for e in entries if e.state in states]


def judged_since(
    con: duckdb.DuckDBPyConnection, entries: Iterable[LedgerEntry], config_hash: str
) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    """(judged, not judged) among pending entries: judged means the warehouse now records an
    attempt of exactly these bytes under this configuration. What a framework says it ran is not
    evidence; the warehouse's own record is."""
    judged, missing = [], []
    for entry in entries:
        latest = latest_attempt(con, entry.provider, entry.month)
        done = latest is not None and latest.delivery_id == entry.delivery_id and (
            latest.config_hash == config_hash
        )
        (judged if done else missing).append(entry)
    return judged, missing


def publication_current(con: duckdb.DuckDBPyConnection, home: DatabankHome, config_hash: str) -> bool:
    """Nothing to rebuild: the last build is of exactly the current inputs, core and marts are what
    passed the warehouse guard, and the analysts' copy and the dashboard show that build. The
    command line's "nothing new" and the daemon's "rebuild needed" are this one rule."""
    latest = last_build(con)
    if latest is None or not is_up_to_date(con, build_inputs(con, config_hash)):
        return False
    if not passed_validation_unchanged(con, latest[0]):
        return False
    from warehouse.dashboard import DASHBOARD_FORMAT, dashboard_build_id  # matplotlib: only here

    return (
        published_build_id(home.publication) == latest[0]
        and dashboard_build_id(home.dashboard) == (latest[0], DASHBOARD_FORMAT)
    )


def has_anything_to_build(con: duckdb.DuckDBPyConnection) -> bool:
    """A warehouse that has recorded no delivery and no build has nothing to publish yet."""
    return last_build(con) is not None or bool(execute(con, "SELECT 1 FROM staging.deliveries LIMIT 1"))

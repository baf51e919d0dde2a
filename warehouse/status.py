"""Observability and lineage in a terminal: `databank status` (deliveries, builds, freshness) and
`databank explain` (which deliveries and privacy actions lie between the last two builds).

Both only read. DuckDB refuses any connection to a file that another process holds read-write,
and a read-only connection in turn keeps a writer out, so the warehouse is read under a shared
lock on the writers' lock file (`warehouse/connection.py` queues writers on it exclusively): while
a run holds that lock, or another process has the file open for writing, status falls back to
the published copy and says so; explain, which needs the build records, asks to try again.
Counts, codes, months and times only: nothing here reads a pseudonym or a value."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from schemas.config import ConsortiumConfig, config_fingerprint
from schemas.counts import DeliveryCounts
from warehouse.home import DatabankHome
from warehouse.ledger import LedgerEntry, classify_landing
from warehouse.sql import run_sql

ACCEPTED = ("accepted", "accepted_with_quarantine")


class WarehouseInUse(Exception):
    """A run (or another process) holds the warehouse; the message says which."""


# --- reading without getting in a writer's way ------------------------------------------------


def _lock_path(warehouse: Path) -> Path:
    """The lock file writers queue on (the same name `warehouse.connection.writer_lock` uses)."""
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def read_warehouse(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection, None when there is no warehouse yet. Holds a shared lock on the
    writers' lock file meanwhile, so no run starts writing while it reads (a run waits for it, as
    it waits for another run). Raises WarehouseInUse instead of waiting."""
    if not warehouse.is_file():
        yield None
        return
    fd = os.open(_lock_path(warehouse), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseInUse("a run is writing the warehouse") from None
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except (duckdb.IOException, duckdb.ConnectionException):
            raise WarehouseInUse("another process has the warehouse open for writing") from None
        try:
            yield con
        finally:
            con.close()
    finally:
        os.close(fd)  # also releases the lock


# --- databank status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStatus:
    """The newest attempt for one (provider, month), as the Dagster UI's delivery table shows it."""

    provider: str
    month: str
    delivery_id: str
    status: str  # accepted | accepted_with_quarantine | rejected
    received_at: dt.datetime  # UTC
    rows_trajecten: int
    rows_metingen: int
    quarantined_trajecten: int
    quarantined_metingen: int
    # rows of both tables left out by objection; None: not known (the published copy has no
    # objection counts; a delivery staged before metingen exclusions were recorded)
    excluded_trajecten: int | None
    excluded_metingen: int | None
    report_dir: Path
    attempts: int | None = None  # None: not in the published copy
    in_force_received_at: dt.datetime | None = None  # the accepted version in force, if any

    @property
    def counts(self) -> DeliveryCounts | None:
        """The one definition of read, quarantined, excluded and loaded (schemas/counts.py)."""
        if self.excluded_trajecten is None or self.excluded_metingen is None:
            return None
        return DeliveryCounts(
            self.rows_trajecten, self.rows_metingen, self.quarantined_trajecten,
            self.quarantined_metingen, self.excluded_trajecten, self.excluded_metingen,
            accepted=self.status in ACCEPTED,
        )

    @property
    def rows_read(self) -> int:
        return self.rows_trajecten + self.rows_metingen

    @property
    def quarantined(self) -> int:
        return self.quarantined_trajecten + self.quarantined_metingen

    @property
    def excluded_by_objection(self) -> int | None:
        return None if self.counts is None else self.counts.excluded

    @property
    def loaded(self) -> int | None:
        """Rows that reached staging (read − quarantined − excluded); a rejected delivery loads
        nothing; None when the exclusions are not known."""
        if self.status not in ACCEPTED:
            return 0
        return None if self.counts is None else self.counts.loaded

    @property
    def earlier_version_in_force(self) -> bool:
        """The newest attempt was rejected but an earlier accepted one still counts."""
        return self.status not in ACCEPTED and self.in_force_received_at is not None


@dataclass(frozen=True)
class PublishedMarts:
    build_id: str | None
    built_at: dt.datetime | None
    outcome_scores: int
    outcome_scores_suppressed: int
    trajectory_indicators: int
    trajectory_indicators_suppressed: int


@dataclass(frozen=True)
class BuildStatus:
    latest_build_id: str | None
    latest_built_at: dt.datetime | None
    builds: int | None  # None: not known from the published copy
    published: PublishedMarts | None  # None: nothing published yet

    @property
    def published_is_latest(self) -> bool:
        return self.published is not None and self.published.build_id == self.latest_build_id


@dataclass(frozen=True)
class ProviderFreshness:
    provider: str
    name: str
    first_month: str  # the first month delivered, whatever its verdict: from then on all are due
    newest_month: str  # the newest month delivered, whatever its verdict
    newest_accepted_month: str | None
    expected_accepted: bool  # the month before the current one has an accepted delivery
    missing_months: tuple[str, ...]  # due (grace period over) and without an accepted delivery

    @property
    def overdue(self) -> bool:
        return bool(self.missing_months)


@dataclass(frozen=True)
class StatusReport:
    source: Literal["warehouse", "publication", "none"]
    note: str  # why the published copy is shown, or "" when the warehouse was read
    today: dt.date
    deliveries: tuple[DeliveryStatus, ...]
    build: BuildStatus
    freshness: tuple[ProviderFreshness, ...]  # registered providers that have delivered
    never_delivered: tuple[str, ...]  # registered providers without any delivery
    expected_month: str  # the month before the current one
    due_by: dt.date  # after this day a missing expected month is overdue
    days_after_month_end: int
    last_due_month: str  # the newest month whose grace period has passed
    # Every landing folder in the ledger's words (warehouse/ledger.py), the same classification
    # `databank run` and the sensor act on; None while a run holds the warehouse.
    landing: tuple[LedgerEntry, ...] | None = None

    @property
    def overdue(self) -> tuple[str, ...]:
        return tuple(f.provider for f in self.freshness if f.overdue)


def expected_month(today: dt.date) -> tuple[str, dt.date]:
    """The month before the current one and its last day."""
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    return month_end.strftime("%Y-%m"), month_end


def last_due_month(today: dt.date, days_after_month_end: int) -> str:
    """The newest month whose grace period has passed: month end + days_after_month_end < today.
    With a grace period longer than a month this is two or more months back."""
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    while month_end + dt.timedelta(days=days_after_month_end) >= today:
        month_end = month_end.replace(day=1) - dt.timedelta(days=1)
    return month_end.strftime("%Y-%m")


def next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"


def months_from(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), both included; none when first > last."""
    months: list[str] = []
    current = first
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months


def missing_months(first_month: str, accepted_months: Iterable[str], last_due: str) -> tuple[str, ...]:
    """The overdue rule: every month from a provider's first delivery up to the last due month
    needs an accepted delivery (accepted or accepted with quarantine; a rejected attempt does not
    count). Looking at last month only let a provider that stopped delivering long ago, or left
    a gap, pass as up to date."""
    accepted = set(accepted_months)
    return tuple(m for m in months_from(first_month, last_due) if m not in accepted)


def databank_status(
    home: DatabankHome, today: dt.date, config: ConsortiumConfig | None = None,
    now: float | None = None,
) -> StatusReport:
    """The overview of the Dagster UI from the warehouse, or from the published copy while the
    warehouse is held by a run. `today` drives freshness and `now` (epoch seconds; the real time
    when not given) which landing files are still being written: the command passes its clock."""
    config = config or home.config()
    landing: tuple[LedgerEntry, ...] | None = None
    now = time.time() if now is None else now
    month, month_end = expected_month(today)
    published = published_marts(home.publication)
    try:
        with read_warehouse(home.warehouse) as con:
            if con is not None:
                deliveries = tuple(
                    DeliveryStatus(
                        provider, month_, delivery_id, status, received_at, rt, rm, qt, qm, et, em,
                        home.report_dir(provider, month_), attempts, in_force,
                    )
                    for (provider, month_, delivery_id, status, received_at, rt, rm, qt, qm, et, em,
                         _current, attempts, in_force) in run_sql(con, "status_deliveries")
                )
                ((builds, build_id, built_at),) = run_sql(con, "status_builds")
                build = BuildStatus(build_id, built_at, builds, published)
                freshness_rows = run_sql(con, "status_freshness")
                source, note = "warehouse", ""
            landing = tuple(classify_landing(
                home.landing, con, config, config_fingerprint(home.config_dir), today, now
            ))
            if con is None:
                source, note = "none", "no warehouse yet: `databank run` processes the deliveries"
    except WarehouseInUse as busy:
        source, note = "publication", f"{busy}, so this shows the published copy"
    if source != "warehouse":
        deliveries, freshness_rows = published_deliveries(home)
        build = BuildStatus(
            published.build_id if published else None, published.built_at if published else None,
            None, published,
        )
        if source == "publication" and published is None:
            note += " (none published yet)"
    last_due = last_due_month(today, config.days_after_month_end)
    freshness = tuple(
        ProviderFreshness(
            provider, config.providers[provider], first, newest, newest_accepted,
            expected_accepted=month in accepted,
            missing_months=missing_months(first, accepted, last_due),
        )
        for provider, first, newest, newest_accepted, accepted in freshness_rows
        if provider in config.providers  # an unregistered provider's attempts were rejected
    )
    delivered = {f.provider for f in freshness}
    return StatusReport(
        source=source,
        note=note,
        today=today,
        deliveries=deliveries,
        build=build,
        freshness=freshness,
        never_delivered=tuple(p for p in config.providers if p not in delivered),
        expected_month=month,
        due_by=month_end + dt.timedelta(days=config.days_after_month_end),
        days_after_month_end=config.days_after_month_end,
        last_due_month=last_due,
        landing=landing,
    )


@contextmanager
def _read_publication(path: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The analysts' copy is replaced by rename and never held for writing: always readable."""
    if not path.is_file():
        yield None
        return
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def published_marts(path: Path) -> PublishedMarts | None:
    with _read_publication(path) as con:
        if con is None:
            return None
        ((build_id, built_at, scores, scores_hidden, indicators, indicators_hidden),) = run_sql(
            con, "status_published_marts"
        )
    return PublishedMarts(build_id, built_at, scores, scores_hidden, indicators, indicators_hidden)


def published_deliveries(home: DatabankHome) -> tuple[tuple[DeliveryStatus, ...], list[tuple]]:
    """The deliveries in force and freshness rows as the published copy has them."""
    with _read_publication(home.publication) as con:
        if con is None:
            return (), []
        deliveries = tuple(
            DeliveryStatus(
                provider, month_, delivery_id, status, received_at, rt, rm, qt, qm, None, None,
                home.report_dir(provider, month_), None, received_at,
            )
            for provider, month_, delivery_id, status, received_at, rt, rm, qt, qm
            in run_sql(con, "status_published_deliveries")
        )
        return deliveries, run_sql(con, "status_published_freshness")


# --- databank explain --------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildRef:
    build_id: str
    built_at: dt.datetime  # UTC


@dataclass(frozen=True)
class DeliveryRef:
    delivery_id: str
    received_at: dt.datetime  # UTC
    status: str


@dataclass(frozen=True)
class DeliveryChange:
    change: Literal["added", "replaced", "removed"]
    provider: str
    month: str
    previous: DeliveryRef | None  # in force at the previous build (None: added)
    latest: DeliveryRef | None  # in force at the latest build (None: removed)


@dataclass(frozen=True)
class Explanation:
    builds: int
    latest: BuildRef | None
    previous: BuildRef | None
    organisation: str | None
    changes: tuple[DeliveryChange, ...] = ()
    erasures: int = 0
    key_rotations: int = 0
    objections: int = 0

    @property
    def comparable(self) -> bool:
        return self.previous is not None and self.latest is not None

    def of(self, change: str) -> tuple[DeliveryChange, ...]:
        return tuple(c for c in self.changes if c.change == change)

    @property
    def privacy_actions(self) -> int:
        return self.erasures + self.key_rotations + self.objections


def explain_last_build(home: DatabankHome, organisation: str | None = None) -> Explanation:
    """What differs between the last two builds: the deliveries in force (added, replaced,
    removed) and the privacy actions recorded in between. Raises WarehouseInUse while a run
    holds the warehouse: the build records are only there."""
    with read_warehouse(home.warehouse) as con:
        if con is None:
            return Explanation(0, None, None, organisation)
        rows = run_sql(con, "explain_last_builds")
        builds = rows[0][2] if rows else 0
        refs = [BuildRef(build_id, built_at) for build_id, built_at, _ in rows]
        if len(refs) < 2:
            return Explanation(builds, refs[0] if refs else None, None, organisation)
        latest, previous = refs
        changes = tuple(
            DeliveryChange(
                change, provider, month,
                DeliveryRef(p_id, p_at, p_status) if p_id is not None else None,
                DeliveryRef(l_id, l_at, l_status) if l_id is not None else None,
            )
            for change, provider, month, p_id, p_at, p_status, l_id, l_at, l_status in run_sql(
                con, "explain_delivery_changes",
                {"previous_build": previous.build_id, "latest_build": latest.build_id,
                 "organisation": organisation},
            )
        )
        ((erasures, rotations, objections),) = run_sql(
            con, "explain_privacy_actions",
            {"since": previous.built_at, "until": latest.built_at, "organisation": organisation},
        )
    return Explanation(
        builds, latest, previous, organisation, changes, erasures, rotations, objections
    )

"""Helpers shared by the warehouse tests: a compact writer for hand-made `staging.*` data and
small readers for what the build wrote. The `wh` fixture in conftest.py yields a `Staging`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from pseudonymise.clock import EPOCH, TrajectoryClock
from pseudonymise.keys import key_from_material
from schemas.config import InstrumentRegistry
from warehouse.marts import MartCounts, build_marts
from warehouse.sql import execute

CBCL = ("CBCL", "totaal", "ouder")
CBCL_JEUGDIGE = ("CBCL", "totaal", "jeugdige")

MONTH = "2025-06"  # the reporting month when a test does not name one
END = "2025-06-15"  # the einddatum `Staging.pair` gives when a test does not name one
STARTDATUM = "2025-01-01"  # the startdatum when a test does not name one


# Hand-made rows are stored as the read step stores them (pseudonymise/minimise.py): months and
# days on each trajectory's clock, keyed here by a fixed test key.
CLOCK = TrajectoryClock(key_from_material(bytes(range(32))))


def month_of(day: str | None) -> date | None:
    return date.fromisoformat(day).replace(day=1) if day else None


def clock_day(tid: str, day: str | None) -> int | None:
    return CLOCK.day(tid, date.fromisoformat(day)) if day else None


def calendar(tid: str, day: int | None) -> date | None:
    """A stored clock day read back as its date (tests know the key; the warehouse does not)."""
    return None if day is None else EPOCH + timedelta(days=day - CLOCK.offset(tid))


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-9)


def insert_row(con: duckdb.DuckDBPyConnection, schema: str, table: str, values: dict) -> None:
    """Insert by column name; any other column gets a neutral value (0, '' or false), so these
    tests do not depend on bookkeeping columns that the state rules and metrics do not read."""
    columns = execute(
        con,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    )
    neutral = {"BOOLEAN": False, "INTEGER": 0, "BIGINT": 0, "DOUBLE": 0.0}
    row = {name: values.get(name, neutral.get(kind, "")) for name, kind in columns}
    assert set(values) <= set(row), set(values) - set(row)
    execute(
        con,
        f"INSERT INTO {schema}.{table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Staging:
    """Writes `staging.*` compactly: one accepted delivery in force per (provider, month).

    `registry` is what `build` uses unless given another; `startdatum` is every trajectory's
    start date unless a call names one."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        registry: InstrumentRegistry,
        startdatum: str = STARTDATUM,
    ) -> None:
        self.con = con
        self.registry = registry
        self.startdatum = startdatum
        self.next_row: dict[str, int] = {}

    def delivery(self, month: str, provider: str = "p1",
                 received_at: datetime | None = None) -> str:
        delivery_id = f"{provider}:{month}"
        if delivery_id not in self.next_row:
            insert_row(self.con, "staging", "deliveries", {
                "delivery_id": delivery_id, "provider": provider, "month": month,
                "files": "[]", "status": "accepted", "is_current": True, "fault_codes": "",
                "received_at": received_at or datetime.fromisoformat(f"{month}-28T12:00:00"),
            })
            self.next_row[delivery_id] = 2  # line 1 of the steward's file is the header
        return delivery_id

    def _row_number(self, delivery_id: str) -> int:
        number = self.next_row[delivery_id]
        self.next_row[delivery_id] = number + 1
        return number

    def trajectory(
        self,
        tid: str,
        *,
        provider: str = "p1",
        month: str = MONTH,
        team: str = "A",
        interventie: str = "I1",
        startdatum: str | None = None,
        einddatum: str | None = None,
        reden_einde: int | None = None,
        doelrealisatie: int | None = None,
        tevredenheid: float | None = None,
    ) -> None:
        """One trajectory row; an einddatum without a reden_einde ends it as planned (1)."""
        if einddatum is not None and reden_einde is None:
            reden_einde = 1
        delivery_id = self.delivery(month, provider)
        insert_row(self.con, "staging", "trajectories", {
            "delivery_id": delivery_id, "provider": provider, "month": month,
            "row_number": self._row_number(delivery_id), "trajectory_id": tid,
            "client_id": f"c-{tid}", "birth_year": None, "age_at_start": 12, "geslacht": "X",
            "pc4": None, "team": team, "interventie": interventie, "hulpvorm": "ambulant",
            "start_month": month_of(startdatum or self.startdatum), "end_month": month_of(einddatum),
            "start_day": clock_day(tid, startdatum or self.startdatum), "end_day": clock_day(tid, einddatum),
            "reden_einde": reden_einde, "doelrealisatie": doelrealisatie,
            "tevredenheid": tevredenheid,
        })

    def measurement(
        self,
        tid: str,
        meetmoment: str,
        datum: str,
        score: float,
        *,
        measure: tuple[str, str, str] = CBCL,
        provider: str = "p1",
        month: str = MONTH,
    ) -> None:
        delivery_id = self.delivery(month, provider)
        instrument, schaal, informant = measure
        insert_row(self.con, "staging", "measurements", {
            "delivery_id": delivery_id, "provider": provider, "month": month,
            "row_number": self._row_number(delivery_id), "trajectory_id": tid,
            "instrument": instrument, "schaal": schaal, "informant": informant,
            "meetmoment": meetmoment, "measured_day": clock_day(tid, datum), "score": score,
        })

    def pair(
        self,
        tid: str,
        x_start: float,
        x_end: float,
        *,
        measure: tuple[str, str, str] = CBCL,
        provider: str = "p1",
        month: str = MONTH,
        einddatum: str = END,
        start: str = "2025-01-10",
        end: str = "2025-06-10",
        **trajectory: object,
    ) -> None:
        """An ended trajectory with one start and one end score on one measure."""
        self.trajectory(tid, provider=provider, month=month, einddatum=einddatum, **trajectory)
        self.scores(tid, x_start, x_end, measure=measure, provider=provider, month=month,
                    start=start, end=end)

    def scores(
        self,
        tid: str,
        x_start: float,
        x_end: float,
        *,
        measure: tuple[str, str, str] = CBCL,
        provider: str = "p1",
        month: str = MONTH,
        start: str = "2025-01-10",
        end: str = "2025-06-10",
    ) -> None:
        self.measurement(tid, "start", start, x_start, measure=measure, provider=provider,
                         month=month)
        self.measurement(tid, "eind", end, x_end, measure=measure, provider=provider,
                         month=month)

    def build(self, k: int = 1, registry: InstrumentRegistry | None = None) -> MartCounts:
        return build_marts(self.con, self.registry if registry is None else registry, k)

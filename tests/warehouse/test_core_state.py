"""Which state of a trajectory and which measurement counts (outcome-metrics.md §1), checked on
small hand-made staging data: monthly deliveries overlap, the newest month wins, a trajectory
missing from a later month keeps its last known state, and measurements are de-duplicated.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from schemas.config import parse_instrument_registry
from warehouse.connection import open_warehouse
from warehouse.marts import MartCounts, build_marts
from warehouse.sql import execute

# delivery-format §7, the CBCL totaal row
REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
CBCL = ("CBCL", "totaal", "ouder")
CBCL_JEUGDIGE = ("CBCL", "totaal", "jeugdige")
SIX_MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-9)


def insert_row(con: duckdb.DuckDBPyConnection, schema: str, table: str, values: dict) -> None:
    """Insert by column name; any other column gets a neutral value (0, '' or false), so these
    tests do not depend on bookkeeping columns that the state rules do not read."""
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


class Staging:
    """Writes `staging.*`: one accepted delivery in force per (provider, month)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
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
            self.next_row[delivery_id] = 2  # line 1 is the header
        return delivery_id

    def _row_number(self, delivery_id: str) -> int:
        number = self.next_row[delivery_id]
        self.next_row[delivery_id] = number + 1
        return number

    def trajectory(
        self,
        month: str,
        tid: str,
        *,
        provider: str = "p1",
        team: str = "A",
        einddatum: str | None = None,
        reden_einde: int | None = None,
        doelrealisatie: int | None = None,
        tevredenheid: float | None = None,
    ) -> None:
        delivery_id = self.delivery(month, provider)
        insert_row(self.con, "staging", "trajectories", {
            "delivery_id": delivery_id, "provider": provider, "month": month,
            "row_number": self._row_number(delivery_id), "trajectory_id": tid,
            "client_id": f"c-{tid}", "birth_year": 2012, "age_at_start": 12, "geslacht": "X",
            "pc4": "1234", "team": team, "interventie": "I1", "hulpvorm": "ambulant",
            "startdatum": date(2025, 1, 2),
            "einddatum": date.fromisoformat(einddatum) if einddatum else None,
            "reden_einde": reden_einde, "doelrealisatie": doelrealisatie,
            "tevredenheid": tevredenheid,
        })

    def measurement(
        self,
        month: str,
        tid: str,
        meetmoment: str,
        datum: str,
        score: float,
        *,
        measure: tuple[str, str, str] = CBCL,
        provider: str = "p1",
    ) -> None:
        delivery_id = self.delivery(month, provider)
        instrument, schaal, informant = measure
        insert_row(self.con, "staging", "measurements", {
            "delivery_id": delivery_id, "provider": provider, "month": month,
            "row_number": self._row_number(delivery_id), "trajectory_id": tid,
            "instrument": instrument, "schaal": schaal, "informant": informant,
            "meetmoment": meetmoment, "datum": date.fromisoformat(datum), "score": score,
        })

    def build(self, k: int = 1) -> MartCounts:
        return build_marts(self.con, REGISTRY, k)


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Staging]:
    with open_warehouse(tmp_path / "warehouse.duckdb") as con:
        yield Staging(con)


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def core_trajectories(wh: Staging) -> dict[tuple[str, str], dict]:
    rows = fetch(wh.con, "SELECT * FROM core.trajectories")
    by_key = {(r["provider"], r["trajectory_id"]): r for r in rows}
    assert len(by_key) == len(rows), "a trajectory occurs twice in core.trajectories"
    return by_key


def consortium(wh: Staging, table: str) -> dict:
    (row,) = fetch(wh.con, f"SELECT * FROM {table} WHERE level = 'consortium' AND period = 'all'")
    return row


# --- trajectories ------------------------------------------------------------------------------


def test_core_trajectory_in_six_deliveries_counts_once_with_newest_state(wh: Staging) -> None:
    # March is delivered again (a correction) after June arrived: the reporting month decides,
    # not the moment of receipt
    wh.delivery("2025-03", received_at=datetime(2025, 7, 15, 9, 0))
    for month in reversed(SIX_MONTHS):  # and staged newest first, so insertion order cannot help
        team = "A" if month <= "2025-03" else "B"
        if month == "2025-06":
            wh.trajectory(month, "t1", team=team, einddatum="2025-06-20", reden_einde=1,
                          doelrealisatie=2, tevredenheid=8)
        else:
            wh.trajectory(month, "t1", team=team)
    counts = wh.build()

    state = core_trajectories(wh)
    assert list(state) == [("p1", "t1")]
    t1 = state[("p1", "t1")]
    assert (t1["team"], t1["einddatum"], t1["reden_einde"]) == ("B", date(2025, 6, 20), 1)
    assert (t1["doelrealisatie"], t1["tevredenheid"]) == (2, approx(8))
    assert (t1["month"], t1["delivery_id"]) == ("2025-06", "p1:2025-06")
    assert counts.core_trajectories == 1

    indicators = consortium(wh, "mart.trajectory_indicators")
    assert indicators["n_ended"] == 1  # once, not six times
    assert indicators["pct_planned_end"] == approx(1 / 1)
    assert indicators["mean_satisfaction"] == approx(8)
    assert fetch(wh.con, "SELECT DISTINCT team FROM mart.trajectory_indicators "
                         "WHERE level = 'team'") == [{"team": "B"}]


def test_core_trajectory_newest_month_wins_even_without_einddatum(wh: Staging) -> None:
    # ended in the May delivery, running again in June's: June's state is the one in force
    wh.trajectory("2025-05", "t1", einddatum="2025-05-10", reden_einde=2)
    wh.trajectory("2025-06", "t1", einddatum=None)
    wh.trajectory("2025-06", "t2", einddatum="2025-06-10", reden_einde=1)
    wh.build()

    state = core_trajectories(wh)
    assert state[("p1", "t1")]["einddatum"] is None
    assert state[("p1", "t1")]["month"] == "2025-06"
    indicators = consortium(wh, "mart.trajectory_indicators")
    assert indicators["n_ended"] == 1  # t2 only
    assert indicators["pct_planned_end"] == approx(1 / 1)


def test_core_trajectory_absent_from_later_month_keeps_last_known_state(wh: Staging) -> None:
    wh.trajectory("2025-01", "t1")  # running in January
    wh.trajectory("2025-02", "t1", einddatum="2025-02-10", reden_einde=2)  # ended in February
    wh.trajectory("2025-01", "t3")  # running in January, never delivered again
    for month in ("2025-03", "2025-04"):  # later months no longer hold t1 or t3
        wh.trajectory(month, "t9")
    # the same pseudonym at two providers is two trajectories
    wh.trajectory("2025-04", "shared", provider="p1")
    wh.trajectory("2025-04", "shared", provider="p2", einddatum="2025-04-01", reden_einde=1)
    counts = wh.build()

    state = core_trajectories(wh)
    assert set(state) == {("p1", "t1"), ("p1", "t3"), ("p1", "t9"), ("p1", "shared"),
                          ("p2", "shared")}
    assert counts.core_trajectories == 5
    t1 = state[("p1", "t1")]
    assert (t1["einddatum"], t1["reden_einde"], t1["month"]) == (date(2025, 2, 10), 2, "2025-02")
    t3 = state[("p1", "t3")]
    assert (t3["einddatum"], t3["month"]) == (None, "2025-01")
    assert state[("p1", "shared")]["einddatum"] is None
    assert state[("p2", "shared")]["einddatum"] == date(2025, 4, 1)

    indicators = consortium(wh, "mart.trajectory_indicators")
    assert indicators["n_ended"] == 2  # p1 t1 and p2 shared
    assert indicators["pct_planned_end"] == approx(1 / 2)  # reden 1 of (2, 1)


# --- measurements ------------------------------------------------------------------------------


def test_core_measurement_newest_delivery_score_wins(wh: Staging) -> None:
    for month in ("2025-01", "2025-02", "2025-03"):
        wh.trajectory(month, "t1", einddatum="2025-03-20" if month == "2025-03" else None,
                      reden_einde=1 if month == "2025-03" else None)
    # one key (t1, CBCL, totaal, ouder, start, 2025-01-10), corrected in each later delivery
    wh.measurement("2025-01", "t1", "start", "2025-01-10", 70)
    wh.measurement("2025-02", "t1", "start", "2025-01-10", 72)
    wh.measurement("2025-03", "t1", "start", "2025-01-10", 74)  # newest: this one counts
    # other keys: another informant, another meetmoment, another datum
    wh.measurement("2025-01", "t1", "start", "2025-01-10", 50, measure=CBCL_JEUGDIGE)
    wh.measurement("2025-01", "t1", "start", "2025-01-20", 90)
    wh.measurement("2025-03", "t1", "eind", "2025-03-05", 60)
    counts = wh.build()

    rows = fetch(wh.con, "SELECT informant, meetmoment, datum, score, month "
                         "FROM core.measurements ORDER BY informant, meetmoment, datum")
    assert rows == [
        {"informant": "jeugdige", "meetmoment": "start", "datum": date(2025, 1, 10),
         "score": 50, "month": "2025-01"},
        {"informant": "ouder", "meetmoment": "eind", "datum": date(2025, 3, 5),
         "score": 60, "month": "2025-03"},
        {"informant": "ouder", "meetmoment": "start", "datum": date(2025, 1, 10),
         "score": 74, "month": "2025-03"},
        {"informant": "ouder", "meetmoment": "start", "datum": date(2025, 1, 20),
         "score": 90, "month": "2025-01"},
    ]
    assert counts.core_measurements == 4

    (scores,) = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE level = 'consortium' "
                              "AND period = 'all' AND informant = 'ouder'")
    assert scores["mean_start"] == approx(74)  # the corrected score of the earliest start
    assert scores["mean_improvement"] == approx(74 - 60)


def test_core_measurement_repeated_in_six_deliveries_counts_once(wh: Staging) -> None:
    for month in SIX_MONTHS:
        ended = month == "2025-06"
        wh.trajectory(month, "t1", einddatum="2025-06-20" if ended else None,
                      reden_einde=1 if ended else None)
        wh.measurement(month, "t1", "start", "2025-01-10", 70)  # every delivery repeats it
        if month >= "2025-03":
            wh.measurement(month, "t1", "tussen", "2025-03-10", 65)
    wh.measurement("2025-06", "t1", "eind", "2025-06-10", 60)
    counts = wh.build()

    assert counts.core_measurements == 3  # start, tussen, eind: once each
    assert execute(wh.con, "SELECT meetmoment, count(*) FROM core.measurements "
                           "GROUP BY meetmoment ORDER BY meetmoment") == [
        ("eind", 1), ("start", 1), ("tussen", 1)]
    scores = consortium(wh, "mart.outcome_scores")
    assert (scores["n_ended"], scores["n_paired"]) == (1, 1)
    assert scores["response_rate"] == approx(1 / 1)
    assert scores["mean_start"] == approx(70)
    assert scores["mean_end"] == approx(60)


def test_core_measurement_cumulative_and_only_new_deliveries_are_equivalent(
    wh: Staging,
) -> None:
    # delivery-format §9.2: p1 resends every measurement to date, p2 sends only the new ones
    for provider in ("p1", "p2"):
        for month in ("2025-01", "2025-02", "2025-03"):
            ended = month == "2025-03"
            wh.trajectory(month, "t1", provider=provider,
                          einddatum="2025-03-20" if ended else None,
                          reden_einde=1 if ended else None)
    for month in ("2025-01", "2025-02", "2025-03"):
        wh.measurement(month, "t1", "start", "2025-01-10", 71, provider="p1")
    wh.measurement("2025-03", "t1", "eind", "2025-03-05", 61, provider="p1")
    wh.measurement("2025-01", "t1", "start", "2025-01-10", 71, provider="p2")
    wh.measurement("2025-03", "t1", "eind", "2025-03-05", 61, provider="p2")
    counts = wh.build()

    assert counts.core_measurements == 4  # start and eind, for each provider's t1
    rows = fetch(wh.con, "SELECT organisation, n_paired, mean_start, mean_end "
                         "FROM mart.outcome_scores WHERE level = 'organisation' "
                         "AND period = 'all' ORDER BY organisation")
    assert rows == [
        {"organisation": "p1", "n_paired": 1, "mean_start": 71, "mean_end": 61},
        {"organisation": "p2", "n_paired": 1, "mean_start": 71, "mean_end": 61},
    ]

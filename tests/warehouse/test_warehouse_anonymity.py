"""k-anonymity of the warehouse (warehouse/anonymity.py) on a hand-made core.trajectories with a
known smallest class, and end to end through `run_pipeline`: the delivery and the warehouse
each get anonimiteit.{json,html} with counts only, the warehouse_quality asset carries them in
its metadata, and a configured generalisation is what the warehouse stores (and what it does to
a start and end measurement in one month)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.runner import run_pipeline
from schemas.anonymity import AnonymityConfig, ClassSizes
from schemas.config import PRIVACY_FILE
from tests.builders import DeliveryWriter, measurement, trajectory
from tests.warehouse.staging import insert_row
from warehouse.anonymity import warehouse_anonymity
from warehouse.connection import open_warehouse
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)


def core_trajectory(con: duckdb.DuckDBPyConnection, n: int, client: str, birth_year: int | None,
                    geslacht: str, pc4: str | None, startdatum: str = "2024-02-01") -> None:
    insert_row(con, "core", "trajectories", {
        "provider": "p1", "trajectory_id": f"t{n}", "client_id": client, "birth_year": birth_year,
        "geslacht": geslacht, "pc4": pc4, "startdatum": startdatum, "einddatum": None, "month": "2024-06",
        "delivery_id": "d1",
    })


def test_warehouse_anonymity_known_smallest_class(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as con:
        core_trajectory(con, 0, "alone", 2007, "X", "9731")
        for n in range(1, 6):
            core_trajectory(con, n, f"m{n}", 2003, "M", "8264")
        for n in range(6, 9):  # one client, three trajectories: a class of one person
            core_trajectory(con, n, "same", 2011, "V", None)
        report = warehouse_anonymity(con, AnonymityConfig(k=5, quasi_identifiers=("birth_year", "geslacht", "pc4")))

    assert report.scope == "warehouse" and report.unit == "clients"
    assert (report.records, report.classes, report.smallest_class) == (9, 3, 1)
    assert (report.classes_below_k, report.records_below_k) == (2, 4)
    assert report.histogram == [ClassSizes(1, 2, 4), ClassSizes(5, 1, 5)]


def test_warehouse_anonymity_of_an_empty_warehouse(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as con:
        report = warehouse_anonymity(con, AnonymityConfig())

    assert (report.records, report.smallest_class, report.records_below_k) == (0, None, 0)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def query(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_run_writes_anonymity_reports_for_delivery_and_warehouse(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    # Five alike (born 2012, V, 3511) and one alone (born 2009, M); day-level start dates differ.
    rows = [trajectory(n, startdatum=f"0{n}-01-2025") for n in range(1, 6)]
    rows.append(trajectory(6, geboortedatum="11-11-2009", geslacht="M", postcode="1011 AA"))
    write_delivery(home.landing, "de-boog", "2025-03", rows)

    run_pipeline(home, today=TODAY)

    delivery = home.report_dir("de-boog", "2025-03")
    warehouse = home.databank_reports
    for folder in (delivery, warehouse):
        assert (folder / "anonimiteit.json").is_file() and (folder / "anonimiteit.html").is_file()
        for name in ("anonimiteit.json", "anonimiteit.html"):
            text = (folder / name).read_text(encoding="utf-8")
            for value in ("3511", "1011", "2012", "2009"):  # pc4 digits and birth years
                assert value not in text, (folder, name, value)
    per_delivery, whole = read_json(delivery / "anonimiteit.json"), read_json(warehouse / "anonimiteit.json")
    assert per_delivery["scope"] == "levering de-boog 2025-03" and whole["scope"] == "warehouse"
    for payload in (per_delivery, whole):
        assert payload["records"] == 6
        assert payload["k"] == 5  # the anonymity k, not the consortium's publication k (1 here)
        assert payload["generalisation"] == {"dates": "day", "pc4": "pc4", "birth_year": "year"}
        assert payload["smallest_class"] == 1
        assert payload["records_below_k"] == 6  # with day-level start dates everyone is alone
    # Default configuration: the warehouse stores the dates and postcode digits as read.
    assert query(home.warehouse, "SELECT min(startdatum), count(DISTINCT pc4) FROM core.trajectories") == [
        (dt.date(2025, 1, 1), 2)
    ]
    event = dg.DagsterInstance.get().get_latest_materialization_event(dg.AssetKey(["quality", "warehouse"]))
    metadata = event.asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["anonymity_smallest_class"].value == 1
    assert metadata["anonymity_records_below_k"].value == 6
    assert metadata["anonymity_k"].value == 5


@pytest.mark.slow
def test_run_stores_quasi_identifiers_as_configured(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    privacy = home.config_dir / PRIVACY_FILE
    text = privacy.read_text(encoding="utf-8")
    for old, new in (('dates = "day"', 'dates = "month"'), ('pc4 = "pc4"', 'pc4 = "none"'),
                     ('birth_year = "year"', 'birth_year = "5y"'), ("\nk = 5\n", "\nk = 2\n")):
        assert text.count(old) == 1
        text = text.replace(old, new)
    privacy.write_text(text, encoding="utf-8")
    ended = {"einddatum": "28-03-2025", "reden_einde": "1"}
    rows = [trajectory(1, startdatum="03-01-2025", **ended), trajectory(2, startdatum="17-01-2025", **ended)]
    metingen = [
        measurement(1, "start", "05-01-2025", "70"), measurement(1, "eind", "15-03-2025", "55"),
        # Start and end in one month: at month granularity the end is not after the start.
        measurement(2, "start", "18-01-2025", "70"), measurement(2, "eind", "30-01-2025", "60"),
    ]
    write_delivery(home.landing, "de-boog", "2025-03", rows, metingen)

    summary = run_pipeline(home, today=TODAY)

    assert [s for _, _, s in summary.judged] == ["accepted"]
    assert query(home.warehouse, "SELECT DISTINCT startdatum, einddatum, birth_year, age_at_start, pc4 "
                                 "FROM core.trajectories") == [
        (dt.date(2025, 1, 1), dt.date(2025, 3, 1), 2010, 10, None)  # born 2012, twelve at start
    ]
    assert query(home.warehouse, "SELECT DISTINCT datum FROM core.measurements ORDER BY 1") == [
        (dt.date(2025, 1, 1),), (dt.date(2025, 3, 1),)
    ]
    assert query(home.publication, "SELECT n_ended, n_paired FROM mart.outcome_scores "
                                   "WHERE level = 'consortium' AND period = 'all'") == [(2, 1)]
    for folder in (home.report_dir("de-boog", "2025-03"), home.databank_reports):
        payload = read_json(folder / "anonimiteit.json")
        assert payload["generalisation"] == {"dates": "month", "pc4": "none", "birth_year": "5y"}
        assert (payload["k"], payload["classes"], payload["smallest_class"], payload["records_below_k"]) == (2, 1, 2, 0)
        assert payload["meets_k"] is True

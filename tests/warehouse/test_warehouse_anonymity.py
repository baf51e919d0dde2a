"""k-anonymity of the warehouse and of every extract scope (warehouse/anonymity.py) on a
hand-made core.trajectories with a known smallest class, counted in clients; and end to end
through `run_pipeline`: the delivery and the warehouse each get anonimiteit.{json,html} with
counts only, the warehouse's covers each extract scope too, `run` warns (and still succeeds) when
a class is below k, the warehouse_quality asset carries the counts in its metadata, and the
warehouse stores only what privacy.toml asks for."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.runner import run_pipeline
from schemas.anonymity import AnonymityConfig, ClassSizes, anonymity_payload
from schemas.config import PRIVACY_FILE
from tests.builders import DeliveryWriter, measurement, trajectory
from tests.warehouse.staging import insert_row
from warehouse.anonymity import anonymity_reports, below_k_warnings, warehouse_anonymity
from warehouse.connection import open_warehouse
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)


def core_trajectory(con: duckdb.DuckDBPyConnection, n: int, client: str, geslacht: str, age: int,
                    team: str = "A", end_month: str | None = None) -> None:
    insert_row(con, "core", "trajectories", {
        "provider": "p1", "trajectory_id": f"t{n}", "client_id": client, "geslacht": geslacht,
        "age_at_start": age, "team": team, "interventie": "MST", "hulpvorm": "ambulant",
        "start_month": dt.date(2024, 2, 1), "end_month": end_month and dt.date.fromisoformat(end_month),
        "start_day": 9000 + n, "month": "2024-06", "delivery_id": "d1",
    })


def known_core(con: duckdb.DuckDBPyConnection) -> None:
    """One client alone (X, 7); five alike (M, 15); one client with three trajectories (V, 11)."""
    core_trajectory(con, 0, "alone", "X", 7)
    for n in range(1, 6):
        core_trajectory(con, n, f"m{n}", "M", 15, end_month="2024-05-01")
    for n in range(6, 9):
        core_trajectory(con, n, "same", "V", 11)


def test_warehouse_anonymity_known_smallest_class_in_clients(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as con:
        known_core(con)
        report = warehouse_anonymity(con, AnonymityConfig(k=5, quasi_identifiers=("geslacht", "age_at_start")))

    assert report.scope == "warehouse" and report.unit == "clients"
    assert (report.population, report.records, report.classes, report.smallest_class) == (7, 9, 3, 1)
    # two clients stand out ('alone', and 'same' however many trajectories they have)
    assert (report.classes_below_k, report.below_k, report.records_below_k) == (2, 2, 4)
    assert report.histogram == [ClassSizes(1, 2, 2), ClassSizes(5, 1, 5)]


def test_anonymity_reports_cover_every_extract_scope_on_what_it_ships(tmp_path: Path) -> None:
    """The default scope ships interventie, female and end year: the three clients who are not
    'M, ended in 2024' stand out there; a scope of sex alone hides only 'alone' (X) poorly."""
    from schemas.extracts import ExtractScope

    sex_only = ExtractScope("sekse", (("trajectory_id", "pseudonym"), ("geslacht", "code")))
    config = AnonymityConfig(k=5, extracts=(sex_only,))
    with open_warehouse(tmp_path / "w.duckdb") as con:
        known_core(con)
        reports = anonymity_reports(con, config)

    assert [r.scope for r in reports] == ["warehouse", "extract sekse", "extract default"]
    by_scope = {r.scope: r for r in reports}
    assert by_scope["extract sekse"].quasi_identifiers == ("geslacht",)
    assert (by_scope["extract sekse"].population, by_scope["extract sekse"].below_k) == (7, 2)
    assert by_scope["extract default"].quasi_identifiers == ("interventie", "female", "end_year")
    assert by_scope["extract default"].below_k == 2  # 'alone' and 'same'; the five M share all three
    lines = below_k_warnings([anonymity_payload(r) for r in reports], extract_share=0.95)
    assert len(lines) == 3 and all("2 of 7 clients" in line for line in lines)
    assert "refuses this scope" in lines[1] and "refuses" not in lines[0]


def test_warehouse_anonymity_of_an_empty_warehouse(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as con:
        report = warehouse_anonymity(con, AnonymityConfig())

    assert (report.population, report.records, report.smallest_class, report.below_k) == (0, 0, None, 0)


def read_reports(path: Path) -> dict[str, dict]:
    return {r["scope"]: r for r in json.loads(path.read_text(encoding="utf-8"))["reports"]}


def query(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_run_writes_anonymity_reports_and_warns_below_k(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    # Five alike (born 2012, V, team Noord) and one alone (born 2009, M, another team)
    rows = [trajectory(n, startdatum=f"0{n}-01-2025") for n in range(1, 6)]
    rows.append(trajectory(6, geboortedatum="11-11-2009", geslacht="M", postcode="1011 AA", team="Team Zuid"))
    write_delivery(home.landing, "de-boog", "2025-03", rows)

    summary = run_pipeline(home, today=TODAY)

    assert [s for _, _, s in summary.judged] == ["accepted"]  # a warning, not a failure
    delivery = home.report_dir("de-boog", "2025-03")
    warehouse = home.databank_reports
    for folder in (delivery, warehouse):
        for name in ("anonimiteit.json", "anonimiteit.html"):
            text = (folder / name).read_text(encoding="utf-8")
            for value in ("3511", "1011", "2012", "2009", "Team Zuid"):  # no value, only counts
                assert value not in text, (folder, name, value)
    per_delivery = read_reports(delivery / "anonimiteit.json")["levering de-boog 2025-03"]
    whole = read_reports(warehouse / "anonimiteit.json")
    assert set(whole) == {"warehouse", "extract default"}
    for payload in (per_delivery, whole["warehouse"]):
        assert (payload["unit"], payload["clients"], payload["trajectories"]) == ("clients", 6, 6)
        assert payload["k"] == 5  # the anonymity k, not the consortium's publication k (1 here)
        assert payload["generalisation"] == {"dates": "month", "pc4": "none", "birth_year": "none"}
        # start months alike: the five share everything; the sixth stands out by team, sex and age
        assert (payload["smallest_class"], payload["clients_below_k"]) == (1, 1)
    assert whole["extract default"]["clients_below_k"] == 1  # the only man
    # Only what the marts and checks need is stored: no postcode, no birth year, no day.
    assert query(home.warehouse, "SELECT DISTINCT start_month, pc4, birth_year, age_at_start FROM core.trajectories "
                                 "ORDER BY age_at_start") == [
        (dt.date(2025, 1, 1), None, None, 12), (dt.date(2025, 1, 1), None, None, 15)]
    assert any("k-anonymity (warehouse): 1 of 6 clients" in w for w in summary.anonymity_warnings)
    assert any("k-anonymity (extract default): 1 of 6 clients" in w for w in summary.anonymity_warnings)
    assert any(line.startswith("  warning: k-anonymity") for line in summary.lines(home))
    event = dg.DagsterInstance.get().get_latest_materialization_event(dg.AssetKey(["quality", "warehouse"]))
    metadata = event.asset_materialization.metadata  # type: ignore[union-attr]
    assert metadata["anonymity_warehouse_clients"].value == 6
    assert metadata["anonymity_warehouse_clients_below_k"].value == 1
    assert metadata["anonymity_extract_default_clients_below_k"].value == 1
    assert metadata["anonymity_k"].value == 5
    # Nothing new: the next run prints the same warnings from the last report.
    assert run_pipeline(home, today=TODAY).anonymity_warnings == summary.anonymity_warnings


@pytest.mark.slow
def test_run_stores_optional_fields_only_as_configured(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    privacy = home.config_dir / PRIVACY_FILE
    text = privacy.read_text(encoding="utf-8")
    for old, new in (('dates = "month"', 'dates = "year"'), ('pc4 = "none"', 'pc4 = "pc2"'),
                     ('birth_year = "none"', 'birth_year = "year"'), ("\nk = 5\n", "\nk = 2\n"),
                     ("[uses]\n", '[uses]\npc4 = "regional planning"\nbirth_year = "cohorts"\n')):
        assert text.count(old) == 1
        text = text.replace(old, new)
    privacy.write_text(text, encoding="utf-8")
    ended = {"einddatum": "28-03-2025", "reden_einde": "1"}
    rows = [trajectory(1, startdatum="03-01-2025", **ended), trajectory(2, startdatum="17-01-2025", **ended)]
    metingen = [
        measurement(1, "start", "05-01-2025", "70"), measurement(1, "eind", "15-03-2025", "55"),
        # Start and end in one month: the days are kept, so the end is still after the start.
        measurement(2, "start", "18-01-2025", "70"), measurement(2, "eind", "30-01-2025", "60"),
    ]
    write_delivery(home.landing, "de-boog", "2025-03", rows, metingen)

    summary = run_pipeline(home, today=TODAY)

    assert [s for _, _, s in summary.judged] == ["accepted"]
    assert query(home.warehouse, "SELECT DISTINCT start_month, end_month, birth_year, age_at_start, pc4 "
                                 "FROM core.trajectories") == [
        (dt.date(2025, 1, 1), dt.date(2025, 1, 1), 2012, 12, "35")  # born 3 July 2012, postcode 3511
    ]
    # every measurement's days since its start, exactly (3 Jan -> 5 Jan, 15 Mar; 17 Jan -> 18, 30 Jan)
    assert query(home.warehouse, "SELECT m.meetmoment, m.measured_day - t.start_day FROM core.measurements m "
                                 "JOIN core.trajectories t USING (trajectory_id) ORDER BY 2") == [
        ("start", 1), ("start", 2), ("eind", 13), ("eind", 71)]
    assert query(home.publication, "SELECT n_ended, n_paired FROM mart.outcome_scores "
                                   "WHERE level = 'consortium' AND period = 'all'") == [(2, 2)]
    for folder in (home.report_dir("de-boog", "2025-03"), home.databank_reports):
        payload = read_reports(folder / "anonimiteit.json")
        payload = payload.get("warehouse") or next(iter(payload.values()))
        assert payload["generalisation"] == {"dates": "year", "pc4": "pc2", "birth_year": "year"}
        assert "pc4" in payload["quasi_identifiers"] and "birth_year" in payload["quasi_identifiers"]

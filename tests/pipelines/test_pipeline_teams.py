"""Registered teams end to end (issue 12, item 2): a delivered team is stored and published as its
registered code, shown by its display name, and anything else as the provider's unregistered
team; and every text cell the pipeline writes to CSV, DuckDB or Parquet is formula-neutral, on a
delivery full of hostile values."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import duckdb

from pipelines.cli import main
from pipelines.runner import run_pipeline
from schemas.delivery import UNREGISTERED_TEAM
from schemas.text import FORMULA_START
from tests.builders import (
    DeliveryWriter,
    database_rows,
    make_home,
    measurement,
    string_cells,
    trajectory,
)
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)
REGISTER = {"noord": "Team Noord", "JG": "Jeugd & Gezin"}


def ended(number: int, team: str, **cells: str) -> dict[str, str]:
    return trajectory(number, team=team, einddatum="20-03-2025", reden_einde="1", **cells)


def scores(number: int) -> list[dict[str, str]]:
    return [measurement(number, "start", "05-01-2025", str(70 + number % 5)),
            measurement(number, "eind", "15-03-2025", str(55 + number % 7))]


def test_teams_are_stored_as_codes_and_published_by_their_registered_names(
    tmp_path: Path, write_delivery: DeliveryWriter
) -> None:
    home = make_home(tmp_path / "home", k=1, teams={"de-boog": REGISTER})
    delivered = ["team noord", "NOORD", " Team Noord ", "jeugd & gezin", "jg", "Team Oost", "team oost"]
    rows = [ended(n, team) for n, team in enumerate(delivered, start=1)]
    write_delivery(home.landing, "de-boog", "2025-03", rows, [m for n in range(1, 8) for m in scores(n)])
    summary = run_pipeline(home, today=TODAY)
    assert summary.judged == [("de-boog", "2025-03", "accepted")]  # a warning is no quarantine

    core = database_rows(home.warehouse, "SELECT team, count(*) FROM core.trajectories GROUP BY ALL ORDER BY ALL")
    assert core == [("JG", 2), (UNREGISTERED_TEAM, 2), ("noord", 3)]
    published = database_rows(
        home.publication, "SELECT DISTINCT team FROM mart.outcome_scores WHERE level = 'team' ORDER BY ALL"
    )
    assert published == [("JG",), (UNREGISTERED_TEAM,), ("noord",)]
    assert database_rows(home.publication, "SELECT * FROM mart.teams ORDER BY team") == [
        ("de-boog", "JG", "Jeugd & Gezin"), ("de-boog", UNREGISTERED_TEAM, "Niet-geregistreerd team"),
        ("de-boog", "noord", "Team Noord"),
    ]
    # Every text of the analysts' copy comes from the configuration or is a word or id of ours.
    config = home.config()
    registered = {*config.providers, *config.interventions, *REGISTER, *REGISTER.values(),
                  UNREGISTERED_TEAM, "Niet-geregistreerd team",
                  *(text for i in config.registry.instruments for text in (i.instrument, i.schaal))}
    ours = {"consortium", "organisation", "team", "intervention", "organisation_intervention",
            "rest_of_consortium", "all", "primary", "secondary", "accepted", "accepted_with_quarantine",
            "ouder", "jeugdige", "professional", "leerkracht"}
    other = [cell for cell in string_cells(home.publication)
             if cell not in registered | ours and not re.fullmatch(r"[0-9a-f]{12,64}|\d{4}(-\d{2})?", cell)]
    assert other == []
    page = (home.dashboard / "organisatie-de-boog.html").read_text(encoding="utf-8")
    for label in ("Team: Team Noord", "Team: Jeugd &amp; Gezin", "Team: Niet-geregistreerd team"):
        assert f">{label}<" in page, label
    assert 'data-team="noord"' in page and "Oost" not in page

    report = (home.reports / "de-boog" / "2025-03" / "rapport.txt").read_text(encoding="utf-8")
    assert "WARN_TEAM_UNREGISTERED (melding): 1x" in report
    assert "hebben 2 regels het team 'Team Oost' (de eerste op regel 7)" in report


def hostile_delivery(home: DatabankHome, write_delivery: DeliveryWriter) -> Path:
    """Formula text in every kind of column a steward fills: registered and free ones, codes,
    numbers, a header; accepted rows and quarantined ones; and a rejected delivery."""
    formulas = ["=HYPERLINK(\"http://x\",\"y\")", "+31 6 1234", "-Team", "@SUM(A1)", "\tTeam", "\rTeam"]
    rows = [ended(n, formulas[n % len(formulas)]) for n in range(1, 13)]
    rows += [ended(20, "Team Noord", geslacht="=1+2"), ended(21, "Team Noord", interventie="+MST"),
             ended(22, "Team Noord", hulpvorm="@ambulant"), ended(23, "Team Noord", tevredenheid="-1")]
    rows += [ended(n, "Team Noord") for n in range(30, 60)]  # enough rows to stay under the reject share
    metingen = [m for n in (*range(1, 13), *range(33, 60)) for m in scores(n)]
    metingen += [measurement(30, "start", "05-01-2025", "-5"), measurement(31, "start", "05-01-2025", "70",
                 instrument="=SDQ"), measurement(32, "start", "05-01-2025", "70", informant="-ouder")]
    folder = write_delivery(home.landing, "de-boog", "2025-03", rows, metingen)
    path = folder / "trajecten.csv"
    lines = path.read_bytes().decode("cp1252").splitlines()
    lines = [lines[0] + ";=cmd|' /C calc'!A0"] + [line + ";=2+5" for line in lines[1:]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    # rejected: every row faulty, each with a formula team
    write_delivery(home.landing, "horizon-jeugd", "2025-03",
                   [ended(n, formula, bsn="123456780") for n, formula in enumerate(formulas)])
    return folder


def text_cells_of_csv(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if ";" in text.splitlines()[0] else ","
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]


def text_cells_of_parquet(path: Path) -> list[str]:
    con = duckdb.connect()
    try:
        columns = [name for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
                   if kind == "VARCHAR"]
        return [value for column in columns
                for (value,) in con.execute(f'SELECT DISTINCT "{column}" FROM read_parquet(\'{path}\')').fetchall()
                if value is not None]
    finally:
        con.close()


def test_every_text_cell_the_pipeline_writes_is_formula_neutral(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    folder = hostile_delivery(home, write_delivery)
    summary = run_pipeline(home, today=TODAY)
    assert sorted(s for *_, s in summary.judged) == ["accepted_with_quarantine", "rejected"]
    assert main(["check", str(folder), "--config", str(home.config_dir), "--report", str(home.root / "check")]) == 0
    assert main(["extract", "--scope", "formules", "--out", str(home.root / "extracts" / "formules")]) == 0

    written = [p for p in home.root.rglob("*") if p.is_file() and home.landing not in p.parents]
    cells: dict[str, list[str]] = {}
    for path in written:
        if path.suffix == ".csv":
            cells[str(path.relative_to(home.root))] = text_cells_of_csv(path)
        elif path.suffix == ".duckdb":
            cells[str(path.relative_to(home.root))] = string_cells(path)
        elif path.suffix == ".parquet":
            cells[str(path.relative_to(home.root))] = text_cells_of_parquet(path)
    kinds = {Path(name).suffix for name in cells}
    assert kinds == {".csv", ".duckdb", ".parquet"}, sorted(cells)
    assert sum(name.endswith("bevindingen.csv") for name in cells) == 3  # two deliveries and check
    live = [(name, cell[:40]) for name, values in cells.items() for cell in values if cell.startswith(FORMULA_START)]
    assert live == []
    # The hostile values were really there: neutralised in the reports, absent from storage.
    shown = {cell for name, values in cells.items() if name.endswith(".csv") for cell in values}
    assert {"'=1+2", "'+MST", "'@ambulant", "'-1", "'-5", "'=SDQ totaal", "'-ouder"} <= shown
    stored = {cell for name, values in cells.items() if not name.endswith(".csv") for cell in values}
    assert UNREGISTERED_TEAM in stored and not any("HYPERLINK" in cell or "Team" == cell for cell in stored)

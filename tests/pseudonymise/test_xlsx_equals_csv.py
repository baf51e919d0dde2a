"""An xlsx and a CSV export of the same data produce identical warehouse contents
(delivery-format.md §1, §2, §9.5, §9.7): one realistic month of one provider is written as
`trajecten.csv` + `metingen.csv` (`;`, Windows-1252, dd-mm-yyyy, decimal comma, CRLF) in one home
and as `export.xlsx` (date cells, numeric cells, numbers stored as text, a BSN that Excel turned
into an 8-digit number, mixed-case headers, trailing empty rows) in a second home with the same
key. Everything the pipeline stores must be the same, except delivery ids, receipt times and the
files' lineage."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from pipelines.runner import run_pipeline
from tests.builders import (
    METINGEN_HEADER,
    TRAJECTEN_HEADER,
    make_home,
    measurement,
    render_csv,
    trajectory,
)
from warehouse.home import DatabankHome

PROVIDER = "de-boog"
MONTH = "2025-06"
TODAY = dt.date(2026, 1, 15)
PAST = (1_700_000_000, 1_700_000_000)  # older than the landing sensor's settling time

DATE_COLUMNS = {"geboortedatum", "startdatum", "einddatum", "datum"}
NUMBER_COLUMNS = {"score", "tevredenheid", "reden_einde", "doelrealisatie"}
DIGIT_IDENTIFIERS = {"bsn", "clientnummer"}  # Excel turns an all-digit identifier into a number

VALID_BSN = "234567004"
VALID_BSN_2 = "234567016"
LEADING_ZERO_BSN = "011122237"  # valid; in Excel the number 11122237 (8 digits)
FAILING_BSN = "123456789"  # fails the elfproef: the faulty trajectory row


def dmy(day: dt.date) -> str:
    return day.strftime("%d-%m-%Y")


# --- the data set, as the source system would export it to CSV ------------------------------------

# number: (startdatum, einddatum, reden_einde, doelrealisatie, tevredenheid, other overrides)
TRAJECTORIES: dict[int, tuple[dt.date, dt.date | None, str, str, str, dict[str, str]]] = {
    1: (dt.date(2025, 1, 6), dt.date(2025, 5, 20), "1", "1", "7,5", {"bsn": VALID_BSN}),
    2: (dt.date(2025, 1, 13), dt.date(2025, 6, 2), "1", "2", "8", {"bsn": LEADING_ZERO_BSN}),
    3: (dt.date(2025, 2, 3), dt.date(2025, 6, 30), "2", "3", "6", {"clientnummer": "40017"}),
    4: (dt.date(2025, 2, 17), dt.date(2025, 4, 15), "3", "", "", {"voornaam": "Zoë"}),
    5: (dt.date(2024, 12, 2), dt.date(2025, 3, 28), "5", "2", "9,5", {"team": "Team Zuid"}),
    6: (dt.date(2024, 11, 5), dt.date(2025, 6, 12), "4", "3", "5", {"geslacht": "M"}),
    7: (dt.date(2025, 3, 10), None, "", "", "", {"interventie": "FFT", "hulpvorm": "daghulp"}),
    8: (dt.date(2025, 3, 24), None, "", "", "", {"geslacht": "M", "team": "Team Zuid"}),
    9: (dt.date(2025, 4, 1), None, "", "", "", {"bsn": VALID_BSN_2, "achternaam": "Özdemir"}),
    10: (dt.date(2025, 4, 14), None, "", "", "", {"hulpvorm": "pleegzorg", "postcode": "1234AB", "geslacht": "X"}),
    11: (dt.date(2025, 4, 28), None, "", "", "", {"bezwaar": "Ja"}),  # objects: left out entirely
    12: (dt.date(2025, 5, 5), None, "", "", "", {"bsn": FAILING_BSN}),  # quarantined
    13: (dt.date(2025, 5, 12), None, "", "", "", {"interventie": "mst", "bezwaar": "nee"}),
    14: (dt.date(2024, 10, 7), dt.date(2025, 5, 30), "1", "1", "10", {"hulpvorm": "verblijf", "team": "Team Zuid"}),
    15: (dt.date(2025, 6, 2), None, "", "", "", {"geslacht": "O", "postcode": "", "opmerkingen": "belt terug; “na de zomer”"}),
}
WITH_TUSSEN = {1, 2, 3, 7, 8, 11}
WITH_SDQ = {1, 2, 6, 14}
FAULTY_MEASUREMENT = (8, "tussen")  # CBCL score 150: outside 24-100


def trajecten_rows() -> list[dict[str, str]]:
    rows = []
    for n, (start, end, reden, doel, tevredenheid, overrides) in TRAJECTORIES.items():
        birth = dt.date(2006 + n % 12, n % 12 + 1, n % 28 + 1)
        rows.append(
            trajectory(
                n,
                geboortedatum=dmy(birth),
                startdatum=dmy(start),
                einddatum=dmy(end) if end else "",
                reden_einde=reden,
                doelrealisatie=doel,
                tevredenheid=tevredenheid,
                **overrides,
            )
        )
    return rows


def metingen_rows() -> list[dict[str, str]]:
    rows = []
    for n, (start, end, *_) in TRAJECTORIES.items():
        rows.append(measurement(n, "start", dmy(start + dt.timedelta(days=4)), str(60 + n)))
        if n in WITH_TUSSEN:
            score = "150" if (n, "tussen") == FAULTY_MEASUREMENT else str(55 + n)
            rows.append(measurement(n, "tussen", dmy(start + dt.timedelta(days=45)), score))
        if end is not None:
            rows.append(measurement(n, "eind", dmy(end - dt.timedelta(days=3)), str(48 + n)))
        if n in WITH_SDQ:
            rows.append(
                measurement(n, "start", dmy(start + dt.timedelta(days=6)), f"{18 + n},5",
                            instrument="SDQ", informant="jeugdige")
            )
            if end is not None:
                rows.append(
                    measurement(n, "eind", dmy(end - dt.timedelta(days=1)), str(10 + n),
                                instrument="SDQ", informant="Jeugdige")
                )
    return rows


# --- the same data as the two exports ------------------------------------------------------------


def write_csv_delivery(home: DatabankHome) -> Path:
    folder = home.landing / PROVIDER / MONTH
    folder.mkdir(parents=True)
    trajecten = render_csv(TRAJECTEN_HEADER, trajecten_rows(), ";", "\r\n")
    # Excel's CSV export leaves a line of empty fields after the data
    metingen = render_csv(METINGEN_HEADER, metingen_rows(), ";", "\r\n") + ";" * 7 + "\r\n"
    for name, text in (("trajecten.csv", trajecten), ("metingen.csv", metingen)):
        path = folder / name
        path.write_bytes(text.encode("cp1252"))
        os.utime(path, PAST)
    return folder


def xlsx_cell(column: str, text: str, index: int) -> object:
    """What Excel would hold for the CSV's text: date cells, numeric cells, identifiers of digits
    as numbers (losing a leading zero), and now and then a number or date stored as text."""
    if text == "":
        return None
    as_text = index % 5 == 3  # "getal opgeslagen als tekst"
    if column in DATE_COLUMNS:
        day = dt.datetime.strptime(text, "%d-%m-%Y")
        if as_text:
            return text if index % 2 else day.date().isoformat()
        return day if index % 7 == 0 else day.date()
    if column in NUMBER_COLUMNS:
        if as_text:
            return text
        number = float(text.replace(",", "."))
        return int(number) if number.is_integer() else number
    if column in DIGIT_IDENTIFIERS and text.isdigit() and text != VALID_BSN_2:
        return int(text)
    return text


def xlsx_header(name: str) -> str:
    special = {"bsn": "BSN", "clientnummer": " ClientNummer ", "traject_id": "Traject_ID"}
    return special.get(name, name.capitalize() if len(name) % 2 else name)


def write_sheet(sheet, header: list[str], rows: list[dict[str, str]]) -> None:  # noqa: ANN001
    sheet.append([xlsx_header(name) for name in header])
    for index, row in enumerate(rows):
        sheet.append([xlsx_cell(name, row[name], index) for name in header])
    last = sheet.max_row
    for offset in range(1, 4):  # formatted but empty rows, as Excel leaves them
        sheet.cell(row=last + offset, column=1).font = Font(bold=True)
    sheet.cell(row=last + 5, column=2, value="   ")


def write_xlsx_delivery(home: DatabankHome) -> Path:
    folder = home.landing / PROVIDER / MONTH
    folder.mkdir(parents=True)
    workbook = Workbook()
    trajecten = workbook.active
    trajecten.title = "trajecten"
    write_sheet(trajecten, TRAJECTEN_HEADER, trajecten_rows())
    # Another export tool, another column order.
    metingen_order = ["datum", "score", *[c for c in METINGEN_HEADER if c not in ("datum", "score")]]
    write_sheet(workbook.create_sheet("metingen"), metingen_order, metingen_rows())
    workbook.create_sheet("Toelichting").append(["Export uit het cliëntsysteem"])
    path = folder / "export.xlsx"
    workbook.save(path)
    os.utime(path, PAST)
    return folder


# --- both homes through the whole pipeline -------------------------------------------------------

WAREHOUSE_TABLES = {  # table -> lineage columns left out of the comparison
    "staging.deliveries": "delivery_id, received_at, files",
    "staging.trajectories": "delivery_id",
    "staging.measurements": "delivery_id",
    "staging.quarantine": "delivery_id",
    "core.trajectories": "delivery_id",
    "core.measurements": "delivery_id",
}
PUBLISHED_TABLES = {
    "mart.outcome_scores": "",
    "mart.trajectory_indicators": "",
    "mart.deliveries": "delivery_id, received_at",
}

Snapshot = dict[str, tuple[list[str], list[tuple]]]


def snapshot(database: Path, tables: dict[str, str]) -> Snapshot:
    con = duckdb.connect(str(database), read_only=True)
    try:
        result: Snapshot = {}
        for table, lineage in tables.items():
            exclude = f"EXCLUDE ({lineage})" if lineage else ""
            cursor = con.execute(f"SELECT * {exclude} FROM {table} ORDER BY ALL")
            rows = cursor.fetchall()
            result[table] = ([d[0] for d in cursor.description], rows)
        return result
    finally:
        con.close()


def delivered_files(home: DatabankHome) -> list[str]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        (files,) = con.execute("SELECT files FROM staging.deliveries").fetchone()
    finally:
        con.close()
    return sorted(entry["name"] for entry in json.loads(files))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[DatabankHome, Snapshot]]:
    root = tmp_path_factory.mktemp("xlsx-equals-csv")
    out: dict[str, tuple[DatabankHome, Snapshot]] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATABANK_KEY_FILE", raising=False)
        csv_home = make_home(root / "csv-home", k=1)
        xlsx_home = make_home(root / "xlsx-home", k=1, with_key=False)
        xlsx_home.key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(csv_home.key_file, xlsx_home.key_file)
        os.chmod(xlsx_home.key_file, 0o600)
        write_csv_delivery(csv_home)
        write_xlsx_delivery(xlsx_home)
        for name, home in (("csv", csv_home), ("xlsx", xlsx_home)):
            patch.setenv("DATABANK_HOME", str(home.root))
            patch.setenv("DAGSTER_HOME", str(home.dagster_home))
            summary = run_pipeline(home, today=TODAY)
            assert summary.judged == [(PROVIDER, MONTH, "accepted_with_quarantine")], name
            out[name] = (
                home,
                snapshot(home.warehouse, WAREHOUSE_TABLES) | snapshot(home.publication, PUBLISHED_TABLES),
            )
    return out


def test_the_two_homes_read_different_files_with_the_same_key(runs: dict) -> None:
    csv_home, _ = runs["csv"]
    xlsx_home, _ = runs["xlsx"]
    assert delivered_files(csv_home) == ["metingen.csv", "trajecten.csv"]
    assert delivered_files(xlsx_home) == ["export.xlsx"]
    assert xlsx_home.key_file.read_bytes() == csv_home.key_file.read_bytes()
    assert xlsx_home.key_file.stat().st_mode & 0o777 == 0o600
    # The workbook really holds what Excel makes of the data, not text copies of the CSV.
    workbook = load_workbook(xlsx_home.landing / PROVIDER / MONTH / "export.xlsx", read_only=True)
    try:
        header, *rows = workbook["trajecten"].iter_rows(values_only=True)
        cells = [dict(zip(header, row, strict=True)) for row in rows if any(row)]
    finally:
        workbook.close()
    assert cells[1]["BSN"] == int(LEADING_ZERO_BSN) and len(str(cells[1]["BSN"])) == 8
    assert cells[2][" ClientNummer "] == 40017
    assert isinstance(cells[0]["startdatum"], dt.datetime) and cells[0]["tevredenheid"] == 7.5
    assert cells[3]["startdatum"] == "17-02-2025"  # a date stored as text


def test_the_data_set_exercises_what_it_claims(runs: dict) -> None:
    _, tables = runs["csv"]
    columns, quarantine = tables["staging.quarantine"]
    by_name = [dict(zip(columns, row, strict=True)) for row in quarantine]
    assert sorted((q["table_name"], q["reason_code"], q["column_name"]) for q in by_name) == [
        ("metingen", "ROW_SCORE_OUT_OF_RANGE", "score"),
        ("trajecten", "ROW_BSN_INVALID", "bsn"),
    ]
    assert len(tables["staging.trajectories"][1]) == 13  # 15 - one objection - one quarantined
    assert len(tables["core.trajectories"][1]) == 13
    measurements = tables["staging.measurements"][1]
    assert len(measurements) >= 30
    columns, core_t = tables["core.trajectories"]
    tevredenheid = {row[columns.index("tevredenheid")] for row in core_t}
    assert {7.5, 9.5, 10.0} <= tevredenheid
    columns, deliveries = tables["staging.deliveries"]
    assert dict(zip(columns, deliveries[0], strict=True))["excluded_bezwaar"] > 0
    assert tables["mart.outcome_scores"][1] and tables["mart.trajectory_indicators"][1]


@pytest.mark.parametrize("table", WAREHOUSE_TABLES)
def test_xlsx_and_csv_give_identical_warehouse_contents(runs: dict, table: str) -> None:
    _, from_csv = runs["csv"]
    _, from_xlsx = runs["xlsx"]
    assert from_xlsx[table][0] == from_csv[table][0]
    assert from_xlsx[table][1] == from_csv[table][1]


@pytest.mark.parametrize("table", PUBLISHED_TABLES)
def test_xlsx_and_csv_give_identical_published_marts(runs: dict, table: str) -> None:
    _, from_csv = runs["csv"]
    _, from_xlsx = runs["xlsx"]
    assert from_xlsx[table][0] == from_csv[table][0]
    # Exact: the marts are built single-threaded, so equal data give equal figures to the bit.
    assert from_xlsx[table][1] == from_csv[table][1]

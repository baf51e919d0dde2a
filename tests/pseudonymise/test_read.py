"""Reading deliveries as real exports look (delivery-format.md §1, §2, §9.5, §9.7, §9.10, §9.12):
encodings, delimiters, line endings, headers, trimming, physical row numbers, file faults, and
the workbook shape."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from pseudonymise.read import (
    DeliveryFiles,
    RawTable,
    locate_delivery_files,
    read_csv_table,
    read_delivery_tables,
)
from pseudonymise.read_xlsx import read_xlsx_table
from schemas.delivery import METINGEN, TRAJECTEN
from schemas.faults import DeliveryRejected


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def read_bytes_as_table(tmp_path: Path, data: bytes) -> RawTable:
    return read_csv_table(write(tmp_path / "trajecten.csv", data), TRAJECTEN)


def codes_of(caught: pytest.ExceptionInfo[DeliveryRejected]) -> list[str]:
    return [f.code for f in caught.value.faults]


# --- encodings -----------------------------------------------------------------------------


def test_read_csv_utf8_without_bom(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, "naam;plaats\nJoëlle;Ærø\n".encode())
    assert table.columns == ["naam", "plaats"]
    assert table.rows == [["Joëlle", "Ærø"]]


def test_read_csv_utf8_with_bom_strips_it_from_the_first_header(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b"\xef\xbb\xbf" + "naam;team\nZoë;A\n".encode())
    assert table.columns == ["naam", "team"]
    assert table.rows == [["Zoë", "A"]]


def test_read_csv_windows_1252_outside_latin1(tmp_path: Path) -> None:
    text = "naam;opmerking\nŠarlota;“prijs” 5 € é\n"
    data = text.encode("cp1252")
    assert b"\x80" in data and b"\x8a" in data and b"\x93" in data and b"\x94" in data
    table = read_bytes_as_table(tmp_path, data)
    assert table.rows == [["Šarlota", "“prijs” 5 € é"]]


@pytest.mark.parametrize("bad", [b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"])
def test_read_csv_undecodable_bytes_rejected(tmp_path: Path, bad: bytes) -> None:
    data = "naam;team\nJoël;A\n".encode("cp1252") + b"X" + bad + b";B\n"
    with pytest.raises(DeliveryRejected) as caught:
        read_bytes_as_table(tmp_path, data)
    assert codes_of(caught) == ["FILE_UNDECODABLE"]
    assert caught.value.faults[0].table == TRAJECTEN
    assert "Jo" not in str(caught.value)


def test_read_csv_utf16_rejected_as_undecodable(tmp_path: Path) -> None:
    with pytest.raises(DeliveryRejected) as caught:
        read_bytes_as_table(tmp_path, "naam;team\nA;B\n".encode("utf-16"))
    assert codes_of(caught) == ["FILE_UNDECODABLE"]


# --- delimiters, line endings, headers, values ------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_read_csv_delimiters_and_line_endings(
    tmp_path: Path, delimiter: str, newline: str
) -> None:
    lines = ["clientnummer;score;team", "C1;7;A", "C2;8;B"]
    text = newline.join(line.replace(";", delimiter) for line in lines) + newline
    table = read_bytes_as_table(tmp_path, text.encode())
    assert table.columns == ["clientnummer", "score", "team"]
    assert table.rows == [["C1", "7", "A"], ["C2", "8", "B"]]
    assert table.lines == [2, 3]
    assert table.ragged_lines == []


def test_read_csv_comma_delimited_keeps_decimal_commas_quoted(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b'clientnummer,tevredenheid\nC1,"7,5"\n')
    assert table.rows == [["C1", "7,5"]]


def test_read_csv_semicolon_delimited_keeps_decimal_commas(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b"clientnummer;tevredenheid;team\nC1;7,5;A\n")
    assert table.rows == [["C1", "7,5", "A"]]


def test_read_csv_headers_case_insensitive_and_trimmed(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b"  ClientNummer ;TRAJECT_ID;\tTeam  \nC1;T1;A\n")
    assert table.columns == ["clientnummer", "traject_id", "team"]


def test_read_csv_values_trimmed_and_blank_is_none(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b"a;b;c;d\n  x  ;   ;;\t y\t\n")
    assert table.rows == [["x", None, None, "y"]]


# --- row numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_read_csv_row_numbers_are_physical_start_lines(tmp_path: Path, newline: str) -> None:
    physical = [
        "id;opmerkingen;team",  # 1
        "A;kort;X",  # 2
        'B;"eerste regel',  # 3
        "tweede regel",  # 4
        'derde regel";Y',  # 5
        "",  # 6
        "C;;Z",  # 7
        "",  # 8
        "   ",  # 9 (a spaces-only line: one empty field, skipped)
        'D;"nog ' + newline.join(["een", "paar", "regels"]) + '";W',  # 10-12 (inline newlines)
        "E;x;V",  # 13
    ]
    text = newline.join(physical) + newline
    table = read_bytes_as_table(tmp_path, text.encode())
    assert [row[0] for row in table.rows] == ["A", "B", "C", "D", "E"]
    assert table.lines == [2, 3, 7, 10, 13]
    assert table.rows[1][1] == newline.join(["eerste regel", "tweede regel", "derde regel"])
    assert table.ragged_lines == []


def test_read_csv_row_numbers_with_blank_lines_before_header(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b"\n\nid;team\nA;X\n\nB;Y\n")
    assert table.columns == ["id", "team"]
    assert table.lines == [4, 6]


def test_read_csv_ragged_rows_listed_and_padded(tmp_path: Path) -> None:
    text = "a;b;c\n1;2;3\n1;2\n1;2;3;4\n\"x\ny\";2;3\n5;6\n"
    table = read_bytes_as_table(tmp_path, text.encode())
    assert table.ragged_lines == [3, 4, 7]
    assert table.lines == [2, 3, 4, 5, 7]
    assert table.rows[1] == ["1", "2", None]
    assert table.rows[2] == ["1", "2", "3"]
    assert all(len(row) == 3 for row in table.rows)


def test_read_csv_header_copy_in_data_is_a_row(tmp_path: Path) -> None:
    table = read_bytes_as_table(tmp_path, b"id;team\nA;X\nid;team\n")
    assert table.rows == [["A", "X"], ["id", "team"]]
    assert table.lines == [2, 3]


# --- file faults -----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n\n", b"  \r\n ; ;\r\n", b"\xef\xbb\xbf"])
def test_read_csv_empty_file_has_no_header(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(DeliveryRejected) as caught:
        read_bytes_as_table(tmp_path, data)
    assert codes_of(caught) == ["FILE_NO_HEADER"]
    assert caught.value.faults[0].table == TRAJECTEN


def test_read_csv_header_only_has_no_rows(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path / "metingen.csv", b"traject_id;score\n"), METINGEN)
    assert table.name == METINGEN
    assert table.columns == ["traject_id", "score"]
    assert table.rows == [] and table.lines == []


def test_locate_delivery_files_two_csvs(tmp_path: Path) -> None:
    write(tmp_path / "trajecten.csv", b"a\n")
    write(tmp_path / "METINGEN.CSV", b"a\n")
    files = locate_delivery_files(tmp_path)
    assert files.paths == {
        TRAJECTEN: tmp_path / "trajecten.csv", METINGEN: tmp_path / "METINGEN.CSV"
    }
    assert files.ignored == ()


@pytest.mark.parametrize("present", ["trajecten.csv", "metingen.csv"])
def test_locate_delivery_files_one_csv_is_table_missing(tmp_path: Path, present: str) -> None:
    write(tmp_path / present, b"a\n")
    with pytest.raises(DeliveryRejected) as caught:
        locate_delivery_files(tmp_path)
    assert codes_of(caught) == ["FILE_TABLE_MISSING"]
    missing = {TRAJECTEN, METINGEN} - {present.removesuffix(".csv")}
    assert {f.table for f in caught.value.faults} == missing


def test_locate_delivery_files_empty_folder_misses_both_tables(tmp_path: Path) -> None:
    with pytest.raises(DeliveryRejected) as caught:
        locate_delivery_files(tmp_path)
    assert sorted(f.table for f in caught.value.faults) == [METINGEN, TRAJECTEN]
    assert set(codes_of(caught)) == {"FILE_TABLE_MISSING"}


@pytest.mark.parametrize("csvs", [["trajecten.csv", "metingen.csv"], ["metingen.csv"]])
def test_locate_delivery_files_csv_and_workbook_is_ambiguous(
    tmp_path: Path, csvs: list[str]
) -> None:
    for name in csvs:
        write(tmp_path / name, b"a\n")
    write(tmp_path / "export.xlsx", b"PK")
    with pytest.raises(DeliveryRejected) as caught:
        locate_delivery_files(tmp_path)
    assert codes_of(caught) == ["FILE_AMBIGUOUS"]


def test_locate_delivery_files_workbook_serves_both_tables(tmp_path: Path) -> None:
    write(tmp_path / "Export.xlsx", b"PK")
    files = locate_delivery_files(tmp_path)
    assert files.paths == {TRAJECTEN: tmp_path / "Export.xlsx", METINGEN: tmp_path / "Export.xlsx"}
    assert files.distinct_paths == [tmp_path / "Export.xlsx"]


def test_locate_delivery_files_lists_ignored_files_by_name(tmp_path: Path) -> None:
    write(tmp_path / "trajecten.csv", b"a\n")
    write(tmp_path / "metingen.csv", b"a\n")
    write(tmp_path / "Toelichting.docx", b"x")
    write(tmp_path / "trajecten_oud.csv", b"x")
    write(tmp_path / ".DS_Store", b"x")
    (tmp_path / "archief").mkdir()
    files = locate_delivery_files(tmp_path)
    assert sorted(files.ignored) == ["Toelichting.docx", "trajecten_oud.csv"]
    assert sorted(files.paths) == [METINGEN, TRAJECTEN]


# --- workbooks -------------------------------------------------------------------------------


def make_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    workbook.save(path)
    return path


def test_read_xlsx_numeric_cells_read_as_integer_text(tmp_path: Path) -> None:
    path = make_workbook(
        tmp_path / "export.xlsx",
        {
            "trajecten": [
                ["clientnummer", "bsn", "tevredenheid", "score"],
                [12345678, 12345678.0, 7.5, 40],
            ],
            "metingen": [["traject_id"]],
        },
    )
    table = read_xlsx_table(path, TRAJECTEN)
    assert table.rows == [["12345678", "12345678", "7.5", "40"]]


def test_read_xlsx_date_cells_become_iso_text(tmp_path: Path) -> None:
    path = make_workbook(
        tmp_path / "export.xlsx",
        {
            "trajecten": [
                ["geboortedatum", "startdatum", "einddatum"],
                [dt.date(2012, 3, 4), dt.datetime(2025, 1, 6, 0, 0), "31-01-2025"],
            ],
            "metingen": [["traject_id"]],
        },
    )
    table = read_xlsx_table(path, TRAJECTEN)
    assert table.rows == [["2012-03-04", "2025-01-06", "31-01-2025"]]


def test_read_xlsx_sheet_row_numbers_and_trailing_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Trajecten"  # sheet names are matched case-insensitively
    sheet.append([" ClientNummer ", "Team"])
    sheet.append(["C1", "A"])
    sheet.append([None, None])
    sheet.append(["C2", "   "])
    for row in range(5, 12):  # formatted but empty rows, as Excel leaves them
        sheet.cell(row=row, column=1).font = Font(bold=True)
    sheet.cell(row=12, column=2, value="   ")
    workbook.create_sheet("metingen").append(["traject_id"])
    workbook.save(path)
    table = read_xlsx_table(path, TRAJECTEN)
    assert table.columns == ["clientnummer", "team"]
    assert table.rows == [["C1", "A"], ["C2", None]]
    assert table.lines == [2, 4]


def test_read_xlsx_header_not_on_the_first_row(tmp_path: Path) -> None:
    path = make_workbook(
        tmp_path / "export.xlsx",
        {"trajecten": [[], [], ["clientnummer", "team"], ["C1", "A"]], "metingen": [["x"]]},
    )
    table = read_xlsx_table(path, TRAJECTEN)
    assert table.columns == ["clientnummer", "team"]
    assert table.lines == [4]


def test_read_xlsx_short_rows_are_padded(tmp_path: Path) -> None:
    path = make_workbook(
        tmp_path / "export.xlsx",
        {"trajecten": [["a", "b", "c"], ["1"]], "metingen": [["x"]]},
    )
    table = read_xlsx_table(path, TRAJECTEN)
    assert table.rows == [["1", None, None]]


def test_read_xlsx_missing_sheet_is_table_missing(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "export.xlsx", {"trajecten": [["a"], ["1"]]})
    with pytest.raises(DeliveryRejected) as caught:
        read_xlsx_table(path, METINGEN)
    assert codes_of(caught) == ["FILE_TABLE_MISSING"]
    assert caught.value.faults[0].table == METINGEN


def test_read_xlsx_empty_sheet_has_no_header(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "export.xlsx", {"trajecten": [["a"]], "metingen": []})
    with pytest.raises(DeliveryRejected) as caught:
        read_xlsx_table(path, METINGEN)
    assert codes_of(caught) == ["FILE_NO_HEADER"]


@pytest.mark.parametrize(
    "data", [b"clientnummer;team\nC1;A\n", b"", b"PK\x03\x04 truncated zip"],
    ids=["csv-text", "empty", "broken-zip"],
)
def test_read_xlsx_not_a_workbook_is_unparseable(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "export.xlsx", data)
    with pytest.raises(DeliveryRejected) as caught:
        read_xlsx_table(path, TRAJECTEN)
    assert codes_of(caught) == ["FILE_UNPARSEABLE"]


def test_read_delivery_tables_dispatches_workbook_and_csv(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    make_workbook(
        book / "export.xlsx",
        {"trajecten": [["traject_id"], ["T1"]], "metingen": [["traject_id"], ["T1"], ["T1"]]},
    )
    tables = read_delivery_tables(locate_delivery_files(book))
    assert tables[TRAJECTEN].rows == [["T1"]]
    assert tables[METINGEN].lines == [2, 3]

    csv_folder = tmp_path / "csv"
    csv_folder.mkdir()
    write(csv_folder / "trajecten.csv", b"traject_id\nT1\n")
    write(csv_folder / "metingen.csv", b"traject_id\n")
    files = locate_delivery_files(csv_folder)
    assert isinstance(files, DeliveryFiles)
    tables = read_delivery_tables(files)
    assert tables[TRAJECTEN].name == TRAJECTEN and tables[METINGEN].name == METINGEN
    assert tables[METINGEN].rows == []


def _set_sheet_dimension(path: Path, dimension: str) -> None:
    """Rewrite the first sheet's `<dimension ref=...>` as some exporters leave it (stale or
    just "A1"); the rows themselves stay as they are."""
    with zipfile.ZipFile(path) as source:
        items = [(item, source.read(item.filename)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for item, data in items:
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(
                    rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>'.encode(),
                    data,
                )
                assert count == 1
            target.writestr(item, data)


@pytest.mark.parametrize("dimension", ["A1", "A1:B2"])
def test_read_xlsx_ignores_a_wrong_declared_dimension(tmp_path: Path, dimension: str) -> None:
    path = make_workbook(
        tmp_path / "export.xlsx",
        {"trajecten": [["a", "b"], ["1", "2"], ["3", "4"]], "metingen": [["x"]]},
    )
    _set_sheet_dimension(path, dimension)
    table = read_xlsx_table(path, TRAJECTEN)
    assert table.columns == ["a", "b"]
    assert table.rows == [["1", "2"], ["3", "4"]]
    assert table.lines == [2, 3]


def test_read_xlsx_values_beyond_the_header_make_the_row_ragged(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "trajecten"
    sheet.append(["clientnummer", "traject_id"])
    sheet.append(["C1", "T1"])
    sheet.append(["C2", "T2", "shifted"])  # like a CSV row with an extra field
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    table = read_xlsx_table(path, "trajecten")
    assert table.lines == [2, 3] and table.ragged_lines == [3]

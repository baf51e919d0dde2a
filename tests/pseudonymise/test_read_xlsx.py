"""The workbook reader's two paths give one result (delivery-format.md §1, §9.5, §9.7, §9.12).

`export.xlsx` is read by calamine when a scan of the sheet's XML finds nothing the two readers
would read differently, else by the streaming openpyxl reader that was the only one before. Here
every workbook shape is read both ways: the shapes Excel and the export libraries write must go
through calamine and give exactly the streaming reader's table; the shapes calamine reads
differently (error cells, a time of day, `_x0000_`, cells without a reference, a cell a million
rows down, ...) must be recognised and give the streaming reader's table, which each test also
states outright. Workbooks are written part by part, as Excel writes them (shared strings,
styles by number), so each test shows the XML a reader meets."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from pipelines.synthetic import convert_to_workbook, write_synthetic_consortium
from pseudonymise import read_xlsx
from pseudonymise.read import RawTable
from pseudonymise.read_xlsx import (
    IrregularWorkbook,
    read_with_calamine,
    read_with_openpyxl,
    read_xlsx_table,
)
from schemas.delivery import METINGEN, TRAJECTEN
from schemas.faults import DeliveryRejected

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# Cell styles by index, as Excel numbers them: 1 the built-in date (numFmtId 14), 2 dd-mm-yyyy,
# 3 a time of day, 4 a duration, 5 bold, 6 text ('@').
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><numFmts count="3"><numFmt numFmtId="164" formatCode="dd\\-mm\\-yyyy"/>
<numFmt numFmtId="165" formatCode="hh:mm"/><numFmt numFmtId="166" formatCode="[h]:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/>
<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>
<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>
<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0"
fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="7">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def row(number: int, *cells: str) -> str:
    """A sheet row as Excel writes it; each cell is its `<c>` element."""
    return f'<row r="{number}" spans="1:{max(len(cells), 1)}" x14ac:dyDescent="0.25">{"".join(cells)}</row>'


def excel_workbook(
    path: Path,
    sheets: dict[str, str],
    strings: Sequence[str] = (),
    *,
    date1904: bool = False,
    prefix: str = "",
    hidden: frozenset[str] = frozenset(),
    styles: str = STYLES,
) -> Path:
    """A workbook written part by part: `sheets` maps a sheet name to the XML inside its
    <sheetData>; `strings` are the shared strings' <si> contents. With `prefix` ('x') every
    spreadsheet element carries that namespace prefix, as the OpenXML SDK writes them."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    state = ' state="hidden"'
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
        for i in range(1, len(sheets) + 1)
    )
    if strings:
        overrides += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                      'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PACKAGE_RELS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + f'<Relationship Id="rIdS" Type="{RELS}/styles" Target="styles.xml"/>'
            + (f'<Relationship Id="rIdT" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>' if strings else "")
            + "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}workbook {ns} xmlns:r="{RELS}">'
            + (f'<{p}workbookPr date1904="1"/>' if date1904 else f"<{p}workbookPr/>")
            + f"<{p}sheets>"
            + "".join(
                f'<{p}sheet name="{name}" sheetId="{i}"{state if name in hidden else ""} r:id="rId{i}"/>'
                for i, name in enumerate(sheets, start=1)
            )
            + f"</{p}sheets></{p}workbook>"
        ),
        "xl/styles.xml": styles,
    }
    if strings:
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}sst {ns} count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">' + "".join(f"<{p}si>{_prefixed(s, p)}</{p}si>" for s in strings)
            + f"</{p}sst>"
        )
    for i, data in enumerate(sheets.values(), start=1):
        data = _prefixed(data, p)
        parts[f"xl/worksheets/sheet{i}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}worksheet {ns} xmlns:r="{RELS}" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
            'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
            f'<{p}dimension ref="A1"/><{p}sheetData>{data}</{p}sheetData></{p}worksheet>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def _prefixed(xml: str, prefix: str) -> str:
    """The same elements with a namespace prefix (`x:`) on each."""
    for name in ("row", "c", "v", "f", "is", "t", "r") if prefix else ():
        xml = xml.replace(f"<{name}>", f"<{prefix}{name}>").replace(f"<{name} ", f"<{prefix}{name} ")
        xml = xml.replace(f"</{name}>", f"</{prefix}{name}>")
    return xml


def t(text: str, *, preserve: bool = False) -> str:
    """A shared string's <si> content."""
    return f'<t xml:space="preserve">{text}</t>' if preserve else f"<t>{text}</t>"


def read_both(path: Path, table: str = TRAJECTEN) -> RawTable:
    """The table calamine reads, after checking the streaming reader reads exactly the same."""
    fast = read_with_calamine(path, table)
    assert fast == read_with_openpyxl(path, table)
    assert read_xlsx_table(path, table) == fast
    return fast


def read_streamed(path: Path, table: str = TRAJECTEN) -> RawTable:
    """The table of a workbook calamine must not read: the scan sends it to the streaming reader."""
    with pytest.raises(IrregularWorkbook):
        read_with_calamine(path, table)
    table_read = read_xlsx_table(path, table)
    assert table_read == read_with_openpyxl(path, table)
    return table_read


def rejected_codes(path: Path, table: str = TRAJECTEN) -> list[str]:
    with pytest.raises(DeliveryRejected) as caught:
        read_xlsx_table(path, table)
    with pytest.raises(DeliveryRejected) as streamed:
        read_with_openpyxl(path, table)
    assert caught.value.faults == streamed.value.faults
    return [f.code for f in caught.value.faults]


HEADER = ["clientnummer", "bsn", "team", "startdatum", "score"]


def header_row(number: int = 1) -> str:
    """The five names of HEADER, the first five shared strings, on the given sheet row."""
    return row(number, *(f'<c r="{c}{number}" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDE")))


HEADER_ROW = header_row()


# --- what Excel and the export libraries write: read by calamine, the same table ----------------


def test_read_xlsx_excel_export_reads_the_same_through_calamine(tmp_path: Path) -> None:
    strings = [*map(t, HEADER), t("  C-001 ", preserve=True), t("Team Zuid"), t("C 002"),
               "<r><t>Team</t></r><r><t xml:space=\"preserve\"> Noord</t></r>", t("   ", preserve=True)]
    data = HEADER_ROW + row(
        2, '<c r="A2" t="s"><v>5</v></c>', '<c r="B2"><v>11122237</v></c>', '<c r="C2" t="s"><v>6</v></c>',
        '<c r="D2" s="2"><v>45000</v></c>', '<c r="E2"><v>7.5</v></c>',
    ) + row(
        3, '<c r="A3" t="s"><v>7</v></c>', '<c r="B3" s="6"><v>234567004</v></c>',
        '<c r="C3" t="s"><v>8</v></c>', '<c r="D3" s="1"><v>45000.75</v></c>',
        '<c r="E3"><f>SUM(20,20)</f><v>40</v></c>',
    ) + row(
        4, '<c r="A4" t="str"><f>"C-"&amp;"004"</f><v>C-004</v></c>', '<c r="B4" t="s"><v>9</v></c>',
        '<c r="C4" s="5"/>', '<c r="D4" s="4"><v>2.5</v></c>', '<c r="E4" t="b"><v>1</v></c>',
    )
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW}, strings)
    table = read_both(path)
    assert table.columns == HEADER
    assert table.rows == [
        ["C-001", "11122237", "Team Zuid", "2023-03-15", "7.5"],  # a shared string's spaces trimmed
        ["C 002", "234567004", "Team Noord", "2023-03-15", "40"],  # cached formula value; runs joined
        ["C-004", None, None, "2 days, 12:00:00", "True"],  # a duration; a boolean
    ]
    assert table.lines == [2, 3, 4] and table.ragged_lines == []


def test_read_xlsx_formatted_empty_cells_right_of_the_header_are_nameless_columns(tmp_path: Path) -> None:
    """Bold applied to A1:F1 with names in A1:C1: Excel writes D1:F1 as empty styled cells. The
    streaming reader always counted them as nameless columns ('' here, a dropped column later),
    and a value under them was no extra field; calamine alone would not see them."""
    data = row(1, *(f'<c r="{c}1" s="5" t="s"><v>{i}</v></c>' for i, c in enumerate("ABC")),
               '<c r="D1" s="5"/>', '<c r="E1" s="5"/>') + row(
        2, '<c r="A2" t="s"><v>3</v></c>', '<c r="E2"><v>1</v></c>') + row(
        3, '<c r="A3" t="s"><v>3</v></c>', '<c r="F3"><v>2</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER[:3]), t("C1")])
    table = read_both(path)
    assert table.columns == ["clientnummer", "bsn", "team", "", ""]
    assert table.rows == [["C1", None, None, None, "1"], ["C1", None, None, None, None]]
    assert table.ragged_lines == [3]


def test_read_xlsx_excels_carriage_return_escape_is_kept_as_before(tmp_path: Path) -> None:
    """Excel writes a carriage return in a cell (text pasted with Windows line ends) as
    `_x000D_`; the streaming reader kept those seven characters, so the fast path restores them."""
    strings = [*map(t, HEADER), t("Team Zuid_x000D_"), t("regel 1_x000D_\nregel 2")]
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>6</v></c>', '<c r="C2" t="s"><v>5</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW}, strings)
    assert read_both(path).rows == [["regel 1_x000D_\nregel 2", None, "Team Zuid_x000D_", None, None]]


@pytest.mark.parametrize(
    ("date1904", "serial", "expected"),
    [(False, 1, "1900-01-01"), (False, 61, "1900-03-01"), (False, 45000, "2023-03-15"),
     (True, 0, "00:00:00"), (True, 43538, "2023-03-15")],
    ids=["1900-first-day", "1900-after-leap-bug", "1900", "1904-epoch-zero", "1904"],
)
def test_read_xlsx_date_cells_in_both_date_systems(
    tmp_path: Path, date1904: bool, serial: int, expected: str
) -> None:
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>', f'<c r="D2" s="2"><v>{serial}</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          list(map(t, HEADER)), date1904=date1904)
    if serial == 0:  # below 1: a time of day, which calamine also makes of -1 (streamed)
        assert read_streamed(path).rows[0][3] == expected
    else:
        assert read_both(path).rows[0][3] == expected


def test_read_xlsx_prefixed_elements_as_the_openxml_sdk_writes_them(tmp_path: Path) -> None:
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>5</v></c>', '<c r="E2"><v>12</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"Trajecten ": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER), t("C1")], prefix="x", hidden=frozenset({"Trajecten "}))
    table = read_both(path)
    assert table.columns == HEADER and table.rows == [["C1", None, None, None, "12"]]


def test_read_xlsx_header_below_empty_rows_and_gaps_between_rows(tmp_path: Path) -> None:
    data = row(2, '<c r="B2" s="5"/>') + header_row(3) + row(
        5, '<c r="A5" t="s"><v>5</v></c>') + row(6, '<c r="A6" s="5"/>') + row(
        9, '<c r="B9" t="s"><v>6</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER), t("C1"), t("   ", preserve=True)])
    table = read_both(path)
    assert table.columns == HEADER and table.rows == [["C1", None, None, None, None]]
    assert table.lines == [5]


def test_read_xlsx_workbooks_written_by_openpyxl_read_the_same(tmp_path: Path) -> None:
    """openpyxl (the synthetic generator, many scripts) writes inline strings and `t="n"`."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "trajecten"
    sheet.append([" ClientNummer ", "BSN", "geboortedatum", "startdatum", "tevredenheid", "bezwaar"])
    sheet.append(["C1", 11122237, dt.date(2012, 3, 4), dt.datetime(2025, 1, 6, 13, 5), 7.5, True])
    sheet.append(["C2", "234567004", "04-03-2012", dt.date(2025, 1, 7), 8, False])
    sheet.append([None] * 6)
    sheet.append(["C3", 1.0e8, None, None, -0.0, "  nee "])
    sheet.cell(row=1, column=8).font = Font(bold=True)
    workbook.create_sheet("metingen").append(["traject_id"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    table = read_both(path)
    assert table.columns == ["clientnummer", "bsn", "geboortedatum", "startdatum", "tevredenheid",
                             "bezwaar", "", ""]
    assert table.rows[0] == ["C1", "11122237", "2012-03-04", "2025-01-06", "7.5", "True", None, None]
    assert table.rows[2][:6] == ["C3", "100000000", None, None, "0", "nee"]
    assert table.lines == [2, 3, 5]
    assert read_both(path, METINGEN).rows == []


def test_read_xlsx_a_synthetic_month_reads_the_same_through_calamine(tmp_path: Path) -> None:
    """A provider-month as the benchmark writes it (pipelines/synthetic.py), faulty rows included."""
    write_synthetic_consortium(tmp_path / "landing", months=["2025-06"], providers={"de-boog": "De Boog"},
                               trajectories_per_provider=150)
    path = convert_to_workbook(tmp_path / "landing" / "de-boog" / "2025-06")
    trajecten = read_both(path, TRAJECTEN)
    metingen = read_both(path, METINGEN)
    assert len(trajecten.rows) > 100 and len(metingen.rows) > 100


def test_read_xlsx_random_workbooks_read_the_same_either_way(tmp_path: Path) -> None:
    """Seeded random sheets of every kind of value openpyxl writes, at random places; each is
    read by calamine or recognised as one to stream, and either way gives the streaming table."""
    rng = random.Random(20261203)
    values = [
        lambda: rng.choice(["a", " b ", "Zoë", "7,5", "=1+1", "", "   ", "x\ny", "0012", "€ “q”"]),
        lambda: rng.randint(-10**6, 10**9), lambda: rng.uniform(-1e6, 1e6), lambda: rng.choice([0.1, 7.5, -0.0]),
        lambda: dt.date(rng.randint(1900, 2030), rng.randint(1, 12), rng.randint(1, 28)),
        lambda: dt.datetime(2025, 1, 1) + dt.timedelta(minutes=rng.randint(0, 10**6)),
        lambda: dt.time(rng.randint(0, 23), rng.randint(0, 59)), lambda: rng.choice([True, False]),
        lambda: dt.timedelta(hours=rng.randint(1, 100)), lambda: None,
    ]
    streamed = 0
    for case in range(25):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "trajecten"
        for _ in range(rng.randint(1, 30)):
            r, c = rng.randint(1, 40), rng.randint(1, 12)
            sheet.cell(row=r, column=c, value=rng.choice(values)())
            if rng.random() < 0.2:
                sheet.cell(row=rng.randint(1, 40), column=rng.randint(1, 14)).font = Font(bold=True)
        workbook.create_sheet("metingen")
        path = tmp_path / f"export-{case}.xlsx"
        workbook.save(path)
        try:
            fast: RawTable | DeliveryRejected = read_with_calamine(path, TRAJECTEN)
        except IrregularWorkbook:
            streamed += 1
            continue
        except DeliveryRejected as rejected:
            fast = rejected
        try:
            slow: RawTable | DeliveryRejected = read_with_openpyxl(path, TRAJECTEN)
        except DeliveryRejected as rejected:
            slow = rejected
        assert (fast.faults if isinstance(fast, DeliveryRejected) else fast) == (
            slow.faults if isinstance(slow, DeliveryRejected) else slow), case
    assert 0 < streamed < 25  # both paths were exercised (time-of-day cells are streamed)


# --- what calamine reads differently: recognised, and read as before ------------------------------


def one_cell(tmp_path: Path, cell: str, strings: Sequence[str] = ()) -> Path:
    """A workbook whose trajecten sheet has the header and one data row: C1 and the given cell."""
    strings = [*map(t, HEADER), t("C1"), *strings]
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>5</v></c>', cell)
    return excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW}, strings)


RICH_RUNS = "<r><t>Team</t></r><r><t> Zuid</t></r>"  # no xml:space="preserve" on the second run


@pytest.mark.parametrize(
    ("cell", "strings", "expected"),
    [
        ('<c r="E2" t="e"><f>VLOOKUP(A2,B:B,2,0)</f><v>#N/A</v></c>', (), "#N/A"),  # calamine: empty
        ('<c r="E2" s="3"><v>0.5</v></c>', (), "12:00:00"),
        ('<c r="D2" s="2"><v>-1</v></c>', (), "1899-12-29"),  # calamine: a time of day
        ('<c r="D2" s="2"><v>0.9999999999</v></c>', (), "1900-01-01"),
        ('<c r="B2"><v>9007199254740993</v></c>', (), "9007199254740993"),  # beyond a float's integers
        ('<c r="D2" t="d"><v>2024-02-03T10:00:00</v></c>', (), "2024-02-03"),
        ('<c r="C2" t="s"><v>6</v></c>', (t("a_x0000_b"),), "a_x0000_b"),  # calamine: a NUL character
        ('<c r="C2" t="s"><v>6</v></c>', (RICH_RUNS,), "Team Zuid"),  # calamine: "TeamZuid"
        ('<c t="n"><v>12</v></c>', (), "12"),  # no reference: the cell after A2
        ('<c r="b2"><v>12</v></c>', (), "12"),
    ],
    ids=["error-cell", "time-of-day", "negative-date", "date-rounding-to-a-day", "integer-2-53",
         "iso-date-cell", "escape-x0000", "rich-text-run-spaces", "cell-without-reference",
         "lowercase-reference"],
)
def test_read_xlsx_what_calamine_reads_differently_is_streamed(
    tmp_path: Path, cell: str, strings: tuple[str, ...], expected: str
) -> None:
    table = read_streamed(one_cell(tmp_path, cell, strings))
    assert expected in table.rows[0]


@pytest.mark.parametrize(
    "cell",
    ['<c r="E2"><v>NaN</v></c>', '<c r="E2"><v>inf</v></c>', '<c r="E2" t="b"><v>true</v></c>',
     '<c r="E2" r="XFD1048576"><v>1</v></c>', '<c r="E2" t="n"><v>Zqxberg</v></c>'],
    ids=["nan", "inf", "boolean-true", "two-references", "text-in-number-cell"],
)
def test_read_xlsx_broken_cells_stay_unparseable(tmp_path: Path, cell: str) -> None:
    """calamine accepts 'NaN', 'inf' and 'true' (and would take the last of two references); the
    streaming reader refused them, and still does."""
    path = one_cell(tmp_path, cell)
    with pytest.raises(IrregularWorkbook):
        read_with_calamine(path, TRAJECTEN)
    assert rejected_codes(path) == ["FILE_UNPARSEABLE"]


def test_read_xlsx_east_asian_built_in_date_formats_are_streamed(tmp_path: Path) -> None:
    """numFmtId 30 is a date in a Japanese Excel; openpyxl knows it not and read the number."""
    styles = STYLES.replace('<cellXfs count="7">', '<cellXfs count="8">').replace(
        "</cellXfs>", '<xf numFmtId="30" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>')
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>5</v></c>', '<c r="D2" s="7"><v>45000</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER), t("C1")], styles=styles)
    assert read_streamed(path).rows == [["C1", None, None, "45000", None]]


def test_read_xlsx_a_far_away_cell_never_reaches_calamine(tmp_path: Path) -> None:
    """A1 and XFD1048576 in a 3 kB file: calamine would allocate the rectangle between them
    (17 billion cells, ~550 GB) and abort the whole process. The scan sees the reference first.
    Read in a child process, so that a regression fails this test instead of killing the run."""
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>5</v></c>') + row(1048576, '<c r="XFD1048576"><v>1</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER), t("C1")])
    assert path.stat().st_size < 5000
    child = subprocess.run(
        [sys.executable, "-c", FAR_CELL_CHILD, str(path)], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout) == {"irregular": True, "lines": [2, 1048576], "ragged": [1048576]}


FAR_CELL_CHILD = """
import json, sys
from pathlib import Path
from pseudonymise.read_xlsx import IrregularWorkbook, read_with_calamine, read_xlsx_table
path = Path(sys.argv[1])
try:
    read_with_calamine(path, "trajecten")
    irregular = False
except IrregularWorkbook:
    irregular = True
table = read_xlsx_table(path, "trajecten")
print(json.dumps({"irregular": irregular, "lines": table.lines, "ragged": table.ragged_lines}))
"""


def test_read_xlsx_a_sheet_larger_than_the_grid_budget_is_streamed(tmp_path: Path) -> None:
    data = HEADER_ROW + row(2, '<c r="A2" t="s"><v>5</v></c>') + row(40001, '<c r="CV40001"><v>1</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER), t("C1")])
    assert read_streamed(path).ragged_lines == [40001]  # 100 columns x 40,001 rows > 4 M cells


def test_read_xlsx_a_sheet_of_too_much_xml_is_streamed_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan holds the sheet's XML whole; above MAX_SHEET_XML_BYTES (declared in the zip)
    it is not read at all, and the streaming reader's constant memory takes over."""
    path = one_cell(tmp_path, '<c r="E2"><v>3</v></c>')
    assert read_both(path).rows == [["C1", None, None, None, "3"]]
    monkeypatch.setattr(read_xlsx, "MAX_SHEET_XML_BYTES", 500)
    assert read_streamed(path).rows == [["C1", None, None, None, "3"]]


def test_read_xlsx_a_header_below_many_formatted_rows_is_streamed(tmp_path: Path) -> None:
    """The scan keeps the first 64 row elements to find the header's physical end; a header
    further down is read by the streaming reader, with its sheet row numbers."""
    formatted = "".join(row(n, f'<c r="A{n}" s="5"/>') for n in range(1, 71))
    data = formatted + header_row(71) + row(72, '<c r="A72" t="s"><v>5</v></c>')
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": data, "metingen": HEADER_ROW},
                          [*map(t, HEADER), t("C1")])
    table = read_streamed(path)
    assert table.columns == HEADER and table.lines == [72]


def test_read_xlsx_a_dtd_in_the_sheet_is_streamed(tmp_path: Path) -> None:
    path = one_cell(tmp_path, '<c r="E2"><v>3</v></c>')
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"?><", b"?><!DOCTYPE worksheet><", 1)
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert read_streamed(path).rows == [["C1", None, None, None, "3"]]


def test_read_xlsx_an_empty_sheet_has_no_header_either_way(tmp_path: Path) -> None:
    path = excel_workbook(tmp_path / "export.xlsx", {"trajecten": HEADER_ROW, "metingen": ""},
                          list(map(t, HEADER)))
    assert rejected_codes(path, METINGEN) == ["FILE_NO_HEADER"]
    assert rejected_codes(path, "ontbreekt") == ["FILE_TABLE_MISSING"]

"""Reading `export.xlsx` into the same RawTable as CSV, so everything after reading is shared.
Numeric cells become their integer text (§9.7), date cells ISO text; row numbers are the sheet's.

Two readers, one result. calamine (Rust, `python-calamine`) reads a sheet whole, several times
faster than openpyxl; openpyxl streams it row by row, and is what this module always used. A sheet goes to calamine only when a scan of its XML finds nothing on which the two would
read differently and nothing that would make calamine's grid huge: error cells (calamine reads
`#N/A` as empty), cells without a reference, `_xHHHH_` escapes other than Excel's `_x000D_`, rich
text whose runs lose spaces, DTDs, a few cells spread over a million rows (calamine would allocate
the whole rectangle and abort the process). Everything else, and whatever calamine refuses, is read
by the streaming reader as before. tests/pseudonymise/test_read_xlsx.py reads each workbook shape
through both readers and compares the tables."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

import python_calamine
from python_calamine import SheetTypeEnum as SheetType

from pseudonymise.read import MAX_COLUMNS, MAX_ROWS, RawTable, check_size, normalise_header
from schemas.faults import DeliveryRejected, Fault

# An xlsx is a zip: a small file can expand to gigabytes. Refuse before opening it.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# calamine holds a sheet as one rectangle from its first to its last cell: measured, reading
# through it takes ~110 MB more a million cells than streaming. A provider-month is ~40 k cells;
# a sheet whose rectangle from A1 exceeds this is streamed instead.
MAX_GRID_CELLS = 2_000_000
# A sheet within that budget is under ~100 MB of XML; the scan holds a sheet's XML whole.
MAX_SHEET_XML_BYTES = 256 * 1024 * 1024
# Row elements kept from the scan to find where the header row physically ends (a header further
# down, below empty but formatted rows, is streamed).
HEADER_ROWS_KEPT = 64
# Excel's own limits: a reference beyond them is not Excel's, so the sheet is streamed.
EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
# Integers from 2**53 on are not all exact as the float calamine reads a number cell into.
_EXACT_INTEGERS = 2.0**53


def check_workbook_expansion(path: Path, table: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise DeliveryRejected(
            [Fault("FILE_UNPARSEABLE", table=table, detail="geen geldig Excel-bestand")]
        ) from None
    expanded = sum(m.file_size for m in members)
    compressed = max(sum(m.compress_size for m in members), 1)
    if expanded > MAX_UNCOMPRESSED_BYTES or expanded / compressed > MAX_COMPRESSION_RATIO:
        raise DeliveryRejected(
            [Fault("FILE_TOO_LARGE", table=table, detail="het Excel-bestand pakt uit tot te veel gegevens")]
        )


def read_xlsx_table(path: Path, table: str) -> RawTable:
    """The sheet `table` of the workbook (matched case-insensitively, surrounding spaces ignored)."""
    check_size(path, table)
    check_workbook_expansion(path, table)
    try:
        return read_with_calamine(path, table)
    except IrregularWorkbook:
        return read_with_openpyxl(path, table)


class IrregularWorkbook(Exception):
    """The sheet is not read by calamine; the streaming reader reads it. The reason names the kind
    of thing found, never a cell's contents."""


# --- calamine: the whole sheet at once ------------------------------------------------------------


def read_with_calamine(path: Path, table: str) -> RawTable:
    """The same RawTable as `read_with_openpyxl`, or IrregularWorkbook when the workbook has
    something on which the two could differ (or calamine cannot be trusted with it)."""
    workbook = _calamine(lambda: python_calamine.CalamineWorkbook.from_path(str(path)))
    try:
        listed = [
            (sheet.name, sheet.typ) for sheet in workbook.sheets_metadata
            if sheet.typ in (SheetType.WorkSheet, SheetType.ChartSheet)
        ]
        found = {name.strip().lower(): (name, typ) for name, typ in listed}.get(table)
        name = found[0] if found and found[1] == SheetType.WorkSheet else None  # a chart sheet holds no table
        scan = _scan_workbook(path, [listed_name for listed_name, _ in listed], name)
        if name is None or scan is None:
            raise DeliveryRejected([Fault("FILE_TABLE_MISSING", table=table)])
        sheet = _calamine(lambda: workbook.get_sheet_by_name(name))
        return _table_from_rows(table, _sheet_rows(sheet), scan)
    finally:
        workbook.close()


def _sheet_rows(sheet: python_calamine.CalamineSheet) -> Iterator[list[Any]]:
    """The sheet's rows from row 1 and column A, one Python row at a time (the whole grid as
    Python objects would take several times calamine's own memory)."""
    first = sheet.start  # (row, column) of the first cell; None when the sheet has no values
    if first is None:
        return
    padding = [""] * first[1]  # calamine's rows begin at the first column that has a value
    rows = _calamine(sheet.iter_rows)
    while (values := _calamine(lambda: next(rows, None))) is not None:
        yield padding + values if padding else values


_T = TypeVar("_T")


def _calamine(call: Callable[[], _T]) -> _T:
    """calamine's errors (and a Rust panic, which Python sees as a BaseException) mean: let the
    streaming reader judge the file, as it always did."""
    try:
        return call()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # pyo3's PanicException derives from BaseException
        raise IrregularWorkbook(f"calamine: {type(error).__name__}") from None


def _table_from_rows(table: str, grid: Iterable[list[Any]], scan: SheetScan) -> RawTable:
    """The loop of `read_with_openpyxl` on calamine's values, except where the header ends: from
    the XML, since calamine does not keep empty cells."""
    header: list[str] | None = None
    rows: list[list[str | None]] = []
    lines: list[int] = []
    ragged: list[int] = []
    for number, values in enumerate(grid, start=1):
        if scan.cr_escaped:
            cells = [_text_with_cr_escape(v) for v in values]
        else:  # most cells are text: stripped here, without a call
            cells = [(v.strip() or None) if type(v) is str else _text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            width = scan.header_width(number)
            if any(cells[width:]):
                raise IrregularWorkbook("header cells beyond the row's last cell")
            if width > MAX_COLUMNS:
                raise DeliveryRejected(
                    [Fault("FILE_TOO_LARGE", table=table, detail=f"meer dan {MAX_COLUMNS} kolommen")]
                )
            header = [normalise_header(c or "") for c in (cells + [None] * width)[:width]]
            continue
        if len(rows) >= MAX_ROWS:
            raise DeliveryRejected(
                [Fault("FILE_TOO_LARGE", table=table, detail=f"meer dan {MAX_ROWS} regels")]
            )
        if any(cells[len(header):]):  # values beyond the header: like a CSV row with extra fields
            ragged.append(number)
        cells = (cells + [None] * len(header))[: len(header)]
        rows.append(cells)
        lines.append(number)
    if header is None:
        raise DeliveryRejected([Fault("FILE_NO_HEADER", table=table)])
    return RawTable(table, header, rows, lines, ragged)


def _text(value: Any) -> str | None:  # Any: whatever calamine returns for a cell
    """What `_cell_text` makes of openpyxl's value, from calamine's value for the same cell."""
    kind = type(value)
    if kind is str:
        return value.strip() or None
    if kind is float:
        if not value.is_integer():
            if math.isfinite(value):
                return repr(value)
            raise IrregularWorkbook("a number cell that is not finite")  # openpyxl rejects 'NaN'
        if abs(value) < _EXACT_INTEGERS:
            return str(int(value))
        raise IrregularWorkbook("a number cell of 2**53 or more")  # openpyxl reads an exact int
    if kind is dt.datetime:
        return value.date().isoformat()
    if kind is dt.date:
        return value.isoformat()
    if kind in (bool, int, dt.timedelta):
        return str(value)
    # dt.time: calamine makes every date cell below 1 a time of day, also -3 or 0.9999999999,
    # which openpyxl reads as the dates they are.
    raise IrregularWorkbook(f"a {kind.__name__} cell")


def _text_with_cr_escape(value: Any) -> str | None:
    """calamine decodes Excel's `_x000D_` (a carriage return in a cell); openpyxl kept the seven
    characters. `scan_text` allows this only when every carriage return came from that escape."""
    if type(value) is str:
        return value.replace("\r", "_x000D_").strip() or None
    return _text(value)


# --- the scan: what calamine may be given -------------------------------------------------------
# Literal searches and counts only where they can be: a regex that starts with a class costs ten
# times a `bytes.count` here, and the scan must stay small beside calamine's own read.

_SHEET_DATA = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?sheetData>")
_PLAIN_CELL = re.compile(rb"<c[\s>]")
_ODD_CELL = re.compile(rb"<c[>\t\r\n]")
_PREFIXED_CELL = re.compile(rb":c[\s>]")  # also `</x:c>`, and in text ("mailto:c ...": streamed)
_SPACED_R = re.compile(rb"r\s+=")
_ERROR_OR_ISO_DATE = re.compile(rb' t="[ed]"')
_ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")
_CR_CHARACTER_REFERENCE = re.compile(rb"&#(?:0*13|[xX]0*[dD]);")
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[ \t\r\n]")
_TEXT_NODE = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?t(\s[^>]*)?>([^<]*)<")


@functools.cache
def _patterns(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    """Cell references, row numbers and plain booleans, as writers put them: `r` the first
    attribute, in double quotes (`<c r="B7" s="2" t="b">`), with the sheet's namespace prefix."""
    return (
        re.compile(b"<" + prefix + rb'c r="([A-Z]{1,3})([1-9][0-9]{0,6})"[ />]'),
        re.compile(b"<" + prefix + rb'row r="([1-9][0-9]{0,6})"[ />]'),
        re.compile(  # openpyxl rejects a boolean written `true`, calamine accepts it
            rb' t="b"(?: [^>]*)?>(?:<' + prefix + rb"f(?: [^>]*)?(?:/>|>[^<]*</" + prefix + rb"f>))?<"
            + prefix + rb"v>[01]</" + prefix + rb"v>"
        ),
    )


@dataclass(frozen=True)
class SheetScan:
    """What the sheet's XML says that calamine's grid does not: where the header row physically
    ends, and whether strings carried Excel's `_x000D_`."""

    head: bytes  # the first HEADER_ROWS_KEPT row elements of <sheetData>
    prefix: bytes  # its namespace prefix with the colon (`x:`), usually none
    cr_escaped: bool

    def header_width(self, row: int) -> int:
        """openpyxl's width of a row: the column of its last cell element, values or not (an
        empty but formatted cell right of the header names is a nameless column)."""
        cell, _, _ = _patterns(self.prefix)
        start = self.head.find(b"<" + self.prefix + b'row r="%d"' % row)
        if start < 0:
            raise IrregularWorkbook("the header row is not among the first rows, or not where its cells say")
        end = self.head.find(b"<" + self.prefix + b"row ", start + 1)
        cells = cell.findall(self.head, start, end if end >= 0 else len(self.head))
        columns = [_column_number(letters) for letters, _ in cells]
        if not cells or any(int(n) != row for _, n in cells) or columns != sorted(set(columns)):
            raise IrregularWorkbook("the header row's cells are out of order")
        return columns[-1]


def _scan_workbook(path: Path, sheet_names: list[str], wanted: str | None) -> SheetScan | None:
    """Check the workbook's parts (calamine and openpyxl find them by different routes) and scan
    the wanted worksheet; None when there is none."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = workbook_parts(archive)
            if list(parts.sheets) != sheet_names:
                raise IrregularWorkbook("the sheets are listed differently")
            if wanted is None:
                return None
            for member in (parts.shared_strings, parts.sheets[wanted]):
                if member and archive.getinfo(member).file_size > MAX_SHEET_XML_BYTES:
                    raise IrregularWorkbook("a part too large to hold whole")
            strings = archive.read(parts.shared_strings) if parts.shared_strings else b""
            xml = archive.read(parts.sheets[wanted])
    except (IrregularWorkbook, DeliveryRejected):
        raise
    except Exception as error:  # noqa: BLE001 - a bad CRC, a missing part: the streaming reader judges
        raise IrregularWorkbook(f"parts: {type(error).__name__}") from None
    cr_escaped = scan_text(strings, 0, len(strings))
    scan = scan_sheet(xml)
    return SheetScan(scan.head, scan.prefix, scan.cr_escaped or cr_escaped)


def scan_sheet(xml: bytes) -> SheetScan:
    """Raise IrregularWorkbook unless every cell element has a plain Excel reference as its first
    attribute and no other `r`, so the rectangle calamine allocates (A1 to the last reference) is
    known before it does, and that rectangle stays within MAX_GRID_CELLS. Also out: DTDs, comments
    and processing instructions; error, ISO date and non-0/1 boolean cells."""
    if b"<!" in xml or xml.count(b"<?") > bool(_DECLARATION.match(xml)):
        raise IrregularWorkbook("a DTD, comment, CDATA or processing instruction")
    opening = _SHEET_DATA.search(xml)
    prefix = opening.group(1) + b":" if opening and opening.group(1) else b""
    # calamine reads from the first element named sheetData: it must be this plain opening tag
    if opening is None or xml.find(b"sheetData") != opening.start() + 1 + len(prefix):
        raise IrregularWorkbook("no plain <sheetData>")  # an empty sheet's <sheetData/> too
    start, end = opening.end(), xml.find(b"</" + prefix + b"sheetData>", opening.end())
    if end < 0:
        raise IrregularWorkbook("no </sheetData>")
    cell, row, plain_boolean = _patterns(prefix)
    references = cell.findall(xml, start, end)
    # Each cell start tag is `<c` or `<prefix:c`, then a space or `>` (a tab or line end too).
    if prefix:
        tags = len(_PREFIXED_CELL.findall(xml, start, end)) - xml.count(b"</" + prefix + b"c>", start, end)
        other = _PLAIN_CELL.search(xml, start, end)
    else:
        tags = xml.count(b"<c ", start, end)
        other = _ODD_CELL.search(xml, start, end) or _PREFIXED_CELL.search(xml, start, end)
    if len(references) != tags or other:
        raise IrregularWorkbook("a cell without a plain Excel reference")
    rows = row.findall(xml, start, end)
    if xml.count(b"r=", start, end) != len(references) + len(rows) or _SPACED_R.search(xml, start, end):
        raise IrregularWorkbook("a second or differently written reference")  # calamine takes the last
    if _ERROR_OR_ISO_DATE.search(xml, start, end):
        raise IrregularWorkbook("an error or ISO date cell")  # calamine reads `#N/A` as empty
    booleans = xml.count(b' t="b"', start, end)
    if booleans and booleans != len(plain_boolean.findall(xml, start, end)):
        raise IrregularWorkbook("a boolean cell not written as 0 or 1")
    if references:
        letters, numbers = set(map(itemgetter(0), references)), set(map(itemgetter(1), references))
        last_column = _column_number(max(letters, key=lambda s: (len(s), s)))
        last_row = max(map(int, numbers))
        if last_column > EXCEL_MAX_COLUMN or last_row > EXCEL_MAX_ROW:
            raise IrregularWorkbook("a reference beyond Excel's sheet")
        if last_row * last_column > MAX_GRID_CELLS:
            raise IrregularWorkbook("a grid too large to hold whole")
    cr_escaped = scan_text(xml, start, end)
    head_end = start  # the header is found among the first rows: keep only those, not the sheet
    for _ in range(HEADER_ROWS_KEPT + 1):
        head_end = xml.find(b"<" + prefix + b"row ", head_end + 1, end)
        if head_end < 0:
            head_end = end
            break
    return SheetScan(xml[start:head_end], prefix, cr_escaped)


def scan_text(xml: bytes, start: int, end: int) -> bool:
    """Raise IrregularWorkbook where calamine would read the strings in xml[start:end]
    differently; True when they carry `_x000D_`, which `_text_with_cr_escape` restores."""
    escapes = set(_ESCAPE.findall(xml, start, end))
    if escapes - {b"_x000D_"} or (escapes and _CR_CHARACTER_REFERENCE.search(xml, start, end)):
        raise IrregularWorkbook("an _xHHHH_ escape")
    if xml.find(b"rPh", start, end) >= 0:
        raise IrregularWorkbook("phonetic text")
    if xml.find(b"<r>", start, end) >= 0 or xml.find(b":r>", start, end) >= 0:
        for attributes, text in _TEXT_NODE.findall(xml, start, end):  # calamine trims each run
            if b"preserve" not in attributes and text.strip() != text:  # without xml:space
                raise IrregularWorkbook("rich text with spaces at a run's edge")
    return bool(escapes)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


# --- the workbook's parts -------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkbookParts:
    sheets: dict[str, str]  # worksheet or chart sheet name -> zip member, in workbook order
    shared_strings: str | None


_WORKBOOK = "xl/workbook.xml"
_SHARED_STRINGS = "xl/sharedStrings.xml"
_STYLES = "xl/styles.xml"
# Built-in formats 27-36 and 50-58 are the dates of East Asian locales: openpyxl reads such a cell
# as its number, calamine as a date. No Dutch Excel writes them.
_EAST_ASIAN_DATE = re.compile(rb'numFmtId="(?:2[7-9]|3[0-6]|5[0-8])"')


def workbook_parts(archive: zipfile.ZipFile) -> WorkbookParts:
    """The parts where calamine (which follows the relationships) and openpyxl (which also reads
    the content types) are sure to read the same XML; IrregularWorkbook otherwise."""
    names = archive.namelist()
    folded = [name.replace("\\", "/").lower() for name in names]
    if len(set(folded)) != len(folded):
        raise IrregularWorkbook("two parts with one name")
    documents = [target for kind, target in _relationships(archive, "_rels/.rels") if kind == "officeDocument"]
    content_types = _content_types(archive)
    workbooks = {part for part, kind in content_types.items() if kind.endswith(".main+xml")}
    if [_member("", t) for t in documents] != [_WORKBOOK] or workbooks != {"/" + _WORKBOOK}:
        raise IrregularWorkbook("the workbook is not xl/workbook.xml")
    relationships = {
        rid: (kind, _member("xl/", target))
        for rid, kind, target in _identified_relationships(archive, "xl/_rels/workbook.xml.rels")
    }
    sheets: dict[str, str] = {}
    for element in _parse(archive, _WORKBOOK).iter():
        if _local(element.tag) != "sheet":
            continue
        ids = [value for key, value in element.attrib.items() if _local(key) == "id"]
        kind, member = relationships.get(ids[0] if len(ids) == 1 else "", ("", ""))
        if kind not in ("worksheet", "chartsheet") or member not in names:
            raise IrregularWorkbook("a sheet without its part, or a dialog sheet")  # openpyxl reads
        sheets[element.get("name", "")] = member  # a dialog sheet as a worksheet, calamine does not
    listed = {part for part, kind in content_types.items() if kind.endswith(".sharedStrings+xml")}
    if listed != ({"/" + _SHARED_STRINGS} if _SHARED_STRINGS in names else set()):
        raise IrregularWorkbook("the shared strings are not xl/sharedStrings.xml")
    styles = [member for kind, member in relationships.values() if kind == "styles"]
    if styles != ([_STYLES] if _STYLES in names else []):
        raise IrregularWorkbook("the styles are not xl/styles.xml")
    if styles and _EAST_ASIAN_DATE.search(archive.read(_STYLES)):
        raise IrregularWorkbook("an East Asian built-in date format")  # a date to calamine only
    return WorkbookParts(sheets, _SHARED_STRINGS if _SHARED_STRINGS in names else None)


def _parse(archive: zipfile.ZipFile, member: str) -> ElementTree.Element:
    data = archive.read(member)
    if b"<!" in data:  # no DTD, so no entity can expand
        raise IrregularWorkbook("a DTD in a workbook part")
    return ElementTree.fromstring(data)


def _identified_relationships(archive: zipfile.ZipFile, member: str) -> list[tuple[str, str, str]]:
    return [
        (element.get("Id", ""), element.get("Type", "").rsplit("/", 1)[-1], element.get("Target", ""))
        for element in _parse(archive, member).iter()
        if _local(element.tag) == "Relationship"
    ]


def _relationships(archive: zipfile.ZipFile, member: str) -> list[tuple[str, str]]:
    return [(kind, target) for _, kind, target in _identified_relationships(archive, member)]


def _content_types(archive: zipfile.ZipFile) -> dict[str, str]:
    return {
        element.get("PartName", ""): element.get("ContentType", "")
        for element in _parse(archive, "[Content_Types].xml").iter()
        if _local(element.tag) == "Override"
    }


def _member(base: str, target: str) -> str:
    """calamine's resolution: absolute targets from the root, others below the workbook's folder."""
    if ".." in target or "\\" in target:
        raise IrregularWorkbook("a part outside the workbook's folder")
    return target[1:] if target.startswith("/") else base + target


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


# --- openpyxl: streaming, the reader of record ----------------------------------------------------


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def read_with_openpyxl(path: Path, table: str) -> RawTable:
    """Row by row in constant memory; reads every workbook shape the way this module always has."""
    from openpyxl import load_workbook  # imported only for the workbooks calamine does not read

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise DeliveryRejected(
            [Fault("FILE_UNPARSEABLE", table=table, detail="geen geldig Excel-bestand")]
        ) from None
    try:
        sheets = {name.strip().lower(): name for name in workbook.sheetnames}
        if table not in sheets:
            raise DeliveryRejected([Fault("FILE_TABLE_MISSING", table=table)])
        sheet = workbook[sheets[table]]
        if not hasattr(sheet, "iter_rows"):  # a chart sheet holds no table
            raise DeliveryRejected([Fault("FILE_TABLE_MISSING", table=table)])
        sheet.reset_dimensions()  # exporters write stale <dimension>s; read what is really there
        header: list[str] | None = None
        rows: list[list[str | None]] = []
        lines: list[int] = []
        ragged: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not any(cells):
                continue
            if header is None:
                if len(cells) > MAX_COLUMNS:
                    raise DeliveryRejected(
                        [Fault("FILE_TOO_LARGE", table=table, detail=f"meer dan {MAX_COLUMNS} kolommen")]
                    )
                header = [normalise_header(c or "") for c in cells]
                continue
            if len(rows) >= MAX_ROWS:
                raise DeliveryRejected(
                    [Fault("FILE_TOO_LARGE", table=table, detail=f"meer dan {MAX_ROWS} regels")]
                )
            if any(cells[len(header):]):  # values beyond the header: like a CSV row with extra fields
                ragged.append(number)
            cells = (cells + [None] * len(header))[: len(header)]
            rows.append(cells)
            lines.append(number)
        if header is None:
            raise DeliveryRejected([Fault("FILE_NO_HEADER", table=table)])
        return RawTable(table, header, rows, lines, ragged)
    except DeliveryRejected:
        raise
    except Exception:  # noqa: BLE001 - malformed XML, bad CRC, entity bombs, ill-typed cells
        # The library's message can quote cell text, so only the kind of problem is told.
        raise DeliveryRejected(
            [Fault("FILE_UNPARSEABLE", table=table, detail="de inhoud van het werkblad is beschadigd")]
        ) from None
    finally:
        workbook.close()

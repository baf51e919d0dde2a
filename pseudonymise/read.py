"""Reading a steward's files as they really are (delivery-format.md §2). Raw values exist only
inside this module and `intake`; everything that leaves them is pseudonymised. Errors raised
here carry fault codes and places, never cell contents."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from schemas.delivery import METINGEN, TABLES, TRAJECTEN, canonical_header
from schemas.faults import DeliveryRejected, Fault

CSV_NAMES = {TRAJECTEN: "trajecten.csv", METINGEN: "metingen.csv"}
WORKBOOK_NAME = "export.xlsx"
MAX_FIELD_BYTES = 16 * 1024 * 1024
# Bounds that keep one hostile or mistaken file from exhausting the machine: a month of a large
# provider is a few MB, so these leave two orders of magnitude of room.
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_COLUMNS = 10_000

csv.field_size_limit(MAX_FIELD_BYTES)


@dataclass
class RawTable:
    """One table as text: normalised header, trimmed values (None for empty), and the physical
    line on which each record starts in the steward's file (§9.5)."""

    name: str
    columns: list[str]
    rows: list[list[str | None]]
    lines: list[int]
    ragged_lines: list[int] = field(default_factory=list)  # records with a wrong field count


@dataclass(frozen=True)
class DeliveryFiles:
    """Which files make up a delivery, and the bytes' identity for lineage and re-delivery."""

    folder: Path
    paths: dict[str, Path]  # table -> file (both tables point to the workbook for xlsx)
    ignored: tuple[str, ...] = ()

    @property
    def distinct_paths(self) -> list[Path]:
        return sorted(set(self.paths.values()))


def locate_delivery_files(folder: Path) -> DeliveryFiles:
    """File names are matched case-insensitively; anything else in the folder is ignored and
    reported by name."""
    links = [p.name for p in sorted(folder.iterdir()) if p.is_symlink()]
    if links:  # a link could point anywhere on the machine: never follow one
        raise DeliveryRejected([Fault("FILE_UNSAFE_PATH", detail=_printable(name)) for name in links])
    entries = {p.name.lower(): p for p in sorted(folder.iterdir()) if p.is_file()}
    csvs = {table: entries.get(name) for table, name in CSV_NAMES.items()}
    workbook = entries.get(WORKBOOK_NAME)
    known = set(CSV_NAMES.values()) | {WORKBOOK_NAME}
    ignored = tuple(
        p.name for name, p in entries.items() if name not in known and not name.startswith(".")
    )
    if workbook is not None and any(csvs.values()):
        raise DeliveryRejected([Fault("FILE_AMBIGUOUS")])
    if workbook is not None:
        return DeliveryFiles(folder, {TRAJECTEN: workbook, METINGEN: workbook}, ignored)
    missing = [table for table in TABLES if csvs[table] is None]
    if missing:
        raise DeliveryRejected([Fault("FILE_TABLE_MISSING", table=t) for t in missing])
    return DeliveryFiles(folder, {t: p for t, p in csvs.items() if p is not None}, ignored)


def _printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:60]


def check_size(path: Path, table: str) -> None:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DeliveryRejected(
            [Fault("FILE_TOO_LARGE", table=table, detail=f"meer dan {MAX_FILE_BYTES // 2**20} MB")]
        )


def decode_text(data: bytes, table: str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 under Python's strict codec (§9.10)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DeliveryRejected(
            [Fault("FILE_UNDECODABLE", table=table, detail=" (het is UTF-16, 'Unicode-tekst')")]
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        encodings: tuple[str, ...] = ("utf-8",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # binary data or UTF-16: not a text export
            break
        return text
    raise DeliveryRejected([Fault("FILE_UNDECODABLE", table=table)])


def sniff_delimiter(text: str) -> str:
    """`;` is the Dutch Excel default; `,` when the header has more commas than semicolons."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return "," if first_line.count(",") > first_line.count(";") else ";"


def normalise_header(name: str) -> str:
    return canonical_header(name)


def _too_many(table: str, what: str) -> DeliveryRejected:
    return DeliveryRejected([Fault("FILE_TOO_LARGE", table=table, detail=what)])


def read_csv_table(path: Path, table: str) -> RawTable:
    check_size(path, table)
    text = decode_text(path.read_bytes(), table)
    delimiter = sniff_delimiter(text)
    # strict: an unclosed quote is a parse error, not a field that swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[str | None]] = []
    lines: list[int] = []
    ragged: list[int] = []
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            cells = [cell.strip() or None for cell in record]  # trimmed; empty is absent
            if not any(cells):
                continue  # blank lines and trailing empty rows
            if header is None:
                if len(record) > MAX_COLUMNS:
                    raise _too_many(table, f"meer dan {MAX_COLUMNS} kolommen")
                header = [normalise_header(cell) for cell in record]
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many(table, f"meer dan {MAX_ROWS} regels")
            if len(cells) != len(header):
                ragged.append(start)
                cells = (cells + [None] * len(header))[: len(header)]
            rows.append(cells)
            lines.append(start)
    except csv.Error:
        raise DeliveryRejected(
            [Fault("FILE_UNPARSEABLE", table=table, detail=f"onjuiste opmaak rond regel {previous_end + 1}")]
        ) from None
    if header is None:
        raise DeliveryRejected([Fault("FILE_NO_HEADER", table=table)])
    return RawTable(table, header, rows, lines, ragged)


def read_delivery_tables(files: DeliveryFiles) -> dict[str, RawTable]:
    """One entry point for every export shape, so the workbook reader slots in beside CSV."""
    tables: dict[str, RawTable] = {}
    for table in TABLES:
        path = files.paths[table]
        if path.name.lower() == WORKBOOK_NAME:
            from pseudonymise.read_xlsx import read_xlsx_table

            tables[table] = read_xlsx_table(path, table)
        else:
            tables[table] = read_csv_table(path, table)
    return tables

"""Reading `export.xlsx` into the same RawTable as CSV, so everything after reading is shared.
Numeric cells become their integer text (§9.7), date cells ISO text; row numbers are the sheet's."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from pseudonymise.read import MAX_COLUMNS, MAX_ROWS, RawTable, check_size, normalise_header
from schemas.faults import DeliveryRejected, Fault


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


# An xlsx is a zip: a small file can expand to gigabytes. Refuse before opening it.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


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
    from openpyxl import load_workbook

    check_size(path, table)
    check_workbook_expansion(path, table)
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

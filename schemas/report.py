"""The steward's delivery report: a readable text and HTML page, and a CSV of every finding.
Only fault codes, places and values of non-identifying columns appear; text that a spreadsheet
would run as a formula is neutralised and HTML is escaped."""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from schemas.counts import DeliveryCounts
from schemas.delivery import METINGEN, TRAJECTEN
from schemas.faults import Level
from schemas.files import write_text_files
from schemas.text import neutralise_formula
from schemas.validation import DeliveryVerdict, Status

STATUS_DUTCH = {
    Status.ACCEPTED: "GEACCEPTEERD",
    Status.ACCEPTED_WITH_QUARANTINE: "GEACCEPTEERD, met afgekeurde regels",
    Status.REJECTED: "AFGEWEZEN",
}
LEVEL_DUTCH = {Level.FILE: "levering", Level.ROW: "regel", Level.WARNING: "melding"}
FIRST_ROWS_SHOWN = 5
CSV_COLUMNS = ["code", "niveau", "tabel", "regel", "kolom", "waarde", "melding"]


def erased_line(verdict: DeliveryVerdict) -> str:
    """Rows of clients erased on request, named apart from objections; said only when there are
    any (counts only: which client is not said)."""
    trajecten, metingen = (verdict.excluded_erased.get(t, 0) for t in (TRAJECTEN, METINGEN))
    if not trajecten and not metingen:
        return ""
    return f"; weggelaten omdat de cliënt op verzoek is gewist: {trajecten} trajecten, {metingen} metingen"


def verdict_summary(verdict: DeliveryVerdict) -> str:
    """The terminal and text report: verdict, counts per fault, the first rows of each."""
    lines = [
        f"Leveringsrapport {verdict.provider} {verdict.month}",
        f"Oordeel: {STATUS_DUTCH[verdict.status]}",
        "",
    ]
    if verdict.rows_read:
        counts = DeliveryCounts.from_verdict(verdict)  # the counts status and the run show
        lines.append(
            f"Gelezen: {counts.read_trajecten} trajecten, {counts.read_metingen} metingen; "
            f"afgekeurd: {counts.quarantined_trajecten} trajecten, {counts.quarantined_metingen} metingen; "
            f"weggelaten wegens bezwaar: {verdict.excluded_bezwaar.get(TRAJECTEN, 0)} trajecten, "
            f"{verdict.excluded_bezwaar.get(METINGEN, 0)} metingen"
            + erased_line(verdict) + "."
        )
        lines.append("")
    by_code: dict[str, list] = {}
    for fault in verdict.faults:
        by_code.setdefault(fault.code, []).append(fault)
    if not by_code:
        lines.append("Geen bevindingen.")
    for code, faults in by_code.items():
        lines.append(f"{code} ({LEVEL_DUTCH[faults[0].level]}): {len(faults)}x")
        for fault in faults[:FIRST_ROWS_SHOWN]:
            lines.append(f"  - {fault.message()}")
        if len(faults) > FIRST_ROWS_SHOWN:
            lines.append(f"  ... en nog {len(faults) - FIRST_ROWS_SHOWN} (zie bevindingen.csv)")
    return "\n".join(lines) + "\n"


def findings_csv(verdict: DeliveryVerdict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for fault in verdict.faults:
        writer.writerow(
            [
                neutralise_formula(str(cell)) if cell is not None else ""
                for cell in (
                    fault.code, LEVEL_DUTCH[fault.level], fault.table, fault.row, fault.column,
                    fault.value, fault.message(),
                )
            ]
        )
    return buffer.getvalue()


def findings_html(verdict: DeliveryVerdict) -> str:
    rows = "\n".join(
        "<tr>" + "".join(
            f"<td>{html.escape(str(cell)) if cell is not None else ''}</td>"
            for cell in (fault.code, LEVEL_DUTCH[fault.level], fault.table, fault.row, fault.column, fault.message())
        ) + "</tr>"
        for fault in verdict.faults
    )
    summary = html.escape(verdict_summary(verdict))
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<title>Leveringsrapport {html.escape(verdict.provider)} {html.escape(verdict.month)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}</style>
</head><body>
<h1>Leveringsrapport {html.escape(verdict.provider)} {html.escape(verdict.month)}</h1>
<pre>{summary}</pre>
<table><thead><tr><th>code</th><th>niveau</th><th>tabel</th><th>regel</th><th>kolom</th><th>melding</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def write_report(verdict: DeliveryVerdict, directory: Path) -> list[Path]:
    """Written beside each other and replaced whole on a re-delivery."""
    return write_text_files(
        directory,
        {
            "rapport.txt": verdict_summary(verdict),
            "bevindingen.csv": findings_csv(verdict),
            "rapport.html": findings_html(verdict),
        },
    )

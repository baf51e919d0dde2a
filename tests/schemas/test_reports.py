"""The steward's report (delivery-format.md §5, §8, §9.13): rapport.txt, rapport.html and
bevindingen.csv name codes, rows and columns, show values only of non-identifying columns, and
are safe to open in a spreadsheet or a browser."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from schemas.config import ConsortiumConfig
from schemas.delivery import IDENTIFYING_COLUMNS
from schemas.faults import CATALOGUE, Fault
from schemas.report import (
    CSV_COLUMNS,
    findings_csv,
    neutralise_formula,
    verdict_summary,
    write_report,
)
from schemas.validation import DeliveryVerdict, Status, ValidatedDelivery

if TYPE_CHECKING:
    from tests.schemas.conftest import DeliveryBuilder, Helpers

T, M = "trajecten", "metingen"
REPORT_FILES = {"rapport.txt", "rapport.html", "bevindingen.csv"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def report_texts(validated: ValidatedDelivery, directory: Path) -> dict[str, str]:
    paths = write_report(validated.verdict, directory)
    assert {p.name for p in paths} == REPORT_FILES
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader)
    assert header == CSV_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def leaked(canaries: tuple[str, ...], *texts: str) -> list[str]:
    """Canaries found in any text, compared without regard to case (codes are upper-cased)."""
    joined = "\n".join(texts).lower()
    return [c for c in canaries if c.lower() in joined]


def everything_said(validated: ValidatedDelivery, directory: Path) -> list[str]:
    """Every text that leaves the read step about this delivery: reports, messages, log lines,
    fault fields and the quarantine frame."""
    texts = list(report_texts(validated, directory).values())
    for fault in validated.verdict.faults:
        texts += [fault.message(), fault.log_line(), repr(fault)]
    texts.append(validated.quarantine.to_csv())
    texts.append(validated.quarantine.to_string())
    return texts


# --- the three files ------------------------------------------------------------------------------


def test_write_report_writes_text_html_and_csv(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    delivery.set(T, 3, geslacht="Q")
    delivery.set(M, 9, score="hoog")
    validated = delivery.inspect(config)
    directory = tmp_path / "rapporten" / "de-boog" / "2026-10"
    texts = report_texts(validated, directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted(REPORT_FILES)  # no temporary files
    assert "Oordeel: GEACCEPTEERD, met afgekeurde regels" in texts["rapport.txt"]
    assert "Leveringsrapport de-boog 2026-10" in texts["rapport.txt"]
    assert texts["rapport.html"].startswith("<!doctype html>")
    assert "Regel 5 van &#x27;trajecten&#x27;" in texts["rapport.html"]
    rows = csv_rows(texts["bevindingen.csv"])
    assert sorted((r["code"], r["tabel"], r["regel"], r["kolom"]) for r in rows) == [
        ("ROW_CODE_UNKNOWN", T, "5", "geslacht"),
        ("ROW_NUMBER_INVALID", M, "11", "score"),
    ]


def test_csv_row_numbers_match_the_faults_and_the_file(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    delivery.set(T, 0, opmerkingen="twee\nregels")  # later records start one line further on
    delivery.set(T, 6, hulpvorm="thuis")
    delivery.set(M, 30, informant="opa")
    validated = delivery.inspect(config)
    rows = csv_rows(report_texts(validated, tmp_path)["bevindingen.csv"])
    assert [int(r["regel"]) for r in rows] == [f.row for f in validated.verdict.faults]
    assert sorted((r["tabel"], r["regel"], r["kolom"]) for r in rows) == [
        (M, "32", "informant"),
        (T, "9", "hulpvorm"),
    ]
    assert delivery.line(T, 6) == 9
    assert all(f"Regel {r['regel']} van '{r['tabel']}'" in r["melding"] for r in rows)


def test_rewriting_a_report_replaces_it(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    delivery.set(T, 3, geslacht="Q")
    report_texts(delivery.inspect(config), tmp_path)
    delivery.set(T, 3, geslacht="V")
    texts = report_texts(delivery.inspect(config), tmp_path)
    assert "Geen bevindingen." in texts["rapport.txt"]
    assert csv_rows(texts["bevindingen.csv"]) == []


# --- no identifying value anywhere (§5, §9.13) ----------------------------------------------------


def spoil_everything(builder: DeliveryBuilder) -> None:
    """Many faults, each on a row full of canaries; still a valid delivery structure."""
    builder.add_column(T, "huisarts", value="Dr. Kanarie-Huisarts")  # not in the spec
    builder.add_column(M, "notitie", value="GEHEIM-OPMERKING")
    builder.set(T, 0, bsn="271828007")  # fails the elfproef
    builder.set(T, 1, geboortedatum="31-06-2012")  # no such date
    builder.set(T, 2, postcode="9999 ZZZ")  # malformed: warning
    builder.set(T, 3, geboortedatum="17-06-1990")  # 35 at the start
    builder.set(T, 4, clientnummer="")
    builder.set(T, 5, geslacht="Q", bezwaar="misschien")
    builder.add(T, like=6)  # duplicate traject_id
    builder.set(T, 8, bezwaar="ja")  # left out; only counted
    builder.set(M, 0, traject_id="TRJ-CANARY-404")
    builder.set(M, 1, score="hoog")
    builder.set(M, 2, instrument="ABC")
    builder.set(M, 3, clientnummer="")


EXTRA_CANARIES = ("271828007", "Dr. Kanarie-Huisarts", "31-06-2012", "9999 ZZZ", "17-06-1990", "TRJ-CANARY-404")


def test_no_identifying_value_in_reports_messages_logs_or_quarantine(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, tmp_path: Path
) -> None:
    spoil_everything(delivery)
    validated = delivery.inspect(config)
    found = {f.code for f in validated.verdict.faults}
    assert {
        "ROW_BSN_INVALID", "ROW_DATE_INVALID", "WARN_POSTCODE_INVALID", "ROW_AGE_OUT_OF_RANGE",
        "ROW_REQUIRED_EMPTY", "ROW_CODE_UNKNOWN", "ROW_TRAJECTORY_DUPLICATE",
        "ROW_TRAJECTORY_UNKNOWN", "ROW_NUMBER_INVALID", "ROW_INSTRUMENT_UNKNOWN",
        "WARN_COLUMN_DROPPED",
    } <= found
    canaries = check.canaries + EXTRA_CANARIES
    assert leaked(canaries, *everything_said(validated, tmp_path)) == []
    # the dropped columns are named, never their values
    dropped = {f.column for f in validated.verdict.faults if f.code == "WARN_COLUMN_DROPPED"}
    assert dropped == {"huisarts", "notitie"}
    # the quarantine holds pseudonyms and places only
    assert list(validated.quarantine.columns) == [
        "table_name", "row_number", "column_name", "reason_code", "trajectory_id", "local_client_id"
    ]
    assert all(t is None or str(t).startswith("TR1-") for t in validated.quarantine["trajectory_id"])
    assert all(c is None or str(c).startswith("LC1-") for c in validated.quarantine["local_client_id"])
    # nor do the valid rows carry any identifier
    assert leaked(canaries, validated.trajectories.to_csv(), validated.measurements.to_csv()) == []


@pytest.mark.parametrize("column", ["team", "bsn"])
def test_no_identifying_value_in_a_rejected_delivery(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, tmp_path: Path, column: str
) -> None:
    if column == "team":
        delivery.drop_column(T, "team")  # FILE_REQUIRED_COLUMN_MISSING
    else:
        for index in range(6):  # too many faults
            delivery.set(T, index, bsn="271828007", geslacht="Q")
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.REJECTED
    canaries = check.canaries + ("271828007",)
    assert leaked(canaries, *everything_said(validated, tmp_path)) == []


def test_value_of_a_non_identifying_column_is_shown(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    delivery.set(T, 3, geslacht="Q")
    delivery.set(M, 3, score="hoog")
    validated = delivery.inspect(config)
    texts = report_texts(validated, tmp_path)
    assert "onbekende waarde 'Q'" in texts["rapport.txt"]
    rows = {r["code"]: r for r in csv_rows(texts["bevindingen.csv"])}
    assert rows["ROW_CODE_UNKNOWN"]["waarde"] == "Q"
    assert rows["ROW_NUMBER_INVALID"]["waarde"] == "hoog"


@pytest.mark.parametrize("column", sorted(IDENTIFYING_COLUMNS) + ["huisarts", "age_at_start"])
def test_a_fault_never_keeps_a_value_of_an_identifying_column(column: str) -> None:
    fault = Fault("ROW_CODE_UNKNOWN", table=T, row=2, column=column, value="123")
    assert fault.value is None
    assert "123" not in fault.message()
    assert "123" not in fault.log_line()


def test_a_fault_without_a_column_keeps_no_value() -> None:
    assert Fault("ROW_FIELD_COUNT", table=T, row=2, value="Zwaluwstaart").value is None


@pytest.mark.parametrize("column", ["geslacht", "interventie", "hulpvorm", "informant", "score", "tevredenheid", "team"])
def test_a_fault_keeps_a_value_of_a_non_identifying_column(column: str) -> None:
    fault = Fault("ROW_CODE_UNKNOWN", table=T, row=2, column=column, value="WAARDE-Q")
    assert fault.value == "WAARDE-Q"
    assert "'WAARDE-Q'" in fault.message()
    assert "WAARDE-Q" not in fault.log_line()  # log lines never carry a value


def test_log_lines_are_english_and_carry_no_value() -> None:
    for code in CATALOGUE:
        fault = Fault(code, table=T, row=7, column="geslacht", value="WAARDE-X", detail="DETAIL-Y")
        line = fault.log_line()
        assert line.startswith(f"{code}: ")
        assert "WAARDE-X" not in line and "DETAIL-Y" not in line
        assert "line=7" in line


def test_no_identifier_from_a_row_with_shifted_columns(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, tmp_path: Path
) -> None:
    delivery.write()
    line = delivery.line(T, 15)
    fields = delivery.raw_line(T, line).split(";")
    del fields[3]  # the steward's export left out tussenvoegsel: everything after shifts left
    delivery.replace_line(T, line, ";".join(fields))
    validated = delivery.inspect(config, write=False)
    assert "ROW_FIELD_COUNT" in check.codes(validated)
    canaries = tuple(c for c in check.canaries if c != "van Kanarie")
    assert leaked(canaries, *everything_said(validated, tmp_path)) == []


def test_no_identifier_from_an_unterminated_quote(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, tmp_path: Path
) -> None:
    delivery.write()
    line = delivery.line(T, 18)
    fields = delivery.raw_line(T, line).split(";")
    fields[6] = '"' + fields[6]  # geslacht
    delivery.replace_line(T, line, ";".join(fields))
    validated = delivery.inspect(config, write=False)
    assert leaked(check.canaries, *everything_said(validated, tmp_path)) == []


# --- spreadsheet formulas and HTML ----------------------------------------------------------------


INJECTIONS = {
    "interventie": '=HYPERLINK("http://x.invalid";"klik")',  # short enough to be shown
    "geslacht": "+1",
    "hulpvorm": "@SUM(A1:A9)",
    "tevredenheid": "-1",
    "team": '=HYPERLINK("x")',
}


def test_formulas_are_neutralised_in_the_csv(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    lenient = dataclasses.replace(config, reject_share=1.0)
    for offset, (column, value) in enumerate(INJECTIONS.items()):
        delivery.set(T, 2 * offset + 1, **{column: value})
    delivery.add_column(T, "=cmd|' /C calc'!A0", value="x")  # a header name is shown too
    validated = delivery.inspect(lenient)
    rows = csv_rows(report_texts(validated, tmp_path)["bevindingen.csv"])
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_START), (row["code"], cell)
    values = {r["kolom"]: r["waarde"] for r in rows if r["waarde"]}
    assert values["interventie"] == "'" + INJECTIONS["interventie"]
    assert values["geslacht"] == "'+1"
    assert values["hulpvorm"] == "'@sum(a1:a9)"  # hulpvorm is matched lower-cased
    assert values["tevredenheid"] == "'-1"
    dropped = [r for r in rows if r["code"] == "WARN_COLUMN_DROPPED"]
    assert dropped[0]["kolom"].startswith("'=")


@pytest.mark.parametrize("start", FORMULA_START)
def test_every_formula_start_is_neutralised(start: str) -> None:
    assert neutralise_formula(start + "1+1") == "'" + start + "1+1"
    verdict = _verdict([Fault("WARN_COLUMN_DROPPED", table=T, column=start + "SUM(A1)")])
    (row,) = csv_rows(findings_csv(verdict))
    assert row["kolom"] == "'" + start + "SUM(A1)"
    assert not row["melding"].startswith(FORMULA_START)


def test_ordinary_text_is_left_alone() -> None:
    assert neutralise_formula("Team Noord") == "Team Noord"
    assert neutralise_formula("") == ""


def test_html_in_a_value_is_escaped(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    delivery.set(T, 3, interventie="<script>alert('x')</script>")
    delivery.add_column(T, "<img src=x onerror=alert(1)>", value="")
    validated = delivery.inspect(config)
    page = report_texts(validated, tmp_path)["rapport.html"]
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    # Header names are shown as canonicalised (lower case, separators as "_"), and escaped.
    assert "&lt;img_src=x_onerror=alert(1)&gt;" in page


# --- the summary ----------------------------------------------------------------------------------


def _verdict(faults: list[Fault], status: Status = Status.REJECTED) -> DeliveryVerdict:
    return DeliveryVerdict("de-boog", "2026-10", status, faults)


def test_summary_counts_faults_per_code(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    lenient = dataclasses.replace(config, reject_share=0.5)
    for index in range(7):
        delivery.set(T, index, geslacht="Q")
    delivery.set(T, 10, bsn="271828007")
    delivery.set(M, 0, score="999")
    validated = delivery.inspect(lenient)
    summary = verdict_summary(validated.verdict)
    assert validated.verdict.counts_by_code() == {
        "ROW_BSN_INVALID": 1, "ROW_CODE_UNKNOWN": 7, "ROW_SCORE_OUT_OF_RANGE": 1,
    }
    assert "ROW_CODE_UNKNOWN (regel): 7x" in summary
    assert "ROW_BSN_INVALID (regel): 1x" in summary
    assert "ROW_SCORE_OUT_OF_RANGE (regel): 1x" in summary
    assert "... en nog 2 (zie bevindingen.csv)" in summary  # the first five are listed
    assert summary.count("'geslacht' heeft de onbekende waarde 'Q'") == 5
    assert "Gelezen: 20 trajecten, 40 metingen; afgekeurd: 8 trajecten, 1 metingen" in summary
    assert "Oordeel: GEACCEPTEERD, met afgekeurde regels" in summary


def test_summary_of_a_clean_and_of_a_rejected_delivery(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    clean = verdict_summary(delivery.inspect(config).verdict)
    assert "Oordeel: GEACCEPTEERD\n" in clean
    assert "Geen bevindingen." in clean
    delivery.drop_column(M, "score")
    rejected = verdict_summary(delivery.inspect(config).verdict)
    assert "Oordeel: AFGEWEZEN" in rejected
    assert "FILE_REQUIRED_COLUMN_MISSING (levering): 1x" in rejected
    assert "verplichte kolom 'score'" in rejected


def test_summary_reports_objections_by_number_only(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 4, bezwaar="ja")
    summary = verdict_summary(delivery.inspect(config).verdict)
    assert "weggelaten wegens bezwaar: 1 trajecten, 2 metingen" in summary
    assert leaked(check.canaries, summary) == []

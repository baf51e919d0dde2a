"""Row-level faults (delivery-format.md §8, §9): each quarantines its row with a stable code, the
physical line in the steward's file (header = line 1) and the column; the rest loads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from schemas.config import ConsortiumConfig
from schemas.validation import Status

if TYPE_CHECKING:
    from tests.schemas.conftest import DeliveryBuilder, Helpers

T, M = "trajecten", "metingen"


def measurement(trajectory: int, j: int = 0) -> int:
    """Index of measurement j (0 = CBCL start, 1 = SDQ eind) of trajectory `trajectory`."""
    return 2 * trajectory + j


# --- the fixture itself ------------------------------------------------------------------------


def test_the_fixture_delivery_is_valid(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    from stdnum.nl import bsn

    assert all(bsn.is_valid(number) for number in check.bsns)
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED
    assert validated.verdict.faults == []
    assert len(validated.trajectories) == check.n_trajectories == 20
    assert len(validated.measurements) == check.n_measurements == 40
    assert validated.quarantine.empty
    assert list(validated.trajectories["row_number"]) == list(range(2, 22))


# --- bsn ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bsn", ["123456789", "271828007", "12345", "27182800A", "1234567890"])
def test_bsn_failing_the_elfproef_or_length(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, bsn: str) -> None:
    delivery.set(T, 4, bsn=bsn)
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 6, "ROW_BSN_INVALID", "bsn")


def test_bsn_of_eight_digits_is_left_padded(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 4, bsn="10000008")  # 010000008 passes the elfproef
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("startdatum", "31-02-2026"),
        ("startdatum", "2026/03/01"),
        ("startdatum", "1 maart 2026"),
        ("einddatum", "15-13-2026"),
        ("geboortedatum", "17-06-12"),
    ],
)
def test_trajectory_date_that_does_not_parse(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, column: str, value: str) -> None:
    delivery.set(T, 2, **{column: value})
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 4, "ROW_DATE_INVALID", column)
    # the unparsed date is not reported a second time as an empty required value
    assert not [f for f in validated.verdict.faults if f.code == "ROW_REQUIRED_EMPTY"]


def test_measurement_date_that_does_not_parse(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(M, 7, datum="gisteren")
    validated = delivery.inspect(config)
    check.quarantined(validated, M, 9, "ROW_DATE_INVALID", "datum")


def test_accepted_date_spellings(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 1, startdatum="1-3-2026", geboortedatum="2012-06-17")
    delivery.set(T, 2, einddatum="2026-10-15")
    delivery.set(M, 0, datum="5-3-2026")
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]


@pytest.mark.parametrize(
    ("table", "index", "column", "line"),
    [
        (T, 1, "startdatum", 3),  # odd row: no einddatum
        (T, 2, "einddatum", 4),
        (M, 5, "datum", 7),
    ],
)
def test_date_after_the_reporting_month(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, table: str, index: int, column: str, line: int) -> None:
    delivery.set(table, index, **{column: "01-11-2026"})
    validated = delivery.inspect(config)
    check.quarantined(validated, table, line, "ROW_DATE_AFTER_MONTH", column)


def test_last_day_of_the_month_is_not_after_it(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 1, startdatum="31-10-2026")
    delivery.set(T, 2, einddatum="31-10-2026")
    delivery.set(M, 5, datum="31-10-2026")
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED


@pytest.mark.parametrize(
    ("table", "index", "column", "value", "code"),
    [
        (T, 2, "einddatum", "15-10-3026", "ROW_DATE_AFTER_MONTH"),
        (M, 5, "datum", "10-10-2926", "ROW_DATE_AFTER_MONTH"),
        (T, 1, "startdatum", "01-03-0206", None),  # typo for 2026: some row fault, not a crash
    ],
)
def test_date_outside_pandas_range_is_a_row_fault(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, table: str, index: int, column: str, value: str, code: str | None
) -> None:
    delivery.set(table, index, **{column: value})
    validated = delivery.inspect(config)  # must not raise (check.py: "Never raises")
    line = index + 2
    assert validated.verdict.status is Status.ACCEPTED_WITH_QUARANTINE
    row_faults = [f for f in validated.verdict.faults if f.table == table and f.row == line]
    assert row_faults
    if code is not None:
        assert any(f.code == code and f.column == column for f in row_faults)


# --- §9.2: measurement dates relative to the trajectory ---------------------------------------


def test_measurement_before_start_or_after_end_is_valid(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(M, measurement(0, 0), datum="15-02-2026")  # intake before startdatum 01-03-2026
    delivery.set(M, measurement(0, 1), datum="30-10-2026")  # follow-up after einddatum 15-10-2026
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]
    assert len(validated.measurements) == 40


# --- einddatum rules ------------------------------------------------------------------------------


def test_end_before_start(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 6, startdatum="01-03-2026", einddatum="28-02-2026")
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 8, "ROW_END_BEFORE_START", "einddatum")


def test_end_on_the_start_day_is_valid(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 6, startdatum="01-03-2026", einddatum="01-03-2026")
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED


def test_end_without_reason(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 8, reden_einde="")
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 10, "ROW_END_REASON_MISSING", "reden_einde")


def test_reason_only_of_only_spaces_is_empty(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 8, reden_einde="   ")  # §9.12
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 10, "ROW_END_REASON_MISSING", "reden_einde")


# --- codes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "index", "column", "value"),
    [
        (T, 3, "geslacht", "Q"),
        (T, 3, "hulpvorm", "thuis"),
        (T, 3, "interventie", "EMDR"),  # not in [interventions] of consortium.toml
        (T, 4, "reden_einde", "6"),
        (T, 4, "reden_einde", "volgens plan"),
        (T, 4, "doelrealisatie", "4"),
        (T, 4, "doelrealisatie", "ja"),
        (T, 3, "bezwaar", "misschien"),
        (M, 3, "informant", "opa"),
        (M, 3, "meetmoment", "begin"),
    ],
)
def test_code_outside_its_list(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, table: str, index: int, column: str, value: str) -> None:
    delivery.set(table, index, **{column: value})
    validated = delivery.inspect(config)
    check.quarantined(validated, table, index + 2, "ROW_CODE_UNKNOWN", column)
    (fault,) = check.faults_with(validated, "ROW_CODE_UNKNOWN")
    # a code column identifies no one: its value may be shown to the steward (§8)
    assert fault.value is not None and fault.value.lower() == value.lower()
    assert value.lower() in fault.message().lower()


def test_codes_are_matched_without_regard_to_case(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 0, geslacht="v", hulpvorm="Ambulant", interventie="mst", bezwaar="NEE")
    delivery.set(T, 1, geslacht="m", hulpvorm="DAGHULP", interventie="Triple-P", bezwaar="Nee")
    delivery.set(M, 0, informant="Ouder", meetmoment="START")
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]
    first = validated.trajectories.set_index("row_number").loc[2]
    assert (first["geslacht"], first["hulpvorm"], first["interventie"]) == ("V", "ambulant", "MST")
    second = validated.trajectories.set_index("row_number").loc[3]
    assert second["interventie"] == "TRIPLE-P"
    meting = validated.measurements.set_index("row_number").loc[2]
    assert (meting["informant"], meting["meetmoment"]) == ("ouder", "start")


def test_bezwaar_ja_leaves_the_row_and_its_measurements_out(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 5, bezwaar="Ja")
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED
    assert len(validated.trajectories) == 19
    assert len(validated.measurements) == 38
    assert validated.verdict.excluded_bezwaar == {T: 1, M: 2}


# --- numbers and scores ---------------------------------------------------------------------------


@pytest.mark.parametrize("score", ["hoog", "7O", "1.234,5", "12 punten"])
def test_score_not_a_number(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, score: str) -> None:
    delivery.set(M, 11, score=score)
    validated = delivery.inspect(config)
    check.quarantined(validated, M, 13, "ROW_NUMBER_INVALID", "score")
    (fault,) = check.faults_with(validated, "ROW_NUMBER_INVALID")
    assert fault.value == score  # score identifies no one


@pytest.mark.parametrize(
    ("j", "score"),
    [(0, "101"), (0, "23"), (0, "100,5"), (1, "41"), (1, "-1")],  # CBCL totaal 24-100, SDQ 0-40
)
def test_score_outside_the_registry_range(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, j: int, score: str) -> None:
    index = measurement(9, j)
    delivery.set(M, index, score=score)
    validated = delivery.inspect(config)
    check.quarantined(validated, M, index + 2, "ROW_SCORE_OUT_OF_RANGE", "score")


def test_score_on_the_range_bounds_is_valid(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(M, measurement(1, 0), score="24")
    delivery.set(M, measurement(2, 0), score="100")
    delivery.set(M, measurement(1, 1), score="0")
    delivery.set(M, measurement(2, 1), score="40.0")
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED


@pytest.mark.parametrize(("instrument", "schaal"), [("XYZ", "totaal"), ("CBCL", "somatisch"), ("SDQ", "internaliseren")])
def test_instrument_and_scale_not_in_the_registry(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, instrument: str, schaal: str) -> None:
    delivery.set(M, 14, instrument=instrument, schaal=schaal)
    validated = delivery.inspect(config)
    check.quarantined(validated, M, 16, "ROW_INSTRUMENT_UNKNOWN", "instrument")


# --- age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geboortedatum",
    ["01-03-1998", "01-04-2026"],  # 28 on the start day 01-03-2026; born after the start
)
def test_age_at_start_outside_0_to_27(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, geboortedatum: str) -> None:
    delivery.set(T, 5, geboortedatum=geboortedatum)
    validated = delivery.inspect(config)
    (fault,) = check.faults_with(validated, "ROW_AGE_OUT_OF_RANGE")
    # the code reports the derived column; the steward's columns are geboortedatum/startdatum
    check.quarantined(validated, T, 7, "ROW_AGE_OUT_OF_RANGE", fault.column)
    assert fault.column in ("geboortedatum", "age_at_start")
    assert "geboortedatum" in fault.message()


def test_age_fault_names_a_steward_column_and_a_readable_message(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 5, geboortedatum="01-03-1998")
    validated = delivery.inspect(config)
    (fault,) = check.faults_with(validated, "ROW_AGE_OUT_OF_RANGE")
    assert "( jaar)" not in fault.message()
    assert fault.column in ("geboortedatum", "startdatum")


@pytest.mark.parametrize("geboortedatum", ["02-03-1998", "01-03-2026"])  # 27 and 0 at the start
def test_age_27_and_0_are_within_range(delivery: DeliveryBuilder, config: ConsortiumConfig, geboortedatum: str) -> None:
    delivery.set(T, 5, geboortedatum=geboortedatum)
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED


# --- trajectories ---------------------------------------------------------------------------------


def test_measurement_of_a_trajectory_not_in_trajecten(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(M, 17, traject_id="TRJ-CANARY-999")
    validated = delivery.inspect(config)
    check.quarantined(validated, M, 19, "ROW_TRAJECTORY_UNKNOWN", "traject_id")


def test_measurement_of_a_quarantined_trajectory_is_not_unknown(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    """§9.4: the traject_id occurs in this delivery's trajecten, even though its row is bad."""
    delivery.set(T, 3, geslacht="Q")
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 5, "ROW_CODE_UNKNOWN", "geslacht")
    assert "ROW_TRAJECTORY_UNKNOWN" not in check.codes(validated)
    assert len(validated.measurements) == 40
    assert validated.verdict.quarantined == {T: 1, M: 0}


def test_traject_id_twice_quarantines_both_rows(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    copy = delivery.add(T, like=7)  # a 21st row with traject_id TRJ-CANARY-8 again
    validated = delivery.inspect(config)
    first, second = delivery.line(T, 7), delivery.line(T, copy)
    assert (first, second) == (9, 22)
    for line in (first, second):
        check.quarantined(validated, T, line, "ROW_TRAJECTORY_DUPLICATE", "traject_id", loaded=19)
    assert validated.verdict.quarantined[T] == 2
    # its measurements are not of an unknown trajectory
    assert "ROW_TRAJECTORY_UNKNOWN" not in check.codes(validated)


# --- tevredenheid ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["11", "0", "10,5", "-3"])
def test_satisfaction_outside_1_to_10(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, value: str) -> None:
    delivery.set(T, 10, tevredenheid=value)
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 12, "ROW_SATISFACTION_OUT_OF_RANGE", "tevredenheid")


def test_satisfaction_not_a_number(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 10, tevredenheid="goed")
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 12, "ROW_NUMBER_INVALID", "tevredenheid")


@pytest.mark.parametrize(("value", "expected"), [("7,5", 7.5), ("7.5", 7.5), ("1", 1.0), ("10", 10.0)])
def test_satisfaction_with_decimals_is_valid(delivery: DeliveryBuilder, config: ConsortiumConfig, value: str, expected: float) -> None:
    delivery.set(T, 10, tevredenheid=value)
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED
    assert validated.trajectories.set_index("row_number").loc[12, "tevredenheid"] == expected


# --- required values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "index", "column"),
    [
        (T, 12, "team"),
        (T, 12, "geslacht"),
        (T, 12, "interventie"),
        (T, 12, "hulpvorm"),
        (T, 12, "startdatum"),
        (T, 12, "geboortedatum"),
        (T, 12, "clientnummer"),
        (T, 12, "traject_id"),
        (M, 12, "instrument"),
        (M, 12, "schaal"),
        (M, 12, "informant"),
        (M, 12, "meetmoment"),
        (M, 12, "datum"),
        (M, 12, "score"),
        (M, 12, "clientnummer"),
        (M, 12, "traject_id"),
    ],
)
def test_required_value_empty(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, table: str, index: int, column: str) -> None:
    delivery.set(table, index, **{column: ""})
    if table == T and column == "traject_id":
        # its measurements would otherwise be of an unknown trajectory as well
        delivery.rows[M] = [m for m in delivery.rows[M] if m["traject_id"] != "TRJ-CANARY-13"]
    validated = delivery.inspect(config)
    if table == T and column == "traject_id":
        assert validated.verdict.status is Status.ACCEPTED_WITH_QUARANTINE
        assert [f.code for f in validated.verdict.faults] == ["ROW_REQUIRED_EMPTY"]
        assert validated.verdict.faults[0].row == 14
        assert len(validated.trajectories) == 19
        return
    check.quarantined(validated, table, 14, "ROW_REQUIRED_EMPTY", column)


def test_value_of_only_spaces_is_empty(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 12, team="    ")
    validated = delivery.inspect(config)
    check.quarantined(validated, T, 14, "ROW_REQUIRED_EMPTY", "team")


def test_values_are_trimmed(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 0, geslacht="  V ", team="  Team Zuid  ", startdatum=" 01-03-2026 ")
    delivery.set(M, 0, score=" 70 ")
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED
    assert validated.trajectories.loc[0, "team"] == "zuid"  # the registered code of "Team Zuid"


# --- field count ----------------------------------------------------------------------------------


def test_row_with_a_field_too_few(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.write()
    line = delivery.line(T, 15)
    raw = delivery.raw_line(T, line)
    delivery.replace_line(T, line, raw.rsplit(";", 1)[0])  # drop the last field (bezwaar)
    validated = delivery.inspect(config, write=False)
    check.quarantined(validated, T, 17, "ROW_FIELD_COUNT", None)


def test_row_with_a_field_too_many(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.write()
    line = delivery.line(M, 20)
    delivery.replace_line(M, line, delivery.raw_line(M, line) + ";extra")
    validated = delivery.inspect(config, write=False)
    check.quarantined(validated, M, 22, "ROW_FIELD_COUNT", None)


def test_copy_of_the_header_inside_the_data_is_a_faulty_row(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    """§9.9: only a column name twice in the header is a file fault."""
    index = delivery.add(T, **{name: name for name in delivery.columns[T]})
    validated = delivery.inspect(config)
    line = delivery.line(T, index)
    assert line == 22
    assert "FILE_DUPLICATE_COLUMN" not in check.codes(validated)
    check.quarantined(validated, T, line, "ROW_CODE_UNKNOWN", "geslacht", loaded=20)


# --- row numbers are physical lines (§9.5) --------------------------------------------------------


def test_row_number_after_a_multi_line_field(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.set(T, 0, opmerkingen="eerste regel\ntweede regel\nderde regel")
    delivery.set(T, 5, geslacht="Q")  # record 6 starts on line 9, not 7
    validated = delivery.inspect(config)
    assert delivery.line(T, 5) == 9
    check.quarantined(validated, T, 9, "ROW_CODE_UNKNOWN", "geslacht")


def test_row_numbers_with_crlf_line_endings_and_blank_lines(delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers) -> None:
    delivery.line_ending = "\r\n"
    delivery.set(M, 3, score="999")
    delivery.write()
    delivery.replace_line(M, 3, "\r\n  ;\r\n" + delivery.raw_line(M, 3))  # two blank lines
    validated = delivery.inspect(config, write=False)
    assert validated.verdict.rows_read == {T: 20, M: 40}
    check.quarantined(validated, M, 7, "ROW_SCORE_OUT_OF_RANGE", "score")

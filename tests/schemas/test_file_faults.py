"""File-level faults (delivery-format.md §8, §9): each rejects the whole delivery with a stable
code, before or instead of loading any row."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from schemas.check import folder_faults
from schemas.config import ConsortiumConfig, load_config
from schemas.faults import Level
from schemas.teams import TeamRegister
from schemas.validation import Status, ValidatedDelivery

if TYPE_CHECKING:
    from tests.schemas.conftest import DeliveryBuilder

T, M = "trajecten", "metingen"
DEFAULTS = Path(__file__).resolve().parents[2] / "schemas" / "defaults"


def file_codes(validated: ValidatedDelivery) -> list[str]:
    return [f.code for f in validated.verdict.faults if f.level is Level.FILE]


def assert_rejected(validated: ValidatedDelivery, code: str, table: str | None = None) -> None:
    verdict = validated.verdict
    assert verdict.status is Status.REJECTED, [f.log_line() for f in verdict.faults]
    assert not verdict.accepted
    matching = [f for f in verdict.file_faults if f.code == code]
    assert matching, [f.log_line() for f in verdict.faults]
    if table is not None:
        assert any(f.table == table for f in matching), [f.table for f in matching]
    for fault in matching:
        assert fault.level is Level.FILE
        assert fault.message()  # a plain-language message for the steward


def assert_rejected_before_reading(validated: ValidatedDelivery) -> None:
    assert validated.trajectories.empty
    assert validated.measurements.empty
    assert validated.quarantine.empty


# --- folder names (§1, §9.1, §9.14) ---------------------------------------------------------------


def test_unknown_provider_says_how_to_register(make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig) -> None:
    builder = make_delivery(provider="nieuw-jeugdhuis")
    validated = builder.inspect(config)
    assert_rejected(validated, "FILE_UNKNOWN_PROVIDER")
    assert_rejected_before_reading(validated)
    (fault,) = validated.verdict.file_faults
    message = fault.message()
    assert "consortium.toml" in message
    assert "[providers]" in message
    assert "nieuw-jeugdhuis" in message


def test_registered_providers_are_accepted(make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig) -> None:
    builder = make_delivery(provider="horizon-jeugd")
    assert builder.inspect(config).verdict.status is Status.ACCEPTED


@pytest.mark.parametrize("provider", ["De Boog", "DE-BOOG", "x", "de_boog", "a" * 41, "de.boog",
                                      "-boog"])  # a leading '-' would be a formula in a spreadsheet
def test_invalid_provider_folder(make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig, provider: str) -> None:
    validated = make_delivery(provider=provider).inspect(config)
    assert_rejected(validated, "FILE_INVALID_PROVIDER_FOLDER")
    assert "FILE_UNKNOWN_PROVIDER" not in file_codes(validated)
    assert_rejected_before_reading(validated)


@pytest.mark.parametrize("month", ["2025-3", "maart", "2025-13", "2025-00", "202503", "2025_03", "2025-03-01"])
def test_invalid_month_folder(make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig, month: str) -> None:
    validated = make_delivery(month=month).inspect(config)
    assert_rejected(validated, "FILE_INVALID_MONTH_FOLDER")
    assert_rejected_before_reading(validated)


def test_month_folder_of_year_zero_is_rejected_not_raised(
    make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig
) -> None:
    validated = make_delivery(month="0000-01").inspect(config)
    assert validated.verdict.status is Status.REJECTED


def test_month_in_the_future(make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig) -> None:
    validated = make_delivery(month="2026-12").inspect(config, today=date(2026, 11, 25))
    assert_rejected(validated, "FILE_MONTH_IN_FUTURE")
    assert_rejected_before_reading(validated)


def test_next_year_is_in_the_future(config: ConsortiumConfig) -> None:
    faults = folder_faults("de-boog", "2027-01", config, date(2026, 12, 31))
    assert [f.code for f in faults] == ["FILE_MONTH_IN_FUTURE"]


@pytest.mark.parametrize("today", [date(2026, 11, 1), date(2026, 11, 30)])
def test_the_current_month_is_accepted(make_delivery: Callable[..., DeliveryBuilder], config: ConsortiumConfig, today: date) -> None:
    """§9.14: only a month after the current calendar month is in the future."""
    validated = make_delivery(month="2026-11").inspect(config, today=today)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]


def test_folder_faults_of_both_names_are_reported_together(config: ConsortiumConfig) -> None:
    faults = folder_faults("Onbekend", "maart", config, date(2026, 11, 25))
    assert [f.code for f in faults] == ["FILE_INVALID_PROVIDER_FOLDER", "FILE_INVALID_MONTH_FOLDER"]


# --- which files (§1) -----------------------------------------------------------------------------


@pytest.mark.parametrize("present", [T, M])
def test_only_one_of_the_two_tables(delivery: DeliveryBuilder, config: ConsortiumConfig, present: str) -> None:
    delivery.write(tables=[present])
    validated = delivery.inspect(config, write=False)
    missing = M if present == T else T
    assert_rejected(validated, "FILE_TABLE_MISSING", table=missing)
    assert_rejected_before_reading(validated)


def test_empty_folder_misses_both_tables(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.folder.mkdir(parents=True)
    validated = delivery.inspect(config, write=False)
    assert_rejected(validated, "FILE_TABLE_MISSING")
    assert {f.table for f in validated.verdict.file_faults} == {T, M}


def test_file_names_are_matched_without_regard_to_case(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.write()
    delivery.path(T).rename(delivery.folder / "Trajecten.CSV")
    assert delivery.inspect(config, write=False).verdict.status is Status.ACCEPTED


def test_csv_files_and_a_workbook_are_ambiguous(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.write()
    (delivery.folder / "export.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    validated = delivery.inspect(config, write=False)
    assert_rejected(validated, "FILE_AMBIGUOUS")
    assert_rejected_before_reading(validated)


def test_another_file_in_the_folder_is_only_a_warning(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.write()
    (delivery.folder / "toelichting.txt").write_text("zie mail")
    validated = delivery.inspect(config, write=False)
    assert validated.verdict.status is Status.ACCEPTED
    assert [f.code for f in validated.verdict.faults] == ["WARN_FILE_IGNORED"]


# --- decoding and parsing (§2, §9.10) -------------------------------------------------------------


@pytest.mark.parametrize("byte", [b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"])
def test_undecodable_bytes(delivery: DeliveryBuilder, config: ConsortiumConfig, byte: bytes) -> None:
    delivery.write()
    data = delivery.path(M).read_bytes().replace(b"ouder", b"oud" + byte + b"r", 1)
    delivery.path(M).write_bytes(data)
    validated = delivery.inspect(config, write=False)
    assert_rejected(validated, "FILE_UNDECODABLE", table=M)
    assert_rejected_before_reading(validated)


def test_windows_1252_is_decoded(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.encoding = "cp1252"
    delivery.set(T, 0, team="Team Zuid-Oost é€")
    own = TeamRegister({**config.teams["de-boog"].names, "zuid-oost": "Team Zuid-Oost é€"})
    registered = {**config.teams, "de-boog": own}
    validated = delivery.inspect(dataclasses.replace(config, teams=registered))
    assert validated.verdict.status is Status.ACCEPTED
    # the decoded text is exactly the registered name: stored as its code
    assert validated.trajectories.loc[0, "team"] == "zuid-oost"


def test_utf8_with_bom_and_comma_delimiter_are_read(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.encoding = "utf-8-sig"
    delivery.delimiter = ","
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]
    assert len(validated.trajectories) == 20


def test_binary_file_with_nul_bytes_is_undecodable(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.write()
    delivery.path(T).write_bytes(delivery.path(T).read_bytes().replace(b"Team", b"Te\x00m", 1))
    assert_rejected(delivery.inspect(config, write=False), "FILE_UNDECODABLE", table=T)


def test_unparseable_file(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    """Python's csv module (non-strict) raises for few inputs; a field above the reader's 16 MiB
    field limit is one of them."""
    delivery.set(T, 3, opmerkingen="x" * (16 * 1024 * 1024 + 10))
    validated = delivery.inspect(config)
    assert_rejected(validated, "FILE_UNPARSEABLE", table=T)
    assert_rejected_before_reading(validated)


def test_unterminated_quote_is_unparseable(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.rows[M] = delivery.rows[M][:30]  # no measurements of trajectories 16-20
    delivery.write()
    line = delivery.line(T, 15)
    delivery.replace_line(T, line, delivery.raw_line(T, line).replace("Team Noord", '"Team Noord'))
    validated = delivery.inspect(config, write=False)
    # Today: 16 of 20 rows are read, lines 18-21 are gone without a finding, and the delivery is
    # accepted with one ROW_FIELD_COUNT (1 of 16 rows quarantined).
    assert_rejected(validated, "FILE_UNPARSEABLE", table=T)


# --- header (§2, §9.9) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column"),
    [(T, "team"), (T, "traject_id"), (T, "geboortedatum"), (T, "clientnummer"), (M, "score"), (M, "traject_id")],
)
def test_required_column_missing(delivery: DeliveryBuilder, config: ConsortiumConfig, table: str, column: str) -> None:
    delivery.drop_column(table, column)
    validated = delivery.inspect(config)
    assert_rejected(validated, "FILE_REQUIRED_COLUMN_MISSING", table=table)
    (fault,) = validated.verdict.file_faults
    assert fault.column == column
    assert column in fault.message()
    assert_rejected_before_reading(validated)


@pytest.mark.parametrize("column", ["bsn", "einddatum", "reden_einde", "tevredenheid", "bezwaar", "voornaam"])
def test_optional_column_may_be_absent(delivery: DeliveryBuilder, config: ConsortiumConfig, column: str) -> None:
    if column in ("einddatum", "reden_einde"):
        for row in delivery.rows[T]:
            row.update(einddatum="", reden_einde="")
    delivery.drop_column(T, column)
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]


def test_headers_are_case_insensitive_and_trimmed(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.rename_column(T, "traject_id", "  Traject_ID ")
    delivery.rename_column(M, "score", "SCORE")
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED


@pytest.mark.parametrize(("first", "second"), [("team", "team"), ("team", " Team "), ("score", "Score")])
def test_column_name_twice_in_the_header(delivery: DeliveryBuilder, config: ConsortiumConfig, first: str, second: str) -> None:
    table = M if first == "score" else T
    delivery.add_column(table, second, value="")
    validated = delivery.inspect(config)
    assert_rejected(validated, "FILE_DUPLICATE_COLUMN", table=table)
    (fault,) = [f for f in validated.verdict.file_faults if f.code == "FILE_DUPLICATE_COLUMN"]
    assert fault.column == first
    assert_rejected_before_reading(validated)


def test_header_line_copied_into_the_data_is_not_a_file_fault(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    index = delivery.add(M, **{name: name for name in delivery.columns[M]})
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED_WITH_QUARANTINE
    assert file_codes(validated) == []
    assert validated.verdict.quarantined == {T: 0, M: 1}
    assert {f.row for f in validated.verdict.faults} == {delivery.line(M, index)}


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  ;  \r\n", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("table", [T, M])
def test_file_without_a_header(delivery: DeliveryBuilder, config: ConsortiumConfig, table: str, content: bytes) -> None:
    delivery.write()
    delivery.path(table).write_bytes(content)
    validated = delivery.inspect(config, write=False)
    assert_rejected(validated, "FILE_NO_HEADER", table=table)
    assert_rejected_before_reading(validated)


# --- data rows (§9.8) -----------------------------------------------------------------------------


def test_trajecten_without_data_rows(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.clear_rows(T).clear_rows(M)
    validated = delivery.inspect(config)
    assert_rejected(validated, "FILE_NO_DATA_ROWS", table=T)
    assert_rejected_before_reading(validated)


def test_trajecten_with_only_blank_lines_after_the_header(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.clear_rows(T).clear_rows(M)
    delivery.write()
    delivery.path(T).write_text(delivery.path(T).read_text() + "\n;;;\n\n", encoding="utf-8")
    assert_rejected(delivery.inspect(config, write=False), "FILE_NO_DATA_ROWS", table=T)


def test_metingen_with_only_a_header_is_accepted(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    """A month without questionnaires (§9.8)."""
    delivery.clear_rows(M)
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED, [f.log_line() for f in validated.verdict.faults]
    assert len(validated.trajectories) == 20
    assert validated.measurements.empty
    assert validated.verdict.rows_read == {T: 20, M: 0}


# --- too many faults (§8, §9.3) -------------------------------------------------------------------


def spoil(builder: DeliveryBuilder, table: str, indices: range | list[int]) -> None:
    for index in indices:
        if table == T:
            builder.set(T, index, geslacht="Q")
        else:
            builder.set(M, index, score="999")


@pytest.mark.parametrize(
    ("table", "bad", "status"),
    [
        (T, 2, Status.ACCEPTED_WITH_QUARANTINE),  # 2 of 20: exactly 10 %, not more
        (T, 3, Status.REJECTED),  # 15 %
        (M, 4, Status.ACCEPTED_WITH_QUARANTINE),  # 4 of 40: exactly 10 %
        (M, 5, Status.REJECTED),  # 12.5 %
    ],
)
def test_share_of_quarantined_rows_per_table(delivery: DeliveryBuilder, config: ConsortiumConfig, table: str, bad: int, status: Status) -> None:
    spoil(delivery, table, range(bad))
    validated = delivery.inspect(config)
    assert validated.verdict.status is status
    assert validated.verdict.quarantined[table] == bad
    if status is Status.REJECTED:
        assert_rejected(validated, "FILE_TOO_MANY_FAULTS", table=table)
        (fault,) = validated.verdict.file_faults
        assert fault.table == table
    else:
        assert file_codes(validated) == []


def test_threshold_applies_per_table_not_to_all_rows(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    """3 of 20 trajecten (15 %) is too many even though 3 of all 60 rows is only 5 %."""
    spoil(delivery, T, range(3))
    assert_rejected(delivery.inspect(config), "FILE_TOO_MANY_FAULTS", table=T)


def test_both_rows_of_a_duplicated_traject_id_count(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.add(T, like=4)  # 21 rows, the 5th and 21st quarantined: 2 of 21
    assert delivery.inspect(config).verdict.status is Status.ACCEPTED_WITH_QUARANTINE
    spoil(delivery, T, [10])  # 3 of 21 (14 %); counting the pair once would be 2 of 21 (9.5 %)
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined[T] == 3
    assert_rejected(validated, "FILE_TOO_MANY_FAULTS", table=T)


def test_several_faults_in_one_row_count_it_once(delivery: DeliveryBuilder, config: ConsortiumConfig) -> None:
    delivery.set(T, 0, geslacht="Q", hulpvorm="thuis", tevredenheid="11")
    delivery.set(T, 1, geslacht="Q", bsn="123456789", startdatum="31-02-2026")
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined[T] == 2
    assert validated.verdict.status is Status.ACCEPTED_WITH_QUARANTINE


@pytest.mark.parametrize(("share", "bad", "status"), [(0.25, 5, Status.ACCEPTED_WITH_QUARANTINE), (0.25, 6, Status.REJECTED), (0.0, 1, Status.REJECTED)])
def test_reject_share_is_configurable(delivery: DeliveryBuilder, config: ConsortiumConfig, share: float, bad: int, status: Status) -> None:
    custom = dataclasses.replace(config, reject_share=share)
    spoil(delivery, T, range(bad))
    validated = delivery.inspect(custom)
    assert validated.verdict.status is status
    assert validated.verdict.reject_share == share
    assert ("FILE_TOO_MANY_FAULTS" in file_codes(validated)) is (status is Status.REJECTED)


def test_reject_share_from_consortium_toml(delivery: DeliveryBuilder, config: ConsortiumConfig, tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(DEFAULTS, config_dir)
    toml = config_dir / "consortium.toml"
    text = toml.read_text(encoding="utf-8")
    assert "reject_share = 0.10" in text
    toml.write_text(text.replace("reject_share = 0.10", "reject_share = 0.2"), encoding="utf-8")
    custom = load_config(config_dir)
    assert custom.reject_share == 0.2
    spoil(delivery, T, range(4))  # 20 %: not more than 0.2
    assert delivery.inspect(custom).verdict.status is Status.ACCEPTED_WITH_QUARANTINE
    assert delivery.inspect(config).verdict.status is Status.REJECTED

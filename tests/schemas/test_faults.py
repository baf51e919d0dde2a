"""The fault catalogue itself: stable codes, Dutch messages, and what a fault may show."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from schemas.check import folder_faults
from schemas.config import ConsortiumConfig
from schemas.faults import CATALOGUE, Fault, Level


def test_fault_value_too_long_or_multiline_is_not_shown() -> None:
    assert Fault("ROW_CODE_UNKNOWN", table="trajecten", row=2, column="team", value="x" * 40).value == "x" * 40
    assert Fault("ROW_CODE_UNKNOWN", table="trajecten", row=2, column="team", value="x" * 41).value is None
    assert Fault("ROW_CODE_UNKNOWN", table="trajecten", row=2, column="team", value="a\nb").value is None


def test_every_fault_kind_has_a_dutch_message_and_an_english_log_line() -> None:
    for code, kind in CATALOGUE.items():
        assert code.startswith({Level.FILE: "FILE_", Level.ROW: "ROW_", Level.WARNING: "WARN_"}[kind.level])
        message = Fault(code, table="trajecten", row=3, column="team", detail="d").message()
        assert message and "{" not in message
        assert kind.english and kind.english.isascii()


def test_unknown_fault_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Fault("ROW_NO_SUCH_FAULT")


@pytest.mark.parametrize(
    ("month", "code"),
    [("2014-12", "FILE_MONTH_TOO_EARLY"), ("0000-01", "FILE_INVALID_MONTH_FOLDER"), ("2015-01", None)],
)
def test_month_before_the_databank_began_is_a_file_fault(
    config: ConsortiumConfig, month: str, code: str | None
) -> None:
    faults = folder_faults("de-boog", month, config, dt.date(2026, 11, 25))
    assert [f.code for f in faults] == ([code] if code else [])


def test_a_defect_while_judging_rejects_with_processing_error_and_no_message(
    config: ConsortiumConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pseudonymise.read_step as read_step
    from pseudonymise.keys import throwaway_key
    from pseudonymise.pseudonyms import Pseudonymiser
    from tests.builders import METINGEN_HEADER, TRAJECTEN_HEADER, render_csv, trajectory

    folder = tmp_path / "de-boog" / "2025-03"
    folder.mkdir(parents=True)
    (folder / "trajecten.csv").write_text(render_csv(TRAJECTEN_HEADER, [trajectory(1)]), encoding="utf-8")
    (folder / "metingen.csv").write_text(render_csv(METINGEN_HEADER, []), encoding="utf-8")

    def broken(*_: object) -> None:
        raise ValueError("could not convert 'Zwaluwstaartje'")

    monkeypatch.setattr(read_step, "validate_delivery", broken)
    validated = read_step.inspect_delivery(
        folder, "de-boog", "2025-03", config, Pseudonymiser(throwaway_key()), dt.date(2026, 11, 25)
    )
    (fault,) = validated.verdict.faults
    assert validated.verdict.status.value == "rejected"
    assert fault.code == "FILE_PROCESSING_ERROR" and fault.detail == "ValueError"
    assert "Zwaluwstaartje" not in fault.message() + fault.log_line()

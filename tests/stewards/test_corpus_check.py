"""Every case of the stewards' corpus through `databank check` (delivery-format.md §8, §9): the
exit status, the verdict and fault codes in the report, the physical line of every quarantined
row, and nothing identifying, no raw HTML and no live formula anywhere, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from tests.builders import make_home
from tests.stewards.corpus import (
    CASES,
    CORPUS_DAY,
    CORPUS_TEAMS,
    EXIT_STATUS,
    Case,
    leaks,
    marks_for,
    place,
    verify_report,
)


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test consortium (providers de-boog and horizon-jeugd, interventions MST and FFT)."""
    home = make_home(tmp_path_factory.mktemp("consortium"), k=1, with_key=False, teams=CORPUS_TEAMS)
    return home.config_dir


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=marks_for(c, c.bug_check)) for c in CASES]
)
def test_check_judges_the_case(
    case: Case, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "steward-home"))
    monkeypatch.setattr("pipelines.cli.today", lambda: CORPUS_DAY)
    folder = place(case, tmp_path / "landing", tmp_path / "outside")
    target = folder / case.check_file if case.check_file else folder
    report = tmp_path / "rapport"

    status = main(["check", str(target), "--config", str(config_dir), "--report", str(report)])

    printed = capsys.readouterr()
    terminal = printed.out + printed.err
    assert "Traceback" not in terminal
    assert not leaks(terminal, case), leaks(terminal, case)
    assert status == EXIT_STATUS[case.status], terminal[-3000:]
    for code in case.codes:
        assert code in printed.out
    verify_report(case, report)


def test_the_corpus_is_large_and_covers_every_fault_code() -> None:
    from schemas.faults import CATALOGUE

    assert len(CASES) >= 35
    covered = set().union(*(c.codes for c in CASES))
    # FILE_PROCESSING_ERROR answers a defect of ours, which no input should trigger; it is
    # tested by injecting one (tests/schemas/test_faults.py).
    assert set(CATALOGUE) - covered == {"FILE_PROCESSING_ERROR"}

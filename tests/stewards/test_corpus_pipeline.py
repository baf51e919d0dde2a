"""Every case of the stewards' corpus through the pipeline, in one run on one home that holds
them all, each in its own provider/month folder: the run must not raise, every delivery gets the
status and the report the case expects, and no identifier reaches anything the run wrote."""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.runner import RunSummary, run_pipeline
from tests.builders import make_home, string_cells
from tests.stewards.corpus import (
    CASES,
    CORPUS_DAY,
    CORPUS_TEAMS,
    REJECTED,
    Case,
    leaks,
    marks_for,
    place,
    verify_report,
)
from warehouse.home import DatabankHome

pytestmark = pytest.mark.slow


@dataclass
class CorpusRun:
    home: DatabankHome
    summary: RunSummary | None
    error: str | None  # the traceback, if run_pipeline raised
    terminal: str


def run_corpus(root: Path, cases: list[Case]) -> CorpusRun:
    """One home holding every given case in its own provider/month folder, one pipeline run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABANK_HOME", str(root / "home"))
        patch.delenv("DATABANK_KEY_FILE", raising=False)
        patch.setenv("DAGSTER_HOME", str(root / "home" / "dagster"))
        home = make_home(root / "home", k=1, teams=CORPUS_TEAMS)
        for case in cases:
            place(case, home.landing, root / "outside")
        out, err = io.StringIO(), io.StringIO()
        summary, error = None, None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                summary = run_pipeline(home, CORPUS_DAY, progress=print)
            except Exception:  # reported by the tests, with the traceback
                error = traceback.format_exc()
        return CorpusRun(home, summary, error, out.getvalue() + err.getvalue())


SHARED = [c for c in CASES if not c.breaks_run]


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """The single run over the whole corpus (but the cases a known bug lets break a run)."""
    return run_corpus(tmp_path_factory.mktemp("corpus"), SHARED)


def test_the_run_does_not_raise(corpus_run: CorpusRun) -> None:
    assert corpus_run.error is None, corpus_run.error
    assert "Traceback" not in corpus_run.terminal
    assert corpus_run.summary is not None and corpus_run.summary.still_being_written == []
    # nor in Dagster's run and event storage: no step failed, not even one that was retried
    dagster = corpus_run.home.dagster_home
    assert [p.name for p in dagster.rglob("*") if p.is_file() and b"Traceback" in p.read_bytes()] == []


def _status(summary: RunSummary, case: Case) -> str | None:
    key = case.pipeline_key
    if key in summary.unpartitionable:
        return REJECTED
    statuses = [status for provider, month, status in summary.judged if (provider, month) == key]
    assert len(statuses) <= 1, statuses
    return statuses[0] if statuses else None


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=marks_for(c, c.bug_pipeline)) for c in CASES]
)
def test_pipeline_judges_the_case(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if case.breaks_run:  # a run of its own, so that the bug cannot fail the other cases
        run = run_corpus(tmp_path, [case])
        assert run.error is None, run.error
        assert "Traceback" not in run.terminal
    else:
        run = request.getfixturevalue("corpus_run")
        assert run.error is None, "run_pipeline raised: see test_the_run_does_not_raise"
    assert run.summary is not None
    assert not leaks(run.terminal, case), leaks(run.terminal, case)
    assert _status(run.summary, case) == case.status
    verify_report(case, run.home.report_dir(*case.pipeline_key))


def test_every_delivery_is_accounted_for(corpus_run: CorpusRun) -> None:
    summary = corpus_run.summary
    assert summary is not None
    seen = [(p, m) for p, m, _ in summary.judged] + list(summary.unpartitionable)
    assert sorted(seen) == sorted(c.pipeline_key for c in SHARED)


def readable_text(data: bytes) -> str:
    """A text file whole; of a binary file (DuckDB, SQLite) its runs of six or more printable
    characters, as `strings` shows them. Every canary is at least six characters and is stored,
    if at all, as such a run; scanning the raw bytes instead let the three-letter token match by
    chance in compressed data (a case-insensitive 'zqx' somewhere in megabytes of DuckDB blocks)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        return "\n".join(re.findall(r"[^\x00-\x1f\x7f\ufffd]{6,}", text))


def test_readable_text_keeps_stored_strings_and_drops_binary_noise() -> None:
    binary = b"\x00\xff\x01zQx\x02\x00" + b"prefix ZQX-CL-0001 suffix" + b"\x00\xfe"
    text = readable_text(binary)
    assert "ZQX-CL-0001" in text and "zQx" not in text


def test_no_identifier_anywhere_the_run_wrote(corpus_run: CorpusRun) -> None:
    """Beyond the reports: the warehouse, the published copy and Dagster's storage."""
    home = corpus_run.home
    probe = CASES[0]  # only the global canaries: no case-specific forbidden text
    probe = Case(probe.name, probe.write, probe.status, probe.codes)
    files = [p for p in home.root.rglob("*") if p.is_file() and home.landing not in p.parents]
    hits = []
    for path in files:
        text = readable_text(path.read_bytes())
        hits += [f"{path.relative_to(home.root)}: {hit}" for hit in leaks(text, probe) if hit != "Traceback"]
    for database in (home.warehouse, home.publication):
        cells = string_cells(database)
        assert cells
        hits += [f"{database.name}: {hit}" for cell in cells for hit in leaks(cell, probe)]
    assert hits == []

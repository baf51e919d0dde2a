"""The pandas yardstick (pipelines/yardstick.py) computes the same marts as the pipeline.

Why: the benchmark's target "at least 5x faster than a straightforward pandas implementation of
the same contract" means something only if the yardstick does the same work and gets the same
numbers. Three checks, on generated consortia:

1. on an irregular consortium (late joiners, skipped and late months, workbooks, corrections,
   rejected deliveries, an unregistered provider folder), fed step by step, the yardstick's
   verdicts are the generator's and its marts equal tests/reference_marts.py over the ground
   truth, cell for cell, suppression included (both suppress primarily only): quick, no pipeline;
2. (slow) the same consortium through the real pipeline: every cell the pipeline publishes equals
   the yardstick's, after each step;
3. (slow) the benchmark's kind of consortium, with faulty rows, objections, an unregistered team, a
   workbook and a correction, through the pipeline in two runs, against the yardstick reading the
   first run's files and then the second's.

"Equal" for the pipeline: the same cells (group keys) in both; a cell the yardstick suppresses
(count < k) is suppressed by the pipeline as 'primary'; a cell the pipeline hides as 'secondary'
is shown by the yardstick; every figure of a cell both show is equal (1e-9). Release protection
is off (as in the differential test), so each build publishes its current figures.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import yardstick
from pipelines.demo import consortium_toml, make_irregular, settle
from pipelines.runner import run_pipeline
from pipelines.synthetic import (
    DEFAULT_INTERVENTIONS,
    DEFAULT_PROVIDERS,
    IrregularConsortium,
    irregular_consortium,
    write_correction,
    write_step,
    write_synthetic_consortium,
)
from tests.builders import (
    TEST_CONSORTIUM,
    DeliveryWriter,
    make_home,
    measurement,
    teams_toml,
    trajectory,
)
from tests.pipelines.test_differential import charts_not_drawn, with_team_codes
from tests.reference_marts import (
    INDICATOR_FIGURES,
    SCORE_FIGURES,
    ReferenceMarts,
    reference_marts,
)
from warehouse.home import DatabankHome

K = 3
MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08")
TODAY = dt.date(2025, 11, 20)
SEED = 6  # a schedule with every kind of delivery: see the first test
SCORE_KEY = ("level", "organisation", "team", "intervention", "period", "instrument", "schaal",
             "informant")  # fmt: skip
GROUP_KEY = SCORE_KEY[:5]
ENDED_FIGURES = ("n_ended", "response_rate")  # of a score row, from its indicator group
TABLES = (
    ("outcome_scores", SCORE_KEY, SCORE_FIGURES, "n_paired"),
    ("trajectory_indicators", GROUP_KEY, INDICATOR_FIGURES, "n_ended"),
)


def _close(a: object, b: object) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        missing = {x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)}
        return missing == {True}
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]


def _rows(frame: pd.DataFrame, key: tuple[str, ...]) -> dict[tuple, dict]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {tuple(row[c] for c in key): row for row in records}


def yardstick_marts(out: Path) -> dict[str, dict[tuple, dict]]:
    return {table: _rows(pd.read_parquet(out / f"{table}.parquet"), key) for table, key, _, _ in TABLES}


def published_marts(home: DatabankHome) -> dict[str, dict[tuple, dict]]:
    con = duckdb.connect(str(home.publication), read_only=True)
    try:
        return {table: _rows(con.sql(f"SELECT * FROM mart.{table}").df(), key)
                for table, key, _, _ in TABLES}  # fmt: skip
    finally:
        con.close()


def run_yardstick(landings: list[Path], out: Path, home: DatabankHome) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    return yardstick.run([
        *map(str, landings), str(out), "--consortium", str(home.config_dir / "consortium.toml"),
        "--key-file", str(home.key_file), "--today", TODAY.isoformat(),
    ])  # fmt: skip


def compare_with_pipeline(
    published: dict[str, dict[tuple, dict]], ours: dict[str, dict[tuple, dict]]
) -> tuple[list[str], int]:
    """Every difference (see the module docstring) and how many cells both show."""
    problems: list[str] = []
    both_shown = 0
    indicators = published["trajectory_indicators"]
    for table, _, figures, _count in TABLES:
        product, mine = published[table], ours[table]
        problems += [f"{table} {k}: published, not in the yardstick" for k in sorted(set(product) - set(mine), key=str)]
        problems += [f"{table} {k}: in the yardstick, not published" for k in sorted(set(mine) - set(product), key=str)]
        for key in sorted(set(product) & set(mine), key=str):
            row, expected = product[key], mine[key]
            reason = row["suppression_reason"]
            if expected["suppressed"]:
                if reason != "primary":
                    problems.append(f"{table} {key}: below k in the yardstick, pipeline reason {reason!r}")
                continue
            if reason == "secondary":
                continue
            if row["suppressed"]:
                problems.append(f"{table} {key}: shown by the yardstick, pipeline reason {reason!r}")
                continue
            both_shown += 1
            group = indicators.get(key[:5]) if table == "outcome_scores" else None
            hidden = ENDED_FIGURES if group is not None and group["suppressed"] else ()
            wrong = [f"{name} {row[name]!r} != {expected[name]!r}"
                     for name in figures if name not in hidden and not _close(row[name], expected[name])]  # fmt: skip
            if wrong:
                problems.append(f"{table} {key}: " + "; ".join(wrong))
    return problems, both_shown


def compare_with_reference(
    ours: dict[str, dict[tuple, dict]], reference: ReferenceMarts
) -> tuple[list[str], int]:
    """Every difference from the reference: the same cells, the same suppression (both primary
    only), the same figures in every shown cell; and how many cells are shown."""
    problems: list[str] = []
    shown = 0
    for table, _, figures, _count in TABLES:
        is_scores = table == "outcome_scores"
        expected_all = reference.scores if is_scores else reference.indicators
        below_k = reference.score_suppressed if is_scores else reference.indicator_suppressed
        mine = ours[table]
        problems += [f"{table} {k}: in the reference, not in the yardstick" for k in sorted(set(expected_all) - set(mine), key=str)]
        problems += [f"{table} {k}: in the yardstick, not in the reference" for k in sorted(set(mine) - set(expected_all), key=str)]
        for key in sorted(set(expected_all) & set(mine), key=str):
            row, expected = mine[key], expected_all[key]
            if below_k(key):
                if not row["suppressed"] or any(row[name] is not None for name in figures):
                    problems.append(f"{table} {key}: below k, not suppressed or a figure shown")
                continue
            if row["suppressed"]:
                problems.append(f"{table} {key}: suppressed, count {expected[_count]} >= k")
                continue
            shown += 1
            wrong = [f"{name} {row[name]!r} != {expected[name]!r}"
                     for name in figures if not _close(row[name], expected[name])]  # fmt: skip
            if wrong:
                problems.append(f"{table} {key}: " + "; ".join(wrong))
    return problems, shown


def expected_rejections(consortium: IrregularConsortium, through_step: int) -> list[str]:
    codes = {"column_missing": "FILE_REQUIRED_COLUMN_MISSING", "unregistered": "FILE_UNKNOWN_PROVIDER"}
    return sorted(f"{d.provider}/{d.month}: {codes[d.fault]}"
                  for d in consortium.schedule if d.step <= through_step and d.fault)  # fmt: skip


def _failure(problems: list[str], what: str) -> str:
    return f"{what}: {len(problems)} difference(s)\n  " + "\n  ".join(problems[:15])


def _irregular() -> IrregularConsortium:
    return irregular_consortium(
        months=MONTHS, providers=dict(list(DEFAULT_PROVIDERS.items())[:3]),
        trajectories_per_provider=60, seed=SEED, steps=3,
    )  # fmt: skip


def _configure(home: DatabankHome, providers: dict, teams: dict) -> None:
    (home.config_dir / "consortium.toml").write_text(
        consortium_toml(providers, DEFAULT_INTERVENTIONS, teams).replace("k = 10", f"k = {K}")
        + "\n[publication]\nrelease_protection = false\n",
        encoding="utf-8",
    )


@pytest.fixture
def scratch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DatabankHome:
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    return make_home(tmp_path / "home", k=K)


def test_yardstick_consortium_has_what_the_tests_claim() -> None:
    """The premises of the tests below: the schedule of SEED has workbooks, late months, an
    accepted correction, a rejected correction (the earlier version stays in force), a rejected
    first delivery that is delivered again, and an unregistered provider folder."""
    schedule = _irregular().schedule
    kinds = {(d.kind, d.fault) for d in schedule}
    assert {("late", None), ("correction", None), ("correction", "column_missing"), ("redelivery", None),
            ("unregistered", "unregistered")} <= kinds, kinds  # fmt: skip
    assert any(d.workbook and d.accepted for d in schedule)


def test_yardstick_matches_reference_marts_on_an_irregular_consortium(tmp_path: Path) -> None:
    """Step by step (each step's deliveries in a folder of their own, read in order of arrival),
    the yardstick rejects what the generator meant to be rejected and its marts equal the
    independent reference over the deliveries in force, cell for cell."""
    consortium = _irregular()
    config = tmp_path / "consortium.toml"
    config.write_text(consortium_toml(consortium.providers, DEFAULT_INTERVENTIONS, consortium.teams)
                      .replace("k = 10", f"k = {K}"), encoding="utf-8")  # fmt: skip
    arrivals: list[Path] = []
    shown = 0
    for step in range(consortium.n_steps):
        arrivals.append(tmp_path / f"arrival-{step}")
        write_step(arrivals[-1], consortium, step)
        summary = yardstick.run([*map(str, arrivals), str(tmp_path / "out"), "--consortium", str(config),
                                 "--today", TODAY.isoformat()])  # fmt: skip
        assert summary["deliveries"] == sum(d.step <= step for d in consortium.schedule)
        assert sorted(summary["rejected"]) == expected_rejections(consortium, step)
        reference = reference_marts(with_team_codes(consortium, consortium.in_force(step)), K)
        problems, step_shown = compare_with_reference(yardstick_marts(tmp_path / "out"), reference)
        assert not problems, _failure(problems, f"step {step}")
        shown += step_shown
    assert shown >= 150  # enough shown cells that "equal" says something


def _consortium_n_ended(out: Path) -> int:
    indicators = pd.read_parquet(out / "trajectory_indicators.parquet")
    row = indicators[(indicators["level"] == "consortium") & (indicators["period"] == "all")]
    return int(row["n_ended"].iloc[0])


def test_yardstick_objection_in_a_later_month_reaches_back(
    tmp_path: Path, write_delivery: DeliveryWriter
) -> None:
    """A client who objects in February loses the trajectory that ended in January too
    (delivery-format.md §3; the pipeline's warehouse/sql/purge_objections.sql); without the
    objection both ended trajectories count."""
    config = tmp_path / "consortium.toml"
    config.write_text(TEST_CONSORTIUM.format(k=1) + teams_toml({"de-boog": ["Team Noord"]}), encoding="utf-8")
    ended_in = {"2025-01": {"einddatum": "20-01-2025", "reden_einde": "1"},
                "2025-02": {"einddatum": "20-02-2025", "reden_einde": "1"}}  # fmt: skip
    counts = {}
    for objects in (False, True):
        landing = tmp_path / f"landing-{objects}"
        write_delivery(landing, "de-boog", "2025-01", [trajectory(1), trajectory(2, **ended_in["2025-01"])],
                       [measurement(2, "start", "05-01-2025", "70"), measurement(2, "eind", "19-01-2025", "50")])  # fmt: skip
        write_delivery(landing, "de-boog", "2025-02", [
            trajectory(1, **ended_in["2025-02"]),
            trajectory(99, clientnummer="C00002", bezwaar="ja" if objects else "nee"),
        ])  # fmt: skip
        summary = yardstick.run([str(landing), str(tmp_path / f"out-{objects}"), "--consortium", str(config),
                                 "--today", TODAY.isoformat()])  # fmt: skip
        assert summary["rejected"] == []
        counts[objects] = _consortium_n_ended(tmp_path / f"out-{objects}")
    assert counts == {False: 2, True: 1}


def test_yardstick_says_what_is_wrong_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert yardstick.main([str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2
    assert yardstick.main([str(tmp_path), str(tmp_path / "out"), "--consortium", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert "nowhere: no such landing folder" in err and "none.toml: no consortium configuration" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_yardstick_matches_published_marts_on_an_irregular_consortium(
    tmp_path: Path, scratch_home: DatabankHome
) -> None:
    consortium = _irregular()
    home = scratch_home
    _configure(home, consortium.providers, consortium.teams)
    arrivals: list[Path] = []
    shown = 0
    with charts_not_drawn():
        for step in range(consortium.n_steps):
            write_step(home.landing, consortium, step)
            arrivals.append(tmp_path / f"arrival-{step}")
            write_step(arrivals[-1], consortium, step)
            settle(home.landing)
            run_pipeline(home, today=TODAY)
            run_yardstick(arrivals, tmp_path / "out", home)
            problems, step_shown = compare_with_pipeline(published_marts(home), yardstick_marts(tmp_path / "out"))
            assert not problems, _failure(problems, f"step {step}")
            shown += step_shown
    assert shown >= 100  # cells both show (the pipeline hides more: secondary suppression)


@pytest.mark.slow
def test_yardstick_matches_published_marts_with_faulty_rows_workbook_and_correction(
    tmp_path: Path, scratch_home: DatabankHome
) -> None:
    """The benchmark's kind of data: the demo generator's faulty rows (bad BSNs, unknown
    interventions, ends before starts, scores out of range, unknown instruments and scales),
    objections, an unregistered team, made irregular as the benchmark does (a late joiner, a
    skipped month, a late month, a workbook), then a correction with the late month."""
    home = scratch_home
    consortium = write_synthetic_consortium(
        home.landing, months=MONTHS, providers=DEFAULT_PROVIDERS, trajectories_per_provider=60, seed=SEED
    )
    assert sum(d.n_faulty_rows for d in consortium.deliveries) > 0
    assert sum(d.n_bezwaar for d in consortium.deliveries) > 0
    assert consortium.unregistered_team is not None
    _configure(home, consortium.providers, consortium.teams)
    held_back = tmp_path / "held-back"
    irregular = make_irregular(home.landing, held_back, consortium)
    assert irregular.workbooks and irregular.late
    first = tmp_path / "arrival-1"
    shutil.copytree(home.landing, first)
    settle(home.landing)
    with charts_not_drawn():
        run_pipeline(home, today=TODAY)
        run_yardstick([first], tmp_path / "out", home)
        problems, shown_first = compare_with_pipeline(published_marts(home), yardstick_marts(tmp_path / "out"))
        assert not problems, _failure(problems, "first run")

        # The second arrival holds only what is new: the correction and the late month.
        provider, month = next(iter(consortium.providers)), MONTHS[-2]
        write_correction(home.landing, provider, month)
        second = tmp_path / "arrival-2"
        shutil.copytree(home.landing / provider / month, second / provider / month)
        for late_provider, late_month in irregular.late:
            shutil.copytree(held_back / late_provider / late_month, second / late_provider / late_month)
            shutil.copytree(held_back / late_provider / late_month, home.landing / late_provider / late_month)
        settle(home.landing)
        run_pipeline(home, today=TODAY)
        summary = run_yardstick([first, second], tmp_path / "out", home)
        problems, shown_second = compare_with_pipeline(published_marts(home), yardstick_marts(tmp_path / "out"))
        assert not problems, _failure(problems, "after the correction")
    assert summary["rejected"] == [] and summary["deliveries"] == len(list(first.glob("*/*"))) + 1 + len(irregular.late)
    assert shown_first >= 100 and shown_second >= 100

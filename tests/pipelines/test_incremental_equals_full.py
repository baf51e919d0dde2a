"""An incremental history builds the same warehouse as one run over its end state (issue 13).

Why: the rebuild is meant to cost what changed (guard, checks and dashboard read only what a
build changed), and nothing of that may change a number. Per seed, an irregular consortium
(pipelines/synthetic.py: late months, a late joiner, corrections, rejected deliveries,
workbooks) is processed as it arrives, one `databank run` per step, in one home; a second,
fresh home with the same key file and configuration gets, in one run, the deliveries in force at
the end (`IrregularConsortium.in_force`: for a month whose last delivery was rejected, the
earlier version the incremental home keeps in force, since the end state of landing/ alone
could not tell it). Then core (every row, every column) and every mart table must be equal.

Release protection is off in both homes: with it, the incremental home legitimately holds
figures of earlier releases (PRIVACY.md §5), which a single build never published; the marts
are compared as computed. Floats are compared to 1e-9 (DuckDB's parallel sums need not add in
the same order twice); everything else exactly. The dashboard is drawn (cheap now), so the page
digests of the incremental home are exercised on every step."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.demo import consortium_toml, settle
from pipelines.runner import run_pipeline
from pipelines.synthetic import DEFAULT_PROVIDERS, irregular_consortium, write_step
from tests.builders import make_home
from warehouse.home import DatabankHome

K = 3
MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09")
TODAY = dt.date(2025, 11, 20)
PROVIDERS = dict(list(DEFAULT_PROVIDERS.items())[:3])
SEEDS = (11, 12, 13)
# Every table a build writes from staging: core, and the marts as built (not their published
# copy, which adds nothing the build did not compute). mart.deliveries and mart.build_info hold
# arrival times and build ids, which differ by construction.
TABLES = {
    "core.trajectories": ("provider", "trajectory_id"),
    "core.measurements": ("provider", "trajectory_id", "instrument", "schaal", "informant",
                          "meetmoment", "measured_day"),
    "mart.outcome_scores": None,
    "mart.trajectory_indicators": None,
    "mart.outcome_scores_rest": None,
    "mart.trajectory_indicators_rest": None,
    "mart.teams": None,
}


def _configure(home: DatabankHome, consortium: object) -> None:
    (home.config_dir / "consortium.toml").write_text(
        consortium_toml(consortium.providers, consortium.interventions, consortium.teams)  # type: ignore[attr-defined]
        .replace("k = 10", f"k = {K}")
        + "\n[publication]\nrelease_protection = false\n",
        encoding="utf-8",
    )


def _rows(home: DatabankHome, table: str) -> tuple[list[str], list[tuple]]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        cursor = con.execute(f"SELECT * FROM {table}")  # table names from the fixed list above
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    return columns, sorted(rows, key=lambda row: tuple("" if v is None else str(v) for v in row))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _differences(incremental: DatabankHome, full: DatabankHome) -> list[str]:
    problems = []
    for table in TABLES:
        columns, rows = _rows(incremental, table)
        full_columns, full_rows = _rows(full, table)
        if not rows and table != "mart.teams":
            problems.append(f"{table}: empty, nothing compared")
        if columns != full_columns:
            problems.append(f"{table}: columns {columns} != {full_columns}")
            continue
        if len(rows) != len(full_rows):
            problems.append(f"{table}: {len(rows)} rows incrementally, {len(full_rows)} in one run")
            continue
        for row, other in zip(rows, full_rows, strict=True):
            if not all(_same(a, b) for a, b in zip(row, other, strict=True)):
                wrong = [c for c, a, b in zip(columns, row, other, strict=True) if not _same(a, b)]
                problems.append(f"{table}: a row differs in {wrong}")
                break
    return problems


def _check_seed(seed: int, root: Path) -> tuple[list[str], list[str]]:
    consortium = irregular_consortium(months=MONTHS, providers=PROVIDERS, trajectories_per_provider=30,
                                      seed=seed, steps=3)
    incremental = make_home(root / f"incremental-{seed}", k=K)
    _configure(incremental, consortium)
    os.environ["DATABANK_HOME"] = str(incremental.root)
    for step in range(consortium.n_steps):
        write_step(incremental.landing, consortium, step)
        settle(incremental.landing)
        run_pipeline(incremental, today=TODAY)

    full = make_home(root / f"full-{seed}", k=K, with_key=False)
    _configure(full, consortium)
    full.key_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(incremental.key_file, full.key_file)
    for delivery in consortium.in_force(consortium.n_steps - 1):
        folder = full.landing / delivery.provider / delivery.month
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in delivery.files.items():
            (folder / name).write_bytes(data)
    settle(full.landing)
    os.environ["DATABANK_HOME"] = str(full.root)
    os.environ["DAGSTER_HOME"] = str(full.dagster_home)
    run_pipeline(full, today=TODAY)
    kinds = sorted({d.kind for d in consortium.schedule})
    return kinds, [f"seed {seed} ({', '.join(kinds)}): {p}" for p in _differences(incremental, full)]


@pytest.mark.slow
def test_incremental_runs_build_what_one_run_over_the_end_state_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    monkeypatch.setenv("DATABANK_HOME", "")
    monkeypatch.setenv("DAGSTER_HOME", "")
    problems: list[str] = []
    kinds: set[str] = set()
    for seed in SEEDS:
        seed_kinds, seed_problems = _check_seed(seed, tmp_path)
        kinds |= set(seed_kinds)
        problems += seed_problems
    # the histories hold what an incremental build could get wrong
    assert {"late", "correction"} <= kinds, kinds
    assert not problems, "\n".join(problems)

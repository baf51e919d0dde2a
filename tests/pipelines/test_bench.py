"""`make bench` works end to end at a tiny scale. No timing is asserted: the benchmark reports.

To stay fast, only the first load runs the real `databank run` (which also publishes the copy the
analyst queries are timed on); the later `databank run` stages run a stand-in process, so this
checks the benchmark's plumbing, not the pipeline (tests/pipelines/test_run.py does that). The
pandas yardstick stage runs for real (tests/pipelines/test_yardstick.py checks its figures)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pipelines import bench


def test_bench_reports_every_stage_and_the_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bench._run_command

    def quick(profile_dir: Path | None, stage: str) -> list[str]:
        return real(profile_dir, stage) if stage == "first_load" else [sys.executable, "-c", "pass"]

    monkeypatch.setattr(bench, "_run_command", quick)
    out = tmp_path / "bench.json"
    status = bench.main([
        "--providers", "2", "--months", "2", "--trajectories-per-provider", "20",
        "--workdir", str(tmp_path / "work"), "--out", str(out), "--repetitions", "1",
        "--growth-factors", "1,2", "--growth-base", "10",
    ])  # fmt: skip

    assert status == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["stages"]) == set(bench.STAGES)
    for name, stage in result["stages"].items():
        assert stage["wall_seconds"] > 0, name
        assert stage["peak_rss_mb"] > 0, name
        assert stage["exit_status"] == 0, name
        assert {"rows", "rows_per_second", "ratio_to_floor"} <= set(stage)
    assert result["stages"]["floor"]["rows"] == result["stages"]["first_load"]["rows"] > 0
    # the pandas yardstick (a real run, not a stand-in) read every row of the first load's files
    yardstick = result["stages"]["yardstick"]
    assert yardstick["rows_read_by_yardstick"] == yardstick["rows"] == result["stages"]["first_load"]["rows"]
    assert yardstick["yardstick_mart_rows"] > 0
    assert result["targets"]["yardstick_vs_first_load"]["value"] > 0
    assert set(result["targets"]) == set(bench.TARGETS)
    assert all({"value", "limit", "met"} <= set(t) for t in result["targets"].values())
    assert set(result["queries"]["per_query_median_ms"]) == set(bench.ANALYST_QUERIES)
    # the growth series: a real first load per size, twice the rows at twice the size
    sizes = result["growth"]["sizes"]
    assert [s["factor"] for s in sizes] == [1, 2]
    assert all(s["exit_status"] == 0 and s["first_load_seconds"] > 0 for s in sizes)
    assert sizes[0]["rows"] > 0 and 1.5 < sizes[1]["rows"] / sizes[0]["rows"] < 2.5
    assert {"value", "limit", "met"} <= set(result["growth"]["largest_vs_smallest_per_million"])

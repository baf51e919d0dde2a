"""`databank run` on the real Dagster graph, in-process: nothing lost, nothing double-counted
(delivery-format §1, §8, §9.4, §9.6; outcome-metrics §1)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.partition_runs import DeliveryBox, delivery_boxes, next_month
from pipelines.runner import Clock, DeliveriesNotJudged, PipelineFailed, run_pipeline
from tests.builders import DeliveryWriter, measurement, trajectory
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)


def core_rows(home: DatabankHome, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_run_without_key_stops_with_how_to_create_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "keyless"))
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    status = main(["run"])
    err = capsys.readouterr().err
    assert status != 0
    assert "databank keygen" in err
    assert "Traceback" not in err
    assert not (tmp_path / "keyless" / "warehouse" / "databank.duckdb").exists()


def test_run_trajectory_in_six_monthly_deliveries_counts_once(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    months = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    for month in months:
        ended = month == "2025-06"
        rows = [
            trajectory(
                1,
                einddatum="20-06-2025" if ended else "",
                reden_einde="1" if ended else "",
                team="Team Noord" if month < "2025-04" else "Team Zuid",
            )
        ]
        metingen = [measurement(1, "start", "10-01-2025", "70")]
        if ended:
            metingen.append(measurement(1, "eind", "15-06-2025", "55"))
        write_delivery(home.landing, "de-boog", month, rows, metingen)
    summary = run_pipeline(home, today=TODAY)
    assert [s for _, _, s in summary.judged] == ["accepted"] * 6
    assert core_rows(home, "SELECT count(*), any_value(team) FROM core.trajectories") == [(1, "Team Zuid")]
    # The start measurement is in all six deliveries: de-duplicated to one.
    assert core_rows(home, "SELECT meetmoment, count(*) FROM core.measurements GROUP BY 1 ORDER BY 1") == [
        ("eind", 1), ("start", 1)
    ]
    published = duckdb.connect(str(home.publication), read_only=True)
    try:
        n = published.execute(
            "SELECT n_ended, n_paired, mean_improvement FROM mart.outcome_scores "
            "WHERE level = 'consortium' AND period = 'all'"
        ).fetchall()
    finally:
        published.close()
    assert n == [(1, 1, 15.0)]


def test_run_same_bytes_twice_change_nothing(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(2)])
    first = run_pipeline(home, today=TODAY)
    before = core_rows(home, "SELECT * FROM staging.deliveries")
    second = run_pipeline(home, today=TODAY)
    assert len(first.judged) == 1
    assert second.judged == [] and second.unchanged == 1
    assert core_rows(home, "SELECT * FROM staging.deliveries") == before
    assert core_rows(home, "SELECT count(*) FROM staging.trajectories") == [(2,)]


def test_run_correction_replaces_month_and_absent_trajectory_falls_back(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1, team="Februari"), trajectory(2, team="Februari")])
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1, team="Maart"), trajectory(2, team="Maart")])
    run_pipeline(home, today=TODAY)
    # The correction of March renames trajectory 1's team and no longer contains trajectory 2.
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1, team="Maart gecorrigeerd")])
    summary = run_pipeline(home, today=TODAY)
    assert [(m, s) for _, m, s in summary.judged] == [("2025-03", "accepted")]
    teams = core_rows(home, "SELECT team, month FROM core.trajectories ORDER BY team")
    assert teams == [("Februari", "2025-02"), ("Maart gecorrigeerd", "2025-03")]
    assert core_rows(home, "SELECT count(*) FROM staging.deliveries WHERE month = '2025-03' AND is_current") == [(1,)]
    assert core_rows(home, "SELECT count(*) FROM staging.trajectories WHERE month = '2025-03'") == [(1,)]


def test_run_rejected_correction_leaves_earlier_version_in_force(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1, team="Goed")])
    run_pipeline(home, today=TODAY)
    folder = write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1, team="Fout")])
    (folder / "metingen.csv").unlink()  # only one of the two tables: a file fault
    summary = run_pipeline(home, today=TODAY)
    assert [s for _, _, s in summary.judged] == ["rejected"]
    assert core_rows(home, "SELECT team FROM core.trajectories") == [("Goed",)]
    statuses = core_rows(home, "SELECT status, is_current FROM staging.deliveries ORDER BY received_at")
    assert statuses == [("accepted", True), ("rejected", False)]
    report = (home.report_dir("de-boog", "2025-03") / "rapport.txt").read_text(encoding="utf-8")
    assert "FILE_TABLE_MISSING" in report and "AFGEWEZEN" in report


def test_run_quarantined_newest_copy_keeps_last_valid_state(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    rows = [trajectory(n) for n in range(1, 12)]
    write_delivery(home.landing, "de-boog", "2025-02", rows)
    # In March trajectory 1 ends with an invalid code: that copy is quarantined, not a state.
    march = [trajectory(1, einddatum="15-03-2025", reden_einde="9")] + [trajectory(n) for n in range(2, 12)]
    write_delivery(home.landing, "de-boog", "2025-03", march, [measurement(1, "start", "05-01-2025", "66")])
    summary = run_pipeline(home, today=TODAY)
    assert dict(((m, s) for _, m, s in summary.judged)) == {
        "2025-02": "accepted", "2025-03": "accepted_with_quarantine"
    }
    ended = core_rows(home, "SELECT count(*) FROM core.trajectories WHERE end_month IS NOT NULL")
    assert ended == [(0,)]
    assert core_rows(home, "SELECT count(*) FROM core.trajectories") == [(11,)]
    # The measurement of the quarantined trajectory row is not an unknown trajectory (§9.4).
    assert core_rows(home, "SELECT count(*) FROM core.measurements") == [(1,)]
    assert core_rows(home, "SELECT reason_code, row_number FROM staging.quarantine") == [("ROW_CODE_UNKNOWN", 2)]


def test_run_unregistered_provider_and_future_month_are_rejected_with_reports(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "onbekend-jeugd", "2025-03", [trajectory(1)])
    write_delivery(home.landing, "de-boog", "2027-01", [trajectory(1)])
    summary = run_pipeline(home, today=TODAY)
    assert summary.judged == [("onbekend-jeugd", "2025-03", "rejected")]
    assert summary.unpartitionable == [("de-boog", "2027-01")]
    unknown = (home.report_dir("onbekend-jeugd", "2025-03") / "rapport.txt").read_text(encoding="utf-8")
    assert "FILE_UNKNOWN_PROVIDER" in unknown and "consortium.toml" in unknown
    future = (home.report_dir("de-boog", "2027-01") / "rapport.txt").read_text(encoding="utf-8")
    assert "FILE_MONTH_IN_FUTURE" in future
    assert core_rows(home, "SELECT count(*) FROM staging.trajectories") == [(0,)]


class FakeClock:
    """Seconds that pass only when the run sleeps: waiting costs the test nothing."""

    def __init__(self, start: float) -> None:
        self.seconds, self.slept = start, 0.0

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds
        self.slept += seconds

    def clock(self) -> Clock:
        return Clock(today=lambda: TODAY, now=self.now, sleep=self.sleep)


def test_run_waits_for_a_delivery_still_being_written_and_then_judges_it(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    folder = write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    fake = FakeClock(1_800_000_000)
    os.utime(folder / "metingen.csv", (fake.seconds - 1, fake.seconds - 1))  # written a second ago
    said: list[str] = []
    summary = run_pipeline(home, progress=said.append, clock=fake.clock())
    assert summary.judged == [("de-boog", "2025-03", "accepted")] and summary.still_being_written == []
    assert 0 < fake.slept <= 20
    assert any("waiting up to" in line and "de-boog/2025-03" in line for line in said)


def test_run_that_cannot_settle_a_delivery_fails_and_names_it(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1)])
    folder = write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    fake = FakeClock(1_800_000_000)
    os.utime(folder / "trajecten.csv", (fake.seconds + 10_000, fake.seconds + 10_000))  # keeps changing
    with pytest.raises(DeliveriesNotJudged, match="de-boog/2025-03") as failed:
        run_pipeline(home, clock=fake.clock())
    summary = failed.value.summary
    assert summary.judged == [("de-boog", "2025-02", "accepted")]  # the rest is done and published
    assert summary.not_judged == [("de-boog", "2025-03")] and home.publication.is_file()


def test_late_and_missing_months_are_all_read_in_one_run(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    """The shape that made Dagster read empty boxes: providers that are behind, ahead, or skip a
    month. Every delivery is judged, every trajectory lands in staging."""
    plan = {
        "ritmeester": ["2025-05", "2025-06", "2025-07"],
        "lindenhof": ["2025-01", "2025-02", "2025-04", "2025-08"],
        "de-boog": ["2025-07", "2025-08"],
        "horizon-jeugd": ["2025-03"],
    }
    config = home.config_dir / "consortium.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[providers]", "[providers]\nritmeester = \"R\"\nlindenhof = \"L\"", 1))
    for provider in ("ritmeester", "lindenhof"):  # Dagster learns these providers first
        write_delivery(home.landing, provider, plan[provider][0], [trajectory(1)])
    run_pipeline(home, today=TODAY)
    n = 0
    for provider, months in plan.items():
        for month in months:
            n += 1
            write_delivery(home.landing, provider, month, [trajectory(n), trajectory(100 + n)])
    summary = run_pipeline(home, today=TODAY)
    expected = sorted((p, m) for p, months in plan.items() for m in months)
    assert sorted((p, m) for p, m, _ in summary.judged) == expected
    assert {s for _, _, s in summary.judged} == {"accepted"} and summary.not_judged == []
    staged = core_rows(home, "SELECT provider, month, count(*) FROM staging.trajectories GROUP BY ALL")
    assert sorted((p, m) for p, m, _ in staged) == expected and all(c == 2 for *_, c in staged)
    again = run_pipeline(home, today=TODAY)
    assert again.judged == [] and again.unchanged == len(expected)


def test_folder_names_with_a_trailing_line_break_are_refused(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-03\n", [trajectory(1)])
    write_delivery(home.landing, "horizon-jeugd\n", "2025-03", [trajectory(1)])
    summary = run_pipeline(home, today=TODAY)
    assert sorted(summary.unpartitionable) == [("de-boog", "2025-03\n"), ("horizon-jeugd\n", "2025-03")]
    assert summary.judged == [] and summary.counts()["rejected"] == 2
    assert all(line.isprintable() for line in summary.lines(home))  # report paths too


def test_terminal_escapes_in_folder_names_are_never_printed(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-03\x1b[2J", [trajectory(1)])
    summary = run_pipeline(home, today=TODAY)
    assert summary.unpartitionable == [("de-boog", "2025-03\x1b[2J")]
    assert not any("\x1b" in line for line in summary.lines(home))


def test_run_refuses_symlinked_landing_folders_with_a_report(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path
) -> None:
    outside = write_delivery(tmp_path / "elsewhere", "de-boog", "2025-03", [trajectory(1)])
    (home.landing / "de-boog").mkdir(parents=True)
    os.symlink(outside, home.landing / "de-boog" / "2025-03", target_is_directory=True)
    summary = run_pipeline(home, today=TODAY)
    assert summary.unpartitionable == [("de-boog", "2025-03")] and summary.judged == []
    report = (home.report_dir("de-boog", "2025-03") / "rapport.txt").read_text(encoding="utf-8")
    assert "FILE_UNSAFE_PATH" in report
    assert core_rows(home, "SELECT count(*) FROM staging.trajectories") == [(0,)]


def test_run_error_level_quality_failure_blocks_publication(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(2)])
    run_pipeline(home, today=TODAY)
    published = home.publication.read_bytes()
    # Something no validated delivery can produce: a malformed pc4 in the core the checks read.
    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute("UPDATE core.trajectories SET pc4 = 'ABCD'").fetchall()
    finally:
        con.close()
    with pytest.raises(PipelineFailed) as failure:
        run_pipeline(home, today=TODAY)
    assert "quality" in str(failure.value)
    assert home.publication.read_bytes() == published
    report = json.loads((home.databank_reports / "kwaliteit.json").read_text(encoding="utf-8"))
    codes = {c["check_id"]: c["status"] for c in report["checks"]}
    assert codes["warehouse_codes_conform"] == "fail"


def dagster_runs(home: DatabankHome) -> int:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        return instance.get_runs_count()


def test_run_with_nothing_new_starts_no_dagster_run_until_something_changes(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    ended = dict(einddatum="20-03-2025", reden_einde="1")
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1, **ended), trajectory(2)])
    first = run_pipeline(home, today=TODAY)
    runs = dagster_runs(home)
    assert runs == 2  # one ingest run, one rebuild run
    again = run_pipeline(home, today=TODAY)
    assert again.up_to_date and again.mart_rows == first.mart_rows
    assert first.mart_rows["trajectory_indicators"] > 0
    assert dagster_runs(home) == runs
    # A command killed during a Dagster run leaves its marker: the next one goes through Dagster
    # (which marks the killed run failed) even with nothing new.
    (home.dagster_home / "in-process-runs").touch()
    assert not run_pipeline(home, today=TODAY).up_to_date
    assert dagster_runs(home) == runs + 1
    assert not (home.dagster_home / "in-process-runs").exists()
    assert run_pipeline(home, today=TODAY).up_to_date
    # A dashboard that does not show the published build is rebuilt, through Dagster.
    shutil.rmtree(home.dashboard)
    assert not run_pipeline(home, today=TODAY).up_to_date
    assert (home.dashboard / "index.html").is_file()
    assert run_pipeline(home, today=TODAY).up_to_date


def test_run_with_nothing_new_leaves_marts_and_publication_untouched(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(2)])
    run_pipeline(home, today=TODAY)
    published = home.publication.stat()
    builds = core_rows(home, "SELECT build_id FROM staging.builds")
    again = run_pipeline(home, today=TODAY)
    assert again.judged == [] and again.unchanged == 1
    assert core_rows(home, "SELECT build_id FROM staging.builds") == builds  # no rebuild
    after = home.publication.stat()
    assert (after.st_ino, after.st_mtime_ns) == (published.st_ino, published.st_mtime_ns)
    # A new delivery makes a new build and a new publication.
    write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1), trajectory(2), trajectory(3)])
    run_pipeline(home, today=TODAY)
    assert len(core_rows(home, "SELECT build_id FROM staging.builds")) == 2
    assert home.publication.stat().st_ino != published.st_ino


def test_delivery_boxes_cover_exactly_the_pending_cells_whatever_the_grid() -> None:
    """Boxes are what Dagster reads; each must hold only pending cells, and together all of them."""
    order = ["ritmeester", "lindenhof", "de-boog", "horizon"]  # Dagster's (insertion) order
    grid = {(p, m) for p in order for m in ("2025-01", "2025-02", "2025-03")}
    assert delivery_boxes(grid, order) == [DeliveryBox(("2025-01", "2025-02", "2025-03"), tuple(order))]
    late = {("ritmeester", "2025-07"), ("ritmeester", "2025-08"), ("lindenhof", "2025-08")}
    assert delivery_boxes(late, order) == [
        DeliveryBox(("2025-07",), ("ritmeester",)), DeliveryBox(("2025-08",), ("ritmeester", "lindenhof")),
    ]
    year_end = {("de-boog", "2024-12"), ("de-boog", "2025-01"), ("horizon", "2025-01")}
    assert delivery_boxes(year_end, order) == [
        DeliveryBox(("2024-12",), ("de-boog",)), DeliveryBox(("2025-01",), ("de-boog", "horizon")),
    ]
    rng = random.Random(11)
    for _ in range(300):
        cells = {(p, f"2025-{m:02d}") for p in order for m in range(1, 13) if rng.random() < 0.6}
        cells |= {(p, "2024-12") for p in order if rng.random() < 0.5}
        boxes = delivery_boxes(cells, order)
        covered = [cell for box in boxes for cell in box.cells()]
        assert sorted(covered) == sorted(cells)  # exactly once each
        for box in boxes:
            assert all(next_month(a) == b for a, b in zip(box.months, box.months[1:], strict=False))
            positions = [order.index(p) for p in box.providers]
            assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert delivery_boxes(set(), order) == []


def test_deliveries_are_read_in_as_few_runs_as_keep_lineage_exact(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    """A first load of two providers over two months is one ingest run; afterwards a correction
    of one provider's old month next to the other's new month is two runs, and Dagster records a
    materialisation for exactly the deliveries read."""
    import dagster as dg

    for provider in ("de-boog", "horizon-jeugd"):
        for month in ("2025-02", "2025-03"):
            write_delivery(home.landing, provider, month, [trajectory(1), trajectory(2)])
    run_pipeline(home, today=TODAY)
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        ingest_runs = instance.get_runs(filters=dg.RunsFilter(job_name="ingest_deliveries"))
        assert len(ingest_runs) == 1
    write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1), trajectory(3)])
    write_delivery(home.landing, "horizon-jeugd", "2025-04", [trajectory(1)])
    summary = run_pipeline(home, today=TODAY)
    assert sorted((p, m) for p, m, _ in summary.judged) == [
        ("de-boog", "2025-02"), ("horizon-jeugd", "2025-04")
    ]
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        ingest_runs = instance.get_runs(filters=dg.RunsFilter(job_name="ingest_deliveries"))
        assert len(ingest_runs) == 3
        records = instance.fetch_materializations(dg.AssetKey("staged_delivery"), limit=100).records
        partitions = sorted(r.partition_key for r in records)
    assert partitions == sorted([
        "2025-02|de-boog", "2025-02|horizon-jeugd", "2025-03|de-boog", "2025-03|horizon-jeugd",
        "2025-02|de-boog", "2025-04|horizon-jeugd",
    ])


def test_a_delivery_rewritten_while_it_is_read_is_not_recorded_and_is_read_next_time(
    home: DatabankHome, write_delivery: DeliveryWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What was read may be neither version: nothing is stored under either bytes' id."""
    import assets.deliveries as deliveries

    folder = write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    real_read = deliveries.read_delivery

    def read_then_rewrite(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        read = real_read(*args, **kwargs)
        write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(2)])
        return read

    monkeypatch.setattr(deliveries, "read_delivery", read_then_rewrite)
    with pytest.raises(PipelineFailed, match="reading"):
        run_pipeline(home, today=TODAY)
    assert core_rows(home, "SELECT count(*) FROM staging.deliveries") == [(0,)]
    monkeypatch.setattr(deliveries, "read_delivery", real_read)
    assert folder.is_dir()
    summary = run_pipeline(home, today=TODAY)
    assert summary.judged == [("de-boog", "2025-03", "accepted")]
    assert core_rows(home, "SELECT count(*) FROM staging.trajectories") == [(2,)]

"""`databank status` and `databank explain`: the Dagster UI's overview and "why did this number
change" in a terminal, from the warehouse read-only or, while a run holds it, the published copy.
Two real runs are shared by the module: building them is most of the time these tests take."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.runner import run_pipeline
from schemas.config import ConfigError, install_default_config, load_config
from tests.builders import (
    METINGEN_HEADER,
    TRAJECTEN_HEADER,
    make_home,
    measurement,
    render_csv,
    trajectory,
)
from warehouse.connection import writer_lock
from warehouse.home import DatabankHome
from warehouse.status import databank_status, explain_last_build

RUN_DAY = dt.date(2025, 4, 20)


def write(home: DatabankHome, provider: str, month: str, trajecten: list[dict], metingen: list[dict]) -> Path:
    folder = home.landing / provider / month
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("trajecten.csv", TRAJECTEN_HEADER, trajecten), ("metingen.csv", METINGEN_HEADER, metingen)):
        (folder / name).write_text(render_csv(header, rows), encoding="utf-8")
        os.utime(folder / name, (1_700_000_000, 1_700_000_000))
    return folder


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DatabankHome]]:
    """`one`: after a first run; `two`: after a second run that corrects de-boog 2025-02, adds
    de-boog 2025-03 and rejects horizon-jeugd 2025-03."""
    root = tmp_path_factory.mktemp("status")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABANK_HOME", str(root / "two"))
        patch.setenv("DAGSTER_HOME", str(root / "two" / "dagster"))
        patch.delenv("DATABANK_KEY_FILE", raising=False)
        home = make_home(root / "two", k=3)  # de-boog's single ended trajectory is suppressed
        write(home, "de-boog", "2025-02", [trajectory(n) for n in (1, 2, 3)],
              [measurement(1, "start", "05-01-2025", "70")])
        # 11 valid rows (5 ended, with start and end scores), one quarantined (unknown
        # reden_einde), one objection
        write(home, "horizon-jeugd", "2025-02",
              [trajectory(n, einddatum="20-02-2025", reden_einde="1") for n in range(1, 6)]
              + [trajectory(n) for n in range(6, 12)]
              + [trajectory(12, einddatum="15-02-2025", reden_einde="9"), trajectory(13, bezwaar="ja")],
              [m for n in range(1, 6) for m in (measurement(n, "start", "05-01-2025", "70"),
                                               measurement(n, "eind", "15-02-2025", "55"))])
        run_pipeline(home, today=RUN_DAY)
        shutil.copytree(home.root, root / "one")
        write(home, "de-boog", "2025-02", [trajectory(n, team="Gecorrigeerd") for n in (1, 2, 3)],
              [measurement(1, "start", "05-01-2025", "70")])
        write(home, "de-boog", "2025-03",
              [trajectory(1, einddatum="10-03-2025", reden_einde="1")] + [trajectory(n) for n in (2, 3, 4)],
              [measurement(1, "start", "05-01-2025", "70"), measurement(1, "eind", "08-03-2025", "50")])
        (write(home, "horizon-jeugd", "2025-03", [trajectory(1)], []) / "metingen.csv").unlink()
        run_pipeline(home, today=RUN_DAY)
        yield {"one": DatabankHome(root / "one"), "two": home}


@pytest.fixture
def two(homes: dict[str, DatabankHome], monkeypatch: pytest.MonkeyPatch) -> DatabankHome:
    monkeypatch.setenv("DATABANK_HOME", str(homes["two"].root))
    return homes["two"]


def test_status_shows_accepted_quarantined_and_rejected_deliveries_with_their_counts(
    two: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    report = databank_status(two, today=RUN_DAY)
    assert report.source == "warehouse" and report.note == ""
    rows = {
        (d.provider, d.month): (d.status, d.rows_trajecten, d.rows_metingen, d.quarantined,
                                d.excluded_by_objection, d.loaded, d.attempts)
        for d in report.deliveries
    }
    assert rows == {
        ("de-boog", "2025-02"): ("accepted", 3, 1, 0, 0, 4, 2),
        ("de-boog", "2025-03"): ("accepted", 4, 2, 0, 0, 6, 1),
        ("horizon-jeugd", "2025-02"): ("accepted_with_quarantine", 13, 10, 1, 1, 21, 1),
        ("horizon-jeugd", "2025-03"): ("rejected", 0, 0, 0, 0, 0, 1),
    }
    assert all(d.received_at is not None for d in report.deliveries)
    assert report.deliveries[0].report_dir == two.report_dir("de-boog", "2025-02")
    assert report.build.builds == 2 and report.build.published_is_latest
    published = report.build.published
    assert published is not None and published.build_id == report.build.latest_build_id
    analyst = duckdb.connect(str(two.publication), read_only=True)
    try:
        expected = analyst.execute(
            "SELECT (SELECT count(*) FROM mart.outcome_scores), "
            "(SELECT count(*) FILTER (WHERE suppressed) FROM mart.outcome_scores), "
            "(SELECT count(*) FROM mart.trajectory_indicators), "
            "(SELECT count(*) FILTER (WHERE suppressed) FROM mart.trajectory_indicators)"
        ).fetchone()
    finally:
        analyst.close()
    counts = (published.outcome_scores, published.outcome_scores_suppressed,
              published.trajectory_indicators, published.trajectory_indicators_suppressed)
    assert counts == expected
    assert published.outcome_scores_suppressed > 0 and published.outcome_scores > published.outcome_scores_suppressed

    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Source: the warehouse" in out
    lines = {tuple(line.split()[:2]): line.split() for line in out.splitlines() if line.startswith("  ")}
    assert lines[("horizon-jeugd", "2025-02")][2:10] == ["accepted", "with", "quarantine", "13", "10", "1", "1", "21"]
    assert lines[("horizon-jeugd", "2025-03")][2:8] == ["rejected", "0", "0", "0", "0", "0"]
    assert lines[("de-boog", "2025-02")][2:8] == ["accepted", "3", "1", "0", "0", "4"]
    assert str(two.report_dir("horizon-jeugd", "2025-02")) in out
    assert f"build {report.build.latest_build_id}, 2 builds in all" in out
    assert (
        f"mart.outcome_scores: {published.outcome_scores} rows, {published.outcome_scores_suppressed} suppressed"
    ) in out


def test_status_flags_an_overdue_provider_and_not_a_fresh_one(
    two: DatabankHome, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2025-03 is due by 15 April: de-boog delivered it, horizon-jeugd's attempt was rejected.
    report = databank_status(two, today=dt.date(2025, 4, 20))
    fresh = {f.provider: f for f in report.freshness}
    assert report.expected_month == "2025-03" and report.due_by == dt.date(2025, 4, 15)
    assert not fresh["de-boog"].overdue and fresh["de-boog"].expected_accepted
    assert fresh["horizon-jeugd"].overdue
    assert (fresh["horizon-jeugd"].newest_month, fresh["horizon-jeugd"].newest_accepted_month) == ("2025-03", "2025-02")
    assert report.overdue == ("horizon-jeugd",)
    # Within the grace period nobody is overdue; so with a longer one from the configuration.
    assert databank_status(two, today=dt.date(2025, 4, 10)).overdue == ()
    longer = dataclasses.replace(two.config(), days_after_month_end=25)
    assert databank_status(two, today=dt.date(2025, 4, 20), config=longer).overdue == ()
    # A registered provider that never delivered is not active, so never overdue.
    more = dataclasses.replace(two.config(), providers={**two.config().providers, "nieuw-jeugd": "Nieuw"})
    report = databank_status(two, today=dt.date(2026, 1, 30), config=more)
    assert report.never_delivered == ("nieuw-jeugd",)
    assert report.overdue == ("de-boog", "horizon-jeugd")

    # The command passes its day (pipelines.cli.today, the clock outside tests) to the same rule.
    monkeypatch.setattr("pipelines.cli.today", lambda: dt.date(2026, 1, 30))
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "horizon-jeugd  newest month delivered 2025-03 (newest accepted: 2025-02); OVERDUE" in out
    assert "2 overdue: de-boog, horizon-jeugd" in out


def test_freshness_setting_is_read_from_consortium_toml_with_line_numbers(tmp_path: Path) -> None:
    install_default_config(tmp_path)
    assert load_config(tmp_path).days_after_month_end == 15
    path = tmp_path / "consortium.toml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\n[freshness]\ndays_after_month_end = 25\n", encoding="utf-8")
    assert load_config(tmp_path).days_after_month_end == 25
    for bad in ("days_after_month_end = -1", 'days_after_month_end = "15"', "days_after_end = 15"):
        path.write_text(original + "\n[freshness]\n" + bad + "\n", encoding="utf-8")
        with pytest.raises(ConfigError) as error:
            load_config(tmp_path)
        assert error.value.line == len(original.splitlines()) + 3
        assert "[freshness]" in str(error.value)


@pytest.mark.slow
def test_status_falls_back_to_the_published_copy_while_another_process_holds_the_warehouse(
    two: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
         str(two.warehouse)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        report = databank_status(two, today=RUN_DAY)
        assert report.source == "publication"
        assert "another process has the warehouse open for writing" in report.note
        # The published copy knows the deliveries in force only: no rejected attempt, no objections.
        assert [(d.provider, d.month, d.status, d.loaded) for d in report.deliveries] == [
            ("de-boog", "2025-02", "accepted", None),
            ("de-boog", "2025-03", "accepted", None),
            ("horizon-jeugd", "2025-02", "accepted_with_quarantine", None),
        ]
        assert report.build.published is not None and report.build.builds is None
        assert report.overdue == ("horizon-jeugd",)
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert "NOTE: another process has the warehouse open for writing" in out
        assert str(two.publication) in out
        assert main(["explain"]) == 2
        assert "a run is in progress, try again when it finishes" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()


def test_status_falls_back_while_a_run_holds_the_writer_lock(two: DatabankHome, capsys: pytest.CaptureFixture) -> None:
    with writer_lock(two.warehouse):
        report = databank_status(two, today=RUN_DAY)
        assert main(["explain"]) == 2
    assert report.source == "publication" and "a run is writing the warehouse" in report.note
    assert "a run is in progress" in capsys.readouterr().err
    assert databank_status(two, today=RUN_DAY).source == "warehouse"  # the lock was let go


def test_explain_names_the_added_and_the_replaced_month_and_nothing_else(
    two: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    explanation = explain_last_build(two)
    assert explanation.comparable and explanation.builds == 2
    assert [(c.change, c.provider, c.month) for c in explanation.changes] == [
        ("replaced", "de-boog", "2025-02"), ("added", "de-boog", "2025-03"),
    ]
    replaced, added = explanation.changes
    assert replaced.previous is not None and replaced.latest is not None
    assert replaced.previous.delivery_id != replaced.latest.delivery_id
    assert replaced.previous.received_at < replaced.latest.received_at
    assert added.previous is None and added.latest is not None and added.latest.status == "accepted"
    assert (explanation.erasures, explanation.key_rotations, explanation.objections) == (0, 0, 0)

    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    changes = [line.split()[:3] for line in out.splitlines() if line.startswith("  ")]
    assert changes == [["replaced", "de-boog", "2025-02"], ["added", "de-boog", "2025-03"]]
    assert "horizon-jeugd" not in out
    assert "0 erasures, 0 key rotations, 0 objections" in out


def test_explain_with_organisation_limits_to_that_provider(
    two: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    assert [c.month for c in explain_last_build(two, "de-boog").changes] == ["2025-02", "2025-03"]
    assert explain_last_build(two, "horizon-jeugd").changes == ()
    assert main(["explain", "--organisation", "horizon-jeugd"]) == 0
    out = capsys.readouterr().out
    assert "limited to horizon-jeugd" in out and "consortium and intervention level" in out
    assert "Nothing of horizon-jeugd differs" in out and "de-boog" not in out
    assert main(["explain", "--organisation", "De Boog!"]) == 2
    assert "provider code" in capsys.readouterr().err


def test_explain_with_one_build_or_none_says_so(
    homes: dict[str, DatabankHome], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    one = homes["one"]
    explanation = explain_last_build(one)
    assert explanation.builds == 1 and not explanation.comparable
    monkeypatch.setenv("DATABANK_HOME", str(one.root))
    assert main(["explain"]) == 0
    assert "only one build" in capsys.readouterr().out
    empty = make_home(tmp_path / "empty", with_key=False)
    monkeypatch.setenv("DATABANK_HOME", str(empty.root))
    assert main(["explain"]) == 0
    assert "no build yet" in capsys.readouterr().out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "no warehouse yet" in out and "none yet" in out
    assert not empty.warehouse.exists()


def test_explain_counts_privacy_actions_between_the_two_builds(
    homes: dict[str, DatabankHome], tmp_path: Path
) -> None:
    copy = DatabankHome(tmp_path / "copy")
    shutil.copytree(homes["two"].root, copy.root)
    before = explain_last_build(copy)
    assert before.previous is not None and before.latest is not None
    between = before.previous.built_at + (before.latest.built_at - before.previous.built_at) / 2
    con = duckdb.connect(str(copy.warehouse))
    try:
        con.execute("INSERT INTO privacy.erasures VALUES (?, 'horizon-jeugd', 'bsn', 1, 2, 0)", [between])
        con.execute("INSERT INTO privacy.erasures VALUES (?, 'horizon-jeugd', 'bsn', 1, 2, 0)",
                    [before.latest.built_at + dt.timedelta(seconds=1)])  # after: not in this build
        con.execute("INSERT INTO privacy.key_rotations VALUES (?, 'k1', 'k2', 10)", [between])
    finally:
        con.close()
    everyone = explain_last_build(copy)
    assert (everyone.erasures, everyone.key_rotations, everyone.objections) == (1, 1, 0)
    de_boog = explain_last_build(copy, "de-boog")
    assert (de_boog.erasures, de_boog.key_rotations) == (0, 1)


def test_readme_lineage_query_lists_the_deliveries_of_a_row(two: DatabankHome) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    query = readme.split("**Lineage:**", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    analyst = duckdb.connect(str(two.publication), read_only=True)
    try:
        own = analyst.execute(query).fetchall()
        everyone = analyst.execute(
            query.replace("r.level = 'organisation' AND r.organisation = 'de-boog'", "r.level = 'consortium'")
        ).fetchall()
    finally:
        analyst.close()
    assert [(o, m) for o, m, *_ in own] == [("de-boog", "2025-02"), ("de-boog", "2025-03")]
    assert [(o, m) for o, m, *_ in everyone] == [
        ("de-boog", "2025-02"), ("de-boog", "2025-03"), ("horizon-jeugd", "2025-02"),
    ]


def test_status_shows_the_landing_folder_as_run_and_sensor_see_it(
    two: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    """The ledger in the terminal: what is pending is exactly what the next run judges."""
    write(two, "de-boog", "2025-04", [trajectory(7)], [])
    write(two, "de-boog", "2025-13", [trajectory(8)], [])  # no month
    busy = write(two, "horizon-jeugd", "2025-04", [trajectory(9)], [])
    now = 1_900_000_000.0
    os.utime(busy / "trajecten.csv", (now - 1, now - 1))
    report = databank_status(two, today=RUN_DAY, now=now)
    assert report.landing is not None
    states = {e.name: str(e.state) for e in report.landing}
    assert states["de-boog/2025-04"] == "pending"
    assert states["de-boog/2025-13"] == "unpartitionable"
    assert states["horizon-jeugd/2025-04"] == "being_written"
    assert states["horizon-jeugd/2025-03"] == "waiting_for_configuration"  # rejected, same bytes
    assert states["de-boog/2025-02"] == states["horizon-jeugd/2025-02"] == "unchanged"
    with writer_lock(two.warehouse):
        assert databank_status(two, today=RUN_DAY).landing is None
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "1 pending" in out and "de-boog/2025-04" in out and "2025-13" in out

    os.utime(busy / "trajecten.csv", (1_700_000_000, 1_700_000_000))
    pending = {e.name for e in databank_status(two, today=RUN_DAY).landing or () if e.state == "pending"}
    summary = run_pipeline(two, today=RUN_DAY)
    assert {f"{p}/{m}" for p, m, _ in summary.judged} == pending == {"de-boog/2025-04", "horizon-jeugd/2025-04"}

"""Analysts holding the published copy open never block a run and never see an error; a second
`databank run` started during a first one waits its turn and loads nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.builders import DeliveryWriter, trajectory
from warehouse.home import DatabankHome

DATABANK = str(Path(sys.executable).with_name("databank"))
READER = """
import duckdb, os, sys, time
path, stop = sys.argv[1], sys.argv[2]
con = duckdb.connect(path, read_only=True)
first = con.execute("SELECT count(*) FROM mart.trajectory_indicators").fetchone()[0]
print("ready", first, flush=True)
errors = 0
while not os.path.exists(stop):  # keep reading through the whole run, however long it takes
    try:
        con.execute("SELECT count(*) FROM mart.outcome_scores").fetchall()
    except Exception:
        errors += 1
    time.sleep(0.05)
con.close()
con = duckdb.connect(path, read_only=True)  # reconnect: the new build
after = con.execute("SELECT count(*) FROM mart.deliveries").fetchone()[0]
print("done", errors, after, flush=True)
"""


def start_run(home: DatabankHome, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [DATABANK, "run"], stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "DATABANK_HOME": str(home.root), "DAGSTER_HOME": str(home.dagster_home)},
    )


def finish(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=300)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # Dagster's log-capture helpers, if any
        except ProcessLookupError:
            pass


def test_reader_holding_the_published_copy_through_a_run(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path
) -> None:
    write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1), trajectory(2)])
    assert finish(start_run(home, tmp_path / "first.log")) == 0
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(home.publication), str(tmp_path / "stop-reading")],
        stdout=subprocess.PIPE, text=True,
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().startswith("ready")
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(3)])
    run = start_run(home, tmp_path / "second.log")
    assert finish(run) == 0, (tmp_path / "second.log").read_text()
    (tmp_path / "stop-reading").touch()  # the reader held the old copy through the whole run
    out, _ = reader.communicate(timeout=60)
    _, errors, deliveries_after = out.split()
    assert errors == "0"
    assert deliveries_after == "2"  # after reconnecting the reader sees the new build


def test_second_run_waits_for_the_first_and_loads_nothing_twice(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path
) -> None:
    for month in ("2025-01", "2025-02", "2025-03"):
        write_delivery(home.landing, "de-boog", month, [trajectory(n) for n in range(1, 4)])
    first = start_run(home, tmp_path / "first.log")
    time.sleep(1.0)  # the first holds the writer lock before the second starts
    second = start_run(home, tmp_path / "second.log")
    assert finish(first) == 0 and finish(second) == 0
    both = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert "Traceback" not in both
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        deliveries = con.execute("SELECT month, count(*) FROM staging.deliveries GROUP BY 1 ORDER BY 1").fetchall()
        staged = con.execute("SELECT count(*) FROM staging.trajectories").fetchone()
    finally:
        con.close()
    assert deliveries == [("2025-01", 1), ("2025-02", 1), ("2025-03", 1)]
    assert staged == (9,)
    judged_lines = [line for line in both.splitlines() if ": accepted" in line]
    assert len(judged_lines) == 3  # each delivery judged by exactly one of the two runs

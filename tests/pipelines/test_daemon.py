"""The daemon as operators run it (`databank dev`, which serves the graph, the sensors and the
nightly schedule on localhost): it agrees with `databank run` about what is
pending, launches one ingest run per new delivery and one rebuild after a burst of them, and
Ctrl-C ends every process it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from pipelines.dev import session_members
from tests.builders import DeliveryWriter, measurement, trajectory
from warehouse.home import DatabankHome

DATABANK = str(Path(sys.executable).with_name("databank"))
TICK_SECONDS = 4
QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name
    sensors { name sensorState { status } }
    schedules { name scheduleState { status } }
    assetNodes { assetKey { path } }
} } } }
"""



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())




def _query(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())["data"]


def runs(port: int) -> list[tuple[str, str]]:
    """The daemon's runs (those `databank run` executed in-process carry its tag)."""
    data = _query(port, "{ runsOrError { ... on Runs { results { jobName status tags { key value } } } } }")
    return [
        (r["jobName"], r["status"]) for r in data["runsOrError"]["results"]
        if {"key": "databank/launched_by", "value": "databank-cli"} not in r["tags"]
    ]


def ticks(port: int, sensor: str) -> list[float]:
    data = _query(port, """{ sensorOrError(sensorSelector: {repositoryLocationName: "lerende_databank",
        repositoryName: "__repository__", sensorName: "%s"}) { ... on Sensor { sensorState {
        ticks(limit: 50) { timestamp } } } } }""".replace("%s", sensor))
    return [t["timestamp"] for t in data["sensorOrError"]["sensorState"]["ticks"]]


def wait_for(what: str, condition, timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, KeyError, TypeError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def three_more_ticks(port: int) -> None:
    """Both sensors evaluated at least three more times from now."""
    since = time.time()
    wait_for(
        "three sensor ticks",
        lambda: all(
            sum(t > since for t in ticks(port, s)) >= 3 for s in ("landing_sensor", "rebuild_when_stale")
        ),
        timeout=30 * TICK_SECONDS,
    )


def settled_runs(port: int) -> Counter | list[tuple[str, str]]:
    """Runs per job once every run succeeded; the raw list (which compares unequal) otherwise."""
    listed = runs(port)
    if any(status != "SUCCESS" for _, status in listed):
        return listed
    return Counter(job for job, _ in listed)


def delivery(write_delivery: DeliveryWriter, home: DatabankHome, provider: str, month: str, n: int) -> None:
    rows = [trajectory(i, einddatum="20-03-2025", reden_einde="1") for i in range(n, n + 3)]
    metingen = [m for i in range(n, n + 3) for m in (
        measurement(i, "start", "05-01-2025", "70"), measurement(i, "eind", "10-03-2025", "60")
    )]
    write_delivery(home.landing, provider, month, rows, metingen)


@pytest.mark.slow
def test_daemon_agrees_with_the_cli_and_rebuilds_once_per_burst_and_stops_on_ctrl_c(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    env = {**os.environ, "DATABANK_HOME": str(home.root), "DATABANK_SENSOR_INTERVAL_SECONDS": str(TICK_SECONDS)}
    delivery(write_delivery, home, "de-boog", "2025-03", 1)
    delivery(write_delivery, home, "horizon-jeugd", "2025-03", 10)
    done = subprocess.run([DATABANK, "run"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

    port = free_port()
    log = (home.root / "dev.log").open("wb")
    process = subprocess.Popen(
        [DATABANK, "dev", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for("the UI", lambda: graphql(port)["data"]["repositoriesOrError"]["nodes"], 150)
        (repository,) = graphql(port)["data"]["repositoriesOrError"]["nodes"]
        assets = {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
        assert {"pseudonymised_delivery", "staged_delivery", "mart/outcome_scores",
                "publish/analyst_copy"} <= assets
        sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
        assert sensors == {"landing_sensor": "RUNNING", "rebuild_when_stale": "RUNNING"}
        schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
        assert schedules == {"nightly_rebuild": "RUNNING"}
        assert (home.dagster_home / "dagster.yaml").is_file()
        three_more_ticks(port)
        assert runs(port) == [], "the daemon redid what `databank run` did"

        delivery(write_delivery, home, "de-boog", "2025-04", 20)
        wait_for("one ingest and one rebuild", lambda: settled_runs(port) == Counter(
            {"ingest_deliveries": 1, "rebuild_and_publish": 1}), 240)
        three_more_ticks(port)
        assert settled_runs(port) == Counter({"ingest_deliveries": 1, "rebuild_and_publish": 1})

        for n, (provider, month) in enumerate(
            [("de-boog", "2025-05"), ("horizon-jeugd", "2025-04"), ("horizon-jeugd", "2025-05")]
        ):
            delivery(write_delivery, home, provider, month, 30 + 10 * n)
        wait_for("three more ingests and one more rebuild", lambda: settled_runs(port) == Counter(
            {"ingest_deliveries": 4, "rebuild_and_publish": 2}), 360)
        three_more_ticks(port)
        assert settled_runs(port) == Counter({"ingest_deliveries": 4, "rebuild_and_publish": 2})

        cli = subprocess.run([DATABANK, "run"], env=env, capture_output=True, text=True, timeout=300)
        assert cli.returncode == 0, cli.stderr[-2000:]
        assert "nothing new since the last build" in cli.stdout and "6 unchanged" in cli.stdout, cli.stdout
    finally:
        started = time.monotonic()
        family = _family(process.pid)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        deadline = started + 15
        while time.monotonic() < deadline and _alive(family):
            time.sleep(0.2)
        left = _alive(family)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        log.close()
    assert not left, f"{len(left)} processes of databank dev still alive 15 s after Ctrl-C"
    assert process.returncode == 130


def _family(pid: int) -> set[int]:
    """The supervisor's session and the session of dagster dev it started."""
    members = set(session_members(pid))
    for member in list(members):
        members |= set(session_members(member))
    return members


def _alive(pids: set[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            alive.append(pid)
    return alive

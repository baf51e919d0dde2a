"""`databank dev` (dagster dev from the project root, as the README says) serves the graph, the
sensors and the nightly schedule on localhost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.builders import DeliveryWriter, trajectory
from warehouse.home import DatabankHome

DATABANK = str(Path(sys.executable).with_name("databank"))
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


def run_statuses(port: int) -> dict[str, str]:
    """The newest run's status per job."""
    query = "{ runsOrError { ... on Runs { results { jobName status } } } }"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        results = json.loads(response.read())["data"]["runsOrError"]["results"]
    statuses: dict[str, str] = {}
    for run in results:  # newest first
        statuses.setdefault(run["jobName"], run["status"])
    return statuses


@pytest.mark.slow
def test_dagster_dev_serves_graph_sensors_and_schedule_and_picks_up_a_delivery(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [DATABANK, "dev", "--port", str(port)],
        env={**os.environ, "DATABANK_HOME": str(home.root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so all of dagster dev stops with it
    )
    try:
        deadline = time.monotonic() + 120
        payload = None
        while time.monotonic() < deadline:
            try:
                payload = graphql(port)
                if payload["data"]["repositoriesOrError"].get("nodes"):
                    break
            except (OSError, KeyError, ValueError):
                pass
            time.sleep(1)
        assert payload is not None, "dagster dev did not answer on localhost"
        (repository,) = payload["data"]["repositoriesOrError"]["nodes"]
        assets = {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
        assert {"pseudonymised_delivery", "staged_delivery", "mart/outcome_scores",
                "publish/analyst_copy"} <= assets
        sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
        assert sensors == {"landing_sensor": "RUNNING", "rebuild_when_stale": "RUNNING"}
        schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
        assert schedules == {"nightly_rebuild": "RUNNING"}
        assert (home.dagster_home / "dagster.yaml").is_file()

        # A delivery dropped in landing is picked up by the sensor into successful runs.
        write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(2)])
        deadline, runs = time.monotonic() + 150, {}
        while time.monotonic() < deadline:
            runs = run_statuses(port)
            if runs.get("ingest_deliveries") == "SUCCESS" and runs.get("rebuild_and_publish") == "SUCCESS":
                break
            time.sleep(2)
        assert runs.get("ingest_deliveries") == "SUCCESS", runs
        assert runs.get("rebuild_and_publish") == "SUCCESS", runs
        assert home.publication.is_file()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

"""The one place that wires Dagster together: assets, checks, jobs, sensors, schedule and
resources for a databank home. `dagster dev` loads `defs` from here (pyproject [tool.dagster])."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.dashboard import dashboard
from assets.deliveries import pseudonymised_delivery, staged_delivery
from assets.marts import analyst_copy, warehouse_build, warehouse_quality
from assets.resources import HomeResource, KeyResource
from pipelines.jobs import ingest_job, rebuild_job
from pipelines.schedules import nightly_rebuild
from pipelines.sensors import landing_sensor, rebuild_when_stale
from warehouse.home import DatabankHome, resolve_home
from warehouse.permissions import write_owner_only

ALL_ASSETS = [
    pseudonymised_delivery, staged_delivery, warehouse_build, warehouse_quality, analyst_copy, dashboard,
]


def build_definitions(home: DatabankHome | None = None, key_file: Path | None = None) -> dg.Definitions:
    """Steps run in one process: DuckDB admits one writer per file, and the graph is a chain.
    Whatever process loads the definitions (a run the daemon started, a code server) writes the
    home owner-only from then on, as the `databank` commands do (warehouse/permissions.py)."""
    write_owner_only()
    home = home or resolve_home()
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[ingest_job, rebuild_job],
        sensors=[landing_sensor, rebuild_when_stale],
        schedules=[nightly_rebuild],
        resources={
            "home": HomeResource(root=str(home.root)),
            "key": KeyResource(key_file=str(key_file or home.key_file)),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions()

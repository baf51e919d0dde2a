"""The real Dagster graph in-process (`materialize`), the sensor and the definitions."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from assets.deliveries import TODAY_TAG, judging_day, pseudonymised_delivery, staged_delivery
from assets.marts import analyst_copy, warehouse_build, warehouse_quality
from assets.partitions import delivery_partition_key, provider_partitions
from assets.resources import HomeResource, KeyResource
from pipelines.definitions import build_definitions
from pipelines.sensors import landing_sensor
from tests.builders import DeliveryWriter, measurement, trajectory
from warehouse.home import DatabankHome
from warehouse.quality import OUTCOME_SCORE_COLUMNS, TRAJECTORY_INDICATOR_COLUMNS

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def resources(home: DatabankHome) -> dict:
    return {"home": HomeResource(root=str(home.root)), "key": KeyResource(key_file=str(home.key_file))}


def test_materialize_whole_graph_from_landing_to_published_copy(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    rows = [
        trajectory(n, einddatum="20-03-2025", reden_einde="1", doelrealisatie="1", tevredenheid="8")
        for n in range(1, 4)
    ]
    metingen = [m for n in range(1, 4) for m in (
        measurement(n, "start", "05-01-2025", str(70 + n)), measurement(n, "eind", "10-03-2025", "58")
    )]
    write_delivery(home.landing, "de-boog", "2025-03", rows, metingen)
    with dg.instance_for_test(temp_dir=str(home.dagster_home)) as instance:
        instance.add_dynamic_partitions(provider_partitions.name, ["de-boog"])
        ingest = dg.materialize(
            [pseudonymised_delivery, staged_delivery],
            partition_key=str(delivery_partition_key("de-boog", "2025-03")),
            resources=resources(home),
            instance=instance,
        )
        assert ingest.success
        metadata = ingest.asset_materializations_for_node("pseudonymised_delivery")[0].metadata
        assert metadata["accepted"].value == 1
        assert metadata["rows_trajecten"].value == 3
        build = dg.materialize(
            [warehouse_build, warehouse_quality, analyst_copy],
            resources=resources(home),
            instance=instance,
        )
        assert build.success
        checks = {c.check_name: c.passed for c in build.get_asset_check_evaluations()}
        assert checks == {"warehouse_quality_errors": True, "warehouse_quality_warnings": True}
    con = duckdb.connect(str(home.publication), read_only=True)
    try:
        scores = con.sql("SELECT * FROM mart.outcome_scores").df()
        indicators = con.sql("SELECT * FROM mart.trajectory_indicators").df()
    finally:
        con.close()
    assert list(scores.columns) == OUTCOME_SCORE_COLUMNS
    assert list(indicators.columns) == TRAJECTORY_INDICATOR_COLUMNS
    consortium = scores[(scores.level == "consortium") & (scores.period == "all")].iloc[0]
    # Start 71, 72, 73; end 58 each: improvements 13, 14, 15.
    assert consortium.n_paired == 3 and consortium.mean_improvement == 14.0


def test_sensor_one_run_request_per_new_delivery_none_for_unchanged(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1)])
    write_delivery(home.landing, "horizon-jeugd", "2025-04", [trajectory(1)])
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"home": HomeResource(root=str(home.root))})
        first = landing_sensor(context)
        assert sorted(r.partition_key for r in first.run_requests) == sorted(
            str(delivery_partition_key(p, m))
            for p, m in (("de-boog", "2025-03"), ("de-boog", "2025-04"), ("horizon-jeugd", "2025-04"))
        )
        assert first.dynamic_partitions_requests[0].partition_keys == ["de-boog", "horizon-jeugd"]
        assert len({r.run_key for r in first.run_requests}) == 3

        unchanged = landing_sensor(dg.build_sensor_context(
            instance=instance, cursor=first.cursor, resources={"home": HomeResource(root=str(home.root))}
        ))
        assert unchanged.run_requests == []

        # A correction of one month: exactly one new request, with a new run key.
        write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1, team="Team Zuid")])
        corrected = landing_sensor(dg.build_sensor_context(
            instance=instance, cursor=first.cursor, resources={"home": HomeResource(root=str(home.root))}
        ))
        assert [r.partition_key for r in corrected.run_requests] == [str(delivery_partition_key("de-boog", "2025-04"))]
        assert corrected.run_requests[0].run_key not in {r.run_key for r in first.run_requests}

        # A file still being written (modified just now) is left for a later tick.
        folder = write_delivery(home.landing, "de-boog", "2025-05", [trajectory(1)])
        now = time.time()
        os.utime(folder / "trajecten.csv", (now, now))
        busy = landing_sensor(dg.build_sensor_context(
            instance=instance, cursor=corrected.cursor, resources={"home": HomeResource(root=str(home.root))}
        ))
        assert busy.run_requests == []


def test_read_step_judges_months_in_the_future_by_the_runs_day(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    """`databank run` tags its runs with its day; the read step decides "month in the future" by
    that tag, not by the clock of the machine the test runs on."""
    assert judging_day({TODAY_TAG: "2025-02-28"}) == dt.date(2025, 2, 28)
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    verdicts = {}
    with dg.instance_for_test(temp_dir=str(home.dagster_home)) as instance:
        instance.add_dynamic_partitions(provider_partitions.name, ["de-boog"])
        for day in ("2025-02-28", "2025-03-01"):
            result = dg.materialize(
                [pseudonymised_delivery], partition_key=str(delivery_partition_key("de-boog", "2025-03")),
                resources=resources(home), instance=instance, tags={TODAY_TAG: day},
            )
            table = result.asset_materializations_for_node("pseudonymised_delivery")[0].metadata
            verdicts[day] = (table["rejected"].value, table["accepted"].value, table["deliveries"].value)
    assert verdicts["2025-02-28"][:2] == (1, 0) and "FILE_MONTH_IN_FUTURE" in verdicts["2025-02-28"][2]
    # Not staged yet, so judged again (lineage is in staging): on its own month's first day, accepted.
    assert verdicts["2025-03-01"][:2] == (0, 1)


def test_definitions_snapshot_of_graph_jobs_sensors_schedule(home: DatabankHome) -> None:
    definitions = build_definitions(home)
    graph = definitions.resolve_asset_graph()
    assert sorted(key.to_user_string() for key in graph.get_all_asset_keys()) == [
        "core/measurements", "core/trajectories", "mart/outcome_scores", "mart/trajectory_indicators",
        "pseudonymised_delivery", "publish/analyst_copy", "publish/dashboard", "quality/warehouse",
        "staged_delivery",
    ]
    assert sorted(job.name for job in definitions.resolve_all_job_defs() if not job.name.startswith("__")) == [
        "ingest_deliveries", "rebuild_and_publish",
    ]
    assert sorted(s.name for s in definitions.sensors) == ["landing_sensor", "rebuild_after_ingest"]
    schedule = definitions.resolve_schedule_def("nightly_rebuild")
    assert schedule.cron_schedule == "30 2 * * *" and schedule.execution_timezone == "Europe/Amsterdam"


def test_definitions_validate_with_dagster_cli(home: DatabankHome) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABANK_HOME": str(home.root), "DAGSTER_HOME": str(home.dagster_home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Validation successful" in result.stderr + result.stdout

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
from assets.partitions import delivery_partition_key, month_partitions, provider_partitions
from assets.resources import HomeResource, KeyResource
from pipelines.definitions import build_definitions
from pipelines.runner import run_pipeline
from pipelines.sensors import landing_sensor, rebuild_when_stale
from tests.builders import DeliveryWriter, measurement, trajectory
from warehouse.connection import writer_lock
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


def _evaluate(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, home: DatabankHome):  # noqa: ANN202
    context = dg.build_sensor_context(instance=instance, resources={"home": HomeResource(root=str(home.root))})
    return sensor(context)


def _requested(result: object) -> list[str]:
    return sorted(r.partition_key for r in getattr(result, "run_requests", None) or [])


def test_landing_sensor_asks_the_warehouse_what_is_pending(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    """One request per pending delivery, keyed by its bytes; nothing once `databank run` has read
    them (the warehouse is the truth, not a cursor); a correction is one new request; a file still
    being written waits; a run holding the warehouse makes the sensor skip its tick."""
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1)])
    write_delivery(home.landing, "horizon-jeugd", "2025-04", [trajectory(1)])
    with dg.instance_for_test() as instance:
        first = _evaluate(landing_sensor, instance, home)
        assert _requested(first) == sorted(
            str(delivery_partition_key(p, m))
            for p, m in (("de-boog", "2025-03"), ("de-boog", "2025-04"), ("horizon-jeugd", "2025-04"))
        )
        assert first.dynamic_partitions_requests[0].partition_keys == ["de-boog", "horizon-jeugd"]
        assert len({r.run_key for r in first.run_requests}) == 3
        # Evaluated again before anything ran: the same run keys, which Dagster launches only once.
        again = _evaluate(landing_sensor, instance, home)
        assert {r.run_key for r in again.run_requests} == {r.run_key for r in first.run_requests}

    run_pipeline(home, today=dt.date(2025, 6, 1))
    with dg.instance_for_test() as instance:
        assert isinstance(_evaluate(landing_sensor, instance, home), dg.SkipReason)
        assert isinstance(_evaluate(rebuild_when_stale, instance, home), dg.SkipReason)

        write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1, team="Team Zuid")])
        corrected = _evaluate(landing_sensor, instance, home)
        assert _requested(corrected) == [str(delivery_partition_key("de-boog", "2025-04"))]
        assert corrected.run_requests[0].run_key not in {r.run_key for r in first.run_requests}

        folder = write_delivery(home.landing, "de-boog", "2025-05", [trajectory(1)])
        now = time.time()
        os.utime(folder / "trajecten.csv", (now, now))  # still being written
        assert _requested(_evaluate(landing_sensor, instance, home)) == [
            str(delivery_partition_key("de-boog", "2025-04"))
        ]
        with writer_lock(home.warehouse):
            busy = _evaluate(landing_sensor, instance, home)
            assert isinstance(busy, dg.SkipReason) and "run is writing" in str(busy.skip_message)


def test_rebuild_sensor_asks_once_after_ingest_runs_not_while_they_run(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    with dg.instance_for_test(temp_dir=str(home.dagster_home)) as instance:
        assert isinstance(_evaluate(rebuild_when_stale, instance, home), dg.SkipReason)  # nothing yet
        instance.add_dynamic_partitions(provider_partitions.name, ["de-boog"])
        ingested = dg.materialize(
            [pseudonymised_delivery, staged_delivery],
            partition_key=str(delivery_partition_key("de-boog", "2025-03")),
            resources=resources(home), instance=instance,
        )
        assert ingested.success
        request = _evaluate(rebuild_when_stale, instance, home)
        assert isinstance(request, dg.RunRequest) and request.run_key
        assert _evaluate(rebuild_when_stale, instance, home).run_key == request.run_key  # launched once

        # Another ingest run waiting in the queue: no rebuild yet, one after it.
        instance.create_run_for_job(
            build_definitions(home).resolve_job_def("ingest_deliveries"), tags={"databank/warehouse": "write"}
        )
        waiting = _evaluate(rebuild_when_stale, instance, home)
        assert isinstance(waiting, dg.SkipReason) and "queued or running" in str(waiting.skip_message)


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
    assert sorted(s.name for s in definitions.sensors) == ["landing_sensor", "rebuild_when_stale"]
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


def test_the_new_month_is_a_partition_while_utc_is_still_in_the_old_one() -> None:
    """00:30 on 1 December in Amsterdam is 23:30 on 30 November in UTC: a December delivery is
    due (not in the future) and must have a partition to be read."""
    late_evening_utc = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    keys = month_partitions.get_partition_keys(current_time=late_evening_utc)
    assert keys[-2:] == ["2026-11", "2026-12"]

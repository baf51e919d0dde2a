"""`databank status` freshness: every month from a provider's first delivery up to the last month
whose grace period has passed needs an accepted delivery. Histories are written straight into
`staging.deliveries` (what a run records), so irregular ones cost no pipeline run; every check
passes its own day, and a few are repeated over days around the grace period and a year end."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.deliveries import TODAY_TAG, pseudonymised_delivery, staged_delivery
from assets.partitions import delivery_partition_key, provider_partitions
from assets.resources import HomeResource, KeyResource
from pipelines.cli import main
from pipelines.runner import run_pipeline
from schemas.config import ConsortiumConfig
from schemas.counts import DeliveryCounts
from tests.builders import DeliveryWriter, make_home, measurement, trajectory
from warehouse.connection import open_warehouse
from warehouse.home import DatabankHome
from warehouse.status import databank_status, last_due_month, missing_months, months_from

# (provider, month, status), in the order received
HISTORY = [
    # gaps (2025-03 never delivered), a rejected month (2025-05) and a rejected correction of an
    # accepted month (2025-02: the accepted version stays in force, so the month counts)
    ("de-boog", "2025-01", "accepted"),
    ("de-boog", "2025-02", "accepted_with_quarantine"),
    ("de-boog", "2025-02", "rejected"),
    ("de-boog", "2025-04", "accepted"),
    ("de-boog", "2025-05", "rejected"),
    ("de-boog", "2025-06", "accepted"),
    ("de-boog", "2025-07", "accepted"),
    # delivered only long ago
    ("horizon-jeugd", "2023-11", "accepted"),
    # every month, up to the newest that is due
    ("punt-jeugd", "2025-05", "accepted"),
    ("punt-jeugd", "2025-06", "accepted"),
    # only a rejected attempt: its month is still expected
    ("start-jeugd", "2025-06", "rejected"),
]


def record(home: DatabankHome, history: list[tuple[str, str, str]]) -> None:
    with open_warehouse(home.warehouse) as con:
        for n, (provider, month, status) in enumerate(history):
            con.execute(
                "INSERT INTO staging.deliveries BY NAME SELECT ? AS delivery_id, ? AS provider, "
                "? AS month, '[]' AS files, ? AS received_at, ? AS status, false AS is_current, "
                "0 AS rows_trajecten, 0 AS rows_metingen, 0 AS quarantined_trajecten, "
                "0 AS quarantined_metingen, 0 AS excluded_bezwaar, '' AS fault_codes, "
                "'test' AS config_hash",
                [f"d{n}", provider, month, dt.datetime(2025, 1, 1) + dt.timedelta(hours=n), status],
            )


@pytest.fixture
def history(tmp_path: Path) -> tuple[DatabankHome, ConsortiumConfig]:
    home = make_home(tmp_path / "home", with_key=False)
    record(home, HISTORY)
    config = home.config()
    providers = {**config.providers, "punt-jeugd": "Punt", "start-jeugd": "Start", "nieuw-jeugd": "Nieuw"}
    return home, dataclasses.replace(config, providers=providers)


def test_last_due_month_is_the_newest_month_whose_grace_period_has_passed() -> None:
    assert last_due_month(dt.date(2025, 8, 15), 15) == "2025-06"  # 31 July + 15 = 15 August: not yet
    assert last_due_month(dt.date(2025, 8, 16), 15) == "2025-07"
    assert last_due_month(dt.date(2025, 8, 1), 0) == "2025-07"
    assert last_due_month(dt.date(2026, 1, 16), 15) == "2025-12"  # across a year end
    assert last_due_month(dt.date(2026, 1, 15), 15) == "2025-11"
    assert last_due_month(dt.date(2025, 3, 16), 45) == "2024-12"  # a grace period over a month


def test_missing_months_runs_from_the_first_delivery_to_the_last_due_month() -> None:
    assert months_from("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert months_from("2025-03", "2025-02") == []
    assert missing_months("2025-01", ["2025-01", "2025-04"], "2025-05") == ("2025-02", "2025-03", "2025-05")
    assert missing_months("2025-06", [], "2025-05") == ()  # first delivered month not due yet


def test_status_names_every_missing_month_of_irregular_histories(
    history: tuple[DatabankHome, ConsortiumConfig],
) -> None:
    home, config = history
    report = databank_status(home, dt.date(2025, 8, 20), config)
    assert report.last_due_month == "2025-07"
    fresh = {f.provider: f for f in report.freshness}
    assert fresh["de-boog"].missing_months == ("2025-03", "2025-05")
    assert fresh["de-boog"].expected_accepted  # last month is fine: the old rule said "not overdue"
    assert fresh["de-boog"].newest_accepted_month == "2025-07"
    assert fresh["horizon-jeugd"].missing_months == tuple(months_from("2023-12", "2025-07"))
    assert len(fresh["horizon-jeugd"].missing_months) == 20
    assert fresh["punt-jeugd"].missing_months == ("2025-07",)
    assert fresh["start-jeugd"].missing_months == ("2025-06", "2025-07")
    assert report.overdue == ("de-boog", "horizon-jeugd", "punt-jeugd", "start-jeugd")
    assert report.never_delivered == ("nieuw-jeugd",)
    # Before 2025-07's grace period has passed, punt-jeugd is up to date and nobody owes July.
    report = databank_status(home, dt.date(2025, 8, 15), config)
    fresh = {f.provider: f for f in report.freshness}
    assert report.last_due_month == "2025-06" and not fresh["punt-jeugd"].overdue
    assert fresh["de-boog"].missing_months == ("2025-03", "2025-05")
    assert fresh["start-jeugd"].missing_months == ("2025-06",)


def test_status_command_prints_the_missing_months(history: tuple[DatabankHome, ConsortiumConfig]) -> None:
    from pipelines.cli import format_status

    home, config = history
    out = format_status(databank_status(home, dt.date(2025, 8, 20), config), home)
    assert "de-boog" in out and "OVERDUE: no accepted delivery for 2025-03, 2025-05" in out
    assert "OVERDUE: no accepted delivery for 2023-12 to 2025-07 (20 months)" in out
    assert "up to 2025-07 needs an accepted delivery" in out
    assert "4 overdue: de-boog, horizon-jeugd, punt-jeugd, start-jeugd" in out


# The 1st, 3rd, 15th, 16th and 28th of a month, and both sides of a year end: the verdicts follow
# from the day given, never from the day the suite runs.
@pytest.mark.parametrize(
    ("today", "last_due", "punt_overdue"),
    [
        (dt.date(2025, 8, 1), "2025-06", False),
        (dt.date(2025, 8, 3), "2025-06", False),
        (dt.date(2025, 8, 15), "2025-06", False),
        (dt.date(2025, 8, 16), "2025-07", True),
        (dt.date(2025, 8, 28), "2025-07", True),
        (dt.date(2025, 12, 31), "2025-11", True),
        (dt.date(2026, 1, 1), "2025-11", True),
        (dt.date(2026, 1, 16), "2025-12", True),
    ],
)
def test_freshness_depends_only_on_the_day_given(
    history: tuple[DatabankHome, ConsortiumConfig], today: dt.date, last_due: str, punt_overdue: bool,
) -> None:
    home, config = history
    report = databank_status(home, today, config)
    fresh = {f.provider: f for f in report.freshness}
    assert report.last_due_month == last_due
    assert fresh["punt-jeugd"].overdue is punt_overdue
    assert fresh["punt-jeugd"].missing_months == tuple(months_from("2025-07", last_due))
    assert fresh["de-boog"].missing_months[:2] == ("2025-03", "2025-05")


# --- delivery counts: the same in status, the run's metadata and staging ----------------------


def staged_rows(home: DatabankHome, delivery_id: str) -> int:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return sum(
            con.execute(f"SELECT count(*) FROM staging.{table} WHERE delivery_id = ?", [delivery_id]).fetchone()[0]
            for table in ("trajectories", "measurements")
        )
    finally:
        con.close()


def test_status_loaded_is_what_reached_staging_when_objecting_clients_have_measurements(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    start, end = "05-03-2025", "25-03-2025"
    write_delivery(
        home.landing, "de-boog", "2025-03",
        [trajectory(n) for n in range(1, 16)]
        + [trajectory(16, bezwaar="ja"),  # objects, with two measurements
           trajectory(17, bezwaar="ja"),  # objects; their other trajectory (18) is not marked
           trajectory(18, clientnummer="C00017"),
           trajectory(19, einddatum="15-03-2025", reden_einde="9")],  # quarantined
        [measurement(n, "start", start, "70") for n in range(1, 16)]
        + [measurement(16, "start", start, "70"), measurement(16, "eind", end, "60"),
           measurement(17, "start", start, "70"), measurement(18, "start", start, "70", clientnummer="C00017")],
    )
    run_pipeline(home, dt.date(2025, 4, 20))
    # The client of trajectory 16 delivered again without marking it: their objection stands.
    write_delivery(
        home.landing, "de-boog", "2025-04",
        [trajectory(16), trajectory(20)],
        [measurement(16, "start", start, "70"), measurement(20, "start", "05-04-2025", "70")],
    )
    run_pipeline(home, dt.date(2025, 5, 20))

    report = databank_status(home, dt.date(2025, 5, 20))
    deliveries = {d.month: d for d in report.deliveries}
    march, april = deliveries["2025-03"], deliveries["2025-04"]
    assert march.counts == DeliveryCounts(
        read_trajecten=19, read_metingen=19, quarantined_trajecten=1, quarantined_metingen=0,
        # marked: trajectories 16 and 17 and their 3 measurements; at staging: 18 and its one
        excluded_trajecten=3, excluded_metingen=4,
    )
    assert (march.excluded_by_objection, march.loaded) == (7, 30)
    assert march.loaded == staged_rows(home, march.delivery_id)
    assert april.counts is not None and (april.counts.excluded_trajecten, april.counts.excluded_metingen) == (1, 1)
    assert april.loaded == staged_rows(home, april.delivery_id) == 2

    assert main(["status"]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.startswith("  de-boog") and "2025-03" in line)
    assert row[2:8] == ["accepted", "with", "quarantine", "19", "19", "1"] and row[8:10] == ["7", "30"]


def test_run_metadata_counts_use_the_same_definition(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    write_delivery(
        home.landing, "de-boog", "2025-03", [trajectory(1), trajectory(2, bezwaar="ja")],
        [measurement(1, "start", "05-03-2025", "70"), measurement(2, "start", "05-03-2025", "70")],
    )
    with dg.instance_for_test(temp_dir=str(home.dagster_home)) as instance:
        instance.add_dynamic_partitions(provider_partitions.name, ["de-boog"])
        result = dg.materialize(
            [pseudonymised_delivery, staged_delivery],
            partition_key=str(delivery_partition_key("de-boog", "2025-03")),
            resources={"home": HomeResource(root=str(home.root)), "key": KeyResource(key_file=str(home.key_file))},
            instance=instance, tags={TODAY_TAG: "2025-04-20"},
        )
    metadata = result.asset_materializations_for_node("pseudonymised_delivery")[0].metadata
    assert (metadata["rows_trajecten"].value, metadata["rows_metingen"].value) == (2, 2)
    assert (metadata["excluded_by_objection"].value, metadata["loaded_rows"].value) == (2, 2)
    (delivery,) = databank_status(home, dt.date(2025, 4, 20)).deliveries
    assert (delivery.excluded_by_objection, delivery.loaded) == (2, 2) == (2, staged_rows(home, delivery.delivery_id))


def test_a_warehouse_from_before_metingen_exclusions_were_counted_shows_loaded_as_unknown(
    history: tuple[DatabankHome, ConsortiumConfig], capsys: pytest.CaptureFixture
) -> None:
    home, config = history
    con = duckdb.connect(str(home.warehouse))
    try:  # as an older version left it: no column for metingen exclusions at all
        for table in ("staging.deliveries", "intake.deliveries"):
            con.execute(f"ALTER TABLE {table} DROP COLUMN excluded_bezwaar_metingen")
    finally:
        con.close()
    with open_warehouse(home.warehouse):  # what every run does first: upgrade in place
        pass
    report = databank_status(home, dt.date(2025, 8, 20), config)
    accepted = [d for d in report.deliveries if d.status != "rejected"]
    assert accepted and all(d.loaded is None and d.counts is None for d in accepted)
    assert all(d.loaded == 0 for d in report.deliveries if d.status == "rejected")

"""`databank status` freshness: every month from a provider's first delivery up to the last month
whose grace period has passed needs an accepted delivery. Histories are written straight into
`staging.deliveries` (what a run records), so irregular ones cost no pipeline run; every check
passes its own day, and a few are repeated over days around the grace period and a year end."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from schemas.config import ConsortiumConfig
from tests.builders import make_home
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

"""The warehouse guard validates what a build changed plus what spans the whole (issue 13):
after a passed build, the row checks read only core rows that are new or changed, yet a fault
in those rows is caught, a row edited behind the build's back counts as changed, and the checks
over the whole warehouse (key uniqueness, measurements against their trajectory's start) still
catch what a change broke among rows that were not read again. A check configured to tolerate
failures, or a changed rule, reads every row again."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from schemas.quality import (
    DELIVERY_CHECKS,
    CheckStatus,
    QualityConfig,
    QualityRule,
    load_quality_config,
)
from tests.warehouse.staging import Staging
from warehouse.quality import (
    ROW_CHECKS,
    WAREHOUSE_CHECK_IDS,
    forget_validated_rows,
    remember_validated_rows,
    validate_warehouse,
)
from warehouse.sql import execute

SHIPPED = Path(__file__).resolve().parents[2] / "schemas" / "defaults" / "quality.toml"
REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
K = 3


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


@pytest.fixture(scope="module")
def quality() -> QualityConfig:
    return load_quality_config(SHIPPED, set(DELIVERY_CHECKS) | set(WAREHOUSE_CHECK_IDS))


def tid(n: int) -> str:
    return f"TR1-0123abcd-{n:032x}"


def build(wh: Staging) -> None:
    execute(wh.con, "UPDATE staging.trajectories SET client_id = 'CL1-0123abcd-' || substr(trajectory_id, 14)")
    wh.build(k=K)


def first_build(wh: Staging, quality: QualityConfig) -> None:
    """Six ended trajectories delivered in May, validated whole, passed and remembered."""
    for n in range(6):
        wh.pair(tid(n), 70 + n, 60, month="2025-05", einddatum="2025-05-20", end="2025-05-15")
    build(wh)
    report = validate_warehouse(wh.con, K, quality, changed_only=True)
    assert report.failed() == []
    assert report_of(report)["warehouse_ages_plausible"].denominator == 6  # nothing kept yet: all
    remember_validated_rows(wh.con, quality)


def report_of(report: object) -> dict:
    return {r.check_id: r for r in report.results}  # type: ignore[attr-defined]


def test_nothing_changed_reads_no_row_but_still_checks_the_whole(wh: Staging, quality: QualityConfig) -> None:
    first_build(wh, quality)
    checks = report_of(validate_warehouse(wh.con, K, quality, changed_only=True))
    for check_id in ROW_CHECKS:
        assert checks[check_id].denominator == 0, check_id
        assert checks[check_id].status is CheckStatus.NOT_APPLICABLE
        assert "nieuw of gewijzigd" in checks[check_id].description
    assert checks["warehouse_trajectory_unique"].denominator == 6
    assert checks["warehouse_measurement_unique"].denominator == 12
    assert checks["warehouse_measurement_long_before_start"].denominator == 12


def test_a_fault_in_the_new_month_is_caught_reading_only_the_new_rows(
    wh: Staging, quality: QualityConfig
) -> None:
    first_build(wh, quality)
    for n in (10, 11, 12):
        wh.pair(tid(n), 75, 61, month="2025-06")
    # June restates trajectory 0 as it was: its core row now comes from June, with the same values
    wh.trajectory(tid(0), month="2025-06", einddatum="2025-05-20")
    build(wh)
    assert execute(wh.con, f"SELECT month FROM core.trajectories WHERE trajectory_id = '{tid(0)}'") == [("2025-06",)]
    execute(wh.con, f"UPDATE core.trajectories SET age_at_start = 28 WHERE trajectory_id = '{tid(11)}'")

    checks = report_of(validate_warehouse(wh.con, K, quality, changed_only=True))

    ages = checks["warehouse_ages_plausible"]
    assert (ages.status, ages.numerator, ages.denominator) == (CheckStatus.FAIL, 1, 3)
    assert checks["warehouse_pseudonyms_wellformed"].denominator == 3 * 3 + 6  # new rows only, not the restated one
    assert checks["warehouse_trajectory_unique"].denominator == 9  # the whole table
    assert [r for r, c in checks.items() if c.status is CheckStatus.FAIL] == ["warehouse_ages_plausible"]


def test_a_row_edited_behind_the_builds_back_counts_as_changed(wh: Staging, quality: QualityConfig) -> None:
    first_build(wh, quality)
    execute(wh.con, f"UPDATE core.measurements SET informant = 'oma' WHERE trajectory_id = '{tid(2)}'")
    execute(wh.con, f"UPDATE core.trajectories SET client_id = '271828006' WHERE trajectory_id = '{tid(4)}'")

    checks = report_of(validate_warehouse(wh.con, K, quality, changed_only=True))

    assert checks["warehouse_codes_conform"].status is CheckStatus.FAIL
    assert checks["warehouse_codes_conform"].numerator == 2  # both measurements of trajectory 2
    assert checks["warehouse_pseudonyms_wellformed"].status is CheckStatus.FAIL
    assert checks["warehouse_ages_plausible"].denominator == 1  # the one edited trajectory row


def test_a_duplicate_of_a_passed_row_breaks_uniqueness_over_the_whole(
    wh: Staging, quality: QualityConfig
) -> None:
    """An exact copy has the hash of a row kept as passed: the row checks do not read it, the
    key uniqueness over the whole table does."""
    first_build(wh, quality)
    execute(wh.con, f"INSERT INTO core.trajectories SELECT * FROM core.trajectories WHERE trajectory_id = '{tid(0)}'")
    execute(wh.con, f"INSERT INTO core.measurements SELECT * FROM core.measurements WHERE trajectory_id = '{tid(1)}'")

    checks = report_of(validate_warehouse(wh.con, K, quality, changed_only=True))

    assert checks["warehouse_ages_plausible"].denominator == 0
    assert (checks["warehouse_trajectory_unique"].status, checks["warehouse_trajectory_unique"].numerator) == (
        CheckStatus.FAIL, 2)
    assert (checks["warehouse_measurement_unique"].status, checks["warehouse_measurement_unique"].numerator) == (
        CheckStatus.FAIL, 4)


def test_a_corrected_start_makes_unchanged_measurements_implausible(
    wh: Staging, quality: QualityConfig
) -> None:
    """A June delivery moves trajectory 0's start to December: its two measurements (January and
    May), not changed and not read by the row checks, now lie over 180 days before the start; the
    check over the join of the whole warehouse says so."""
    first_build(wh, quality)
    wh.trajectory(tid(0), month="2025-06", startdatum="2025-12-01", einddatum="2025-12-20")
    build(wh)

    checks = report_of(validate_warehouse(wh.con, K, quality, changed_only=True))

    assert checks["warehouse_ages_plausible"].denominator == 1  # only the corrected trajectory
    before = checks["warehouse_measurement_long_before_start"]
    assert before.status is CheckStatus.FAIL and before.numerator == 2 and before.denominator == 12


def test_a_tolerant_or_changed_rule_reads_every_row(wh: Staging, quality: QualityConfig) -> None:
    first_build(wh, quality)
    tolerant = QualityConfig(quality.version, {
        **quality.rules, "warehouse_ages_plausible": QualityRule(0.5, "error", "test")})
    checks = report_of(validate_warehouse(wh.con, K, tolerant, changed_only=True))
    # the basis (rules of the row checks) differs from the one kept: every row check reads all
    assert checks["warehouse_ages_plausible"].denominator == 6
    assert checks["warehouse_end_not_before_start"].denominator == 6

    remember_validated_rows(wh.con, tolerant)
    checks = report_of(validate_warehouse(wh.con, K, tolerant, changed_only=True))
    assert checks["warehouse_ages_plausible"].denominator == 6  # tolerates failures: whole
    assert checks["warehouse_end_not_before_start"].denominator == 0  # tolerates none: changed only

    forget_validated_rows(wh.con)
    assert report_of(validate_warehouse(wh.con, K, quality, changed_only=True))[
        "warehouse_end_not_before_start"].denominator == 6

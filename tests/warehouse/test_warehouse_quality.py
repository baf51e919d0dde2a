"""The warehouse's data-quality checks (warehouse/quality.py) on small hand-made warehouses: a
clean one passes every check with hand-counted denominators; each error-level check fails when
core or the marts are broken behind the build's back; the warning-level plausibility checks fail
on crafted staging data and hold at their boundaries; and no pseudonym ever reaches the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from schemas.quality import (
    DELIVERY_CHECKS,
    FIVE_YEARS_DAYS,
    LONG_BEFORE_START_DAYS,
    CheckResult,
    CheckStatus,
    QualityConfig,
    QualityReport,
    load_quality_config,
    quality_html,
    quality_json,
)
from tests.warehouse.staging import Staging
from warehouse.quality import WAREHOUSE_CHECK_IDS, validate_warehouse, warehouse_checks
from warehouse.sql import execute

SHIPPED = Path(__file__).resolve().parents[2] / "schemas" / "defaults" / "quality.toml"
REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
K = 5
KEY_ID = "0123abcd"
ERROR_CHECKS = (
    "warehouse_pseudonyms_wellformed", "warehouse_trajectory_unique", "warehouse_measurement_unique",
    "warehouse_codes_conform", "warehouse_ages_plausible", "warehouse_end_not_before_start",
    "warehouse_suppression_holds", "warehouse_shares_in_range", "warehouse_contract_columns",
)


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


@pytest.fixture(scope="module")
def quality() -> QualityConfig:
    return load_quality_config(SHIPPED, set(DELIVERY_CHECKS) | set(WAREHOUSE_CHECK_IDS))


def tid(n: int) -> str:
    """A well-formed trajectory pseudonym (the staging writer's own ids are not)."""
    return f"TR1-{KEY_ID}-{n:032x}"


def clean(wh: Staging) -> None:
    """Nine trajectories of provider p1, all delivered in 2025-06 (newest day 30 June 2025):
    team A runs since June 2024, six ended in June 2025 (distinct start scores) and one runs;
    team B has two ended trajectories, a group below k that the marts suppress."""
    for n in range(6):
        wh.pair(tid(n), 70 + n, 60, team="A", startdatum="2024-06-01", start="2024-06-05")
    for n in (6, 7):
        wh.pair(tid(n), 80 + n, 65, team="B")
    wh.trajectory(tid(8), team="A")
    wh.measurement(tid(8), "start", "2025-01-05", 77)


def build(wh: Staging, k: int = K) -> None:
    """Give every client a well-formed pseudonym too, then build core and marts."""
    execute(wh.con, f"UPDATE staging.trajectories SET client_id = 'CL1-{KEY_ID}-' || substr(trajectory_id, 14)")
    wh.build(k=k)


def validate(wh: Staging, quality: QualityConfig, k: int = K) -> dict[str, CheckResult]:
    report = validate_warehouse(wh.con, k, quality)
    assert [r.check_id for r in report.results] == list(WAREHOUSE_CHECK_IDS)
    return {r.check_id: r for r in report.results}


def counts(result: CheckResult) -> tuple[int | None, int | None]:
    return result.numerator, result.denominator


def failing(checks: dict[str, CheckResult]) -> list[str]:
    return [k for k, r in checks.items() if r.status in (CheckStatus.FAIL, CheckStatus.ERROR)]


def test_warehouse_check_ids_match_warehouse_checks() -> None:
    assert list(WAREHOUSE_CHECK_IDS) == [c.definition.check_id for c in warehouse_checks(10)]
    assert len(set(WAREHOUSE_CHECK_IDS)) == len(WAREHOUSE_CHECK_IDS)


def test_warehouse_checks_error_severity_as_configured(quality: QualityConfig) -> None:
    errors = {i for i in WAREHOUSE_CHECK_IDS if quality.rule(i).severity == "error"}

    assert errors == set(ERROR_CHECKS)
    assert "k = 7" in warehouse_checks(7)[ERROR_CHECKS.index("warehouse_suppression_holds")].definition.description


def test_validate_warehouse_clean_passes_every_check(wh: Staging, quality: QualityConfig) -> None:
    clean(wh)
    build(wh)

    report = validate_warehouse(wh.con, K, quality)

    assert (report.scope, report.config_version) == ("warehouse", quality.version)
    assert report.failed() == []
    checks = {r.check_id: r for r in report.results}
    assert {k: r.status for k, r in checks.items()} == dict.fromkeys(WAREHOUSE_CHECK_IDS, CheckStatus.PASS)
    assert all(r.numerator == 0 for r in checks.values())
    n_trajectories, n_measurements = 9, 17
    assert {k: r.denominator for k, r in checks.items()} == {
        # both ids of every trajectory, the id of every measurement, client_id not null
        "warehouse_pseudonyms_wellformed": 3 * n_trajectories + n_measurements,
        "warehouse_trajectory_unique": n_trajectories,
        "warehouse_measurement_unique": n_measurements,
        # geslacht and hulpvorm per trajectory (pc4 is not stored by default: none to check);
        # reden_einde of the 8 ended; meetmoment, informant and score per measurement
        "warehouse_codes_conform": 2 * n_trajectories + 8 + 3 * n_measurements,
        "warehouse_ages_plausible": n_trajectories,
        "warehouse_end_not_before_start": 8,
        "warehouse_suppression_holds": checks["warehouse_suppression_holds"].denominator,
        "warehouse_shares_in_range": checks["warehouse_shares_in_range"].denominator,
        "warehouse_contract_columns": 2,  # one table-level expectation per mart
        "warehouse_trajectory_longer_than_five_years": n_trajectories,
        "warehouse_measurement_long_before_start": n_measurements,
        "warehouse_team_without_ended_six_months": 1,  # team B started too recently to judge
        "warehouse_identical_start_scores": 1,  # I1, nine distinct start scores
    }
    # published (unsuppressed) counts only: team B's rows carry no n_paired / n_ended
    shown = execute(wh.con, "SELECT count(n_paired) FROM mart.outcome_scores")[0][0] + execute(
        wh.con, "SELECT count(n_ended) FROM mart.trajectory_indicators")[0][0]
    suppressed = execute(wh.con, "SELECT count(*) FROM mart.outcome_scores WHERE suppressed")[0][0]
    assert suppressed > 0
    assert checks["warehouse_suppression_holds"].denominator == shown > 0
    assert checks["warehouse_shares_in_range"].denominator > 0


def test_validate_warehouse_empty_is_not_applicable_not_failing(
    wh: Staging, quality: QualityConfig
) -> None:
    wh.build(k=K)

    checks = validate(wh, quality)

    assert failing(checks) == []
    assert checks["warehouse_trajectory_unique"].status is CheckStatus.NOT_APPLICABLE
    assert checks["warehouse_contract_columns"].status is CheckStatus.PASS


BREAKAGES = [
    pytest.param("warehouse_pseudonyms_wellformed",
                 f"UPDATE core.trajectories SET client_id = '271828006' WHERE trajectory_id = '{tid(0)}'",
                 id="raw-bsn-as-client"),
    pytest.param("warehouse_pseudonyms_wellformed",
                 f"UPDATE core.trajectories SET client_id = upper(client_id) WHERE trajectory_id = '{tid(1)}'",
                 id="upper-case-client"),
    pytest.param("warehouse_pseudonyms_wellformed",
                 f"UPDATE core.measurements SET trajectory_id = 'T00042' WHERE trajectory_id = '{tid(8)}'",
                 id="raw-measurement-trajectory-id"),
    pytest.param("warehouse_trajectory_unique",
                 f"INSERT INTO core.trajectories SELECT * FROM core.trajectories WHERE trajectory_id = '{tid(0)}'",
                 id="duplicate-trajectory"),
    pytest.param("warehouse_measurement_unique",
                 f"INSERT INTO core.measurements SELECT * FROM core.measurements WHERE trajectory_id = '{tid(8)}'",
                 id="duplicate-measurement"),
    pytest.param("warehouse_codes_conform",
                 f"UPDATE core.trajectories SET hulpvorm = 'thuis' WHERE trajectory_id = '{tid(0)}'",
                 id="hulpvorm"),
    pytest.param("warehouse_codes_conform",
                 f"UPDATE core.measurements SET informant = 'oma' WHERE trajectory_id = '{tid(8)}'",
                 id="informant"),
    pytest.param("warehouse_ages_plausible",
                 f"UPDATE core.trajectories SET age_at_start = 28 WHERE trajectory_id = '{tid(0)}'",
                 id="age-28"),
    pytest.param("warehouse_end_not_before_start",
                 f"UPDATE core.trajectories SET end_day = start_day - 1 WHERE trajectory_id = '{tid(0)}'",
                 id="end-before-start"),
    pytest.param("warehouse_suppression_holds",
                 f"UPDATE mart.outcome_scores SET n_paired = {K - 1} "
                 "WHERE level = 'consortium' AND period = 'all'",
                 id="n-paired-below-k"),
    pytest.param("warehouse_shares_in_range",
                 "UPDATE mart.outcome_scores SET pct_improved = 1.5 "
                 "WHERE level = 'consortium' AND period = 'all'",
                 id="pct-above-one"),
    pytest.param("warehouse_contract_columns",
                 "ALTER TABLE mart.outcome_scores ADD COLUMN extra INTEGER",
                 id="extra-column"),
]


@pytest.mark.parametrize(("check_id", "sql"), BREAKAGES)
def test_validate_warehouse_error_check_fails_on_broken_data(
    wh: Staging, quality: QualityConfig, check_id: str, sql: str
) -> None:
    clean(wh)
    build(wh)
    execute(wh.con, sql)

    checks = validate(wh, quality)

    result = checks[check_id]
    assert result.status is CheckStatus.FAIL
    assert result.severity == "error"
    assert result.numerator is not None and result.numerator >= 1
    assert failing(checks) == [check_id]  # exactly this check caught it


def test_validate_warehouse_suppression_fails_when_built_with_smaller_k(
    wh: Staging, quality: QualityConfig
) -> None:
    clean(wh)
    build(wh, k=1)  # team B's two pairs are published

    checks = validate(wh, quality, k=K)

    assert checks["warehouse_suppression_holds"].status is CheckStatus.FAIL
    assert checks["warehouse_suppression_holds"].numerator >= 2  # outcome and indicator rows
    assert validate(wh, quality, k=1)["warehouse_suppression_holds"].status is CheckStatus.PASS


# --- warning-level plausibility -------------------------------------------------------------


def test_validate_warehouse_trajectory_longer_than_five_years(
    wh: Staging, quality: QualityConfig
) -> None:
    assert FIVE_YEARS_DAYS == 1826
    clean(wh)
    # running ones count from the first of their start month (the day is not stored) to 30 June
    # 2025, the end of the month they were delivered in; ended ones count exactly
    wh.trajectory(tid(20), team="A", startdatum="2020-07-20")  # from 1 July 2020: 1825 days
    wh.trajectory(tid(21), team="A", startdatum="2020-06-30")  # from 1 June 2020: 1855 days, counted
    wh.trajectory(tid(22), team="A", startdatum="2020-01-01", einddatum="2024-12-31")  # 1826
    wh.trajectory(tid(23), team="A", startdatum="2020-01-01", einddatum="2025-01-01")  # 1827: counted
    build(wh)

    checks = validate(wh, quality)

    result = checks["warehouse_trajectory_longer_than_five_years"]
    assert counts(result) == (2, 9 + 4)
    assert (result.status, result.severity) == (CheckStatus.FAIL, "warning")
    assert failing(checks) == ["warehouse_trajectory_longer_than_five_years"]


def test_validate_warehouse_measurement_long_before_start(
    wh: Staging, quality: QualityConfig
) -> None:
    assert LONG_BEFORE_START_DAYS == 180
    clean(wh)
    # trajectory 8 started on 1 January 2025
    wh.measurement(tid(8), "tussen", "2024-07-05", 78)  # 180 days before
    wh.measurement(tid(8), "tussen", "2024-07-04", 79)  # 181 days before: counted
    build(wh)

    checks = validate(wh, quality)

    result = checks["warehouse_measurement_long_before_start"]
    assert counts(result) == (1, 17 + 2)
    assert (result.status, result.severity) == (CheckStatus.FAIL, "warning")
    assert failing(checks) == ["warehouse_measurement_long_before_start"]


def stale_team(wh: Staging, team: str, ends: tuple[str, ...] = (), startdatum: str = "2024-06-01",
               provider: str = "p1", month: str = "2025-06", first: int = 30) -> None:
    """Two running trajectories of `team`, and one ended trajectory per date in `ends`."""
    for offset in range(2):
        wh.trajectory(tid(first + offset), team=team, startdatum=startdatum, provider=provider,
                      month=month)
    for offset, end in enumerate(ends, start=2):
        wh.trajectory(tid(first + offset), team=team, startdatum=startdatum, einddatum=end,
                      provider=provider, month=month)


STALE = "warehouse_team_without_ended_six_months"


def test_validate_warehouse_team_without_ended_in_six_months_fails(
    wh: Staging, quality: QualityConfig
) -> None:
    clean(wh)
    stale_team(wh, "S")  # runs since June 2024, never ended one
    build(wh)

    checks = validate(wh, quality)

    assert counts(checks[STALE]) == (1, 2)  # of teams A and S
    assert checks[STALE].status is CheckStatus.FAIL  # 50 % above the 25 % threshold
    assert checks[STALE].severity == "warning"
    assert failing(checks) == [STALE]


def test_validate_warehouse_team_started_recently_is_not_judged(
    wh: Staging, quality: QualityConfig
) -> None:
    clean(wh)
    stale_team(wh, "R", startdatum="2025-03-01")  # no end yet, but only four months old
    build(wh)

    checks = validate(wh, quality)

    assert counts(checks[STALE]) == (0, 1)  # team A only
    assert checks[STALE].status is CheckStatus.PASS


def test_validate_warehouse_team_last_end_and_own_provider_decide(
    wh: Staging, quality: QualityConfig
) -> None:
    clean(wh)
    # its last end lies more than six months before 30 June 2025: stale
    stale_team(wh, "T", ends=("2024-11-01",), first=30)
    # an end within the six months: not stale
    stale_team(wh, "U", ends=("2025-02-01",), first=40)
    # provider p2 delivered up to December 2024 only; its team ended one in October 2024,
    # within six months of p2's newest month though not of p1's June 2025: not stale
    stale_team(wh, "Z", ends=("2024-10-15",), startdatum="2024-01-01", provider="p2",
               month="2024-12", first=50)
    build(wh)

    checks = validate(wh, quality)

    assert counts(checks[STALE]) == (1, 4)  # T among A, T, U and Z
    assert checks[STALE].status is CheckStatus.PASS  # 25 % is the threshold


def test_validate_warehouse_identical_start_scores(wh: Staging, quality: QualityConfig) -> None:
    clean(wh)
    groups = {
        "I2": (50, 50, 50, 50, 50),  # five identical start scores: counted
        "I3": (50, 50, 50, 50),  # four are too few to judge
        "I4": (50, 50, 50, 50, 51),  # five, not all equal
    }
    number = 100
    for interventie, scores in groups.items():
        for score in scores:
            number += 1
            wh.trajectory(tid(number), team="A", interventie=interventie)
            wh.measurement(tid(number), "start", "2025-01-10", score)
    # an eind score does not make I3's fifth start score
    wh.measurement(tid(number - 5), "eind", "2025-06-10", 50)
    build(wh)

    checks = validate(wh, quality)

    result = checks["warehouse_identical_start_scores"]
    assert counts(result) == (1, 3)  # I2 among I1, I2 and I4
    assert (result.status, result.severity) == (CheckStatus.FAIL, "warning")
    assert failing(checks) == ["warehouse_identical_start_scores"]


# --- nothing identifying in the report ----------------------------------------------------------


def test_validate_warehouse_report_holds_no_pseudonym(wh: Staging, quality: QualityConfig) -> None:
    clean(wh)
    stale_team(wh, "S")
    for offset in range(5):
        wh.trajectory(tid(40 + offset), team="A", interventie="I2")
        wh.measurement(tid(40 + offset), "start", "2025-01-10", 50)
    wh.trajectory(tid(60), team="A", startdatum="2019-01-01")
    build(wh)
    # failing values GE would list as 'partial unexpected': malformed and well-formed ids
    for sql in (
        f"UPDATE core.trajectories SET client_id = 'CL1-271828006' WHERE trajectory_id = '{tid(0)}'",
        f"UPDATE core.measurements SET trajectory_id = 'TR1-T00042' WHERE trajectory_id = '{tid(8)}'",
        f"INSERT INTO core.trajectories SELECT * FROM core.trajectories WHERE trajectory_id = '{tid(1)}'",
        "UPDATE core.trajectories SET geslacht = 'CL1-x'",
    ):
        execute(wh.con, sql)

    report: QualityReport = validate_warehouse(wh.con, K, quality)

    assert {r.check_id for r in report.failed()} >= {
        "warehouse_pseudonyms_wellformed", "warehouse_trajectory_unique", "warehouse_codes_conform",
        "warehouse_team_without_ended_six_months", "warehouse_identical_start_scores",
        "warehouse_trajectory_longer_than_five_years",
    }
    for text in (quality_json(report), quality_html(report)):
        assert "CL1-" not in text and "TR1-" not in text
        assert KEY_ID not in text and "271828006" not in text and "T00042" not in text

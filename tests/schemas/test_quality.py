"""Data-quality checks per delivery (schemas/quality.py): the versioned thresholds in
quality.toml, how a share is judged against its threshold, checks that cannot be computed, the
eight per-delivery checks on real inspected deliveries with hand-counted numerators and
denominators, and the kwaliteit.json / kwaliteit.html report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from schemas.config import ConfigError, ConsortiumConfig
from schemas.quality import (
    DELIVERY_CHECKS,
    FIVE_YEARS_DAYS,
    LONG_BEFORE_START_DAYS,
    MIN_SCORES_FOR_IDENTICAL,
    CheckDefinition,
    CheckResult,
    CheckStatus,
    QualityConfig,
    QualityReport,
    QualityRule,
    delivery_quality,
    judge,
    load_delivery_quality_config,
    load_quality_config,
    quality_html,
    quality_json,
    run_checks,
    write_quality_report,
)
from warehouse.home import DatabankHome
from warehouse.quality import WAREHOUSE_CHECK_IDS

if TYPE_CHECKING:
    from tests.schemas.conftest import DeliveryBuilder

DEFAULTS = Path(__file__).resolve().parents[2] / "schemas" / "defaults"
SHIPPED = DEFAULTS / "quality.toml"
ALL_CHECK_IDS = set(DELIVERY_CHECKS) | set(WAREHOUSE_CHECK_IDS)
T, M = "trajecten", "metingen"
N_TRAJECTORIES, N_MEASUREMENTS = 20, 40  # the conftest's valid delivery
N_ENDED = 10  # its even trajectories ended on 15-10-2026, with goal, satisfaction and eind score


@pytest.fixture(scope="module")
def quality() -> QualityConfig:
    return load_delivery_quality_config(DEFAULTS)


def results(validated: object, quality: QualityConfig) -> dict[str, CheckResult]:
    report = delivery_quality(validated, quality)  # type: ignore[arg-type]
    assert [r.check_id for r in report.results] == list(DELIVERY_CHECKS)
    return {r.check_id: r for r in report.results}


def counts(result: CheckResult) -> tuple[int | None, int | None]:
    return result.numerator, result.denominator


# --- configuration ------------------------------------------------------------------------------


def test_load_quality_config_shipped_defaults_cover_every_check() -> None:
    config = load_quality_config(SHIPPED, ALL_CHECK_IDS)

    assert set(config.rules) == ALL_CHECK_IDS  # every check has a threshold, none is orphaned
    assert config.version
    for check_id, rule in config.rules.items():
        assert 0 <= rule.threshold <= 1, check_id
        assert rule.severity in ("error", "warning"), check_id
        assert rule.reason.strip(), check_id
    # the warehouse's structural checks block publication; the plausibility ones only warn
    assert config.rule("warehouse_pseudonyms_wellformed").severity == "error"
    assert config.rule("warehouse_identical_start_scores").severity == "warning"


def test_load_quality_config_databank_home_uses_shipped_defaults(tmp_path: Path) -> None:
    home = DatabankHome(tmp_path / "home")
    home.prepare()

    config = home.quality_config()

    assert set(config.rules) == ALL_CHECK_IDS
    assert config.version == load_quality_config(SHIPPED).version


def test_load_delivery_quality_config_requires_only_delivery_checks(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    (tmp_path / "quality.toml").write_text(text.split("# --- the warehouse")[0], encoding="utf-8")

    config = load_delivery_quality_config(tmp_path)

    assert set(config.rules) == set(DELIVERY_CHECKS)


CONFIG_TEMPLATE = """\
{version_line}

[checks.alpha]
threshold = 0.1
severity = "warning"
reason = "A good reason."

[checks.beta]
{threshold_line}
severity = {severity}
{reason_line}
"""
BETA_LINE = 8


def write_config(
    directory: Path,
    *,
    version_line: str = 'version = "test.1"',
    threshold_line: str = "threshold = 0.5",
    severity: str = '"error"',
    reason_line: str = 'reason = "Another reason."',
) -> Path:
    path = directory / "quality.toml"
    path.write_text(
        CONFIG_TEMPLATE.format(version_line=version_line, threshold_line=threshold_line,
                               severity=severity, reason_line=reason_line),
        encoding="utf-8",
    )
    assert path.read_text(encoding="utf-8").splitlines()[BETA_LINE - 1] == "[checks.beta]"
    return path


def test_load_quality_config_template_is_valid(tmp_path: Path) -> None:
    config = load_quality_config(write_config(tmp_path), {"alpha", "beta"})

    assert config.version == "test.1"
    assert config.rule("beta") == QualityRule(0.5, "error", "Another reason.")
    assert config.rule("alpha").threshold == pytest.approx(0.1)


def test_load_quality_config_missing_version_names_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, version_line="# no version here")

    with pytest.raises(ConfigError) as raised:
        load_quality_config(path)

    assert raised.value.path == path
    assert str(path) in str(raised.value)
    assert "version" in raised.value.problem
    assert raised.value.line is None  # nothing to point at: the key is absent


def test_load_quality_config_empty_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="version"):
        load_quality_config(write_config(tmp_path, version_line='version = ""'))


@pytest.mark.parametrize("threshold", ["1.5", "-0.1", "true", '"0.1"'])
def test_load_quality_config_threshold_outside_share_names_line(tmp_path: Path, threshold: str) -> None:
    path = write_config(tmp_path, threshold_line=f"threshold = {threshold}")

    with pytest.raises(ConfigError) as raised:
        load_quality_config(path)

    assert raised.value.path == path
    assert raised.value.line == BETA_LINE
    assert "beta" in raised.value.problem and "threshold" in raised.value.problem
    assert f"{path}, line {BETA_LINE}" in str(raised.value)


@pytest.mark.parametrize("threshold", ["0", "1", "0.0", "1.0"])
def test_load_quality_config_threshold_bounds_are_allowed(tmp_path: Path, threshold: str) -> None:
    config = load_quality_config(write_config(tmp_path, threshold_line=f"threshold = {threshold}"))

    assert config.rule("beta").threshold == float(threshold)


def test_load_quality_config_unknown_severity_names_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, severity='"fatal"')

    with pytest.raises(ConfigError) as raised:
        load_quality_config(path)

    assert (raised.value.path, raised.value.line) == (path, BETA_LINE)
    assert "beta" in raised.value.problem and "severity" in raised.value.problem


@pytest.mark.parametrize("reason_line", ["", 'reason = ""', 'reason = "   "', "reason = 3"])
def test_load_quality_config_missing_or_empty_reason_names_line(tmp_path: Path, reason_line: str) -> None:
    path = write_config(tmp_path, reason_line=reason_line)

    with pytest.raises(ConfigError) as raised:
        load_quality_config(path)

    assert (raised.value.path, raised.value.line) == (path, BETA_LINE)
    assert "beta" in raised.value.problem and "reason" in raised.value.problem


def test_load_quality_config_check_table_without_threshold_names_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, threshold_line="")

    with pytest.raises(ConfigError) as raised:
        load_quality_config(path, {"alpha", "beta"})

    assert (raised.value.path, raised.value.line) == (path, BETA_LINE)
    assert "beta" in raised.value.problem and "threshold" in raised.value.problem


def test_load_quality_config_required_check_absent_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)

    with pytest.raises(ConfigError) as raised:
        load_quality_config(path, {"alpha", "beta", "gamma", "delta"})

    assert raised.value.path == path
    assert "gamma" in raised.value.problem and "delta" in raised.value.problem
    assert "alpha" not in raised.value.problem


def test_load_quality_config_missing_file_names_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_quality_config(tmp_path / "quality.toml")

    assert missing.value.path == tmp_path / "quality.toml"
    assert "missing" in missing.value.problem


def broken_toml(directory: Path) -> Path:
    path = directory / "broken.toml"
    path.write_text('version = "x"\n\n[checks.alpha\nthreshold = 0.1\n', encoding="utf-8")
    return path


def test_load_quality_config_invalid_toml_message_names_file_and_line(tmp_path: Path) -> None:
    path = broken_toml(tmp_path)

    with pytest.raises(ConfigError) as broken:
        load_quality_config(path)

    assert broken.value.path == path
    assert "not valid TOML" in broken.value.problem
    assert str(path) in str(broken.value) and "line 3" in str(broken.value)


def test_load_quality_config_invalid_toml_sets_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as broken:
        load_quality_config(broken_toml(tmp_path))

    assert broken.value.line == 3


# --- judging ------------------------------------------------------------------------------------

DEFINITION = CheckDefinition("some_check", "plausibility", "trajecten", "Iets.")
RULE = QualityRule(0.25, "warning", "Een kwart is de grens.")


def test_judge_passes_at_exactly_the_threshold() -> None:
    result = judge(DEFINITION, RULE, 1, 4)

    assert result.status is CheckStatus.PASS
    assert result.pct == 0.25
    assert (result.numerator, result.denominator, result.threshold) == (1, 4, 0.25)
    assert (result.severity, result.reason, result.category) == ("warning", RULE.reason, "plausibility")


def test_judge_fails_just_above_the_threshold() -> None:
    result = judge(DEFINITION, RULE, 2501, 10000)

    assert result.status is CheckStatus.FAIL
    assert result.pct == pytest.approx(0.2501)


def test_judge_zero_threshold_fails_on_a_single_record() -> None:
    strict = QualityRule(0.0, "error", "Nooit.")

    assert judge(DEFINITION, strict, 0, 1000).status is CheckStatus.PASS
    assert judge(DEFINITION, strict, 1, 1000).status is CheckStatus.FAIL


def test_judge_not_applicable_when_denominator_zero() -> None:
    result = judge(DEFINITION, RULE, 0, 0)

    assert result.status is CheckStatus.NOT_APPLICABLE
    assert result.pct is None


def test_judge_error_when_numerator_none() -> None:
    result = judge(DEFINITION, RULE, None, 10)

    assert result.status is CheckStatus.ERROR
    assert result.pct is None
    assert judge(DEFINITION, RULE, 3, None).status is CheckStatus.ERROR


# --- running checks -----------------------------------------------------------------------------

SECRET = "BSN 271828006 van Canaryvoornaam"


def test_run_checks_raising_check_is_error_and_message_not_reported(tmp_path: Path) -> None:
    def explode() -> tuple[int, int]:
        raise ValueError(SECRET)

    config = QualityConfig("v-test", {"a": RULE, "b": RULE, "c": RULE})
    checks = [
        (CheckDefinition("a", "conformance", "t", "A."), lambda: (0, 5)),
        (CheckDefinition("b", "plausibility", "t", "B."), explode),
        (CheckDefinition("c", "completeness", "t", "C."), lambda: (4, 5)),
    ]

    report = run_checks("levering x", config, checks)

    by_id = {r.check_id: r for r in report.results}
    assert [r.check_id for r in report.results] == ["a", "b", "c"]  # the others still ran
    assert by_id["b"].status is CheckStatus.ERROR
    assert (by_id["b"].numerator, by_id["b"].denominator, by_id["b"].pct) == (None, None, None)
    assert by_id["a"].status is CheckStatus.PASS and by_id["c"].status is CheckStatus.FAIL
    assert report.counts() == {"pass": 1, "fail": 1, "error": 1, "not_applicable": 0}
    assert [r.check_id for r in report.failed()] == ["b", "c"]
    assert report.config_version == "v-test"

    texts = [quality_json(report), quality_html(report)]
    texts += [p.read_text(encoding="utf-8") for p in write_quality_report(report, tmp_path)]
    for text in texts:
        assert "271828006" not in text
        assert "Canaryvoornaam" not in text
        assert "ValueError" not in text


# --- per delivery -------------------------------------------------------------------------------


def test_delivery_quality_clean_delivery_counts(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    checks = results(delivery.inspect(config), quality)

    assert {k: counts(r) for k, r in checks.items()} == {
        "trajecten_quarantined": (0, N_TRAJECTORIES),
        "metingen_quarantined": (0, N_MEASUREMENTS),
        "ended_without_goal": (0, N_ENDED),
        "ended_without_satisfaction": (0, N_ENDED),
        "ended_without_end_measurement": (0, N_ENDED),
        "measurement_long_before_start": (0, N_MEASUREMENTS),
        "trajectory_longer_than_five_years": (0, N_TRAJECTORIES),
        # six interventions over 20 trajectories: at most 4 start scores each, none eligible
        "identical_start_scores": (0, 0),
    }
    assert checks["identical_start_scores"].status is CheckStatus.NOT_APPLICABLE
    assert all(
        r.status is CheckStatus.PASS for k, r in checks.items() if k != "identical_start_scores"
    )


def test_delivery_quality_scope_and_metadata(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    report = delivery_quality(delivery.inspect(config), quality)

    assert report.scope == "levering de-boog 2026-10"
    assert report.config_version == quality.version
    for result in report.results:
        definition = DELIVERY_CHECKS[result.check_id]
        rule = quality.rule(result.check_id)
        assert (result.category, result.table, result.description) == (
            definition.category, definition.table, definition.description)
        assert (result.threshold, result.severity, result.reason) == (
            rule.threshold, rule.severity, rule.reason)


def test_delivery_quality_quarantined_shares(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    delivery.set(T, 3, geslacht="Q")  # one bad trajectory row
    delivery.set(M, 5, informant="buurman")  # one bad measurement row
    delivery.set(M, 7, score="999")  # and another: CBCL totaal runs to 100
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined == {T: 1, M: 2}

    checks = results(validated, quality)

    assert counts(checks["trajecten_quarantined"]) == (1, N_TRAJECTORIES)
    assert checks["trajecten_quarantined"].status is CheckStatus.PASS  # 5 % is the threshold
    assert counts(checks["metingen_quarantined"]) == (2, N_MEASUREMENTS)
    assert checks["metingen_quarantined"].pct == pytest.approx(0.05)


def test_delivery_quality_quarantined_share_above_threshold_fails(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    for index in (1, 3):
        delivery.set(T, index, hulpvorm="thuis")

    checks = results(delivery.inspect(config), quality)

    assert counts(checks["trajecten_quarantined"]) == (2, N_TRAJECTORIES)
    assert checks["trajecten_quarantined"].status is CheckStatus.FAIL


def test_delivery_quality_rows_under_objection_are_not_considered(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    delivery.set(T, 1, bezwaar="ja")  # leaves with both its measurements
    validated = delivery.inspect(config)
    assert validated.verdict.excluded_bezwaar == {T: 1, M: 2}

    checks = results(validated, quality)

    assert counts(checks["trajecten_quarantined"]) == (0, N_TRAJECTORIES - 1)
    assert counts(checks["metingen_quarantined"]) == (0, N_MEASUREMENTS - 2)


def test_delivery_quality_ended_without_goal_satisfaction_or_end_measurement(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    delivery.set(T, 0, doelrealisatie="")  # ended, no goal
    for index in (2, 4, 6):
        delivery.set(T, index, tevredenheid="")  # ended, no satisfaction
    # trajectory 8 (ended) has its end score as a 'tussen' score: no eind measurement
    delivery.set(M, 8 * 2 + 1, meetmoment="tussen")
    # trajectory 10 (ended) loses its end measurement altogether
    del delivery.rows[M][10 * 2 + 1]
    # a running trajectory without goal, satisfaction or end score does not count
    delivery.set(M, 1 * 2 + 1, meetmoment="tussen")
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined == {T: 0, M: 0}

    checks = results(validated, quality)

    assert counts(checks["ended_without_goal"]) == (1, N_ENDED)
    assert counts(checks["ended_without_satisfaction"]) == (3, N_ENDED)
    assert counts(checks["ended_without_end_measurement"]) == (2, N_ENDED)
    assert checks["ended_without_goal"].status is CheckStatus.PASS


def test_delivery_quality_ended_without_goal_above_threshold_fails(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    for index in range(0, 12, 2):  # six of the ten ended trajectories
        delivery.set(T, index, doelrealisatie="", tevredenheid="")

    checks = results(delivery.inspect(config), quality)

    assert counts(checks["ended_without_goal"]) == (6, N_ENDED)
    assert checks["ended_without_goal"].status is CheckStatus.FAIL  # threshold 50 %
    assert counts(checks["ended_without_satisfaction"]) == (6, N_ENDED)
    assert checks["ended_without_satisfaction"].status is CheckStatus.PASS  # threshold 60 %


def test_delivery_quality_ended_trajectory_end_measurement_on_any_instrument_counts(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    # every trajectory's eind score is on the SDQ, its start score on the CBCL: one eind
    # measurement on any instrument is enough
    delivery.set(M, 0 * 2 + 1, instrument="CBCL", informant="ouder", score="60")

    checks = results(delivery.inspect(config), quality)

    assert counts(checks["ended_without_end_measurement"]) == (0, N_ENDED)


@pytest.mark.parametrize(("days_before", "counted"), [
    (LONG_BEFORE_START_DAYS, 0),
    (LONG_BEFORE_START_DAYS + 1, 1),
])
def test_delivery_quality_measurement_long_before_start_boundary(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig,
    days_before: int, counted: int,
) -> None:
    assert LONG_BEFORE_START_DAYS == 180
    # every trajectory starts on 01-03-2026; 180 days before is 02-09-2025
    datum = {180: "02-09-2025", 181: "01-09-2025"}[days_before]
    delivery.set(M, 3 * 2, datum=datum)  # trajectory 3's start measurement
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined == {T: 0, M: 0}

    checks = results(validated, quality)

    assert counts(checks["measurement_long_before_start"]) == (counted, N_MEASUREMENTS)
    expected = CheckStatus.FAIL if counted else CheckStatus.PASS  # 1 of 40 is above 1 %
    assert checks["measurement_long_before_start"].status is expected


def test_delivery_quality_measurement_after_start_is_not_long_before(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    delivery.set(M, 0, datum="31-10-2026")

    checks = results(delivery.inspect(config), quality)

    assert counts(checks["measurement_long_before_start"]) == (0, N_MEASUREMENTS)


def test_delivery_quality_measurements_of_quarantined_trajectory_not_in_denominator(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    delivery.set(T, 5, geslacht="Q")  # its two measurements stay valid but have no start date
    validated = delivery.inspect(config)
    assert len(validated.measurements) == N_MEASUREMENTS

    checks = results(validated, quality)

    assert counts(checks["measurement_long_before_start"]) == (0, N_MEASUREMENTS - 2)
    assert counts(checks["trajectory_longer_than_five_years"]) == (0, N_TRAJECTORIES - 1)


@pytest.mark.parametrize(("startdatum", "einddatum", "counted"), [
    # ended: 01-01-2020 to 31-12-2024 is 1826 days, to 01-01-2025 1827
    ("01-01-2020", "31-12-2024", 0),
    ("01-01-2020", "01-01-2025", 1),
    # running: measured to the last day of the reporting month, 31-10-2026
    ("31-10-2021", "", 0),
    ("30-10-2021", "", 1),
])
def test_delivery_quality_trajectory_longer_than_five_years_boundary(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig,
    startdatum: str, einddatum: str, counted: int,
) -> None:
    assert FIVE_YEARS_DAYS == 1826
    ended = {"einddatum": einddatum, "reden_einde": "1" if einddatum else "",
             "doelrealisatie": "", "tevredenheid": ""}
    delivery.set(T, 4, startdatum=startdatum, **ended)
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined == {T: 0, M: 0}

    checks = results(validated, quality)

    assert counts(checks["trajectory_longer_than_five_years"]) == (counted, N_TRAJECTORIES)
    expected = CheckStatus.FAIL if counted else CheckStatus.PASS  # 1 of 20 is above 1 %
    assert checks["trajectory_longer_than_five_years"].status is expected


def add_trajectory(delivery: DeliveryBuilder, number: int, interventie: str, start_score: str) -> None:
    """A running trajectory with one CBCL start score, like the conftest's odd rows."""
    ids = {"clientnummer": f"CLNR-CANARY-{number}", "traject_id": f"TRJ-CANARY-{number}"}
    delivery.add(T, like=1, bsn="", interventie=interventie, **ids)
    delivery.add(M, like=0, score=start_score, **ids)


@pytest.mark.parametrize(("extra_scores", "expected"), [
    ((), (0, 0)),  # MST: the four conftest start scores, all 70, are too few to judge
    (("70",), (1, 1)),  # a fifth 70: every MST start score is the same
    (("70", "70", "70"), (1, 1)),
    (("71",), (0, 1)),  # five scores, not all equal
])
def test_delivery_quality_identical_start_scores(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig,
    extra_scores: tuple[str, ...], expected: tuple[int, int],
) -> None:
    assert MIN_SCORES_FOR_IDENTICAL == 5
    mst = [row for row in delivery.rows[T] if row["interventie"] == "MST"]
    assert len(mst) == 4
    for offset, score in enumerate(extra_scores):
        add_trajectory(delivery, 101 + offset, "MST", score)
    validated = delivery.inspect(config)
    assert validated.verdict.quarantined == {T: 0, M: 0}

    checks = results(validated, quality)

    assert counts(checks["identical_start_scores"]) == expected
    status = {(0, 0): CheckStatus.NOT_APPLICABLE, (1, 1): CheckStatus.FAIL, (0, 1): CheckStatus.PASS}
    assert checks["identical_start_scores"].status is status[expected]


def test_delivery_quality_identical_start_scores_grouped_per_measure(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    # a fifth MST start score of 70, but by another informant: two groups, neither has five
    add_trajectory(delivery, 101, "MST", "70")
    delivery.rows[M][-1]["informant"] = "jeugdige"
    # and a fifth 70 at an eind moment is no start score
    add_trajectory(delivery, 102, "MST", "70")
    delivery.rows[M][-1]["meetmoment"] = "eind"

    checks = results(delivery.inspect(config), quality)

    assert counts(checks["identical_start_scores"]) == (0, 0)


def test_delivery_quality_rejected_delivery_has_nothing_to_judge(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig
) -> None:
    for index in range(3):  # 3 of 20 is above the 10 % rejection line
        delivery.set(T, index, geslacht="Q")
    validated = delivery.inspect(config)
    assert not validated.verdict.accepted

    checks = results(validated, quality)

    assert counts(checks["trajecten_quarantined"]) == (3, N_TRAJECTORIES)
    assert counts(checks["ended_without_goal"]) == (0, 0)
    assert checks["ended_without_goal"].status is CheckStatus.NOT_APPLICABLE


# --- the report ---------------------------------------------------------------------------------

NASTY = "<script>alert('x')</script>"


def sample_report() -> QualityReport:
    definitions = [
        CheckDefinition("c_pass", "conformance", "trajecten", "Goed."),
        CheckDefinition("c_fail", "completeness", "metingen", "Fout & slecht."),
        CheckDefinition("c_na", "plausibility", "trajecten", "Niets."),
        CheckDefinition("c_error", "plausibility", "metingen", "Kapot."),
    ]
    rules = {
        "c_pass": QualityRule(0.05, "warning", "Reden een."),
        "c_fail": QualityRule(0.0, "error", f"Reden {NASTY}"),
        "c_na": QualityRule(0.5, "warning", "Reden drie."),
        "c_error": QualityRule(0.1, "warning", "Reden vier."),
    }
    report = QualityReport(scope=f"levering {NASTY}", config_version="2030-01-01.7")
    for definition, (numerator, denominator) in zip(
        definitions, [(1, 20), (2, 40), (0, 0), (None, None)], strict=True
    ):
        report.results.append(judge(definition, rules[definition.check_id], numerator, denominator))
    return report


def test_write_quality_report_json(tmp_path: Path) -> None:
    report = sample_report()

    paths = write_quality_report(report, tmp_path / "reports" / "p" / "2026-10")

    assert [p.name for p in paths] == ["kwaliteit.json", "kwaliteit.html"]
    assert sorted(p.name for p in paths[0].parent.iterdir()) == ["kwaliteit.html", "kwaliteit.json"]
    payload = json.loads(paths[0].read_text(encoding="utf-8"))
    assert payload["scope"] == f"levering {NASTY}"
    assert payload["config_version"] == "2030-01-01.7"
    assert payload["generated_at"] == report.generated_at
    assert payload["counts"] == {"pass": 1, "fail": 1, "error": 1, "not_applicable": 1}
    by_id = {c["check_id"]: c for c in payload["checks"]}
    assert list(by_id) == ["c_pass", "c_fail", "c_na", "c_error"]
    assert by_id["c_pass"] == {
        "check_id": "c_pass", "category": "conformance", "table": "trajecten",
        "description": "Goed.", "numerator": 1, "denominator": 20, "pct": 0.05,
        "threshold": 0.05, "severity": "warning", "status": "pass", "reason": "Reden een.",
    }
    assert (by_id["c_fail"]["status"], by_id["c_fail"]["severity"]) == ("fail", "error")
    assert by_id["c_fail"]["category"] == "completeness"
    assert by_id["c_fail"]["pct"] == pytest.approx(0.05)
    assert by_id["c_fail"]["reason"] == f"Reden {NASTY}"
    assert (by_id["c_na"]["status"], by_id["c_na"]["pct"]) == ("not_applicable", None)
    assert (by_id["c_error"]["status"], by_id["c_error"]["numerator"],
            by_id["c_error"]["denominator"], by_id["c_error"]["pct"]) == ("error", None, None, None)


def test_write_quality_report_html_is_escaped(tmp_path: Path) -> None:
    report = sample_report()

    _, html_path = write_quality_report(report, tmp_path)
    text = html_path.read_text(encoding="utf-8")

    assert "<script" not in text.lower()
    assert "&lt;script&gt;" in text
    assert "Fout &amp; slecht." in text
    assert "2030-01-01.7" in text
    for check_id in ("c_pass", "c_fail", "c_na", "c_error"):
        assert check_id in text
    assert '<tr class="fail">' in text and '<tr class="error">' in text
    assert "voldoet niet" in text and "n.v.t." in text
    assert "5.0%" in text  # the share and the threshold of c_pass


def test_write_quality_report_overwrites_previous(tmp_path: Path) -> None:
    write_quality_report(sample_report(), tmp_path)
    second = QualityReport(scope="levering tweede", config_version="v2")

    paths = write_quality_report(second, tmp_path)

    payload = json.loads(paths[0].read_text(encoding="utf-8"))
    assert (payload["scope"], payload["checks"]) == ("levering tweede", [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kwaliteit.html", "kwaliteit.json"]


def test_write_quality_report_of_a_real_delivery(
    delivery: DeliveryBuilder, config: ConsortiumConfig, quality: QualityConfig, tmp_path: Path
) -> None:
    report = delivery_quality(delivery.inspect(config), quality)

    json_path, html_path = write_quality_report(report, tmp_path / "out")

    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert [c["check_id"] for c in payload["checks"]] == list(DELIVERY_CHECKS)
    assert payload["counts"] == {"pass": 7, "fail": 0, "error": 0, "not_applicable": 1}
    texts = json_path.read_text(encoding="utf-8") + html_path.read_text(encoding="utf-8")
    for canary in ("CANARY", "Canaryvoornaam", "271828006", "TR1-", "CL1-"):
        assert canary not in texts

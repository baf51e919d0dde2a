"""Warehouse-wide assets: core state and outcome marts (one transaction), the Great Expectations
guard, and the analysts' published copy."""


import dagster as dg
from dagster import AssetExecutionContext

from assets.deliveries import staged_delivery
from assets.resources import HomeResource
from schemas.anonymity import anonymity_payload, load_anonymity_config, write_anonymity_report
from schemas.config import config_fingerprint
from schemas.quality import write_quality_report
from warehouse.anonymity import anonymity_reports, below_k_warnings
from warehouse.builds import build_inputs, is_up_to_date, last_build, record_validation
from warehouse.connection import open_warehouse
from warehouse.crash import crash_point
from warehouse.dictionary import write_data_dictionary
from warehouse.marts import build_marts, mart_counts
from warehouse.minimise import ensure_converted
from warehouse.publish import publish_analyst_copy, published_build_id
from warehouse.quality import remember_validated_rows, validate_warehouse

CORE_TRAJECTORIES = dg.AssetKey(["core", "trajectories"])
CORE_MEASUREMENTS = dg.AssetKey(["core", "measurements"])
OUTCOME_SCORES = dg.AssetKey(["mart", "outcome_scores"])
TRAJECTORY_INDICATORS = dg.AssetKey(["mart", "trajectory_indicators"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(CORE_TRAJECTORIES, deps=[staged_delivery], group_name="warehouse", kinds={"duckdb"},
                     description="Latest valid state per trajectory (outcome-metrics §1)."),
        dg.AssetSpec(CORE_MEASUREMENTS, deps=[staged_delivery], group_name="warehouse", kinds={"duckdb"},
                     description="De-duplicated measurements (outcome-metrics §1)."),
        dg.AssetSpec(OUTCOME_SCORES, deps=[CORE_TRAJECTORIES, CORE_MEASUREMENTS], group_name="marts",
                     kinds={"duckdb"}, description="Start/end scores per group and measure, suppressed below k."),
        dg.AssetSpec(TRAJECTORY_INDICATORS, deps=[CORE_TRAJECTORIES], group_name="marts",
                     kinds={"duckdb"}, description="Planned end, goals, satisfaction per group, suppressed below k."),
    ],
    name="warehouse_build",
)
def warehouse_build(context: AssetExecutionContext, home: HomeResource):  # noqa: ANN201
    """Core and marts rebuild in one transaction: a crash keeps the previous build whole."""
    databank = home.home
    config = databank.config()
    with open_warehouse(databank.warehouse) as con:
        ensure_converted(con)  # rows from before minimisation: `databank run` converts them first
        inputs = build_inputs(con, config_fingerprint(databank.config_dir))
        unchanged = is_up_to_date(con, inputs)
        if unchanged:  # the nightly with nothing new: the marts stand as they are
            counts = mart_counts(con)
        else:
            counts = build_marts(
                con, config.registry, config.k, secondary=config.secondary_suppression,
                round_to=config.round_counts_to, reason_codes=True, record=inputs,
                release_protection=config.release_protection, teams=config.teams,
            )
    context.log.info(f"warehouse {'unchanged' if unchanged else 'rebuilt'}: {counts}")
    yield dg.MaterializeResult(
        asset_key=CORE_TRAJECTORIES, metadata={"rows": counts.core_trajectories, "unchanged": unchanged}
    )
    yield dg.MaterializeResult(asset_key=CORE_MEASUREMENTS, metadata={"rows": counts.core_measurements})
    yield dg.MaterializeResult(
        asset_key=OUTCOME_SCORES,
        metadata={"rows": counts.outcome_score_rows, "suppressed_rows": counts.outcome_score_rows_suppressed, "k": config.k},
    )
    yield dg.MaterializeResult(
        asset_key=TRAJECTORY_INDICATORS,
        metadata={
            "rows": counts.trajectory_indicator_rows,
            "suppressed_rows": counts.trajectory_indicator_rows_suppressed,
            "k": config.k,
        },
    )


WAREHOUSE_QUALITY = dg.AssetKey(["quality", "warehouse"])


def _metadata_name(scope: str) -> str:
    """'warehouse', 'extract default' -> metadata key parts 'warehouse', 'extract_default'."""
    return scope.replace(" ", "_").replace("-", "_")


def _failures_markdown(results: list) -> str:  # noqa: ANN001 - CheckResult list
    return "\n".join(
        f"- {r.check_id}: {r.numerator} of {r.denominator} ({r.status.value})" for r in results
    ) or "none"


@dg.asset(
    key=WAREHOUSE_QUALITY,
    deps=[OUTCOME_SCORES, TRAJECTORY_INDICATORS, CORE_TRAJECTORIES, CORE_MEASUREMENTS],
    group_name="marts",
    kinds={"great_expectations"},
    check_specs=[
        dg.AssetCheckSpec(
            "warehouse_quality_errors", asset=WAREHOUSE_QUALITY, blocking=True,
            description="Error-level data-quality checks (Great Expectations); a failure blocks publication.",
        ),
        dg.AssetCheckSpec(
            "warehouse_quality_warnings", asset=WAREHOUSE_QUALITY,
            description="Warning-level plausibility checks over the warehouse.",
        ),
    ],
    description="The warehouse's data-quality report and the k-anonymity of the warehouse and of "
    "every extract scope (config/privacy.toml), HTML and JSON under reports/_databank/; a class "
    "below k is logged as a warning.",
)
def warehouse_quality(context: AssetExecutionContext, home: HomeResource) -> dg.MaterializeResult:
    databank = home.home
    config = databank.config()
    privacy = load_anonymity_config(databank.config_dir)
    with open_warehouse(databank.warehouse) as con:
        quality = databank.quality_config()
        # rows of core that passed before are not read again by the row checks (warehouse/quality.py)
        report = validate_warehouse(con, config.k, quality, changed_only=True)
        anonymity = anonymity_reports(con, privacy)
        latest = last_build(con)
        passed = not report.failed("error")
        if passed:
            remember_validated_rows(con, quality)
        if latest is not None:
            record_validation(con, latest[0], passed=passed)
    crash_point("quality:validated")
    paths = write_quality_report(report, databank.databank_reports)
    write_anonymity_report(anonymity, databank.databank_reports)
    for line in below_k_warnings([anonymity_payload(r) for r in anonymity], privacy.extract_share):
        # a warning, not a failure: the run goes on (`databank run` prints the same lines)
        context.log.warning(line)
    errors, warnings = report.failed("error"), report.failed("warning")
    counts = report.counts()
    return dg.MaterializeResult(
        metadata={**{f"checks_{k}": v for k, v in counts.items()}, "report": str(paths[1]),
                  "rules_version": report.config_version,
                  "anonymity_k": privacy.k,
                  **{f"anonymity_{_metadata_name(r.scope)}_{name}": value for r in anonymity
                     for name, value in (("clients", r.population), ("clients_below_k", r.below_k),
                                         ("classes_below_k", r.classes_below_k),
                                         ("smallest_class", r.smallest_class))}},
        check_results=[
            dg.AssetCheckResult(
                check_name="warehouse_quality_errors",
                passed=not errors,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"checked": sum(r.severity == "error" for r in report.results),
                          "failed": len(errors), "failures": dg.MetadataValue.md(_failures_markdown(errors))},
            ),
            dg.AssetCheckResult(
                check_name="warehouse_quality_warnings",
                passed=not warnings,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"checked": sum(r.severity == "warning" for r in report.results),
                          "failed": len(warnings), "failures": dg.MetadataValue.md(_failures_markdown(warnings))},
            ),
        ],
    )


@dg.asset(
    key=dg.AssetKey(["publish", "analyst_copy"]),
    deps=[OUTCOME_SCORES, TRAJECTORY_INDICATORS, WAREHOUSE_QUALITY],
    group_name="marts",
    kinds={"duckdb"},
    description="publish/analyst.duckdb: the mart schema, replaced whole and atomically, and "
    "its data dictionary (data-dictionary.md/.html) beside it.",
)
def analyst_copy(home: HomeResource) -> dg.MaterializeResult:
    databank = home.home
    with open_warehouse(databank.warehouse) as con:
        latest = last_build(con)
        if latest is not None and published_build_id(databank.publication) == latest[0]:
            # Nothing new since the last publication: analysts keep the very same file.
            write_data_dictionary(databank.publication)  # cheap; follows an upgraded dictionary
            return dg.MaterializeResult(metadata={"unchanged": True, "build_id": latest[0]})
        rows = publish_analyst_copy(con, databank.publication)
    write_data_dictionary(databank.publication)
    return dg.MaterializeResult(
        metadata={"rows_published": rows, "path": str(databank.publication), "unchanged": False,
                  "build_id": latest[0] if latest else ""}
    )

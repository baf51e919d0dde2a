"""The warehouse as a whole, guarded by Great Expectations before anything is published. Each
data-quality check (schemas/quality.py) is a set of GE expectations over a table or a derived
frame; its numerator is GE's unexpected count, its denominator the values GE examined. Frames are
queried into pandas (GE's SQL path does not work with DuckDB here, see the stack notes). Only
counts leave this module: GE's partial unexpected lists hold values.

What a build changed, and what spans the whole (issue 13). The checks of single core rows
(ROW_CHECKS: pseudonym shape, codes, ages, end after start) judge each row on its own values, so
a row that passed before passes again. After a build passes, a hash of every core row is kept
(staging.validated_rows), over the columns these checks read (not the delivery a row came from:
a monthly delivery restates every running trajectory, unchanged), with the basis it passed on
(these checks' expectations and rules); the next validation asked for `changed_only` reads for
them only the rows whose hash is not kept: new rows, rows whose checked values changed (a
correction, an edit behind the build's back), and every row after a key rotation.
That is exact only while these checks tolerate nothing (threshold 0, severity error: a passed
build then had no failing row), so a check configured otherwise, or a changed basis, reads the
whole table again. Everything else spans the whole warehouse and always reads all of it: key
uniqueness (a new row can duplicate an old one; the copies per key are counted in DuckDB and
judged by GE), the marts (small, rebuilt every time), and the checks over groups and joins
(durations to the newest month, measurements before their trajectory's start, teams,
identical start scores), whose verdict on an old row can change with a new one."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from schemas.delivery import GESLACHT, HULPVORM, INFORMANT, MEETMOMENT, REDEN_EINDE
from schemas.quality import (
    FIVE_YEARS_DAYS,
    LONG_BEFORE_START_DAYS,
    MIN_SCORES_FOR_IDENTICAL,
    CheckDefinition,
    QualityConfig,
    QualityReport,
    judge,
)
from warehouse.sql import execute, load_sql, run_sql

# The contract columns (outcome-metrics §6), in order; the published tables may add, after them,
# only the columns of PUBLISHED_EXTRA_COLUMNS (the pipeline adds them; a bare build does not).
OUTCOME_SCORE_CONTRACT = [
    "level", "organisation", "team", "intervention", "period", "instrument", "schaal", "informant",
    "n_ended", "n_paired", "response_rate", "mean_start", "mean_end", "mean_improvement",
    "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved", "pct_unchanged",
    "pct_deteriorated", "n_clinical_start", "pct_recovered", "suppressed",
]
TRAJECTORY_INDICATOR_CONTRACT = [
    "level", "organisation", "team", "intervention", "period", "n_ended", "pct_planned_end",
    "pct_goals_achieved", "mean_satisfaction", "suppressed",
]
PUBLISHED_EXTRA_COLUMNS = ["suppression_reason", "held", "held_from_build"]
# The columns as the pipeline publishes them.
OUTCOME_SCORE_COLUMNS = [*OUTCOME_SCORE_CONTRACT, *PUBLISHED_EXTRA_COLUMNS]
TRAJECTORY_INDICATOR_COLUMNS = [*TRAJECTORY_INDICATOR_CONTRACT, *PUBLISHED_EXTRA_COLUMNS]
# Listed without importing Great Expectations, so the configuration can be checked cheaply;
# a test keeps it equal to the ids of warehouse_checks().
WAREHOUSE_CHECK_IDS = (
    "warehouse_pseudonyms_wellformed", "warehouse_trajectory_unique", "warehouse_measurement_unique",
    "warehouse_codes_conform", "warehouse_ages_plausible", "warehouse_end_not_before_start",
    "warehouse_suppression_holds", "warehouse_shares_in_range", "warehouse_contract_columns",
    "warehouse_trajectory_longer_than_five_years", "warehouse_measurement_long_before_start",
    "warehouse_team_without_ended_six_months", "warehouse_identical_start_scores",
)
# Checks of single core rows: with changed_only, read only rows not kept as passed (module doc).
ROW_CHECKS = ("warehouse_pseudonyms_wellformed", "warehouse_codes_conform", "warehouse_ages_plausible",
              "warehouse_end_not_before_start")
# Bump when what a row check means changes beyond its expectations' parameters.
ROW_CHECKS_VERSION = 1
CORE_TABLES = {"core.trajectories": "trajectories", "core.measurements": "measurements"}
CHANGED = "changed "  # frame-name prefix: only the rows of a core table not kept as passed
CHANGED_NOTE = (" Gelezen: alleen de rijen die nieuw of gewijzigd zijn sinds de laatste build die "
                "deze controle doorstond; de overige rijen doorstonden haar toen al.")
CLIENT_PSEUDONYM = r"^CL1-[0-9a-f]{8}-[0-9a-f]{32}$"
TRAJECTORY_PSEUDONYM = r"^TR1-[0-9a-f]{8}-[0-9a-f]{32}$"


@dataclass(frozen=True)
class WarehouseCheck:
    definition: CheckDefinition
    expectations: list[tuple[str, object]]  # (frame name, GE expectation)


def _columns_examined(checks: list[WarehouseCheck]) -> dict[str, list[str]]:
    """Per frame, the columns its expectations read: a core table goes to pandas with those
    only, not whole (the measurements are millions of rows at national scale)."""
    columns: dict[str, list[str]] = {}
    for check in checks:
        for frame, expectation in check.expectations:
            named = [getattr(expectation, a, None) for a in ("column", "column_A", "column_B")]
            named += list(getattr(expectation, "column_list", None) or [])
            wanted = columns.setdefault(frame, [])
            wanted += [c for c in named if isinstance(c, str) and c not in wanted]
    return columns


def _frames(
    con: duckdb.DuckDBPyConnection, k: int, columns: dict[str, list[str]]
) -> dict[str, Callable[[], pd.DataFrame]]:
    def table(name: str) -> Callable[[], pd.DataFrame]:
        """Arrow-backed columns: pseudonyms as Python strings were most of the run's peak memory
        at national scale (the expectations' results are the same)."""
        selected = ", ".join(f'"{c}"' for c in columns.get(name, [])) or "*"
        return lambda: con.sql(f"SELECT {selected} FROM {name}").to_arrow_table().to_pandas(
            types_mapper=pd.ArrowDtype
        )

    def changed(name: str) -> Callable[[], pd.DataFrame]:
        """The table's rows whose hash the last passed validation did not keep (names and the
        table label come from the fixed lists above, not from data)."""
        selected = ", ".join(f'"{c}"' for c in columns.get(CHANGED + name, [])) or "*"
        kept = CORE_TABLES[name]
        return lambda: con.sql(
            f"SELECT {selected} FROM {name} WHERE {_row_hash(name)} NOT IN "
            f"(SELECT row_hash FROM staging.validated_rows WHERE tbl = '{kept}')"
        ).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)

    def query(sql_name: str, **params: object) -> Callable[[], pd.DataFrame]:
        return lambda: con.execute(load_sql(sql_name), params or None).df()

    def column_list(name: str) -> Callable[[], pd.DataFrame]:
        """One row: the table's column names in order, comma-joined."""
        return lambda: pd.DataFrame({"columns": [",".join(con.sql(f"SELECT * FROM {name} LIMIT 0").columns)]})

    return {
        "core.trajectories": table("core.trajectories"),
        "core.measurements": table("core.measurements"),
        CHANGED + "core.trajectories": changed("core.trajectories"),
        CHANGED + "core.measurements": changed("core.measurements"),
        "trajectory_key_copies": query("quality_trajectory_key_copies"),
        "measurement_key_copies": query("quality_measurement_key_copies"),
        "mart.outcome_scores": table("mart.outcome_scores"),
        "mart.trajectory_indicators": table("mart.trajectory_indicators"),
        "outcome_score_columns": column_list("mart.outcome_scores"),
        "trajectory_indicator_columns": column_list("mart.trajectory_indicators"),
        "trajectory_durations": query("quality_trajectory_durations"),
        "days_before_start": query("quality_days_before_start"),
        "team_activity": query("quality_team_activity"),
        "start_score_groups": query("quality_start_score_groups", min_scores=MIN_SCORES_FOR_IDENTICAL),
    }


def warehouse_checks(k: int) -> list[WarehouseCheck]:
    import great_expectations as gx

    e = gx.expectations
    c = CheckDefinition
    shares = ("response_rate", "pct_improved", "pct_unchanged", "pct_deteriorated", "pct_recovered")
    return [
        WarehouseCheck(c("warehouse_pseudonyms_wellformed", "conformance", "core",
                         "Opgeslagen identificaties zijn gelabelde pseudoniemen."), [
            ("core.trajectories", e.ExpectColumnValuesToMatchRegex(column="trajectory_id", regex=TRAJECTORY_PSEUDONYM)),
            ("core.trajectories", e.ExpectColumnValuesToMatchRegex(column="client_id", regex=CLIENT_PSEUDONYM)),
            ("core.measurements", e.ExpectColumnValuesToMatchRegex(column="trajectory_id", regex=TRAJECTORY_PSEUDONYM)),
            ("core.trajectories", e.ExpectColumnValuesToNotBeNull(column="client_id")),
        ]),
        WarehouseCheck(c("warehouse_trajectory_unique", "conformance", "core.trajectories",
                         "Eén rij per traject."), [
            # every row of a key held by more than one row is unexpected, as in GE's compound-unique
            ("trajectory_key_copies", e.ExpectColumnValuesToBeBetween(column="copies", min_value=1, max_value=1)),
        ]),
        WarehouseCheck(c("warehouse_measurement_unique", "conformance", "core.measurements",
                         "Eén rij per meting (traject, instrument, schaal, informant, meetmoment, datum)."), [
            ("measurement_key_copies", e.ExpectColumnValuesToBeBetween(column="copies", min_value=1, max_value=1)),
        ]),
        WarehouseCheck(c("warehouse_codes_conform", "conformance", "core",
                         "Codes liggen binnen de lijsten van het aanleverformat."), [
            ("core.trajectories", e.ExpectColumnValuesToBeInSet(column="geslacht", value_set=list(GESLACHT))),
            ("core.trajectories", e.ExpectColumnValuesToBeInSet(column="hulpvorm", value_set=list(HULPVORM))),
            ("core.trajectories", e.ExpectColumnValuesToBeInSet(column="reden_einde", value_set=list(REDEN_EINDE))),
            ("core.trajectories", e.ExpectColumnValuesToMatchRegex(column="pc4", regex=r"^[1-9][0-9](?:[0-9]{2})?$")),
            ("core.measurements", e.ExpectColumnValuesToBeInSet(column="meetmoment", value_set=list(MEETMOMENT))),
            ("core.measurements", e.ExpectColumnValuesToBeInSet(column="informant", value_set=list(INFORMANT))),
            ("core.measurements", e.ExpectColumnValuesToNotBeNull(column="score")),
        ]),
        WarehouseCheck(c("warehouse_ages_plausible", "plausibility", "core.trajectories",
                         "Leeftijd bij start tussen 0 en 27."), [
            ("core.trajectories", e.ExpectColumnValuesToBeBetween(column="age_at_start", min_value=0, max_value=27)),
        ]),
        WarehouseCheck(c("warehouse_end_not_before_start", "plausibility", "core.trajectories",
                         "Einddatum niet vóór startdatum."), [
            ("core.trajectories", e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="end_day", column_B="start_day", or_equal=True,
                ignore_row_if="either_value_is_missing")),
        ]),
        WarehouseCheck(c("warehouse_suppression_holds", "conformance", "mart",
                         f"Geen gepubliceerd aantal onder k = {k}."), [
            ("mart.outcome_scores", e.ExpectColumnValuesToBeBetween(column="n_paired", min_value=k)),
            ("mart.trajectory_indicators", e.ExpectColumnValuesToBeBetween(column="n_ended", min_value=k)),
        ]),
        WarehouseCheck(c("warehouse_shares_in_range", "plausibility", "mart",
                         "Aandelen liggen tussen 0 en 1; tevredenheid tussen 1 en 10."), [
            *[("mart.outcome_scores", e.ExpectColumnValuesToBeBetween(column=col, min_value=0, max_value=1))
              for col in shares],
            ("mart.trajectory_indicators", e.ExpectColumnValuesToBeBetween(column="pct_planned_end", min_value=0, max_value=1)),
            ("mart.trajectory_indicators", e.ExpectColumnValuesToBeBetween(column="pct_goals_achieved", min_value=0, max_value=1)),
            ("mart.trajectory_indicators", e.ExpectColumnValuesToBeBetween(column="mean_satisfaction", min_value=1, max_value=10)),
        ]),
        WarehouseCheck(c("warehouse_contract_columns", "conformance", "mart",
                         "Gepubliceerde tabellen hebben precies de afgesproken kolommen, in volgorde "
                         f"(daarna alleen {', '.join(PUBLISHED_EXTRA_COLUMNS)})."), [
            # one value per table: its column list, which must be the contract or the contract
            # followed by the known extra columns (an unknown or reordered column fails)
            ("outcome_score_columns", e.ExpectColumnValuesToBeInSet(column="columns", value_set=[
                ",".join(OUTCOME_SCORE_CONTRACT), ",".join(OUTCOME_SCORE_COLUMNS)])),
            ("trajectory_indicator_columns", e.ExpectColumnValuesToBeInSet(column="columns", value_set=[
                ",".join(TRAJECTORY_INDICATOR_CONTRACT), ",".join(TRAJECTORY_INDICATOR_COLUMNS)])),
        ]),
        WarehouseCheck(c("warehouse_trajectory_longer_than_five_years", "plausibility", "core.trajectories",
                         "Trajecten die langer dan vijf jaar duren."), [
            ("trajectory_durations", e.ExpectColumnValuesToBeBetween(column="duration_days", max_value=FIVE_YEARS_DAYS)),
        ]),
        WarehouseCheck(c("warehouse_measurement_long_before_start", "plausibility", "core.measurements",
                         f"Metingen meer dan {LONG_BEFORE_START_DAYS} dagen vóór de start van hun traject."), [
            ("days_before_start", e.ExpectColumnValuesToBeBetween(column="days_before_start", max_value=LONG_BEFORE_START_DAYS)),
        ]),
        WarehouseCheck(c("warehouse_team_without_ended_six_months", "plausibility", "core.trajectories",
                         "Teams met lopende trajecten die in zes maanden geen traject beëindigden."), [
            ("team_activity", e.ExpectColumnValuesToBeInSet(column="stale", value_set=[False])),
        ]),
        WarehouseCheck(c("warehouse_identical_start_scores", "plausibility", "core.measurements",
                         f"Interventies (per meetinstrument; ≥ {MIN_SCORES_FOR_IDENTICAL} startmetingen) "
                         "waarvan alle startscores gelijk zijn."), [
            ("start_score_groups", e.ExpectColumnValuesToBeInSet(column="identical", value_set=[False])),
        ]),
    ]


def _counts(result: object) -> tuple[int, int]:
    """Unexpected values among the values examined; a table-level expectation counts as one."""
    stats = getattr(result, "result", None) or {}
    if "unexpected_count" in stats and stats.get("element_count") is not None:
        examined = stats["element_count"] - (stats.get("missing_count") or 0)
        return int(stats["unexpected_count"] or 0), int(examined)
    return (0 if result.success else 1), 1  # type: ignore[attr-defined]


def row_checks_basis(config: QualityConfig, checks: list[WarehouseCheck] | None = None) -> str:
    """What the row checks judge by: their expectations (with parameters), rules and version. A
    row kept as passed counts as passed only under the same basis."""
    checks = checks if checks is not None else warehouse_checks(1)
    payload = [ROW_CHECKS_VERSION] + [
        [check.definition.check_id, repr(config.rule(check.definition.check_id)),
         [[frame, repr(expectation)] for frame, expectation in check.expectations]]
        for check in checks if check.definition.check_id in ROW_CHECKS
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _row_columns() -> dict[str, list[str]]:
    """Per core table, the columns the row checks read (what a kept hash covers)."""
    checks = [check for check in warehouse_checks(1) if check.definition.check_id in ROW_CHECKS]
    return {table: columns for table, columns in _columns_examined(checks).items() if table in CORE_TABLES}


def _row_hash(table: str) -> str:
    """DuckDB's hash over the row-checked columns of a core table (identifiers from the fixed
    expectations above, never from data)."""
    return "hash(" + ", ".join(f'"{c}"' for c in _row_columns()[table]) + ")"


def _kept_basis(con: duckdb.DuckDBPyConnection) -> str | None:
    run_sql(con, "create_validated_rows")
    rows = execute(con, "SELECT basis FROM staging.validated_basis")
    return rows[0][0] if len(rows) == 1 else None


def remember_validated_rows(con: duckdb.DuckDBPyConnection, config: QualityConfig) -> None:
    """Keep the rows of a build that passed the guard (call only then), so the next validation's
    row checks read only what changed."""
    run_sql(con, "create_validated_rows")
    run_sql(con, "forget_validated_rows")
    for table, label in CORE_TABLES.items():
        execute(con, f"INSERT INTO staging.validated_rows SELECT ?, {_row_hash(table)} FROM {table}", [label])
    execute(con, "INSERT INTO staging.validated_basis VALUES (?)", [row_checks_basis(config)])


def forget_validated_rows(con: duckdb.DuckDBPyConnection) -> None:
    """The next validation reads every row (e.g. a build that failed the guard)."""
    run_sql(con, "create_validated_rows")
    run_sql(con, "forget_validated_rows")


def _scoped(check: WarehouseCheck, config: QualityConfig, basis_kept: bool) -> bool:
    rule = config.rule(check.definition.check_id)
    return (basis_kept and check.definition.check_id in ROW_CHECKS
            and rule.threshold == 0 and rule.severity == "error")


def validate_warehouse(
    con: duckdb.DuckDBPyConnection, k: int, config: QualityConfig, changed_only: bool = False
) -> QualityReport:
    """Every warehouse check; with `changed_only`, the row checks read only rows new or changed
    since the last passed validation (module doc), the rest reads everything."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("warehouse")
    checks = warehouse_checks(k)
    basis_kept = changed_only and _kept_basis(con) == row_checks_basis(config, checks)
    planned: list[WarehouseCheck] = []
    for check in checks:
        if _scoped(check, config, basis_kept):
            check = WarehouseCheck(
                replace(check.definition, description=check.definition.description + CHANGED_NOTE),
                [(CHANGED + frame if frame in CORE_TABLES else frame, expectation)
                 for frame, expectation in check.expectations],
            )
        planned.append(check)
    loaders = _frames(con, k, _columns_examined(planned))
    batches: dict[str, object] = {}

    def batch(name: str) -> object:
        if name not in batches:
            asset = source.add_dataframe_asset(name=name.replace(".", "_").replace(" ", "_"))
            batches[name] = asset.add_batch_definition_whole_dataframe("whole").get_batch(
                batch_parameters={"dataframe": loaders[name]()}
            )
        return batches[name]

    report = QualityReport(scope="warehouse", config_version=config.version)
    for check in planned:
        numerator = denominator = 0
        try:
            for frame, expectation in check.expectations:
                unexpected, examined = _counts(batch(frame).validate(expectation))  # type: ignore[attr-defined]
                numerator, denominator = numerator + unexpected, denominator + examined
        except Exception:  # noqa: BLE001 - the check reports status error; its message may quote data
            numerator = denominator = None  # type: ignore[assignment]
        report.results.append(judge(check.definition, config.rule(check.definition.check_id), numerator, denominator))
    return report

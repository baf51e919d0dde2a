"""The warehouse as a whole, guarded by Great Expectations before anything is published.
Tables are queried into DataFrames (GE's SQL path does not work with DuckDB here, see the stack
notes). Only counts leave this module: GE's partial unexpected lists hold values."""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb
import pandas as pd

from schemas.delivery import GESLACHT, HULPVORM, INFORMANT, MEETMOMENT, REDEN_EINDE

OUTCOME_SCORE_COLUMNS = [
    "level", "organisation", "team", "intervention", "period", "instrument", "schaal", "informant",
    "n_ended", "n_paired", "response_rate", "mean_start", "mean_end", "mean_improvement",
    "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved", "pct_unchanged",
    "pct_deteriorated", "n_clinical_start", "pct_recovered", "suppressed",
]
TRAJECTORY_INDICATOR_COLUMNS = [
    "level", "organisation", "team", "intervention", "period", "n_ended", "pct_planned_end",
    "pct_goals_achieved", "mean_satisfaction", "suppressed",
]
CLIENT_PSEUDONYM = r"^CL1-[0-9a-f]{8}-[0-9a-f]{32}$"
TRAJECTORY_PSEUDONYM = r"^TR1-[0-9a-f]{8}-[0-9a-f]{32}$"


@dataclass(frozen=True)
class ExpectationOutcome:
    table: str
    expectation: str
    column: str | None
    success: bool
    element_count: int | None
    unexpected_count: int | None


@dataclass(frozen=True)
class QualityResult:
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def _suites(k: int) -> dict[str, list]:
    import great_expectations as gx

    e = gx.expectations
    return {
        "core.trajectories": [
            e.ExpectColumnValuesToNotBeNull(column="trajectory_id"),
            e.ExpectColumnValuesToNotBeNull(column="client_id"),
            e.ExpectColumnValuesToMatchRegex(column="trajectory_id", regex=TRAJECTORY_PSEUDONYM),
            e.ExpectColumnValuesToMatchRegex(column="client_id", regex=CLIENT_PSEUDONYM),
            e.ExpectCompoundColumnsToBeUnique(column_list=["provider", "trajectory_id"]),
            e.ExpectColumnValuesToBeBetween(column="age_at_start", min_value=0, max_value=27),
            e.ExpectColumnValuesToBeInSet(column="geslacht", value_set=list(GESLACHT)),
            e.ExpectColumnValuesToBeInSet(column="hulpvorm", value_set=list(HULPVORM)),
            e.ExpectColumnValuesToBeInSet(column="reden_einde", value_set=list(REDEN_EINDE)),
            e.ExpectColumnValuesToMatchRegex(column="pc4", regex=r"^[1-9][0-9]{3}$"),
            e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="einddatum", column_B="startdatum", or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ],
        "core.measurements": [
            e.ExpectColumnValuesToNotBeNull(column="score"),
            e.ExpectColumnValuesToBeInSet(column="meetmoment", value_set=list(MEETMOMENT)),
            e.ExpectColumnValuesToBeInSet(column="informant", value_set=list(INFORMANT)),
            e.ExpectCompoundColumnsToBeUnique(
                column_list=["provider", "trajectory_id", "instrument", "schaal", "informant",
                             "meetmoment", "datum"]
            ),
        ],
        "mart.outcome_scores": [
            e.ExpectTableColumnsToMatchOrderedList(column_list=OUTCOME_SCORE_COLUMNS),
            e.ExpectColumnValuesToBeBetween(column="n_paired", min_value=k),
            *[
                e.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1)
                for c in ("response_rate", "pct_improved", "pct_unchanged", "pct_deteriorated",
                          "pct_recovered")
            ],
            e.ExpectColumnValuesToBeInSet(
                column="level",
                value_set=["consortium", "organisation", "team", "intervention",
                           "organisation_intervention"],
            ),
        ],
        "mart.trajectory_indicators": [
            e.ExpectTableColumnsToMatchOrderedList(column_list=TRAJECTORY_INDICATOR_COLUMNS),
            e.ExpectColumnValuesToBeBetween(column="n_ended", min_value=k),
            e.ExpectColumnValuesToBeBetween(column="pct_planned_end", min_value=0, max_value=1),
            e.ExpectColumnValuesToBeBetween(column="pct_goals_achieved", min_value=0, max_value=1),
            e.ExpectColumnValuesToBeBetween(column="mean_satisfaction", min_value=1, max_value=10),
        ],
    }


def validate_warehouse(con: duckdb.DuckDBPyConnection, k: int) -> QualityResult:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("warehouse")
    outcomes: list[ExpectationOutcome] = []
    for table, expectations in _suites(k).items():
        frame: pd.DataFrame = con.sql(f"SELECT * FROM {table}").df()
        asset = source.add_dataframe_asset(name=table.replace(".", "_"))
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
            batch_parameters={"dataframe": frame}
        )
        suite = gx.ExpectationSuite(name=f"{table}_suite", expectations=expectations)
        result = batch.validate(suite)
        for item in result.results:
            config = item.expectation_config
            stats = item.result or {}
            outcomes.append(
                ExpectationOutcome(
                    table=table,
                    expectation=config.type,
                    column=config.kwargs.get("column"),
                    success=bool(item.success),
                    element_count=stats.get("element_count"),
                    unexpected_count=stats.get("unexpected_count"),
                )
            )
    return QualityResult(tuple(outcomes))

"""The analysts' data dictionary: every published table and column with its definition, unit and
source in the metric definitions, and example queries. This module is its one source; the files
`publish/data-dictionary.md` and `.html` are generated from it next to the analysts' copy, with
each column's type read from the published file itself, and generation fails if the file and
this source disagree on a single table or column (so the dictionary cannot drift unnoticed)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.permissions import share_with_group

SPEC = "outcome-metrics.md"  # the metric definitions the project implements (its § numbers)
MARKDOWN_NAME = "data-dictionary.md"
HTML_NAME = "data-dictionary.html"


@dataclass(frozen=True)
class Column:
    name: str
    definition: str
    unit: str
    source: str = ""  # where the definition lives, e.g. "outcome-metrics §4"


@dataclass(frozen=True)
class Table:
    name: str  # schema.table as published
    description: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class ExampleQuery:
    title: str
    sql: str


def _spec(section: str) -> str:
    return f"{SPEC} §{section}"


SHARE = "share 0–1"
POINTS = "points on the instrument's scale"
COUNT = "count of trajectories"
CODE = "text code"

_GROUP_COLUMNS = (
    Column("level", "Comparison level of the row: consortium, organisation, team, intervention or "
           "organisation_intervention.", CODE, _spec("4")),
    Column("organisation", "Provider code (as registered in config/consortium.toml); null on levels "
           "that do not group by provider.", CODE, _spec("6")),
    Column("team", "Team code as the consortium registered it for the organisation "
           "(config/consortium.toml [teams.<provider>]), or '_niet_geregistreerd' for the "
           "organisation's trajectories delivered with a team it did not register; only on level "
           "team. Display names: mart.teams.", CODE, _spec("4")),
    Column("intervention", "Intervention code; only on levels intervention and "
           "organisation_intervention.", CODE, _spec("4")),
    Column("period", "Calendar year of the trajectories' end date ('2025'), or 'all'.", "text", _spec("7.5")),
)
_REST_GROUP_COLUMNS = (
    Column("level", "Always 'rest_of_consortium': every provider except the one in `organisation`.",
           CODE, _spec("4")),
    Column("organisation", "The provider left out: the row describes all other providers together.",
           CODE, _spec("6")),
    Column("team", "Always null (the rest is not split by team).", "text"),
    Column("intervention", "Always null (the rest is not split by intervention).", CODE),
    _GROUP_COLUMNS[4],
)
_MEASURE_COLUMNS = (
    Column("instrument", "Questionnaire, as in the instrument registry (config/instruments.csv).",
           CODE, _spec("2")),
    Column("schaal", "Scale of the instrument.", CODE, _spec("2")),
    Column("informant", "Who filled it in (ouder, jeugdige, leerkracht, ...).", CODE, _spec("2")),
)
_SCORE_FIGURES = (
    Column("n_ended", "Ended trajectories in the group; null when suppressed or when the "
           "trajectory-indicator row of the group is suppressed.", COUNT, _spec("4")),
    Column("n_paired", "Ended trajectories with a start and a later end score on the measure.",
           COUNT, _spec("2")),
    Column("response_rate", "n_paired / n_ended.", SHARE, _spec("4")),
    Column("mean_start", "Mean start score (earliest 'start' measurement).", POINTS, _spec("4")),
    Column("mean_end", "Mean end score (latest 'eind' measurement).", POINTS, _spec("4")),
    Column("mean_improvement", "Mean of Δ = d·(start − end); positive means better whatever the "
           "scale's direction.", POINTS, _spec("3")),
    Column("sd_improvement", "Sample standard deviation of Δ (n − 1); null when n_paired < 2.",
           POINTS, _spec("4")),
    Column("ci_low", "Lower bound of the 95 % confidence interval of mean_improvement (Student's "
           "t, n − 1 df).", POINTS, _spec("4")),
    Column("ci_high", "Upper bound of that interval.", POINTS, _spec("4")),
    Column("effect_size", "mean_improvement / sample SD of the start scores; null when that SD "
           "is 0 or undefined.", "standard deviations", _spec("4")),
    Column("pct_improved", "Share reliably improved (RCI > 1.96, Jacobson & Truax).", SHARE, _spec("3")),
    Column("pct_unchanged", "Share with −1.96 ≤ RCI ≤ 1.96.", SHARE, _spec("3")),
    Column("pct_deteriorated", "Share reliably deteriorated (RCI < −1.96).", SHARE, _spec("3")),
    Column("n_clinical_start", "Paired trajectories in the clinical range at start (cutoff of the "
           "registry).", COUNT, _spec("3")),
    Column("pct_recovered", "Recovered (clinical at start, non-clinical at end, reliably improved) "
           "/ n_clinical_start; null when n_clinical_start is 0.", SHARE, _spec("3")),
)
_TRAJECTORY_FIGURES = (
    Column("n_ended", "Ended trajectories in the group.", COUNT, _spec("4")),
    Column("pct_planned_end", "Share with reden_einde = 1 among ended trajectories whose "
           "reden_einde is not 5.", SHARE, _spec("4")),
    Column("pct_goals_achieved", "Share with doelrealisatie 1 or 2 among those where it is known.",
           SHARE, _spec("4")),
    Column("mean_satisfaction", "Mean tevredenheid where known.", "grade 1–10", _spec("4")),
)
_SUPPRESSION = (
    Column("suppressed", "True when the row shows no figure and no count (small numbers).",
           "boolean", _spec("5")),
    Column("suppression_reason", "'primary': fewer than k trajectories; 'secondary': hidden so that "
           "no suppressed count follows by subtraction; 'release': its trajectories changed by "
           "fewer than k since the figures were last published (the row is held, see held); "
           "null when shown as built.", CODE, _spec("5")),
    Column("held", "True when the figures are those of an earlier build (held_from_build), not "
           "recomputed: with release protection a figure is republished only once at least k of "
           "the trajectories behind it changed, so that comparing two releases never reveals a "
           "figure of fewer than k trajectories (PRIVACY.md §5). Means are published with 2 "
           "decimals and shares with 3.", "boolean"),
    Column("held_from_build", "The build whose figures a held row shows (mart.build_info of that "
           "release); null when not held.", CODE),
)

TABLES: tuple[Table, ...] = (
    Table("mart.outcome_scores",
          "Start and end scores, change, reliable change and recovery per group and measure.",
          (*_GROUP_COLUMNS, *_MEASURE_COLUMNS, *_SCORE_FIGURES, *_SUPPRESSION)),
    Table("mart.trajectory_indicators",
          "Planned end, goals achieved and satisfaction per group (not per measure).",
          (*_GROUP_COLUMNS, *_TRAJECTORY_FIGURES, *_SUPPRESSION)),
    Table("mart.outcome_scores_rest",
          "As mart.outcome_scores, for 'the rest of the consortium' of each organisation: all other "
          "providers' trajectories together. Hidden also whenever the organisation's or the "
          "consortium's row is hidden, so that no hidden count follows by subtraction.",
          (*_REST_GROUP_COLUMNS, *_MEASURE_COLUMNS, *_SCORE_FIGURES, *_SUPPRESSION)),
    Table("mart.trajectory_indicators_rest",
          "As mart.trajectory_indicators, for the rest of the consortium of each organisation.",
          (*_REST_GROUP_COLUMNS, *_TRAJECTORY_FIGURES, *_SUPPRESSION)),
    Table("mart.deliveries",
          "The deliveries the published figures rest on: the one in force per provider and month.",
          (Column("organisation", "Provider code.", CODE),
           Column("month", "Reporting month of the delivery (YYYY-MM).", "text"),
           Column("delivery_id", "Fingerprint of the delivered files.", CODE),
           Column("received_at", "When the pipeline first saw these files.", "timestamp"),
           Column("status", "accepted or accepted_with_quarantine.", CODE),
           Column("rows_trajecten", "Rows read from trajecten.", "count of rows"),
           Column("rows_metingen", "Rows read from metingen.", "count of rows"),
           Column("quarantined_trajecten", "trajecten rows set aside as faulty.", "count of rows"),
           Column("quarantined_metingen", "metingen rows set aside as faulty.", "count of rows"))),
    Table("mart.teams",
          "The display name of every team code, per organisation, from the consortium's team "
          "register (config/consortium.toml [teams.<provider>]): the names the dashboard shows. "
          "A delivered team value is never published; trajectories whose team was not registered "
          "are one group per organisation, '_niet_geregistreerd' ('Niet-geregistreerd team').",
          (Column("organisation", "Provider code.", CODE),
           Column("team", "Team code, as in the `team` column of the other tables.", CODE),
           Column("team_name", "Display name of the team.", "text"))),
    Table("mart.build_info", "Which build this copy holds.",
          (Column("build_id", "Identifier of the build; equal in two readings means same figures.", CODE),
           Column("built_at", "When the build was made.", "timestamp"))),
)

EXAMPLE_QUERIES: tuple[ExampleQuery, ...] = (
    ExampleQuery(
        "Consortium-wide change per measure, over all years",
        "SELECT instrument, schaal, informant, n_paired, mean_start, mean_end, mean_improvement,\n"
        "       ci_low, ci_high, pct_improved, pct_recovered\n"
        "FROM mart.outcome_scores\n"
        "WHERE level = 'consortium' AND period = 'all'\n"
        "ORDER BY instrument, schaal, informant",
    ),
    ExampleQuery(
        "Each organisation beside the rest of the consortium (CBCL totaal, parents)",
        "SELECT o.organisation, o.mean_improvement AS organisation_change,\n"
        "       r.mean_improvement AS rest_change, o.response_rate, r.response_rate AS rest_response\n"
        "FROM mart.outcome_scores AS o\n"
        "JOIN mart.outcome_scores_rest AS r USING (organisation, period, instrument, schaal, informant)\n"
        "WHERE o.level = 'organisation' AND o.period = 'all'\n"
        "  AND o.instrument = 'CBCL' AND o.schaal = 'totaal' AND o.informant = 'ouder'\n"
        "ORDER BY o.organisation",
    ),
    ExampleQuery(
        "Teams by name: planned end, goals and satisfaction; suppressed rows say so",
        "SELECT i.organisation, t.team_name, i.n_ended, i.pct_planned_end, i.pct_goals_achieved,\n"
        "       i.mean_satisfaction, i.suppressed\n"
        "FROM mart.trajectory_indicators AS i\n"
        "JOIN mart.teams AS t USING (organisation, team)\n"
        "WHERE i.level = 'team' AND i.period = 'all'\n"
        "ORDER BY i.organisation, t.team_name",
    ),
    ExampleQuery(
        "Interventions per year (end date), reliable change",
        "SELECT intervention, period, n_paired, pct_improved, pct_unchanged, pct_deteriorated\n"
        "FROM mart.outcome_scores\n"
        "WHERE level = 'intervention' AND period <> 'all' AND NOT suppressed\n"
        "ORDER BY intervention, period",
    ),
    ExampleQuery(
        "Which deliveries this build rests on",
        "SELECT organisation, month, status, rows_trajecten, quarantined_trajecten\n"
        "FROM mart.deliveries\n"
        "ORDER BY organisation, month",
    ),
)


class DictionaryDrift(Exception):
    """The published file and the dictionary's source disagree: a column was added or renamed
    without being documented (a defect in the code, caught by the tests)."""


def published_columns(publication: Path) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of the mart schema in a published copy, in order."""
    con = duckdb.connect(str(publication), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_schema || '.' || table_name, column_name, data_type "
            "FROM information_schema.columns WHERE table_schema = 'mart' "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        columns.setdefault(table, []).append((column, kind))
    return columns


def drift(actual: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Every difference between the published schema and TABLES (empty: they agree)."""
    documented = {t.name: [c.name for c in t.columns] for t in TABLES}
    problems = [f"{t}: published, not documented" for t in sorted(set(actual) - set(documented))]
    problems += [f"{t}: documented, not published" for t in sorted(set(documented) - set(actual))]
    for table in sorted(set(actual) & set(documented)):
        names = [name for name, _ in actual[table]]
        if names != documented[table]:
            problems.append(f"{table}: published columns {names}, documented {documented[table]}")
    return problems


def render_markdown(types: dict[str, dict[str, str]]) -> str:
    lines = [
        "# Data dictionary — publish/analyst.duckdb",
        "",
        "Generated by the pipeline at each publication from `warehouse/dictionary.py`; types are "
        f"read from the published file. Definitions refer to the metric definitions ({SPEC}).",
        "Suppressed rows (small numbers) keep their keys and show no figure and no count.",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table.name}`", "", table.description, "",
                  "| column | type | unit | definition | see |", "|---|---|---|---|---|"]
        for column in table.columns:
            lines.append(f"| `{column.name}` | {types[table.name][column.name]} | {column.unit} | "
                         f"{column.definition} | {column.source} |")
        lines.append("")
    lines += ["## Example queries", ""]
    for example in EXAMPLE_QUERIES:
        lines += [f"### {example.title}", "", "```sql", example.sql + ";", "```", ""]
    return "\n".join(lines)


def render_html(types: dict[str, dict[str, str]]) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>Data dictionary — analyst.duckdb</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .5em;"
        "vertical-align:top;text-align:left}pre{background:#f4f4f4;padding:.8em}</style>",
        "</head><body>", "<h1>Data dictionary — publish/analyst.duckdb</h1>",
        f"<p>Generated at each publication; definitions refer to {e(SPEC)}. Suppressed rows keep "
        "their keys and show no figure and no count.</p>",
    ]
    for table in TABLES:
        anchor = table.name.replace(".", "-")
        parts += [f'<h2 id="{e(anchor)}"><code>{e(table.name)}</code></h2>', f"<p>{e(table.description)}</p>",
                  "<table><tr><th>column</th><th>type</th><th>unit</th><th>definition</th><th>see</th></tr>"]
        for column in table.columns:
            parts.append(
                f'<tr data-table="{e(table.name)}" data-column="{e(column.name)}"><td><code>{e(column.name)}</code></td>'
                f"<td>{e(types[table.name][column.name])}</td><td>{e(column.unit)}</td>"
                f"<td>{e(column.definition)}</td><td>{e(column.source)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Example queries</h2>")
    for example in EXAMPLE_QUERIES:
        parts += [f"<h3>{e(example.title)}</h3>", f"<pre><code>{e(example.sql)};</code></pre>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    share_with_group(temporary)  # published beside the analysts' copy (warehouse/permissions.py)
    os.replace(temporary, path)


def write_data_dictionary(publication: Path) -> list[Path]:
    """data-dictionary.md and .html next to the published copy, each replaced whole. Raises
    DictionaryDrift when the copy and this module's TABLES disagree."""
    actual = published_columns(publication)
    problems = drift(actual)
    if problems:
        raise DictionaryDrift("; ".join(problems))
    types = {table: dict(columns) for table, columns in actual.items()}
    targets = [publication.with_name(MARKDOWN_NAME), publication.with_name(HTML_NAME)]
    _replace(targets[0], render_markdown(types))
    _replace(targets[1], render_html(types))
    return targets

"""Data-quality checks in the manner of OHDSI's Data Quality Dashboard: each check has a category
(conformance, completeness, plausibility), counts failing records (numerator) among those it
applies to (denominator), and passes while that share stays within a threshold from the
versioned `config/quality.toml`. This module holds the result model, the configuration, the
per-delivery checks and the HTML/JSON report; the warehouse checks run on Great Expectations in
`warehouse/quality.py` and produce the same results."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd

from schemas.config import QUALITY_FILE, ConfigError, config_file
from schemas.delivery import METINGEN, TRAJECTEN
from schemas.files import read_toml, write_text_files
from schemas.validation import ValidatedDelivery, month_end

SEVERITIES = ("error", "warning")
LONG_BEFORE_START_DAYS = 180
FIVE_YEARS_DAYS = 1826
MIN_SCORES_FOR_IDENTICAL = 5


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the check itself could not be computed
    NOT_APPLICABLE = "not_applicable"  # nothing to check (denominator 0)


@dataclass(frozen=True)
class QualityRule:
    threshold: float
    severity: str
    reason: str


@dataclass(frozen=True)
class QualityConfig:
    version: str
    rules: dict[str, QualityRule]

    def rule(self, check_id: str) -> QualityRule:
        return self.rules[check_id]


@dataclass(frozen=True)
class CheckDefinition:
    check_id: str
    category: str  # conformance | completeness | plausibility
    table: str
    description: str


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    category: str
    table: str
    description: str
    numerator: int | None
    denominator: int | None
    pct: float | None
    threshold: float
    severity: str
    status: CheckStatus
    reason: str


@dataclass
class QualityReport:
    scope: str
    config_version: str
    results: list[CheckResult] = field(default_factory=list)
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def counts(self) -> dict[str, int]:
        return {s.value: sum(r.status is s for r in self.results) for s in CheckStatus}

    def failed(self, severity: str | None = None) -> list[CheckResult]:
        return [
            r for r in self.results
            if r.status in (CheckStatus.FAIL, CheckStatus.ERROR) and (severity is None or r.severity == severity)
        ]


def judge(
    definition: CheckDefinition, rule: QualityRule, numerator: int | None, denominator: int | None
) -> CheckResult:
    if numerator is None or denominator is None:
        status, pct = CheckStatus.ERROR, None
    elif denominator == 0:
        status, pct = CheckStatus.NOT_APPLICABLE, None
    else:
        pct = numerator / denominator
        status = CheckStatus.PASS if pct <= rule.threshold else CheckStatus.FAIL
    return CheckResult(
        check_id=definition.check_id, category=definition.category, table=definition.table,
        description=definition.description, numerator=numerator, denominator=denominator, pct=pct,
        threshold=rule.threshold, severity=rule.severity, status=status, reason=rule.reason,
    )


def run_checks(
    scope: str,
    config: QualityConfig,
    checks: list[tuple[CheckDefinition, Callable[[], tuple[int, int]]]],
) -> QualityReport:
    """A check that raises is reported with status error, never stops the others; its message
    is not kept (it could quote data)."""
    report = QualityReport(scope=scope, config_version=config.version)
    for definition, compute in checks:
        try:
            numerator, denominator = compute()
        except Exception:  # noqa: BLE001 - reported as the check's status
            numerator = denominator = None
        report.results.append(judge(definition, config.rule(definition.check_id), numerator, denominator))
    return report


# --- configuration ------------------------------------------------------------------------------


def load_quality_config(path: Path, required: set[str] | None = None) -> QualityConfig:
    text, data = read_toml(path)

    def line_of(check_id: str) -> int | None:
        for number, content in enumerate(text.splitlines(), start=1):
            if re.match(rf"^\s*\[\s*checks\.{re.escape(check_id)}\s*\]", content):
                return number
        return None

    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ConfigError(path, None, 'a `version = "..."` is required, so reports can name their rules')
    checks = data.get("checks")
    if not isinstance(checks, dict):
        raise ConfigError(path, None, "[checks.<name>] tables are required")
    rules: dict[str, QualityRule] = {}
    for check_id, spec in checks.items():
        line = line_of(check_id)
        if not isinstance(spec, dict):
            raise ConfigError(path, line, f"[checks.{check_id}] must be a table")
        threshold, severity, reason = spec.get("threshold"), spec.get("severity"), spec.get("reason")
        if not isinstance(threshold, int | float) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
            raise ConfigError(path, line, f"{check_id}: threshold must be a share from 0 to 1")
        if severity not in SEVERITIES:
            raise ConfigError(path, line, f"{check_id}: severity must be one of {', '.join(SEVERITIES)}")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(path, line, f"{check_id}: every threshold needs its reason")
        rules[check_id] = QualityRule(float(threshold), severity, reason.strip())
    missing = sorted((required or set()) - set(rules))
    if missing:
        raise ConfigError(path, None, f"no threshold for check(s): {', '.join(missing)}")
    return QualityConfig(version=version, rules=rules)


def load_delivery_quality_config(config_dir: Path) -> QualityConfig:
    """What `databank check` needs: thresholds for every per-delivery check."""
    return load_quality_config(config_file(config_dir, QUALITY_FILE), set(DELIVERY_CHECKS))


# --- per delivery -------------------------------------------------------------------------------

DELIVERY_CHECKS = {
    d.check_id: d
    for d in (
        CheckDefinition("trajecten_quarantined", "conformance", TRAJECTEN,
                        "Trajectregels afgekeurd (in quarantaine)."),
        CheckDefinition("metingen_quarantined", "conformance", METINGEN,
                        "Metingregels afgekeurd (in quarantaine)."),
        CheckDefinition("ended_without_goal", "completeness", TRAJECTEN,
                        "Beëindigde trajecten zonder doelrealisatie."),
        CheckDefinition("ended_without_satisfaction", "completeness", TRAJECTEN,
                        "Beëindigde trajecten zonder tevredenheid."),
        CheckDefinition("ended_without_end_measurement", "completeness", TRAJECTEN,
                        "Beëindigde trajecten zonder eindmeting in deze levering."),
        CheckDefinition("measurement_long_before_start", "plausibility", METINGEN,
                        f"Metingen meer dan {LONG_BEFORE_START_DAYS} dagen vóór de startdatum van hun traject."),
        CheckDefinition("trajectory_longer_than_five_years", "plausibility", TRAJECTEN,
                        "Trajecten die langer dan vijf jaar duren (tot einddatum of einde verslagmaand)."),
        CheckDefinition("identical_start_scores", "plausibility", METINGEN,
                        f"Interventies (per instrument, schaal, informant; ≥ {MIN_SCORES_FOR_IDENTICAL} "
                        "startmetingen) waarvan alle startscores gelijk zijn."),
    )
}


def identical_score_groups(frame: pd.DataFrame) -> tuple[int, int]:
    """Groups with enough start scores, and how many of those have a single distinct score."""
    sizes = frame.groupby(["interventie", "instrument", "schaal", "informant"])["score"].agg(["count", "nunique"])
    eligible = sizes[sizes["count"] >= MIN_SCORES_FOR_IDENTICAL]
    return int((eligible["nunique"] == 1).sum()), len(eligible)


def delivery_quality(validated: ValidatedDelivery, config: QualityConfig) -> QualityReport:
    verdict = validated.verdict
    t, m = validated.trajectories, validated.measurements
    ended = t[t["einddatum"].notna()]
    considered = {
        table: verdict.rows_read.get(table, 0) - verdict.excluded_bezwaar.get(table, 0)
        - verdict.excluded_erased.get(table, 0)
        for table in (TRAJECTEN, METINGEN)
    }
    with_start = m.merge(t[["trajectory_id", "startdatum", "interventie"]], on="trajectory_id", how="inner")
    starts = with_start[with_start["meetmoment"] == "start"]
    eind_ids = set(m.loc[m["meetmoment"] == "eind", "trajectory_id"])

    def share(numerator: object, denominator: object) -> tuple[int, int]:
        return int(numerator), int(denominator)  # type: ignore[call-overload]

    checks = [
        (DELIVERY_CHECKS["trajecten_quarantined"],
         lambda: share(verdict.quarantined.get(TRAJECTEN, 0), considered[TRAJECTEN])),
        (DELIVERY_CHECKS["metingen_quarantined"],
         lambda: share(verdict.quarantined.get(METINGEN, 0), considered[METINGEN])),
        (DELIVERY_CHECKS["ended_without_goal"],
         lambda: share(ended["doelrealisatie"].isna().sum(), len(ended))),
        (DELIVERY_CHECKS["ended_without_satisfaction"],
         lambda: share(ended["tevredenheid"].isna().sum(), len(ended))),
        (DELIVERY_CHECKS["ended_without_end_measurement"],
         lambda: share((~ended["trajectory_id"].isin(eind_ids)).sum(), len(ended))),
        (DELIVERY_CHECKS["measurement_long_before_start"],
         lambda: share(
             ((with_start["startdatum"] - with_start["datum"]).dt.days > LONG_BEFORE_START_DAYS).sum(),
             len(with_start),
         )),
        (DELIVERY_CHECKS["trajectory_longer_than_five_years"],
         # A rejected delivery (perhaps of a folder that names no month) has no rows to date.
         lambda: (0, 0) if t.empty else share(
             ((t["einddatum"].fillna(pd.Timestamp(month_end(verdict.month))) - t["startdatum"])
              .dt.days > FIVE_YEARS_DAYS).sum(),
             len(t),
         )),
        (DELIVERY_CHECKS["identical_start_scores"], lambda: identical_score_groups(starts)),
    ]
    return run_checks(f"levering {verdict.provider} {verdict.month}", config, checks)


# --- reports ------------------------------------------------------------------------------------

STATUS_DUTCH = {
    CheckStatus.PASS: "voldoet", CheckStatus.FAIL: "voldoet niet", CheckStatus.ERROR: "fout",
    CheckStatus.NOT_APPLICABLE: "n.v.t.",
}


def quality_json(report: QualityReport) -> str:
    payload = {
        "scope": report.scope,
        "config_version": report.config_version,
        "generated_at": report.generated_at,
        "counts": report.counts(),
        "checks": [{**asdict(r), "status": r.status.value} for r in report.results],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


def quality_html(report: QualityReport) -> str:
    def cell(value: object) -> str:
        return f"<td>{html.escape('' if value is None else str(value))}</td>"

    rows = "\n".join(
        f'<tr class="{r.status.value}">'
        + cell(r.category) + cell(r.table) + cell(r.check_id) + cell(r.description)
        + cell(r.numerator) + cell(r.denominator)
        + cell("" if r.pct is None else f"{r.pct:.1%}") + cell(f"{r.threshold:.1%}")
        + cell(STATUS_DUTCH[r.status]) + cell(r.severity) + cell(r.reason)
        + "</tr>"
        for r in report.results
    )
    counts = ", ".join(f"{STATUS_DUTCH[CheckStatus(k)]}: {v}" for k, v in report.counts().items())
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<title>Datakwaliteit {html.escape(report.scope)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
tr.fail td,tr.error td{{background:#fde2e1}}tr.pass td{{background:#e6f4ea}}</style>
</head><body>
<h1>Datakwaliteit: {html.escape(report.scope)}</h1>
<p>Regels versie {html.escape(report.config_version)}; gemaakt {html.escape(report.generated_at)}.
{html.escape(counts)}.</p>
<table><thead><tr><th>categorie</th><th>tabel</th><th>controle</th><th>omschrijving</th>
<th>teller</th><th>noemer</th><th>percentage</th><th>drempel</th><th>status</th><th>ernst</th>
<th>waarom deze drempel</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def write_quality_report(report: QualityReport, directory: Path) -> list[Path]:
    return write_text_files(
        directory, {"kwaliteit.json": quality_json(report), "kwaliteit.html": quality_html(report)}
    )

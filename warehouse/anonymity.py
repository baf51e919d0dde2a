"""k-anonymity of the warehouse as a whole and of each research extract scope. The warehouse's:
the quasi-identifiers of `core.trajectories` (the latest state of every trajectory) as stored;
each scope's: the quasi-identifiers its extract would ship, measured on what it would ship now.
Deliveries read under an earlier generalisation keep theirs, so this is the warehouse's actual
exposure, mixed or not. Only the counts of `schemas.anonymity` leave this module."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from schemas.anonymity import AnonymityConfig, AnonymityReport, anonymity_report
from warehouse.extracts import extract_trajectories, scope_anonymity
from warehouse.sql import load_sql

SCOPE = "warehouse"


def warehouse_anonymity(con: duckdb.DuckDBPyConnection, config: AnonymityConfig) -> AnonymityReport:
    frame = con.execute(load_sql("anonymity_quasi_identifiers")).df()
    return anonymity_report(frame, config, SCOPE)


def anonymity_reports(con: duckdb.DuckDBPyConnection, config: AnonymityConfig) -> list[AnonymityReport]:
    """The warehouse's report, then one per extract scope (the default scope included)."""
    reports = [warehouse_anonymity(con, config)]
    for scope in config.extract_scopes:
        trajectories, clients = extract_trajectories(con, scope)
        reports.append(scope_anonymity(trajectories, clients, scope, config))
    return reports


def below_k_warnings(reports: list[dict], extract_share: float) -> list[str]:
    """One line per report (as anonymity_payload gives it, or as read back from anonimiteit.json)
    with a class below k: what `databank run` prints and Dagster logs. Counts only."""
    lines = []
    for report in reports:
        unit = report["unit"]
        if report["meets_k"] or not report[unit]:
            continue
        gate = ""
        if report["scope"] != SCOPE:
            refused = (report["share_at_least_k"] or 0.0) < extract_share
            gate = (f"; `databank extract` refuses this scope (below {extract_share:.0%})" if refused
                    else f"; within the extract threshold of {extract_share:.0%}")
        lines.append(
            f"k-anonymity ({report['scope']}): {report[f'{unit}_below_k']} of {report[unit]} {unit} share "
            f"their {', '.join(report['quasi_identifiers'])} with fewer than {report['k'] - 1} others "
            f"({report['classes_below_k']} classes below k = {report['k']}){gate}"
        )
    return lines


def reported_warnings(path: Path, extract_share: float) -> list[str]:
    """The warnings of the last report written (reports/_databank/anonimiteit.json), if any."""
    try:
        reports = json.loads(path.read_text(encoding="utf-8"))["reports"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return below_k_warnings(reports, extract_share)

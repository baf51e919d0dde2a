"""Research extracts: pseudonymised microdata for one recipient scope, with exactly the columns
the scope names in config/privacy.toml (schemas/extracts.py) and pseudonyms of its own.

Before anything is written, the extract's clients are measured on the scope's quasi-identifiers:
when fewer than `[anonymity] extract_share` of them share those values with at least k - 1 other
clients, the extract is refused (ExtractRefused) and nothing is written: once handed out, an
extract cannot be called back, so a scope that is too fine must be coarsened first.

What pseudonyms cannot prevent, values can do: a row whose values are unique can be found again
in another extract, or in the warehouse, that holds the same values. The manifest states the share
of the extract's trajectories that are unique on all their non-pseudonym values (their row and
their measurements): no join of this extract with another, on any columns, links more
trajectories than that (PRIVACY.md §3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from pseudonymise.keys import KeyRing, PseudonymKey
from pseudonymise.pseudonyms import DIGEST_HEX, purpose_of
from schemas.anonymity import AnonymityConfig, AnonymityReport, k_anonymity
from schemas.extracts import SCOPE_NAME, ExtractScope
from warehouse.sql import execute, load_sql, run_sql

PSEUDONYMS = ("trajectory_id", "client_id")
MEASUREMENT_COLUMNS = {
    "classes": ("trajectory_id", "instrument", "schaal", "informant", "change", "clinical_start", "recovered"),
    "pairs": ("trajectory_id", "instrument", "schaal", "informant", "score_start", "score_end"),
    "series": ("trajectory_id", "instrument", "schaal", "informant", "meetmoment", "weeks_since_start", "score"),
}


class ExtractRefused(Exception):
    """The scope's output lets too many clients stand out; nothing was written."""

    def __init__(self, report: AnonymityReport, scope: ExtractScope, required: float, configured: bool) -> None:
        self.report = report
        share = report.share_at_least_k or 0.0
        section = f"[extracts.{scope.name}]" if configured else f"[extracts.default] (or give {scope.name} its own section)"
        super().__init__(
            f"scope {scope.name}: {share:.1%} of its {report.population} clients share "
            f"{', '.join(report.quasi_identifiers) or 'their values'} with at least {report.k - 1} others; "
            f"at least {required:.0%} must (config/privacy.toml [anonymity] k = {report.k}, extract_share = "
            f"{required}). Coarsen {section} in config/privacy.toml (fewer columns, age_at_start = \"band\", "
            "end = \"year\") and try again; nothing was written"
        )


def scoped_pseudonym(key: PseudonymKey, scope: str, pseudonym: str) -> str:
    """A recipient scope's own pseudonym: keyed under a subkey for that scope, so no pseudonym of
    one extract equals one of another extract or of the warehouse."""
    purpose = purpose_of(pseudonym)
    keyed = hmac.new(key.subkey(f"extract:{scope}:{purpose}"), pseudonym.encode(), hashlib.sha256)
    return f"{pseudonym[:2]}1-{scope}-{keyed.hexdigest()[:DIGEST_HEX]}"


@dataclass(frozen=True)
class ExtractFrames:
    """One scope's extract before its pseudonyms are re-keyed: `trajectories` and `measurements`
    hold the scope's columns only; `clients` is each trajectory row's warehouse client, for
    counting clients (never written)."""

    scope: ExtractScope
    trajectories: pd.DataFrame
    measurements: pd.DataFrame | None
    clients: pd.Series


def extract_trajectories(con: duckdb.DuckDBPyConnection, scope: ExtractScope) -> tuple[pd.DataFrame, pd.Series]:
    every = con.execute(load_sql("select_extract_trajectories")).df()
    return every[list(scope.output_columns)].copy(), every["client_id"]


def extract_measurements(con: duckdb.DuckDBPyConnection, scope: ExtractScope) -> pd.DataFrame | None:
    """The scope's measurements table (None when it ships none). Pairs are the marts' own
    (build_paired_scores.sql, on ref.instruments as last built), so an extract pairs exactly as
    the published figures do."""
    if scope.measurements == "none":
        return None
    if scope.measurements == "series":
        frame = con.execute(load_sql("select_extract_series")).df()
    else:
        run_sql(con, "build_paired_scores")
        try:
            frame = con.execute(load_sql("select_extract_pairs")).df()
        finally:
            execute(con, "DROP TABLE IF EXISTS paired_scores")
    return frame[list(MEASUREMENT_COLUMNS[scope.measurements])].copy()


def extract_frames(con: duckdb.DuckDBPyConnection, scope: ExtractScope) -> ExtractFrames:
    trajectories, clients = extract_trajectories(con, scope)
    return ExtractFrames(scope, trajectories, extract_measurements(con, scope), clients)


def scope_anonymity(
    trajectories: pd.DataFrame, clients: pd.Series, scope: ExtractScope, config: AnonymityConfig
) -> AnonymityReport:
    """k-anonymity of an extract's clients on its quasi-identifiers. A scope without any (only
    outcomes) is one class: everyone looks alike to an acquaintance."""
    frame = trajectories.assign(_client=clients.to_numpy(), _everyone=1)
    qis = scope.quasi_identifiers or ("_everyone",)
    report = k_anonymity(frame, qis, config.k, person_column="_client")
    return replace(
        report, scope=f"extract {scope.name}", config_version=config.version,
        quasi_identifiers=scope.quasi_identifiers,
        generalisation=dict(scope.columns) | {"measurements": scope.measurements},
    )


def linkable_trajectories(frames: ExtractFrames) -> int:
    """Trajectories unique on all their non-pseudonym values: their row's and, as a sorted list,
    their measurements'. Only such a trajectory can match exactly one trajectory of another
    extract or of the warehouse, whatever columns a join uses (a finer column on the other side
    can be coarsened to this one's level first), so this bounds every join's linked rows."""
    if frames.trajectories.empty:
        return 0
    values = [c for c in frames.trajectories.columns if c not in PSEUDONYMS]
    profile = frames.trajectories[values].astype("string").fillna("∅").agg("|".join, axis=1)
    measurements = frames.measurements
    # (an empty measurements table has no rows to list; pandas' row-wise join of it is a frame)
    if measurements is not None and not measurements.empty and "trajectory_id" in frames.trajectories.columns:
        columns = [c for c in measurements.columns if c not in PSEUDONYMS]
        rows = measurements[columns].astype("string").fillna("∅").agg("|".join, axis=1)
        listed = rows.groupby(measurements["trajectory_id"]).agg(lambda r: "\x1e".join(sorted(r)))
        profile = profile + "\x1d" + frames.trajectories["trajectory_id"].map(listed).fillna("")
    return int((profile.map(profile.value_counts()) == 1).sum())


def _rekeyed(frame: pd.DataFrame, key: PseudonymKey, scope: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in PSEUDONYMS:
        if column in frame:
            frame[column] = [scoped_pseudonym(key, scope, v) for v in frame[column]]
    return frame


def in_scope_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of the scope's own pseudonyms (then of their values): in the warehouse's
    order, row i of every extract would be the same trajectory, and a block of rows one provider."""
    keys = [c for c in PSEUDONYMS if c in frame.columns] + [c for c in frame.columns if c not in PSEUDONYMS]
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def _write_parquet(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, out: Path, name: str) -> Path:
    path = out / f"{name}.parquet"
    temporary = out / f".{name}.parquet.tmp"
    con.register("extract_frame", frame)
    try:
        target = str(temporary).replace("'", "''")  # COPY takes no bound file name
        execute(con, f"COPY extract_frame TO '{target}' (FORMAT parquet)")
    finally:
        con.unregister("extract_frame")
    os.replace(temporary, path)
    return path


def write_extract(
    con: duckdb.DuckDBPyConnection, ring: KeyRing, config: AnonymityConfig, scope_name: str, out: Path
) -> dict:
    """The scope's tables as Parquet plus manifest.json, or ExtractRefused (nothing written).
    An unconfigured scope name gets the default scope's columns under pseudonyms of its own."""
    if not SCOPE_NAME.match(scope_name):
        raise ValueError("a scope name is 2-40 characters of a-z, 0-9 and '-'")
    scope = config.scope(scope_name)
    frames = extract_frames(con, scope)
    report = scope_anonymity(frames.trajectories, frames.clients, scope, config)
    configured = scope_name in {s.name for s in config.extracts}
    if report.population and (report.share_at_least_k or 0.0) < config.extract_share:
        raise ExtractRefused(report, scope, config.extract_share, configured)
    linkable = linkable_trajectories(frames)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "scope": scope_name,
        "columns_from": "config/privacy.toml [extracts.%s]" % (scope_name if configured else "default"),
        "config_version": config.version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pseudonyms": f"<type>1-{scope_name}-<128-bit HMAC>: keyed for this scope only; no pseudonym "
        "equals one of another extract or of the warehouse",
        "anonymity": {
            "k": report.k, "quasi_identifiers": list(report.quasi_identifiers), "clients": report.population,
            "clients_below_k": report.below_k, "share_at_least_k": report.share_at_least_k,
            "required_share": config.extract_share,
        },
        "linkage": {
            "trajectories": len(frames.trajectories),
            "unique_on_values": linkable,
            "share": linkable / len(frames.trajectories) if len(frames.trajectories) else 0.0,
            "meaning": "at most this share of the trajectories can be linked, on their values, to "
            "another extract or to the warehouse (PRIVACY.md §3)",
        },
        "tables": {},
    }
    tables = {"trajectories": frames.trajectories, "measurements": frames.measurements}
    for name, frame in tables.items():
        if frame is None:
            continue
        frame = in_scope_order(_rekeyed(frame, ring.current, scope_name))
        path = _write_parquet(con, frame, out, name)
        manifest["tables"][name] = {"file": path.name, "rows": len(frame), "columns": list(frame.columns)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest

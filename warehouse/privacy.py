"""AVG rights and key management on the warehouse: erasure of one client, key rotation by keying
the stored pseudonyms again, and research extracts with pseudonyms of their own scope. Each
change is one transaction; the audit tables record counts and key ids, never an identifier."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pseudonymise.keys import KeyRing, PseudonymKey
from pseudonymise.pseudonyms import DIGEST_HEX, purpose_of, rekey
from warehouse.connection import transaction
from warehouse.pseudonym_keys import PSEUDONYM_COLUMNS, record_key_ids
from warehouse.sql import execute, run_sql

SCOPE_NAME = re.compile(r"^[a-z0-9-]{2,40}$")

@dataclass(frozen=True)
class Erasure:
    trajectories: int
    measurements: int
    quarantine_rows: int


def forget_client(
    con: duckdb.DuckDBPyConnection,
    provider: str,
    requested_by: str,
    client_id: str | None,
    local_client_id: str | None,
) -> Erasure:
    """Remove every row of one client of one provider from intake, staging, quarantine and core;
    the caller rebuilds the marts and republishes."""
    keys = {"provider": provider, "client_id": client_id, "local_client_id": local_client_id}
    with transaction(con):
        run_sql(con, "select_forgotten_trajectories", keys)
        (counts,) = run_sql(con, "count_forgotten_rows", keys)
        run_sql(con, "delete_forgotten_client", keys)
        erasure = Erasure(*(int(c) for c in counts))
        execute(
            con,
            "INSERT INTO privacy.erasures VALUES (?, ?, ?, ?, ?, ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), provider, requested_by,
             erasure.trajectories, erasure.measurements, erasure.quarantine_rows],
        )
    return erasure


def rekey_warehouse(con: duckdb.DuckDBPyConnection, ring: KeyRing, new_key: PseudonymKey) -> int:
    """Key every stored pseudonym once more with the new key, in one transaction that also
    records the new key in the warehouse's key record (`ring` is the warehouse's own ring, from
    ensure_key_ring_covers_warehouse). Linkage holds: equal pseudonyms stay equal, and new
    deliveries get the same outer layer (KeyRing)."""
    with transaction(con):
        union = " UNION ".join(
            f"SELECT {column} AS old FROM {table} WHERE {column} IS NOT NULL"
            for table, columns in PSEUDONYM_COLUMNS.items()
            for column in columns
        )
        olds = [row[0] for row in execute(con, f"SELECT DISTINCT old FROM ({union})")]
        mapping = pd.DataFrame({"old": olds, "new": [rekey(new_key, purpose_of(o), o) for o in olds]})
        con.register("rekey_mapping", mapping)
        try:
            for table, columns in PSEUDONYM_COLUMNS.items():
                for column in columns:
                    execute(
                        con,
                        f"UPDATE {table} AS t SET {column} = m.new FROM rekey_mapping AS m "
                        f"WHERE t.{column} = m.old",
                    )
        finally:
            con.unregister("rekey_mapping")
        record_key_ids(con, (*ring.key_ids, new_key.key_id))
        execute(
            con,
            "INSERT INTO privacy.key_rotations VALUES (?, ?, ?, ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), ring.key_id, new_key.key_id, len(olds)],
        )
    return len(olds)


# --- research extracts --------------------------------------------------------------------------


def scoped_pseudonym(key: PseudonymKey, scope: str, pseudonym: str) -> str:
    """A recipient scope's own pseudonym: keyed under a subkey for that scope, so two extracts
    cannot be joined to each other or to the warehouse."""
    purpose = purpose_of(pseudonym)
    keyed = hmac.new(key.subkey(f"extract:{scope}:{purpose}"), pseudonym.encode(), hashlib.sha256)
    return f"{pseudonym[:2]}1-{scope}-{keyed.hexdigest()[:DIGEST_HEX]}"


EXTRACT_TABLES = {
    "trajectories": (
        "SELECT trajectory_id, client_id, provider, birth_year, age_at_start, geslacht, pc4, team, "
        "interventie, hulpvorm, startdatum, einddatum, reden_einde, doelrealisatie, tevredenheid "
        "FROM core.trajectories ORDER BY provider, trajectory_id"
    ),
    "measurements": (
        "SELECT trajectory_id, provider, instrument, schaal, informant, meetmoment, datum, score "
        "FROM core.measurements ORDER BY provider, trajectory_id, instrument, schaal, informant, "
        "meetmoment, datum"
    ),
}


def write_extract(con: duckdb.DuckDBPyConnection, ring: KeyRing, scope: str, out: Path) -> dict:
    """Pseudonymised microdata as Parquet, one file per table, plus manifest.json."""
    if not SCOPE_NAME.match(scope):
        raise ValueError("a scope name is 2-40 characters of a-z, 0-9 and '-'")
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "scope": scope,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pseudonyms": f"<type>1-{scope}-<128-bit HMAC>: keyed for this scope only; they match no "
        "other extract and no warehouse pseudonym",
        "tables": {},
    }
    for name, query in EXTRACT_TABLES.items():
        frame = con.execute(query).df()
        for column in ("trajectory_id", "client_id"):
            if column in frame:
                frame[column] = [scoped_pseudonym(ring.current, scope, v) for v in frame[column]]
        path = out / f"{name}.parquet"
        temporary = out / f".{name}.parquet.tmp"
        con.register("extract_frame", frame)
        try:
            target = str(temporary).replace("'", "''")  # COPY takes no bound file name
            execute(con, f"COPY extract_frame TO '{target}' (FORMAT parquet)")
        finally:
            con.unregister("extract_frame")
        os.replace(temporary, path)
        manifest["tables"][name] = {
            "file": path.name, "rows": len(frame), "columns": list(frame.columns),
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest

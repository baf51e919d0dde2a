"""AVG rights and key management on the warehouse: erasure of one client and key rotation by
keying the stored pseudonyms again (research extracts: warehouse/extracts.py). Each
change is one transaction; the audit tables record counts and key ids, never an identifier."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from pseudonymise.clock import TrajectoryClock
from pseudonymise.keys import KeyRing, PseudonymKey
from pseudonymise.pseudonyms import TRAJECTORY, Pseudonymiser, purpose_of, rekey
from warehouse.connection import transaction
from warehouse.minimise import CLOCK_COLUMNS
from warehouse.pseudonym_keys import PSEUDONYM_COLUMNS, label_key_id, record_key_ids
from warehouse.sql import execute, run_sql

# Tables an erasure empties of the client, in the order they are reported.
ERASED_TABLES = (
    "intake.trajectories", "intake.measurements", "intake.quarantine",
    "staging.trajectories", "staging.measurements", "staging.quarantine",
    "core.trajectories", "core.measurements",
)
# Kept on purpose: an objection is what keeps the client out of a re-delivered month, so erasing
# it would bring back data the client objected to. They hold pseudonyms only (PRIVACY.md §4).
OBJECTION_TABLES = ("intake.objections", "privacy.objections")


@dataclass(frozen=True)
class Erasure:
    """What one erasure did, in counts only: rows removed per table; rows of the client still
    there (`left`: found under a pseudonym this key file computes); rows of the provider under a
    key the key file lacks (`unverifiable`: the client may be among them, nobody can tell);
    objection records kept by design."""

    removed: dict[str, int]
    left: dict[str, int]
    unverifiable: dict[str, dict[str, int]]
    kept: dict[str, int]

    @property
    def complete(self) -> bool:
        return not self.left and not self.unverifiable

    # The audit record's columns (privacy.erasures): staged rows.
    @property
    def trajectories(self) -> int:
        return self.removed["staging.trajectories"]

    @property
    def measurements(self) -> int:
        return self.removed["staging.measurements"]

    @property
    def quarantine_rows(self) -> int:
        return self.removed["staging.quarantine"]


def key_chains(held: KeyRing, effective: KeyRing) -> list[KeyRing]:
    """Every key chain this key file can compute a pseudonym under: the warehouse's own chain and
    its prefixes (before each rotation), the key file's order and its prefixes, each key alone.
    A client's rows left under any of them are found, removed and verified gone."""
    chains: dict[tuple[str, ...], KeyRing] = {}
    for ring in (effective, held):
        for end in range(len(ring.keys), 0, -1):
            prefix = KeyRing(ring.keys[:end])
            chains.setdefault(prefix.key_ids, prefix)
    for key in held.keys:
        chains.setdefault((key.key_id,), KeyRing((key,)))
    return list(chains.values())


def client_pseudonyms(
    held: KeyRing, effective: KeyRing, provider: str, bsn: str | None, clientnummer: str | None
) -> tuple[list[str], list[str]]:
    """(client_ids, local_client_ids) of one client under every key chain the key file computes:
    by BSN the BSN-based client pseudonyms, else the provider's client-number pseudonyms."""
    chains = [Pseudonymiser(chain) for chain in key_chains(held, effective)]
    if bsn is not None:
        return [p.client(provider, "", bsn) for p in chains], []
    if clientnummer is None:
        raise ValueError("an erasure needs a BSN or a clientnummer")
    return [], [p.local_client(provider, clientnummer) for p in chains]


def _provider_rows(con: duckdb.DuckDBPyConnection, provider: str) -> dict[str, int]:
    return {
        table: execute(con, f"SELECT count(*) FROM {table} WHERE provider = ?", [provider])[0][0]
        for table in ERASED_TABLES
    }


def _client_rows(
    con: duckdb.DuckDBPyConnection, provider: str, pseudonyms: list[str], tables: Sequence[str]
) -> dict[str, int]:
    """Rows of the provider in each table holding any of the client's pseudonyms, per table."""
    found = {}
    for table in tables:
        columns = PSEUDONYM_COLUMNS[table]
        matches = " OR ".join(f"list_contains(CAST($pseudonyms AS VARCHAR[]), {column})" for column in columns)
        (count,) = execute(
            con,
            f"SELECT count(*) FROM {table} WHERE provider = $provider AND ({matches})",
            {"provider": provider, "pseudonyms": pseudonyms},
        )[0]
        if count:
            found[table] = count
    return found


def _rows_under_other_keys(
    con: duckdb.DuckDBPyConnection, provider: str, computable: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Rows of the provider whose pseudonyms carry a key id the key file lacks, per table and key
    id: nothing this key file computes can match them, so they cannot be searched for the
    client. A consistent warehouse has none (ensure_key_ring_covers_warehouse)."""
    found: dict[str, dict[str, int]] = {}
    for table in ERASED_TABLES:
        for column in PSEUDONYM_COLUMNS[table]:
            rows = execute(
                con,
                f"SELECT {label_key_id(column)} AS key_id, count(*) FROM {table} "
                f"WHERE provider = $provider AND {column} IS NOT NULL "
                f"AND NOT list_contains(CAST($computable AS VARCHAR[]), {label_key_id(column)}) GROUP BY ALL",
                {"provider": provider, "computable": list(computable)},
            )
            for key_id, count in rows:  # a row counts once: the most of any of its columns
                per_key = found.setdefault(table, {})
                per_key[key_id] = max(per_key.get(key_id, 0), count)
    return found


def forget_client(
    con: duckdb.DuckDBPyConnection,
    provider: str,
    requested_by: str,
    client_ids: Sequence[str],
    local_client_ids: Sequence[str],
    computable_key_ids: Sequence[str],
) -> Erasure:
    """Remove every row of one client of one provider from intake, staging, quarantine and core,
    found by any of the client's pseudonyms given (one per key chain the key file computes), then
    verify in the same transaction that none is left and that no row of the provider is under a
    key outside `computable_key_ids`. The removal commits either way (those rows are the
    client's); the caller reports an incomplete erasure and rebuilds the marts."""
    keys = {"provider": provider, "client_ids": list(client_ids), "local_client_ids": list(local_client_ids)}
    with transaction(con):
        before = _provider_rows(con, provider)
        run_sql(con, "select_forgotten_trajectories", keys)
        found = [
            value
            for (value,) in execute(
                con,
                "SELECT trajectory_id FROM forgotten_trajectories "
                "UNION SELECT local_client_id FROM forgotten_locals",
            )
        ]
        run_sql(con, "forget_release_tokens", {"salt": secrets.token_hex(16)})
        run_sql(con, "delete_forgotten_client", keys)
        after = _provider_rows(con, provider)
        pseudonyms = sorted({*client_ids, *local_client_ids, *found})
        erasure = Erasure(
            removed={table: before[table] - after[table] for table in ERASED_TABLES},
            left=_client_rows(con, provider, pseudonyms, ERASED_TABLES),
            unverifiable=_rows_under_other_keys(con, provider, computable_key_ids),
            kept=_client_rows(con, provider, pseudonyms, OBJECTION_TABLES),
        )
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
        # Stored days follow their trajectory's pseudonym onto the new key's clock: every
        # difference between them stays what it was (pseudonymise/clock.py).
        old_clock, new_clock = TrajectoryClock(ring.current), TrajectoryClock(new_key)
        mapping["shift"] = [
            new_clock.offset(n) - old_clock.offset(o) if purpose_of(o) == TRAJECTORY else 0
            for o, n in zip(mapping["old"], mapping["new"], strict=True)
        ]
        con.register("rekey_mapping", mapping)
        try:
            for table, columns in CLOCK_COLUMNS.items():
                moved = ", ".join(f"{column} = {column} + m.shift" for column in columns)
                execute(con, f"UPDATE {table} AS t SET {moved} FROM rekey_mapping AS m WHERE t.trajectory_id = m.old")
            for table, columns in PSEUDONYM_COLUMNS.items():
                for column in columns:
                    execute(
                        con,
                        f"UPDATE {table} AS t SET {column} = m.new FROM rekey_mapping AS m "
                        f"WHERE t.{column} = m.old",
                    )
            run_sql(con, "rekey_release_tokens")
        finally:
            con.unregister("rekey_mapping")
        record_key_ids(con, (*ring.key_ids, new_key.key_id))
        execute(
            con,
            "INSERT INTO privacy.key_rotations VALUES (?, ?, ?, ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), ring.key_id, new_key.key_id, len(olds)],
        )
    return len(olds)

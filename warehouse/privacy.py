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
from pseudonymise.pseudonyms import (
    TRAJECTORY,
    Pseudonymiser,
    purpose_of,
    rekey,
    rewrap_erasure_token,
)
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
# An erased client's objection records are replaced by erasure tokens of the same provider: the
# tokens keep the client out of a re-delivered month as the objection did, without a pseudonym.
OBJECTION_TABLES = ("intake.objections", "privacy.objections")


@dataclass(frozen=True)
class Erasure:
    """What one erasure did, in counts only: rows removed per table; rows of the client still
    there (`left`: found under a pseudonym this key file computes); rows under a key the key
    file lacks, per table, provider and key id (`unverifiable`: the client may be among them,
    nobody can tell); objection records replaced by erasure tokens; tokens added to the list."""

    removed: dict[str, int]
    left: dict[str, int]
    unverifiable: dict[str, dict[tuple[str, str], int]]
    objections_replaced: int = 0
    tokens: int = 0

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


# An erasure's scope in SQL: one provider, or every provider when $provider is NULL (by BSN).
IN_SCOPE = "($provider IS NULL OR provider = $provider)"


def _rows_in_scope(con: duckdb.DuckDBPyConnection, provider: str | None) -> dict[str, int]:
    return {
        table: execute(con, f"SELECT count(*) FROM {table} WHERE {IN_SCOPE}", {"provider": provider})[0][0]
        for table in ERASED_TABLES
    }


def _client_rows(
    con: duckdb.DuckDBPyConnection, provider: str | None, pseudonyms: list[str], tables: Sequence[str]
) -> dict[str, int]:
    """Rows in scope (one provider, or every one) in each table holding any of the client's
    pseudonyms, per table."""
    found = {}
    for table in tables:
        columns = PSEUDONYM_COLUMNS[table]
        matches = " OR ".join(f"list_contains(CAST($pseudonyms AS VARCHAR[]), {column})" for column in columns)
        (count,) = execute(
            con,
            f"SELECT count(*) FROM {table} WHERE {IN_SCOPE} AND ({matches})",
            {"provider": provider, "pseudonyms": pseudonyms},
        )[0]
        if count:
            found[table] = count
    return found


def _rows_under_other_keys(
    con: duckdb.DuckDBPyConnection, provider: str | None, computable: Sequence[str]
) -> dict[str, dict[tuple[str, str], int]]:
    """Rows in scope whose pseudonyms carry a key id the key file lacks, per table, provider and
    key id: nothing this key file computes can match them, so they cannot be searched for the
    client. A consistent warehouse has none (ensure_key_ring_covers_warehouse)."""
    found: dict[str, dict[tuple[str, str], int]] = {}
    for table in ERASED_TABLES:
        for column in PSEUDONYM_COLUMNS[table]:
            rows = execute(
                con,
                f"SELECT provider, {label_key_id(column)} AS key_id, count(*) FROM {table} "
                f"WHERE {IN_SCOPE} AND {column} IS NOT NULL "
                f"AND NOT list_contains(CAST($computable AS VARCHAR[]), {label_key_id(column)}) GROUP BY ALL",
                {"provider": provider, "computable": list(computable)},
            )
            for row_provider, key_id, count in rows:  # a row counts once: the most of any of its columns
                per_key = found.setdefault(table, {})
                per_key[(row_provider, key_id)] = max(per_key.get((row_provider, key_id), 0), count)
    return found


def _erasure_tokens(
    ring: KeyRing, scoped: Sequence[tuple[str, str | None]]
) -> list[tuple[str, str | None]]:
    """(token, provider) per pseudonym and the provider it is to be blocked at (None: every
    one); pseudonyms under a key outside the ring get none (nothing read under it matches)."""
    pseudonymiser = Pseudonymiser(ring)
    tokens = {(pseudonymiser.erasure_token(p), provider) for p, provider in scoped}
    everywhere = {t for t, provider in tokens if provider is None}
    return sorted(
        ((t, provider) for t, provider in tokens if t is not None and (provider is None or t not in everywhere)),
        key=lambda pair: (pair[0], pair[1] or ""),
    )


def erasure_tokens(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    """The suppression list the read step checks every delivered row against."""
    return [(token, provider) for token, provider in run_sql(con, "select_erasure_tokens")]


def forget_client(
    con: duckdb.DuckDBPyConnection,
    provider: str,
    requested_by: str,
    client_ids: Sequence[str],
    local_client_ids: Sequence[str],
    computable_key_ids: Sequence[str],
    ring: KeyRing,
) -> Erasure:
    """Remove every row of one client from intake, staging, quarantine and core, found by any of
    the client's pseudonyms given (one per key chain the key file computes), and put the client
    on the suppression list (`privacy.erasure_tokens`) so that no later delivery brings them
    back; then verify in the same transaction that none is left and that no row in scope is
    under a key outside `computable_key_ids`. By BSN (`requested_by == "bsn"`) the scope is
    every provider that delivered that BSN, by clientnummer the provider's own client number.
    The removal commits either way (those rows are the client's); the caller reports an
    incomplete erasure, rewrites the warehouse file and rebuilds the marts. `ring` is the
    warehouse's own (ensure_key_ring_covers_warehouse): the tokens are made under it."""
    scope = None if requested_by == "bsn" else provider
    keys = {"provider": scope, "client_ids": list(client_ids), "local_client_ids": list(local_client_ids)}
    with transaction(con):
        before = _rows_in_scope(con, scope)
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
        # the guard's row hashes (warehouse/quality.py) go too: the next build reads every row
        run_sql(con, "create_validated_rows")
        run_sql(con, "forget_validated_rows")
        after = _rows_in_scope(con, scope)
        pseudonyms = sorted({*client_ids, *local_client_ids, *found})
        objections = run_sql(con, "select_forgotten_objections", {"provider": scope, "pseudonyms": pseudonyms})
        run_sql(con, "delete_forgotten_objections", {"provider": scope, "pseudonyms": pseudonyms})
        # Trajectory and client-number pseudonyms are scoped to their provider by construction;
        # a BSN's client pseudonym reaches every provider; an objection stays with its provider.
        tokens = _erasure_tokens(
            ring,
            [(p, None) for p in pseudonyms]
            + [(p, row_provider) for row_provider, *ids in objections for p in ids if p is not None],
        )
        _insert_tokens(con, tokens)
        erasure = Erasure(
            removed={table: before[table] - after[table] for table in ERASED_TABLES},
            left=_client_rows(con, scope, pseudonyms, (*ERASED_TABLES, *OBJECTION_TABLES)),
            unverifiable=_rows_under_other_keys(con, scope, computable_key_ids),
            objections_replaced=len(objections),
            tokens=len(tokens),
        )
        execute(
            con,
            "INSERT INTO privacy.erasures VALUES (?, ?, ?, ?, ?, ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), provider, requested_by,
             erasure.trajectories, erasure.measurements, erasure.quarantine_rows],
        )
    return erasure


def _insert_tokens(con: duckdb.DuckDBPyConnection, tokens: Sequence[tuple[str, str | None]]) -> None:
    """Tokens already on the list (the same client erased twice) are not added again."""
    if not tokens:
        return
    frame = pd.DataFrame(tokens, columns=["token", "provider"], dtype="object")
    frame["recorded_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.register("new_erasure_tokens", frame)
    try:
        run_sql(con, "insert_erasure_tokens")
    finally:
        con.unregister("new_erasure_tokens")


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
        _rewrap_erasure_tokens(con, new_key)
        record_key_ids(con, (*ring.key_ids, new_key.key_id))
        execute(
            con,
            "INSERT INTO privacy.key_rotations VALUES (?, ?, ?, ?)",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), ring.key_id, new_key.key_id, len(olds)],
        )
    return len(olds)


def _rewrap_erasure_tokens(con: duckdb.DuckDBPyConnection, new_key: PseudonymKey) -> None:
    """Inside the rotation's transaction: every erasure token wrapped in the new key, so the list
    keeps matching (pseudonymise/pseudonyms.py) and an old key alone no longer tests it."""
    tokens = [token for (token,) in execute(con, "SELECT DISTINCT token FROM privacy.erasure_tokens")]
    if not tokens:
        return
    mapping = pd.DataFrame({"old": tokens, "new": [rewrap_erasure_token(new_key, t) for t in tokens]})
    con.register("rewrap_mapping", mapping)
    try:
        execute(
            con,
            "UPDATE privacy.erasure_tokens AS t SET token = m.new FROM rewrap_mapping AS m WHERE t.token = m.old",
        )
    finally:
        con.unregister("rewrap_mapping")

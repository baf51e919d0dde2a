"""Which keys the warehouse's pseudonyms were made with, recorded in the warehouse itself.

A pseudonym is keyed by every key of the ring in turn (pseudonymise/keys.py `KeyRing`), so a
warehouse can only be read and extended by a key file holding exactly the keys, in order, that
its stored pseudonyms went through. Without a record, a key replaced by `databank keygen` was
accepted silently: the next month stored every client a second time under the new key, and an
erasure found only one of the two. The record (`privacy.pseudonym_keys`) is the authority:

- a warehouse without pseudonyms accepts any key ring and records its key ids;
- otherwise every recorded key id must be in the ring, or the command stops before it changes
  anything (`KeyRingMismatchError`);
- rotation appends the new key id in the transaction that re-keys the pseudonyms, so the record
  and the data it describes never disagree after a crash;
- a warehouse made before the record existed gets one derived from its rotations and the key ids
  in its pseudonyms' labels, once, when first checked.

The ring returned is the ring to compute pseudonyms with: the recorded keys in recorded order.
A key file may hold more keys than the warehouse used (a key added by a rotation that this
warehouse never went through, e.g. a warehouse restored from an older backup); those are not
used, so new pseudonyms still match the stored ones.

An interrupted rotation leaves the extended ring (old keys + new) in `<key file>.next`. Until
`databank rotate-key` runs again every other command refuses (`RotationPendingError`); it then
finishes the rotation if the record already names the new key (the re-keying committed) and
undoes it otherwise. Either way the key file afterwards holds every recorded key, and a key file
that holds both old and new keys serves the warehouse in either state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pseudonymise.keys import KeyRing, KeyRingMismatchError, MixedKeysError, load_key_ring
from warehouse.connection import open_warehouse, transaction
from warehouse.home import DatabankHome
from warehouse.sql import execute, run_sql

# Every column that holds a pseudonym, so rotation, the key record and erasure miss none. A test
# compares this with the warehouse's columns named *_id that hold labelled pseudonyms.
PSEUDONYM_COLUMNS: dict[str, tuple[str, ...]] = {
    "staging.trajectories": ("trajectory_id", "client_id", "local_client_id"),
    "staging.measurements": ("trajectory_id", "local_client_id"),
    "staging.quarantine": ("trajectory_id", "local_client_id"),
    "intake.trajectories": ("trajectory_id", "client_id", "local_client_id"),
    "intake.measurements": ("trajectory_id", "local_client_id"),
    "intake.quarantine": ("trajectory_id", "local_client_id"),
    "intake.objections": ("client_id", "local_client_id"),
    "core.trajectories": ("trajectory_id", "client_id", "local_client_id"),
    "core.measurements": ("trajectory_id",),
    "privacy.objections": ("client_id", "local_client_id"),
}


# Erasure tokens carry a key id as well (their root key) but are no pseudonyms: rotation wraps
# them rather than keying them again (warehouse/privacy.py). A warehouse that holds only tokens
# (every client erased) still needs its key file: under another key, erased clients come back.
ERASURE_TOKEN_COLUMNS: dict[str, tuple[str, ...]] = {"privacy.erasure_tokens": ("token",)}


def label_key_id(column: str) -> str:
    """SQL for the key id in a pseudonym's label (`<type>1-<key id>-<digest>`): the outermost
    key, the last one of the ring that made it."""
    return f"split_part({column}, '-', 2)"


def recorded_key_ids(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The key ids the stored pseudonyms were made with, oldest first; empty if none recorded."""
    return tuple(key_id for (key_id,) in run_sql(con, "select_pseudonym_keys"))


def record_key_ids(con: duckdb.DuckDBPyConnection, key_ids: tuple[str, ...]) -> None:
    """Replace the record. Runs inside the caller's transaction: the one that changes the
    pseudonyms it describes (rotation), or the check that finds none stored yet."""
    run_sql(
        con,
        "replace_pseudonym_keys",
        {"key_ids": list(key_ids), "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
    )


def holds_pseudonyms(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any pseudonym or erasure token is stored anywhere (one probe per table, not a
    scan)."""
    probes = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE "
        + " OR ".join(f"{column} IS NOT NULL" for column in columns)
        + ")"
        for table, columns in {**PSEUDONYM_COLUMNS, **ERASURE_TOKEN_COLUMNS}.items()
    )
    return bool(execute(con, f"SELECT {probes}")[0][0])


def stored_label_key_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every key id found in a stored pseudonym's label: a full scan, done only for a warehouse
    from before the record."""
    union = " UNION ".join(
        f"SELECT DISTINCT {label_key_id(column)} AS key_id FROM {table} WHERE {column} IS NOT NULL"
        for table, columns in PSEUDONYM_COLUMNS.items()
        for column in columns
    )
    return {key_id for (key_id,) in execute(con, union)}


def derive_key_record(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """For a warehouse made before the record: its rotations give the chain (each from the
    previous one's target), and every stored label must name the chain's last key; without
    rotations the labels must name one key. Anything else is the incident itself."""
    labels = stored_label_key_ids(con)
    rotations = execute(
        con, "SELECT from_key_id, to_key_id FROM privacy.key_rotations ORDER BY rotated_at"
    )
    if rotations:
        chain = (rotations[0][0], *(to for _, to in rotations))
        linked = all(rotations[i][0] == rotations[i - 1][1] for i in range(1, len(rotations)))
        if linked and labels <= {chain[-1]}:
            return chain
        raise MixedKeysError(sorted(labels | set(chain)))
    if len(labels) == 1:
        return tuple(labels)
    raise MixedKeysError(sorted(labels))


def ensure_key_ring_covers_warehouse(
    con: duckdb.DuckDBPyConnection, ring: KeyRing, key_file: Path | None = None
) -> KeyRing:
    """The ring to compute this warehouse's pseudonyms with, or `KeyRingMismatchError` (a
    `KeyFileError`: commands stop with its message) if the key file lacks a key the stored
    pseudonyms were made with. Every command that reads or writes pseudonyms calls this before
    it changes anything; on a mismatch nothing is written (the transaction is rolled back)."""
    with transaction(con):
        if not holds_pseudonyms(con):  # a fresh (or emptied) warehouse takes this key file's keys
            if recorded_key_ids(con) != ring.key_ids:
                record_key_ids(con, ring.key_ids)
            return ring
        recorded = recorded_key_ids(con)
        if not recorded:  # made before the record existed: derive it once
            recorded = derive_key_record(con)
            record_key_ids(con, recorded)
        by_id = {key.key_id: key for key in ring.keys}
        missing = [key_id for key_id in recorded if key_id not in by_id]
        if missing:
            raise KeyRingMismatchError(missing, recorded, ring.key_ids, key_file)
    return KeyRing(tuple(by_id[key_id] for key_id in recorded))


def ensure_home_key_ring(home: DatabankHome) -> KeyRing:
    """The home's key file, checked against its warehouse (`databank run` calls this first)."""
    ring = load_key_ring(home.key_file)  # no key file: says how to create one
    with open_warehouse(home.warehouse) as con:
        return ensure_key_ring_covers_warehouse(con, ring, home.key_file)

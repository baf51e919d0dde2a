"""The warehouse's record of the keys its pseudonyms were made with (warehouse/pseudonym_keys.py),
on real DuckDB files with real keys."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pseudonymise.keys import KeyRing, KeyRingMismatchError, MixedKeysError, new_key
from pseudonymise.pseudonyms import Pseudonymiser
from warehouse import privacy
from warehouse.connection import open_warehouse
from warehouse.privacy import rekey_warehouse
from warehouse.pseudonym_keys import (
    ensure_key_ring_covers_warehouse,
    holds_pseudonyms,
    recorded_key_ids,
)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_warehouse(tmp_path / "databank.duckdb") as connection:
        yield connection


def store_client(con: duckdb.DuckDBPyConnection, ring: KeyRing, number: int = 1) -> str:
    """One staged trajectory keyed by `ring`, as the read and staging steps would store it."""
    p = Pseudonymiser(ring)
    client = p.client("de-boog", f"C{number}", None)
    con.execute(
        "INSERT INTO staging.trajectories (delivery_id, provider, month, row_number, trajectory_id, "
        "client_id, local_client_id) VALUES ('d', 'de-boog', '2025-03', ?, ?, ?, ?)",
        [number, p.trajectory("de-boog", f"T{number}"), client, p.local_client("de-boog", f"C{number}")],
    )
    return client


def test_a_fresh_warehouse_accepts_any_key_ring_and_records_it(con: duckdb.DuckDBPyConnection) -> None:
    first, second = KeyRing((new_key(),)), KeyRing((new_key(),))
    assert not holds_pseudonyms(con) and recorded_key_ids(con) == ()
    assert ensure_key_ring_covers_warehouse(con, first) == first
    assert recorded_key_ids(con) == first.key_ids
    # Still no pseudonym stored (e.g. a crash before the first intake): any key is still fine.
    assert ensure_key_ring_covers_warehouse(con, second) == second
    assert recorded_key_ids(con) == second.key_ids


def test_a_key_file_lacking_the_recorded_key_is_refused_without_key_material(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    old, replacement = KeyRing((new_key(),)), KeyRing((new_key(),))
    ensure_key_ring_covers_warehouse(con, old)
    store_client(con, old)
    with pytest.raises(KeyRingMismatchError) as caught:
        ensure_key_ring_covers_warehouse(con, replacement, tmp_path / "pseudonym.key")
    message = str(caught.value)
    assert message.startswith(f"the warehouse's pseudonyms were made with key {old.key_id}, which the key file ")
    assert f"lacks (it holds key {replacement.key_id})" in message
    for key in (*old.keys, *replacement.keys):
        assert base64.b64encode(key.material).decode() not in message and key.material.hex() not in message
    assert recorded_key_ids(con) == old.key_ids


def test_the_recorded_keys_are_used_in_recorded_order_even_if_the_file_holds_more(
    con: duckdb.DuckDBPyConnection,
) -> None:
    a, b, c = new_key(), new_key(), new_key()
    ensure_key_ring_covers_warehouse(con, KeyRing((a, c)))
    store_client(con, KeyRing((a, c)))
    assert ensure_key_ring_covers_warehouse(con, KeyRing((a, b, c))).key_ids == (a.key_id, c.key_id)
    with pytest.raises(KeyRingMismatchError) as caught:
        ensure_key_ring_covers_warehouse(con, KeyRing((a, b)))
    assert caught.value.missing == (c.key_id,)
    assert f"(made with keys {a.key_id}, {c.key_id}, oldest first)" in str(caught.value)


def test_rotation_records_the_new_key_in_its_own_transaction(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring, key = KeyRing((new_key(),)), new_key()
    ensure_key_ring_covers_warehouse(con, ring)
    before = store_client(con, ring)
    real = privacy.execute

    def fail_at_the_audit(connection: duckdb.DuckDBPyConnection, text: str, *args: object) -> list:
        if "key_rotations" in text:
            raise RuntimeError("killed")
        return real(connection, text, *args)

    monkeypatch.setattr(privacy, "execute", fail_at_the_audit)
    with pytest.raises(RuntimeError):
        rekey_warehouse(con, ring, key)
    # Rolled back together: the data and the record both still say the old key.
    assert con.execute("SELECT client_id FROM staging.trajectories").fetchall() == [(before,)]
    assert recorded_key_ids(con) == ring.key_ids
    monkeypatch.setattr(privacy, "execute", real)
    rekey_warehouse(con, ring, key)
    assert recorded_key_ids(con) == (ring.key_id, key.key_id)
    assert con.execute("SELECT client_id FROM staging.trajectories").fetchall() == [
        (Pseudonymiser(ring.with_key(key)).client("de-boog", "C1", None),)
    ]


def forget_the_record(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM privacy.pseudonym_keys")  # as a warehouse from before the record


def test_a_warehouse_from_before_the_record_gets_it_from_labels_and_rotations(
    con: duckdb.DuckDBPyConnection,
) -> None:
    ring, key = KeyRing((new_key(),)), new_key()
    store_client(con, ring)
    forget_the_record(con)
    assert ensure_key_ring_covers_warehouse(con, ring) == ring
    assert recorded_key_ids(con) == ring.key_ids
    rekey_warehouse(con, ring, key)
    forget_the_record(con)
    assert ensure_key_ring_covers_warehouse(con, ring.with_key(key)).key_ids == (ring.key_id, key.key_id)
    assert recorded_key_ids(con) == (ring.key_id, key.key_id)


def test_a_warehouse_already_holding_clients_under_two_unlinked_keys_is_refused(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The incident itself, in a warehouse from before the record: nothing can tell which key is
    right, so nothing runs until a person restores a consistent backup."""
    first, second = KeyRing((new_key(),)), KeyRing((new_key(),))
    store_client(con, first, 1)
    store_client(con, second, 2)
    forget_the_record(con)
    with pytest.raises(MixedKeysError) as caught:
        ensure_key_ring_covers_warehouse(con, second)
    assert first.key_id in str(caught.value) and second.key_id in str(caught.value)
    assert recorded_key_ids(con) == ()

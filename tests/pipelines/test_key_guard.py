"""The warehouse's key record end to end (issue 11, keys): a key replaced by `databank keygen`
stops every command that reads or writes pseudonyms before it changes anything, restoring the
key file makes them work again, a ring in the middle of a rotation works, and `forget` reports
exactly what it removed and fails when it cannot show that nothing of the client is left."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.deliveries import pseudonymised_delivery, read_deliveries_into_intake
from assets.partitions import delivery_partition_key, provider_partitions
from assets.resources import HomeResource, KeyResource
from pipelines.cli import main
from pseudonymise.keys import KeyRing, load_key_ring, new_key, pending_ring_path, write_key_ring
from pseudonymise.pseudonyms import Pseudonymiser
from schemas.config import config_fingerprint
from tests.builders import DeliveryWriter, measurement, trajectory
from tests.builders import database_rows as rows
from warehouse.connection import open_warehouse
from warehouse.home import DatabankHome
from warehouse.load import stage_waiting_intake
from warehouse.privacy import ERASED_TABLES, PSEUDONYM_COLUMNS, rekey_warehouse

TODAY = dt.date(2026, 11, 25)
BSN = "725763863"


def warehouse_contents(database: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: "nothing changed" compares this before and after."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY ALL"
        ).fetchall()
        return {
            f"{schema}.{table}": sorted(
                con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall(), key=repr
            )
            for schema, table in tables
        }
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ended(n: int, **overrides: str) -> dict[str, str]:
    return trajectory(n, einddatum="20-03-2025", reden_einde="1", **overrides)


CLIENTS = (1, 2, 3, 4, 5)


def deliver(home: DatabankHome, write_delivery: DeliveryWriter, month: str, **first: str) -> None:
    """Five clients; client 1 has a BSN and one measurement that goes to quarantine (1 of 11
    rows, under the reject share)."""
    write_delivery(
        home.landing, "de-boog", month,
        [ended(1, bsn=BSN, **first), *(ended(n) for n in CLIENTS[1:])],
        [m for n in CLIENTS for m in (measurement(n, "start", "05-01-2025", "70"),
                                      measurement(n, "eind", "15-03-2025", "60"))]
        + [measurement(1, "tussen", "10-02-2025", "9999")],
    )


def key_texts(home: DatabankHome) -> list[str]:
    """The key material in every form a message could leak it."""
    ring = load_key_ring(home.key_file)
    return [t for k in ring.keys for t in (base64.b64encode(k.material).decode(), k.material.hex())]


def replace_key_by_keygen(home: DatabankHome, capsys: pytest.CaptureFixture) -> bytes:
    """What was seen: the key file deleted and a new one made. Returns the original file."""
    original = home.key_file.read_bytes()
    home.key_file.unlink()
    assert main(["keygen"]) == 0
    capsys.readouterr()
    return original


def restore(home: DatabankHome, original: bytes) -> None:
    home.key_file.write_bytes(original)
    home.key_file.chmod(0o600)


def test_every_command_stops_on_a_replaced_key_and_changes_nothing_until_it_is_restored(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    old_id = load_key_ring(home.key_file).key_id
    original = replace_key_by_keygen(home, capsys)
    new_id = load_key_ring(home.key_file).key_id
    secrets_now = key_texts(home)
    deliver(home, write_delivery, "2025-04")  # work waiting: the run must not touch it
    before, published = warehouse_contents(home.warehouse), digest(home.publication)
    reports = sorted(p.relative_to(home.reports) for p in home.reports.rglob("*"))

    commands = {
        "run": ["run"],
        "forget": ["forget", "--provider", "de-boog", "--bsn", BSN],
        "rotate-key": ["rotate-key"],
        "extract": ["extract", "--scope", "onderzoek-a", "--out", str(tmp_path / "extract")],
    }
    for name, argv in commands.items():
        assert main(argv) == 2, name
        out, err = capsys.readouterr()
        assert err.startswith(f"databank {name}: the warehouse's pseudonyms were made with key {old_id}, ")
        assert f"which the key file {home.key_file} lacks (it holds key {new_id})" in err
        assert "Restore the key file from the consortium's backup" in err
        assert "run `databank rotate-key` to rotate from it" in err
        assert not any(secret in out + err for secret in secrets_now + [BSN])
        assert warehouse_contents(home.warehouse) == before, name
        assert digest(home.publication) == published, name
        assert sorted(p.relative_to(home.reports) for p in home.reports.rglob("*")) == reports, name
    assert not (tmp_path / "extract").exists()
    assert not pending_ring_path(home.key_file).exists()
    assert [k.key_id for k in load_key_ring(home.key_file).keys] == [new_id]

    restore(home, original)
    assert main(["run"]) == 0
    # April's clients are March's clients: still five, under the one key.
    assert rows(home.warehouse, "SELECT count(DISTINCT client_id) FROM core.trajectories") == [(5,)]
    assert rows(home.warehouse, "SELECT DISTINCT split_part(client_id, '-', 2) FROM staging.trajectories") == [(old_id,)]


def test_the_daemons_read_step_stops_on_a_replaced_key(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    old_id = load_key_ring(home.key_file).key_id
    replace_key_by_keygen(home, capsys)
    deliver(home, write_delivery, "2025-04")
    before = warehouse_contents(home.warehouse)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(provider_partitions.name, ["de-boog"])
        result = dg.materialize(
            [pseudonymised_delivery],
            partition_key=str(delivery_partition_key("de-boog", "2025-04")),
            resources={"home": HomeResource(root=str(home.root)), "key": KeyResource(key_file=str(home.key_file))},
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.to_string()  # the cause: our message
    assert f"made with key {old_id}" in message and "lacks" in message
    assert warehouse_contents(home.warehouse) == before


def test_a_warehouse_from_before_the_key_record_gets_one_and_is_guarded(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    key_id = load_key_ring(home.key_file).key_id
    con = duckdb.connect(str(home.warehouse))
    con.execute("DROP TABLE privacy.pseudonym_keys")  # as made by the previous version
    con.close()
    deliver(home, write_delivery, "2025-04")
    assert main(["run"]) == 0
    assert rows(home.warehouse, "SELECT position, key_id FROM privacy.pseudonym_keys") == [(1, key_id)]
    replace_key_by_keygen(home, capsys)
    assert main(["run"]) == 2
    assert f"made with key {key_id}" in capsys.readouterr().err


def test_an_interrupted_rotation_that_re_keyed_the_warehouse_is_finished(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    ring, key = load_key_ring(home.key_file), new_key()
    # Killed after the warehouse's transaction committed, before the key file was replaced: the
    # key file holds the old key, the warehouse's pseudonyms are of old + new.
    write_key_ring(pending_ring_path(home.key_file), ring.with_key(key))
    with open_warehouse(home.warehouse) as con:
        rekey_warehouse(con, ring, key)
    assert main(["run"]) == 2
    assert "interrupted" in capsys.readouterr().err
    assert main(["rotate-key"]) == 0
    assert f"Finished an interrupted rotation to key {key.key_id}" in capsys.readouterr().out
    assert load_key_ring(home.key_file).key_ids == (ring.key_id, key.key_id)
    deliver(home, write_delivery, "2025-04", team="Na rotatie")
    assert main(["run"]) == 0
    assert rows(home.warehouse, "SELECT count(*), count(DISTINCT client_id) FROM core.trajectories") == [(5, 5)]
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories WHERE team = 'Na rotatie'") == [(1,)]


def test_a_key_file_holding_old_and_new_keys_serves_a_warehouse_still_under_the_old_one(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The ring mid-rotation: the key file has both keys (a rotation happened) but this warehouse
    is from before it (restored from a backup). The record says which keys to use: the old one
    only, so new deliveries still link to the stored clients."""
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    old_id = load_key_ring(home.key_file).key_id
    shutil.copy(home.warehouse, tmp_path / "backup.duckdb")
    assert main(["rotate-key"]) == 0
    assert len(load_key_ring(home.key_file).keys) == 2
    shutil.copy(tmp_path / "backup.duckdb", home.warehouse)
    capsys.readouterr()

    deliver(home, write_delivery, "2025-04", team="Na herstel")
    assert main(["run"]) == 0
    assert rows(home.warehouse, "SELECT count(*), count(DISTINCT client_id) FROM core.trajectories") == [(5, 5)]
    assert rows(home.warehouse, "SELECT DISTINCT split_part(client_id, '-', 2) FROM staging.trajectories") == [(old_id,)]
    # Rotating from here keeps every key of the file and re-keys from the warehouse's own chain.
    assert main(["rotate-key"]) == 0
    ids = load_key_ring(home.key_file).key_ids
    assert len(ids) == 3 and f"Rotated from key {old_id} to {ids[-1]}" in capsys.readouterr().out
    assert rows(home.warehouse, "SELECT key_id FROM privacy.pseudonym_keys ORDER BY position") == [
        (old_id,), (ids[-1],)
    ]
    assert main(["run"]) == 0


def provider_rows(home: DatabankHome) -> dict[str, int]:
    return {
        table: rows(home.warehouse, f"SELECT count(*) FROM {table} WHERE provider = 'de-boog'")[0][0]
        for table in ERASED_TABLES
    }


REPORTED = re.compile(r"^  (?P<table>[a-z]+\.[a-z]+)\s+(?P<count>\d+)$", re.MULTILINE)


def test_forget_reports_per_table_exactly_the_rows_that_disappeared(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    deliver(home, write_delivery, "2025-03")
    deliver(home, write_delivery, "2025-04")
    assert main(["run"]) == 0
    before = provider_rows(home)
    capsys.readouterr()
    assert main(["forget", "--provider", "de-boog", "--bsn", BSN]) == 0
    out, err = capsys.readouterr()
    reported = {m["table"]: int(m["count"]) for m in REPORTED.finditer(out)}
    after = provider_rows(home)
    assert reported == {table: before[table] - after[table] for table in ERASED_TABLES}
    assert reported["staging.trajectories"] == 2 and reported["staging.quarantine"] == 2
    assert reported["core.trajectories"] == 1 and reported["core.measurements"] == 2
    assert re.search(rf"^  total\s+{sum(reported.values())}$", out, re.MULTILINE)
    assert BSN not in out + err and "C00001" not in out + err and not err


def read_under(home: DatabankHome, ring: KeyRing, month: str) -> None:
    """The read and staging steps run directly with a key ring of the test's choosing, bypassing
    the key check: how a warehouse came to hold one client under two keys before the record."""
    config = home.config()
    with open_warehouse(home.warehouse) as con:
        read_deliveries_into_intake(
            con, home, config, config_fingerprint(home.config_dir), home.quality_config(),
            Pseudonymiser(ring), [("de-boog", month)], TODAY,
        )
        stage_waiting_intake(con)


def test_forget_finds_the_client_under_every_key_chain_the_key_file_computes(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    assert main(["rotate-key"]) == 0
    first = KeyRing(load_key_ring(home.key_file).keys[:1])
    deliver(home, write_delivery, "2025-04")
    read_under(home, first, "2025-04")  # April's rows under the pre-rotation chain only
    capsys.readouterr()
    assert main(["forget", "--provider", "de-boog", "--bsn", BSN]) == 0
    for ring in (load_key_ring(home.key_file), first):
        pseudonymiser = Pseudonymiser(ring)
        client = {pseudonymiser.client("de-boog", "", BSN), pseudonymiser.local_client("de-boog", "C00001"),
                  pseudonymiser.trajectory("de-boog", "T00001")}
        for table, columns in PSEUDONYM_COLUMNS.items():
            for column in columns:
                assert not {v for (v,) in rows(home.warehouse, f"SELECT {column} FROM {table}")} & client


def test_forget_fails_when_rows_of_the_provider_are_under_a_key_the_file_lacks(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    """What the incident left behind: the client also stored under a key nobody has any more.
    Those rows cannot be searched for the client, so the erasure cannot be shown complete: the
    rows that are certainly the client's go, the rest is reported with its key id, exit 1."""
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    lost = KeyRing((new_key(),))
    deliver(home, write_delivery, "2025-04")
    read_under(home, lost, "2025-04")
    under_lost = rows(
        home.warehouse,
        f"SELECT count(*) FROM staging.trajectories WHERE split_part(client_id, '-', 2) = '{lost.key_id}'",
    )[0][0]
    assert under_lost == len(CLIENTS)
    capsys.readouterr()
    assert main(["forget", "--provider", "de-boog", "--bsn", BSN]) == 1
    out, err = capsys.readouterr()
    reported = {m["table"]: int(m["count"]) for m in REPORTED.finditer(out)}
    assert reported["staging.trajectories"] == 1  # March's row under the key file's key
    assert err.startswith("databank forget: the erasure is NOT complete.")
    assert (
        f"{len(CLIENTS)} rows of de-boog in staging.trajectories carry pseudonyms of key {lost.key_id}, which "
        "the key file lacks: this client may be among them" in err
    )
    assert f"Put the key(s) {lost.key_id} back in the key file" in err
    assert BSN not in out + err
    # What was certainly the client's is gone; the rows under the lost key are untouched.
    pseudonymiser = Pseudonymiser(load_key_ring(home.key_file))
    assert rows(
        home.warehouse,
        f"SELECT count(*) FROM staging.trajectories WHERE client_id = '{pseudonymiser.client('de-boog', '', BSN)}'",
    ) == [(0,)]
    assert rows(
        home.warehouse,
        f"SELECT count(*) FROM staging.trajectories WHERE split_part(client_id, '-', 2) = '{lost.key_id}'",
    ) == [(len(CLIENTS),)]
    assert len(rows(home.warehouse, "SELECT * FROM privacy.erasures")) == 1

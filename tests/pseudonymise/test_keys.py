"""The pseudonymisation key file (interfaces.md "The command line", `databank keygen`): written
owner-only, never overwritten, never defaulted, and never shown in a message or a repr."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from pseudonymise.keys import (
    KEY_BYTES,
    KEY_FILE_HEADER,
    KeyExistsError,
    MalformedKeyError,
    MissingKeyError,
    PseudonymKey,
    generate_key_file,
    key_from_material,
    load_key_file,
    throwaway_key,
)

MATERIAL = bytes(range(7, 7 + KEY_BYTES))


def write_key_text(path: Path, body: str) -> Path:
    path.write_text(KEY_FILE_HEADER + body, encoding="ascii")
    return path


def test_generate_key_file_writes_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "pseudonym.key"
    key = generate_key_file(path)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert isinstance(key, PseudonymKey)
    assert len(key.material) == KEY_BYTES


def test_generate_key_file_round_trips_through_load(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.key"
    written = generate_key_file(path)
    loaded = load_key_file(path)
    assert loaded.material == written.material
    assert loaded.key_id == written.key_id


def test_generate_key_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.key"
    generate_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyExistsError) as caught:
        generate_key_file(path)
    assert path.read_bytes() == before
    assert str(path) in str(caught.value)


def test_generate_key_file_refuses_to_overwrite_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.key"
    path.write_text("not mine\n", encoding="ascii")
    with pytest.raises(KeyExistsError):
        generate_key_file(path)
    assert path.read_text(encoding="ascii") == "not mine\n"


def test_generate_key_file_gives_a_new_key_each_time(tmp_path: Path) -> None:
    first = generate_key_file(tmp_path / "a.key")
    second = generate_key_file(tmp_path / "b.key")
    assert first.material != second.material
    assert first.key_id != second.key_id


def test_load_key_file_missing_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "pseudonym.key"
    with pytest.raises(MissingKeyError) as caught:
        load_key_file(path)
    message = str(caught.value)
    assert "databank keygen" in message
    assert str(path) in message


def test_load_key_file_missing_message_has_no_key_material(tmp_path: Path) -> None:
    # A key lying next to the missing path must not be read into the message either.
    other = generate_key_file(tmp_path / "other.key")
    with pytest.raises(MissingKeyError) as caught:
        load_key_file(tmp_path / "pseudonym.key")
    message = str(caught.value)
    assert base64.b64encode(other.material).decode() not in message
    assert other.material.hex() not in message


def test_load_key_file_directory_is_missing(tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError):
        load_key_file(tmp_path)


def test_load_key_file_reads_a_well_formed_file(tmp_path: Path) -> None:
    path = write_key_text(tmp_path / "k", base64.b64encode(MATERIAL).decode() + "\n")
    path.chmod(0o600)
    key = load_key_file(path)
    assert key.material == MATERIAL
    assert key.key_id == key_from_material(MATERIAL).key_id


@pytest.mark.parametrize(
    "body",
    [
        "",  # header only
        "\n\n",
        "!!!not-base64!!!\n",
        base64.b64encode(MATERIAL[:-1]).decode() + "\n",  # 31 bytes
        base64.b64encode(MATERIAL + b"x").decode() + "\n",  # 33 bytes
        base64.b64encode(MATERIAL).decode() + "\n" + base64.b64encode(MATERIAL).decode() + "\n",
        base64.b64encode(MATERIAL).decode()[:-2] + "é\n",
    ],
    ids=["empty", "blank", "not-base64", "short", "long", "two-keys", "non-ascii"],
)
def test_load_key_file_malformed_raises(tmp_path: Path, body: str) -> None:
    path = tmp_path / "k"
    path.write_bytes((KEY_FILE_HEADER + body).encode("utf-8"))
    with pytest.raises(MalformedKeyError) as caught:
        load_key_file(path)
    message = str(caught.value)
    for line in body.splitlines():
        if line.strip():
            assert line.strip() not in message


def test_load_key_file_binary_garbage_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(MATERIAL)
    with pytest.raises(MalformedKeyError):
        load_key_file(path)


def test_key_repr_does_not_reveal_material() -> None:
    key = key_from_material(MATERIAL)
    for text in (repr(key), str(key), f"{key}"):
        assert key.key_id in text
        assert repr(MATERIAL) not in text
        assert MATERIAL.hex() not in text
        assert base64.b64encode(MATERIAL).decode() not in text


def test_key_from_material_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        key_from_material(MATERIAL[:16])


def test_key_id_is_short_and_not_the_material() -> None:
    key = key_from_material(MATERIAL)
    assert len(key.key_id) == 8
    assert all(c in "0123456789abcdef" for c in key.key_id)
    assert key.key_id not in MATERIAL.hex()


def test_subkey_differs_per_purpose() -> None:
    key = key_from_material(MATERIAL)
    client = key.subkey("client")
    trajectory = key.subkey("trajectory")
    assert client != trajectory
    assert len(client) == len(trajectory) == KEY_BYTES
    assert MATERIAL not in (client, trajectory)


def test_subkey_is_stable_for_the_same_material() -> None:
    first = key_from_material(MATERIAL)
    second = key_from_material(bytes(MATERIAL))
    assert first.subkey("client") == first.subkey("client")
    assert first.subkey("client") == second.subkey("client")
    other = key_from_material(bytes(reversed(MATERIAL)))
    assert other.subkey("client") != first.subkey("client")


def test_throwaway_key_differs_each_call() -> None:
    keys = [throwaway_key() for _ in range(5)]
    assert len({k.material for k in keys}) == 5
    assert len({k.key_id for k in keys}) == 5
    assert all(len(k.material) == KEY_BYTES for k in keys)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_load_key_refuses_a_key_file_readable_by_others(tmp_path: Path, mode: int) -> None:
    from pseudonymise.keys import KeyPermissionError, load_key_ring

    path = tmp_path / "secrets" / "pseudonym.key"
    generate_key_file(path)
    path.chmod(mode)
    for load in (load_key_file, load_key_ring):
        with pytest.raises(KeyPermissionError) as error:
            load(path)
        assert "chmod 600" in str(error.value)


def test_key_ring_round_trips_and_keeps_order(tmp_path: Path) -> None:
    from pseudonymise.keys import load_key_ring, new_key, write_key_ring

    path = tmp_path / "pseudonym.key"
    first = generate_key_file(path)
    second = new_key()
    write_key_ring(path, load_key_ring(path).with_key(second))
    ring = load_key_ring(path)
    assert [k.key_id for k in ring.keys] == [first.key_id, second.key_id]
    assert ring.key_id == second.key_id
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
def test_generate_key_file_makes_its_folder_owner_only_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "home" / "secrets" / "pseudonym.key"
    previous = os.umask(umask)
    try:
        generate_key_file(path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    load_key_file(path)  # and it is accepted


@pytest.mark.parametrize("folder_mode", [0o777, 0o755, 0o750, 0o711, 0o701])
def test_a_key_folder_others_can_enter_is_refused_with_the_chmod_to_run(tmp_path: Path, folder_mode: int) -> None:
    from pseudonymise.keys import KeyPermissionError, load_key_ring

    path = tmp_path / "secrets" / "pseudonym.key"
    generate_key_file(path)
    path.parent.chmod(folder_mode)
    for load in (load_key_file, load_key_ring):
        with pytest.raises(KeyPermissionError) as error:
            load(path)
        assert f"`chmod 700 {path.parent}`" in str(error.value)
    # keygen into such a folder is refused too, before a key is written
    with pytest.raises(KeyPermissionError):
        generate_key_file(path.with_name("other.key"))
    assert not path.with_name("other.key").exists()
    path.parent.chmod(0o700)
    load_key_ring(path)


def test_the_refusal_names_both_chmods_when_folder_and_file_are_open(tmp_path: Path) -> None:
    from pseudonymise.keys import KeyPermissionError, load_key_ring

    path = tmp_path / "my secrets" / "pseudonym.key"
    generate_key_file(path)
    path.chmod(0o644)
    path.parent.chmod(0o777)
    with pytest.raises(KeyPermissionError) as error:
        load_key_ring(path)
    assert f"`chmod 700 '{path.parent}' && chmod 600 '{path}'`" in str(error.value)
    assert "mode 777" in str(error.value) and "mode 644" in str(error.value)

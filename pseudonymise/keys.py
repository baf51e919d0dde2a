"""The pseudonymisation key: 32 random bytes in a file outside the repository, read only when a
command needs it, never defaulted, never logged. Purpose subkeys are derived with HKDF so one
leaked subkey does not expose the others and rotation can re-key one purpose at a time."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
KEY_FOLDER_MODE, KEY_FILE_MODE = 0o700, 0o600  # the owner's only; anything more is refused
KEY_FILE_HEADER = "# Lerende Databank pseudonymisation key. Secret: never copy, mail or commit.\n"
HKDF_SALT = b"lerende-databank/pseudonym/v1"


class KeyFileError(Exception):
    """Base for key problems; messages say what to do and never contain key material."""


class MissingKeyError(KeyFileError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"No pseudonymisation key at {path}. For a new databank, create one with "
            "`databank keygen` (or point DATABANK_KEY_FILE at the consortium's key file). If this "
            "warehouse already holds data, restore the key file from the consortium's backup "
            "instead: a new key would store every client a second time."
        )


class KeyExistsError(KeyFileError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"A key already exists at {path}; refusing to overwrite it "
            "(a new key would unlink every pseudonym already in the warehouse)."
        )


class MalformedKeyError(KeyFileError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"The key file {path} is not a valid key file (expected 32 bytes, base64).")


@dataclass(frozen=True)
class PseudonymKey:
    """A loaded key. `repr` shows the key id only, so an accidental log line leaks nothing."""

    material: bytes = field(repr=False)
    key_id: str

    def subkey(self, purpose: str) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=HKDF_SALT,
            info=f"purpose={purpose}".encode(),
        ).derive(self.material)


def key_id_of(material: bytes) -> str:
    """A short public name for a key, from a one-way derivation, to label pseudonyms."""
    return hashlib.sha256(b"lerende-databank/key-id\x00" + material).hexdigest()[:8]


def key_from_material(material: bytes) -> PseudonymKey:
    if len(material) != KEY_BYTES:
        raise ValueError("a pseudonymisation key has 32 bytes")
    return PseudonymKey(material=material, key_id=key_id_of(material))


def throwaway_key() -> PseudonymKey:
    """For `databank check` on a steward's machine, where the consortium's key never is."""
    return new_key()


def generate_key_file(path: Path) -> PseudonymKey:
    """Write a new random key readable by its owner only, in a folder that is its owner's only
    (created 0700, whatever the umask; an existing folder others can enter is refused); refuse to
    replace an existing key."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=KEY_FOLDER_MODE)
        os.chmod(folder, KEY_FOLDER_MODE)  # mkdir's mode is masked by the umask
    elif not path.exists():
        _check_folder(path)
    material = secrets.token_bytes(KEY_BYTES)
    text = KEY_FILE_HEADER + base64.b64encode(material).decode("ascii") + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyExistsError(path) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, KEY_FILE_MODE)
    return key_from_material(material)


class KeyPermissionError(KeyFileError):
    """The key's folder or file can be read or written by someone other than its owner: the key
    may have been copied or replaced. Refused, never repaired silently: the consortium must
    know, and the message says exactly which `chmod` restores owner-only access."""

    def __init__(self, path: Path, file_mode: int | None, folder_mode: int | None) -> None:
        open_to_others, commands = [], []
        if folder_mode is not None:
            open_to_others.append(f"the key's folder {path.parent} (mode {folder_mode:o})")
            commands.append(f"chmod 700 {shlex.quote(str(path.parent))}")
        if file_mode is not None:
            open_to_others.append(f"the key file {path} (mode {file_mode:o})")
            commands.append(f"chmod 600 {shlex.quote(str(path))}")
        super().__init__(
            f"{' and '.join(open_to_others)} can be read or written by others; refusing to use "
            f"the key. Restrict it with `{' && '.join(commands)}` (the key file belongs in a "
            "folder of its own) and check who may have copied or replaced the key."
        )


@dataclass(frozen=True)
class KeyRing:
    """Every key the warehouse's pseudonyms were made with, oldest first. A pseudonym is keyed by
    each in turn, so rotating adds a key and re-keys stored pseudonyms without raw identifiers."""

    keys: tuple[PseudonymKey, ...]

    @property
    def current(self) -> PseudonymKey:
        return self.keys[-1]

    @property
    def key_id(self) -> str:
        return self.current.key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key.key_id for key in self.keys)

    def with_key(self, key: PseudonymKey) -> KeyRing:
        return KeyRing((*self.keys, key))


def _key_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise MissingKeyError(path)
    return [
        line.strip()
        for line in path.read_text(encoding="ascii", errors="replace").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _decode_key(path: Path, line: str) -> PseudonymKey:
    try:
        material = base64.b64decode(line, validate=True)
    except ValueError:
        raise MalformedKeyError(path) from None
    if len(material) != KEY_BYTES:
        raise MalformedKeyError(path)
    return key_from_material(material)


def _open_to_others(path: Path) -> int | None:
    """The permission bits, when group or others have any (read, write or enter)."""
    mode = path.stat().st_mode & 0o777
    return mode if mode & 0o077 else None


def _check_folder(path: Path) -> None:
    folder_mode = _open_to_others(path.parent)
    if folder_mode is not None:
        raise KeyPermissionError(path, None, folder_mode)


def _check_permissions(path: Path) -> None:
    """Before the key is used: the file and its folder are their owner's only."""
    file_mode, folder_mode = _open_to_others(path), _open_to_others(path.parent)
    if file_mode is not None or folder_mode is not None:
        raise KeyPermissionError(path, file_mode, folder_mode)


def load_key_file(path: Path) -> PseudonymKey:
    """A file holding exactly one key (a new consortium's, before any rotation)."""
    lines = _key_lines(path)
    if len(lines) != 1:
        raise MalformedKeyError(path)
    key = _decode_key(path, lines[0])
    _check_permissions(path)
    return key


class RotationPendingError(KeyFileError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"A key rotation was interrupted ({pending_ring_path(path)} exists). Run "
            "`databank rotate-key` again: it finishes or undoes the rotation before anything else runs."
        )


class KeyRingMismatchError(KeyFileError):
    """The key file lacks a key the warehouse's pseudonyms were made with: a run would store the
    same clients under a second key (phantom trajectories) and an erasure would miss them. Names
    key ids only (public labels, also inside every pseudonym), never key material."""

    def __init__(
        self, missing: Sequence[str], recorded: Sequence[str], held: Sequence[str], path: Path | None
    ) -> None:
        self.missing = tuple(missing)
        where = f"the key file {path}" if path is not None else "the key file"
        chain = "" if len(recorded) == 1 else f" (made with keys {', '.join(recorded)}, oldest first)"
        super().__init__(
            f"the warehouse's pseudonyms were made with key {', '.join(self.missing)}{chain}, which "
            f"{where} lacks (it holds key {', '.join(held)}). Nothing was changed. Restore the key "
            "file from the consortium's backup; or, if the old key is available, put it back in "
            "the key file and run `databank rotate-key` to rotate from it to a new key. Do not "
            "make a new key with `databank keygen` for a warehouse that already holds pseudonyms: "
            "its clients would be stored a second time under the new key."
        )


class MixedKeysError(KeyFileError):
    """A warehouse from before the key record whose pseudonyms carry several keys that no
    rotation links: the incident the record prevents has already happened there."""

    def __init__(self, key_ids: Sequence[str]) -> None:
        super().__init__(
            f"the warehouse holds pseudonyms made with keys {', '.join(key_ids)} that no key "
            "rotation links, so the same clients may be stored under each (a new key was made "
            "after the first run). Nothing was changed. Restore the warehouse and the key file "
            "from a backup made before the second key was first used, then run again."
        )


def pending_ring_path(path: Path) -> Path:
    """Where rotation writes the extended ring before the warehouse is re-keyed."""
    return path.with_name(path.name + ".next")


def load_key_ring(path: Path, allow_pending: bool = False) -> KeyRing:
    if not allow_pending and pending_ring_path(path).exists():
        raise RotationPendingError(path)
    lines = _key_lines(path)
    if not lines:
        raise MalformedKeyError(path)
    ring = KeyRing(tuple(_decode_key(path, line) for line in lines))
    _check_permissions(path)
    return ring


def write_key_ring(path: Path, ring: KeyRing) -> None:
    """Written owner-only beside the target and renamed into place: never half a key file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(KEY_FILE_HEADER)
        for key in ring.keys:
            handle.write(base64.b64encode(key.material).decode("ascii") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def new_key() -> PseudonymKey:
    return key_from_material(secrets.token_bytes(KEY_BYTES))

"""Rewriting the warehouse file so that what was deleted leaves its bytes.

DuckDB keeps the bytes of deleted and updated rows in freed blocks until they happen to be
reused; CHECKPOINT alone does not clear them. After `databank forget` the raw file still held the
erased client's pseudonyms, and after `databank rotate-key` every pre-rotation pseudonym (issue
12). So after either, the whole database is copied into a fresh file (`COPY FROM DATABASE`, which
carries every schema, table, constraint and default; the warehouse has no views, macros or
sequences), the copy is synced and renamed over the warehouse, under the writers' lock.

Crash safety: a marker file (`<warehouse>.rewrite`) is written and synced before the change that
needs the rewrite commits, and removed only once the new file is in place. A process killed
anywhere in between leaves the previous file whole (the copy is a separate file until the
rename) and the marker; the next `open_warehouse` finishes the rewrite before anything else
reads or writes. The copy is taken from a cleanly closed file, so no write-ahead log belongs to
the old file when it is replaced, and the fresh file is closed (checkpointed) before it is synced:
no `.wal` keeps the values either."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from warehouse.crash import crash_point
from warehouse.sql import execute


def marker_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".rewrite")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _temporary(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.rewrite.tmp")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def owe_rewrite(warehouse: Path) -> None:
    """Record, durably, that the file must be rewritten: call before the change that frees the
    values commits, so a crash after the commit still leads to the rewrite."""
    marker = marker_path(warehouse)
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync(warehouse.parent)


def rewrite_owed(warehouse: Path) -> bool:
    return marker_path(warehouse).exists()


def rewrite_warehouse(warehouse: Path, config: dict[str, str]) -> None:
    """Copy the whole database into a fresh file and put it in place of the warehouse. The
    caller holds the writers' lock and has no connection to the file open."""
    temporary = _temporary(warehouse)
    for leftover in (temporary, _wal(temporary)):  # left by a rewrite that was killed
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse), config=config)
    try:
        (name,) = execute(con, "SELECT current_database()")[0]
        execute(con, "ATTACH ? AS rewritten", [str(temporary)])
        try:
            execute(con, f'COPY FROM DATABASE "{name}" TO rewritten')
            crash_point("rewrite:copied")
        finally:
            execute(con, "DETACH rewritten")
    finally:
        con.close()
    if _wal(warehouse).exists() or _wal(temporary).exists():
        # Never expected after a clean close; replacing the file under a log would corrupt it.
        raise RuntimeError("a write-ahead log remained after closing the warehouse; nothing was replaced")
    os.chmod(temporary, 0o600)
    _fsync(temporary)
    crash_point("rewrite:synced")
    os.replace(temporary, warehouse)
    crash_point("rewrite:replaced")
    _fsync(warehouse.parent)
    marker_path(warehouse).unlink(missing_ok=True)
    _fsync(warehouse.parent)


def finish_owed_rewrite(warehouse: Path, config: dict[str, str]) -> bool:
    """Rewrite the file if a rewrite is owed (an erasure or rotation, or a crash after one);
    returns whether it did."""
    if not rewrite_owed(warehouse):
        return False
    if not warehouse.exists():  # nothing was ever written, so nothing to clear
        marker_path(warehouse).unlink(missing_ok=True)
        return False
    rewrite_warehouse(warehouse, config)
    return True

"""Opening the warehouse. DuckDB lets one process hold a file read-write and then no other
process may open it at all, so every connection is short-lived and always closed, and writers
queue on a lock file instead of failing: a second `databank run`, the daemon's runs and
`forget`/`rotate-key` wait their turn."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.rewrite import finish_owed_rewrite
from warehouse.sql import execute, run_sql

LOCK_WAIT_SECONDS = 6 * 60 * 60  # a first load of years of months takes minutes, not hours
_held: dict[Path, list[int]] = {}  # lock path -> [fd, depth]: re-entrant within one process
_open: dict[Path, int] = {}  # warehouse -> connections open in this process (open_warehouse)


class WarehouseBusy(Exception):
    """Another process kept the warehouse for longer than we wait."""


@contextmanager
def writer_lock(
    warehouse: Path, on_wait: Callable[[str], None] | None = None, timeout: float = LOCK_WAIT_SECONDS
) -> Iterator[None]:
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    if lock_path in _held:
        _held[lock_path][1] += 1
        try:
            yield
        finally:
            _held[lock_path][1] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline, told = time.monotonic() + timeout, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait is not None:
                    on_wait("another run is writing the warehouse; waiting for it to finish")
                    told = True
                if time.monotonic() > deadline:
                    raise WarehouseBusy(f"the warehouse stayed busy for {timeout:.0f} s") from None
                time.sleep(0.2)
        _held[lock_path] = [fd, 1]
        try:
            yield
        finally:
            del _held[lock_path]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def open_warehouse(
    path: Path, on_wait: Callable[[str], None] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with the schema in place, closed even when the body raises. A
    rewrite of the file still owed by an erasure or a key rotation (one killed half-way) is
    finished first (warehouse/rewrite.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path, on_wait):
        if not _open.get(path):
            finish_owed_rewrite(path, warehouse_config())
        con = duckdb.connect(str(path), config=warehouse_config())
        _open[path] = _open.get(path, 0) + 1
        try:
            run_sql(con, "create_warehouse")
            yield con
        finally:
            _open[path] -= 1
            con.close()


def rewrite_now(path: Path) -> bool:
    """Finish the owed rewrite of the warehouse file now (after `forget` or `rotate-key` closed
    their connection): the erased or re-keyed values leave the file's bytes. Returns whether a
    rewrite was owed."""
    with writer_lock(path):
        if _open.get(path):
            raise RuntimeError("the warehouse cannot be rewritten while this process has it open")
        return finish_owed_rewrite(path, warehouse_config())


# DuckDB takes 80 % of the machine's memory by default and spills to <warehouse>.tmp/ beyond its
# limit. A first load stages millions of rows in one transaction; bounded here, the whole
# `databank run` stays under 1 GB (issue 6). Larger machines may raise it.
DEFAULT_MEMORY_LIMIT = "384MB"


def warehouse_memory_limit() -> str:
    return os.environ.get("DATABANK_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


def warehouse_config() -> dict[str, str]:
    return {"memory_limit": warehouse_memory_limit()}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: a crash or an error inside leaves the previous state."""
    execute(con, "BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        execute(con, "ROLLBACK")
        raise
    else:
        execute(con, "COMMIT")

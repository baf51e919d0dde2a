"""Opening the warehouse. DuckDB lets one process hold a file read-write and then no other
process may open it at all, so every connection is short-lived and always closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.sql import execute, run_sql


@contextmanager
def open_warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with the schema in place, closed even when the body raises."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        run_sql(con, "create_warehouse")
        yield con
    finally:
        con.close()


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

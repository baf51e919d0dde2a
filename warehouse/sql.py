"""SQL lives in named `.sql` files beside this module, loaded by name; parameters are bound,
never formatted into the text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import duckdb

Parameters = Mapping[str, Any] | Sequence[Any] | None


@cache
def load_sql(name: str) -> str:
    return (resources.files("warehouse") / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def execute(con: duckdb.DuckDBPyConnection, text: str, parameters: Parameters = None) -> list[tuple]:
    """Run SQL and drain its result: DuckDB 2.0 blocks the connection while a result is unread."""
    result = con.execute(text, parameters) if parameters is not None else con.execute(text)
    return result.fetchall()


def run_sql(con: duckdb.DuckDBPyConnection, name: str, parameters: Mapping[str, Any] | None = None) -> list[tuple]:
    """Run a named SQL file; one file may hold several statements of one intent. DuckDB prepares
    one statement at a time, so each gets the named parameters it uses. Returns the last
    statement's rows."""
    rows: list[tuple] = []
    for statement in con.extract_statements(load_sql(name)):
        query = statement.query
        used = {k: v for k, v in (parameters or {}).items() if f"${k}" in query}
        rows = execute(con, query, used or None)
    return rows

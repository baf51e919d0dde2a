"""The warehouse connection bounds DuckDB's memory, so a first load stays within a laptop's."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.connection import open_warehouse


def memory_limit(path: Path) -> str:
    with open_warehouse(path) as con:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_duckdb_memory_is_bounded_by_default_and_can_be_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABANK_DUCKDB_MEMORY_LIMIT", raising=False)
    assert memory_limit(tmp_path / "a.duckdb") == "366.2 MiB"  # 384 MB
    monkeypatch.setenv("DATABANK_DUCKDB_MEMORY_LIMIT", "2GB")
    assert memory_limit(tmp_path / "a.duckdb") == "1.8 GiB"

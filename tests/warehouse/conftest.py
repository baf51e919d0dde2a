"""The `wh` fixture: an empty warehouse in a temporary folder, with a `Staging` writer on it.

A test module says which instrument registry `wh.build()` uses by defining a `registry` fixture,
and may override `startdatum` (the start date of every trajectory a test does not date)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry
from tests.warehouse.staging import STARTDATUM, Staging
from warehouse.connection import open_warehouse


@pytest.fixture
def startdatum() -> str:
    return STARTDATUM


@pytest.fixture
def wh(tmp_path: Path, registry: InstrumentRegistry, startdatum: str) -> Iterator[Staging]:
    with open_warehouse(tmp_path / "warehouse.duckdb") as con:
        yield Staging(con, registry, startdatum)

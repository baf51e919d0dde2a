"""Shared test fixtures: a temporary databank home with a real key, and a writer for small
deliveries in the steward's format."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.builders import (
    COMMAND_DAY,
    METINGEN_HEADER,
    TRAJECTEN_HEADER,
    DeliveryWriter,
    make_home,
    render_csv,
)
from warehouse.home import DatabankHome


@pytest.fixture(autouse=True)
def command_day(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """Every `databank` command called in-process takes COMMAND_DAY as today: the command line
    reads the clock in one function (pipelines.cli.today), so no test depends on the day the
    suite runs. A test that needs another day patches it again."""
    monkeypatch.setattr("pipelines.cli.today", lambda: COMMAND_DAY)
    return COMMAND_DAY


@pytest.fixture
def write_delivery() -> DeliveryWriter:
    """Write trajecten.csv and metingen.csv for one (provider, month) under a landing folder,
    with files dated in the past so a sensor considers them stable."""

    def write(
        landing: Path,
        provider: str,
        month: str,
        trajecten: Sequence[dict[str, str]],
        metingen: Sequence[dict[str, str]] = (),
        encoding: str = "cp1252",
        delimiter: str = ";",
    ) -> Path:
        folder = landing / provider / month
        folder.mkdir(parents=True, exist_ok=True)
        for name, header, rows in (
            ("trajecten.csv", TRAJECTEN_HEADER, trajecten),
            ("metingen.csv", METINGEN_HEADER, metingen),
        ):
            path = folder / name
            path.write_bytes(render_csv(header, rows, delimiter).encode(encoding))
            os.utime(path, (1_700_000_000, 1_700_000_000))
        return folder

    return write


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DatabankHome]:
    """A fresh home with a real key and k = 1, so small test groups are not suppressed."""
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    yield make_home(tmp_path / "home", k=1)

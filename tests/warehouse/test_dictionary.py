"""The data dictionary against a real published copy: every published table and column is in it
and nothing else, each example query runs and returns rows, and a column added without being
documented stops generation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from tests.warehouse.staging import Staging
from warehouse.dictionary import (
    EXAMPLE_QUERIES,
    TABLES,
    DictionaryDrift,
    published_columns,
    write_data_dictionary,
)
from warehouse.marts import build_marts
from warehouse.publish import PUBLISHED_TABLES, publish_analyst_copy

REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


@pytest.fixture
def publication(wh: Staging, tmp_path: Path) -> Path:
    """A published copy as the pipeline makes it (reason codes on), two providers, two years."""
    for number in range(6):
        provider = "p1" if number < 3 else "p2"
        wh.pair(f"t{number}", 70 + number, 60, provider=provider, team=f"Team {number % 2}",
                interventie="MST" if number % 2 else "FFT", doelrealisatie=1, tevredenheid=8,
                einddatum="2024-11-15" if number in (0, 3) else "2025-06-15")
    build_marts(wh.con, wh.registry, 1, reason_codes=True)
    target = tmp_path / "publish" / "analyst.duckdb"
    publish_analyst_copy(wh.con, target)
    return target


def test_dictionary_lists_exactly_the_published_tables_and_columns(publication: Path) -> None:
    markdown, page = write_data_dictionary(publication)
    assert markdown == publication.with_name("data-dictionary.md") and page.suffix == ".html"
    actual = published_columns(publication)
    assert set(actual) == set(PUBLISHED_TABLES) == {t.name for t in TABLES}
    text = markdown.read_text(encoding="utf-8")
    documented = {
        table: re.findall(r"^\| `([a-z_]+)` \| ", section, flags=re.MULTILINE)
        for table, section in re.findall(r"^## `([a-z_.]+)`\n(.*?)(?=^## )", text,
                                          flags=re.MULTILINE | re.DOTALL)
    }
    assert documented == {table: [name for name, _ in columns] for table, columns in actual.items()}
    # every column carries its type from the file, a unit and a definition
    for table in TABLES:
        for column in table.columns:
            assert column.unit and column.definition
    assert "| `mean_start` | DOUBLE | points on the instrument's scale |" in text
    assert 'data-column="pct_recovered"' in page.read_text(encoding="utf-8")


def test_every_example_query_runs_on_the_published_copy_and_returns_rows(publication: Path) -> None:
    con = duckdb.connect(str(publication), read_only=True)
    try:
        for example in EXAMPLE_QUERIES:
            assert con.execute(example.sql).fetchall(), example.title
    finally:
        con.close()


def test_an_undocumented_column_stops_generation(publication: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed" / "analyst.duckdb"
    changed.parent.mkdir()
    shutil.copyfile(publication, changed)
    con = duckdb.connect(str(changed))
    try:
        con.execute("ALTER TABLE mart.outcome_scores ADD COLUMN n_new INTEGER")
        con.execute("DROP TABLE mart.build_info")
    finally:
        con.close()
    with pytest.raises(DictionaryDrift) as drift:
        write_data_dictionary(changed)
    assert "n_new" in str(drift.value) and "mart.build_info: documented, not published" in str(drift.value)
    assert not changed.with_name("data-dictionary.md").exists()

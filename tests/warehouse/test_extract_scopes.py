"""Research extracts (warehouse/extracts.py) on a hand-made core: an extract carries exactly the
columns its scope names, at their levels, and nothing else; an unconfigured scope gets the default
scope's columns under pseudonyms of its own; a scope too fine for its data is refused with
nothing written; rows are in the scope's own order; the manifest's linkage bound is the share of
trajectories unique on their values. (Demo-sized consortia: tests/pipelines/test_extracts.py.)"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pseudonymise.keys import KeyRing, key_from_material
from schemas.anonymity import AnonymityConfig
from schemas.config import parse_instrument_registry
from schemas.extracts import BUILT_IN_DEFAULT, EXTRACT_COLUMNS, ExtractScope
from tests.warehouse.staging import CLOCK, insert_row
from warehouse.connection import open_warehouse
from warehouse.extracts import (
    MEASUREMENT_COLUMNS,
    ExtractRefused,
    extract_frames,
    linkable_trajectories,
    scoped_pseudonym,
    write_extract,
)
from warehouse.marts import load_instrument_registry_table

RING = KeyRing((key_from_material(bytes(range(32))),))
REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\nCBCL,totaal,24,100,true,10,0.94,64\n"
)
# Every extract column at its first (finest) level, and the measurements as pairs.
EVERYTHING = ExtractScope("alles", tuple((key, c.levels[0]) for key, c in EXTRACT_COLUMNS.items()), "pairs")
N = 40


def tid(n: int) -> str:
    return f"TR1-00000000-{n:032x}"


def add_trajectory(con: duckdb.DuckDBPyConnection, n: int, *, start: dt.date, end: dt.date | None,
                   age: int = 12, geslacht: str = "V", provider: str = "p1") -> None:
    insert_row(con, "core", "trajectories", {
        "provider": provider, "trajectory_id": tid(n), "client_id": f"CL1-00000000-{n:032x}",
        "age_at_start": age, "geslacht": geslacht, "team": "Noord", "interventie": "MST", "hulpvorm": "ambulant",
        "start_month": start.replace(day=1), "end_month": end and end.replace(day=1),
        "start_day": CLOCK.day(tid(n), start), "end_day": end and CLOCK.day(tid(n), end),
        "reden_einde": 1 if end else None, "doelrealisatie": 2 if end else None,
        "tevredenheid": 8.0 if end else None, "pc4": None, "month": "2025-06", "delivery_id": "d",
    })


def add_measurement(con: duckdb.DuckDBPyConnection, n: int, meetmoment: str, day: dt.date, score: float) -> None:
    insert_row(con, "core", "measurements", {
        "provider": "p1", "trajectory_id": tid(n), "instrument": "CBCL", "schaal": "totaal",
        "informant": "ouder", "meetmoment": meetmoment, "measured_day": CLOCK.day(tid(n), day), "score": score,
        "month": "2025-06", "delivery_id": "d",
    })


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """N alike ended trajectories (12, V, MST, 2025), each with a start and an end score, plus
    one running trajectory of a 17-year-old boy who started in November 2024."""
    with open_warehouse(tmp_path / "w.duckdb") as connection:
        for n in range(N):
            add_trajectory(connection, n, start=dt.date(2025, 1, 10), end=dt.date(2025, 5, 20))
            add_measurement(connection, n, "start", dt.date(2025, 1, 12), 70 + n % 7)
            add_measurement(connection, n, "eind", dt.date(2025, 5, 18), 60)
        add_trajectory(connection, N, start=dt.date(2024, 11, 30), end=None, age=17, geslacht="M")
        add_measurement(connection, N, "start", dt.date(2024, 11, 20), 80)
        load_instrument_registry_table(connection, REGISTRY)
        yield connection


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / f"{name}.parquet")


@pytest.mark.parametrize("measurements", ["none", "classes", "pairs", "series"])
def test_extract_carries_exactly_the_scope_columns(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                   measurements: str) -> None:
    scope = ExtractScope("smal", (("trajectory_id", "pseudonym"), ("age_at_start", "band"), ("end", "year")),
                         measurements)
    config = AnonymityConfig(k=2, extract_share=0.5, extracts=(scope,))

    manifest = write_extract(con, RING, config, "smal", tmp_path / "out")

    trajectories = read(tmp_path / "out", "trajectories")
    assert list(trajectories.columns) == ["trajectory_id", "age_band", "end_year"]
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    if measurements == "none":
        assert files == ["manifest.json", "trajectories.parquet"]
        assert list(manifest["tables"]) == ["trajectories"]
    else:
        assert files == ["manifest.json", "measurements.parquet", "trajectories.parquet"]
        assert list(read(tmp_path / "out", "measurements").columns) == list(MEASUREMENT_COLUMNS[measurements])
    assert manifest["tables"]["trajectories"]["columns"] == ["trajectory_id", "age_band", "end_year"]
    assert manifest["columns_from"] == "config/privacy.toml [extracts.smal]"


def test_extract_levels_are_the_configured_generalisations(con: duckdb.DuckDBPyConnection) -> None:
    frames = extract_frames(con, EVERYTHING)
    t = frames.trajectories.set_index("trajectory_id")
    boy, girl = t.loc[tid(N)], t.loc[tid(0)]

    assert (girl["age_at_start"], girl["geslacht"], girl["start_month"], girl["end_month"]) == (12, "V", "2025-01", "2025-05")
    assert girl["duration_days"] == 130  # 10 January to 20 May, exactly, from the clock
    assert pd.isna(boy["end_month"]) and pd.isna(boy["duration_days"])
    coarse = extract_frames(con, ExtractScope("grof", (
        ("trajectory_id", "pseudonym"), ("age_at_start", "band"), ("geslacht", "female"), ("start", "quarter"),
        ("end", "year"), ("duration", "weeks")))).trajectories.set_index("trajectory_id")
    assert list(coarse.columns) == ["age_band", "female", "start_quarter", "end_year", "duration_weeks"]
    assert tuple(coarse.loc[tid(0)]) == ("12-17", True, "2025-Q1", "2025", 18)
    assert tuple(coarse.loc[tid(N)])[:3] == ("12-17", False, "2024-Q4")
    # pairs as the marts pair them: the boy's start score has no end, so no pair
    pairs = frames.measurements
    assert list(pairs.columns) == list(MEASUREMENT_COLUMNS["pairs"]) and len(pairs) == N
    series = extract_frames(con, ExtractScope("reeks", (("trajectory_id", "pseudonym"),), "series")).measurements
    weeks = series.set_index(["trajectory_id", "meetmoment"])["weeks_since_start"]
    assert (weeks[(tid(0), "start")], weeks[(tid(0), "eind")], weeks[(tid(N), "start")]) == (0, 18, -2)


def test_unconfigured_scope_gets_the_default_columns_under_its_own_pseudonyms(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    config = AnonymityConfig(k=2, extract_share=0.5)

    a = write_extract(con, RING, config, "wie-dan-ook", tmp_path / "a")
    b = write_extract(con, RING, config, "iemand-anders", tmp_path / "b")

    for manifest in (a, b):
        assert manifest["tables"]["trajectories"]["columns"] == list(BUILT_IN_DEFAULT.output_columns)
        assert manifest["tables"]["measurements"]["columns"] == list(MEASUREMENT_COLUMNS["classes"])
        assert manifest["columns_from"] == "config/privacy.toml [extracts.default]"
    ids_a, ids_b = (set(read(tmp_path / x, "trajectories")["trajectory_id"]) for x in ("a", "b"))
    assert not ids_a & ids_b and all(i.startswith("TR1-wie-dan-ook-") for i in ids_a)
    assert ids_a == {scoped_pseudonym(RING.current, "wie-dan-ook", tid(n)) for n in range(N + 1)}


def test_extract_below_the_share_is_refused_and_nothing_is_written(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Age in years and start month: the boy is alone (1 of 41 clients); with k = 5 the share that
    hides among at least four others is 40/41 = 97.6 %, below a required 99 %."""
    scope = ExtractScope("fijn", (("trajectory_id", "pseudonym"), ("age_at_start", "year"), ("start", "month")))
    config = AnonymityConfig(k=5, extract_share=0.99, extracts=(scope,))

    with pytest.raises(ExtractRefused) as refused:
        write_extract(con, RING, config, "fijn", tmp_path / "out")

    assert not (tmp_path / "out").exists()
    assert "97.6% of its 41 clients" in str(refused.value) and "[extracts.fijn]" in str(refused.value)
    assert (refused.value.report.below_k, refused.value.report.population) == (1, N + 1)
    manifest = write_extract(con, RING, AnonymityConfig(k=5, extract_share=0.95, extracts=(scope,)), "fijn",
                             tmp_path / "out")
    assert manifest["anonymity"]["clients_below_k"] == 1
    assert manifest["anonymity"]["share_at_least_k"] == pytest.approx(40 / 41)


def test_rows_of_two_extracts_do_not_correspond_by_position(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """In the warehouse's order, row i of two extracts would be the same trajectory: linked by
    position alone. Each extract is in the order of its own pseudonyms."""
    config = AnonymityConfig(k=2, extract_share=0.5)
    for scope in ("een", "twee"):
        write_extract(con, RING, config, scope, tmp_path / scope)
    back = {scope: {scoped_pseudonym(RING.current, scope, tid(n)): n for n in range(N + 1)} for scope in ("een", "twee")}
    een, twee = ([back[s][i] for i in read(tmp_path / s, "trajectories")["trajectory_id"]] for s in ("een", "twee"))

    assert sorted(een) == sorted(twee) == list(range(N + 1))
    assert sum(a == b for a, b in zip(een, twee, strict=True)) <= 3  # by chance about 1 of 41


def test_linkable_trajectories_are_those_unique_on_their_values(con: duckdb.DuckDBPyConnection) -> None:
    """Trajectory rows alike except the boy; with pairs, each start score 70..76 is shared by
    five or six of the forty, so only the boy (no pair, other values) is unique."""
    only_rows = extract_frames(con, ExtractScope("r", (("trajectory_id", "pseudonym"), ("geslacht", "code"))))
    with_pairs = extract_frames(con, ExtractScope("p", (("trajectory_id", "pseudonym"), ("geslacht", "code")), "pairs"))
    with_series = extract_frames(con, ExtractScope("s", (("trajectory_id", "pseudonym"),), "series"))

    assert linkable_trajectories(only_rows) == 1
    assert linkable_trajectories(with_pairs) == 1
    assert linkable_trajectories(with_series) == 1  # the boy's measurement lies before his start


def test_manifest_holds_counts_and_no_value(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    scope = ExtractScope("alles", EVERYTHING.columns, "series")
    manifest = write_extract(con, RING, AnonymityConfig(k=2, extract_share=0.5, extracts=(scope,)), "alles",
                             tmp_path / "out")

    text = (tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(text) == manifest
    for value in ("Noord", "MST", "2025-01", tid(0)[-12:], "CL1-00000000"):
        assert value not in text
    assert manifest["linkage"]["trajectories"] == N + 1
    assert 0 <= manifest["linkage"]["unique_on_values"] <= N + 1


def test_linkable_trajectories_with_no_measurement_pairs_at_all() -> None:
    """Ended trajectories without a start and end score give an empty measurements table; the
    bound used to fail on it ('Data must be 1-dimensional') and the extract stopped (found when
    a six-client home asked for one)."""
    from warehouse.extracts import ExtractFrames

    scope = BUILT_IN_DEFAULT
    trajectories = pd.DataFrame({"trajectory_id": ["a", "b", "c"], "interventie": ["MST", "MST", "FFT"]})
    measurements = pd.DataFrame({column: pd.Series(dtype="object")
                                 for column in MEASUREMENT_COLUMNS["classes"]})
    frames = ExtractFrames(scope, trajectories, measurements, pd.Series(["c1", "c2", "c3"]))
    assert linkable_trajectories(frames) == 1  # only FFT's trajectory is unique on its values

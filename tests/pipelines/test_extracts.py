"""Research extracts on a consortium of the demo's size (four providers, eight months, about 600
trajectories), through `databank run` and `databank extract`: the default scope lets at least
95 % of its clients hide among at least four others, and the joins PRIVACY.md §3 describes link
fewer rows than it says, each no more than the extract's manifest bounds. The documented shares
are read from PRIVACY.md itself, so the text and this test cannot drift apart."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from pipelines.cli import main
from pipelines.demo import consortium_toml, demo_months, settle
from pipelines.runner import run_pipeline
from pipelines.synthetic import DEFAULT_INTERVENTIONS, DEFAULT_PROVIDERS, write_synthetic_consortium
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)
REGISTER = Path(__file__).resolve().parents[2] / "PRIVACY.md"
PSEUDONYMS = ("trajectory_id", "client_id")
# A second recipient: organisations' outcomes, with their score pairs; a third: scores by intervention.
BENCHMARK = """
[extracts.benchmark]
trajectory_id = "pseudonym"
provider = "code"
end = "year"
reden_einde = "code"
doelrealisatie = "code"
tevredenheid = "value"
measurements = "pairs"

[extracts.scores]
trajectory_id = "pseudonym"
interventie = "code"
measurements = "pairs"
"""


def documented_shares() -> dict[str, float]:
    """PRIVACY.md §3's table: `id` -> the share it documents ("fewer than 15 %" -> 0.15)."""
    row = re.compile(r"^\| `(?P<id>[a-z-]+)` \|.*\| (?:fewer than|at most) (?P<pct>\d+) % \|$")
    return {m["id"]: int(m["pct"]) / 100 for line in REGISTER.read_text(encoding="utf-8").splitlines()
            if (m := row.match(line))}


def unique_matches(left: pd.DataFrame, right: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Per row of `left`: does it match exactly one row of `right` on `columns`?"""
    def key(frame: pd.DataFrame) -> pd.Series:
        """Values as text; numbers as floats first, as an attacker would compare them (Parquet
        gives a whole number with gaps back as float: 1.0 must meet 1)."""
        numbers = {c: frame[c].astype("Float64") for c in columns
                   if is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c])}
        return frame[columns].assign(**numbers).astype("string").fillna("∅").agg("|".join, axis=1)

    counts = key(right).value_counts()
    return key(left).map(counts).fillna(0).eq(1)


def shared(left: pd.DataFrame, right: pd.DataFrame) -> list[str]:
    return [c for c in left.columns if c in right.columns and c not in PSEUDONYMS]


def linked_trajectories(a: Path, b: Path) -> set[str]:
    """A's trajectories linked to B: their row, or one of their measurements, matches exactly one
    row of B's table on every non-pseudonym column the two share."""
    linked: set[str] = set()
    for table in ("trajectories", "measurements"):
        left, right = (pd.read_parquet(x / f"{table}.parquet") for x in (a, b))
        if columns := shared(left, right):
            linked |= set(left.loc[unique_matches(left, right, columns), "trajectory_id"])
    return linked


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatabankHome, Path]:
    """The demo's consortium, run once; the shipped privacy.toml plus the benchmark scope."""
    from tests.builders import make_home

    root = tmp_path_factory.mktemp("extracts")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("DATABANK_HOME", str(root / "home"))
    monkey.setenv("DAGSTER_HOME", str(root / "home" / "dagster"))
    monkey.delenv("DATABANK_KEY_FILE", raising=False)
    monkey.setattr("pipelines.cli.today", lambda: TODAY)
    home = make_home(root / "home")
    (home.config_dir / "consortium.toml").write_text(
        consortium_toml(DEFAULT_PROVIDERS, DEFAULT_INTERVENTIONS), encoding="utf-8")
    privacy = home.config_dir / "privacy.toml"
    privacy.write_text(privacy.read_text(encoding="utf-8") + BENCHMARK, encoding="utf-8")
    write_synthetic_consortium(home.landing, months=demo_months(TODAY), trajectories_per_provider=160)
    settle(home.landing)
    run_pipeline(home, today=TODAY)
    for scope, out in (("onderzoek-2027", "a"), ("benchmark", "b"), ("scores", "c")):
        assert main(["extract", "--scope", scope, "--out", str(root / out)]) == 0
    yield home, root
    monkey.undo()


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_default_scope_hides_95_percent_of_clients_among_at_least_four_others(consortium) -> None:  # noqa: ANN001
    home, root = consortium
    extract = pd.read_parquet(root / "a" / "trajectories.parquet")
    assert len(extract) > 550  # the demo's size, not a toy
    qis = ["interventie", "female", "end_year"]  # every column an acquaintance could know
    assert [c for c in extract.columns if c not in (*PSEUDONYMS, "reden_einde", "doelrealisatie", "tevredenheid")] == qis
    size = extract.groupby(qis, dropna=False)["client_id"].transform("nunique")
    below = set(extract.loc[size < 5, "client_id"])
    share = 1 - len(below) / extract["client_id"].nunique()

    assert share >= 0.95
    assert manifest(root / "a")["anonymity"]["share_at_least_k"] == pytest.approx(share)
    assert manifest(root / "a")["columns_from"] == "config/privacy.toml [extracts.default]"


@pytest.mark.slow
def test_two_extracts_of_different_scopes_link_fewer_rows_than_documented(consortium) -> None:  # noqa: ANN001
    _, root = consortium
    documented = documented_shares()
    a, b = manifest(root / "a"), manifest(root / "b")
    n_a = a["linkage"]["trajectories"]

    a_to_b, b_to_a = linked_trajectories(root / "a", root / "b"), linked_trajectories(root / "b", root / "a")

    assert a_to_b  # the attacker works: end year and outcomes do single some trajectories out
    assert len(a_to_b) / n_a < documented["extract-extract"]
    assert len(b_to_a) / b["linkage"]["trajectories"] < documented["extract-extract"]
    assert len(a_to_b) <= a["linkage"]["unique_on_values"] and len(b_to_a) <= b["linkage"]["unique_on_values"]
    assert a["linkage"]["share"] <= documented["linkage-bound"]
    # no pseudonym is shared, whichever column
    ids = {s: set(pd.read_parquet(root / s / "trajectories.parquet")["trajectory_id"]) for s in ("a", "b")}
    assert not ids["a"] & ids["b"]


@pytest.mark.slow
def test_extract_links_to_the_warehouse_fewer_rows_than_documented(consortium) -> None:  # noqa: ANN001
    """The attacker holds the warehouse (not the key): its core.trajectories, generalised to the
    extract's levels, joined on every column the extract ships."""
    home, root = consortium
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        core = con.execute(
            "SELECT interventie, geslacht = 'V' AS female, strftime(end_month, '%Y') AS end_year, reden_einde, "
            "doelrealisatie, tevredenheid FROM core.trajectories").df()
    finally:
        con.close()
    extract = pd.read_parquet(root / "a" / "trajectories.parquet")
    columns = shared(extract, core)
    assert columns == ["interventie", "female", "end_year", "reden_einde", "doelrealisatie", "tevredenheid"]

    linked = unique_matches(extract, core, columns).sum()

    assert linked > 0  # the attacker works
    assert linked / len(extract) < documented_shares()["extract-warehouse"]
    assert linked <= manifest(root / "a")["linkage"]["unique_on_values"]


@pytest.mark.slow
def test_two_scopes_with_score_pairs_link_most_measured_trajectories(consortium) -> None:  # noqa: ANN001
    """PRIVACY.md §3: exact score pairs are a fingerprint; two scopes that both ship them link
    more than 80 % of the measured trajectories, whatever else they ship."""
    _, root = consortium
    measured = set(pd.read_parquet(root / "b" / "measurements.parquet")["trajectory_id"])

    linked = linked_trajectories(root / "b", root / "c") & measured

    assert len(linked) / len(measured) > 0.8

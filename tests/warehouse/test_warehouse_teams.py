"""Teams in the warehouse follow the consortium's register (warehouse/teams.py): a warehouse made
before teams were registered holds delivered text, which the next build matches to the register
(or puts under the unregistered team), and mart.teams names every team code the marts show."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from schemas.delivery import UNREGISTERED_TEAM, UNREGISTERED_TEAM_NAME
from schemas.teams import TeamRegister
from tests.builders import database_rows, string_cells
from tests.warehouse.staging import Staging, fetch
from warehouse.marts import build_marts
from warehouse.publish import publish_analyst_copy

REGISTERS = {"p1": TeamRegister({"noord": "Team Noord", "zuid": "Team Zuid"})}


@pytest.fixture
def registry() -> InstrumentRegistry:
    return parse_instrument_registry(
        "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\nCBCL,totaal,24,100,true,10,0.94,64\n"
    )


def legacy_teams(wh: Staging) -> None:
    """Stored as delivered, as a warehouse from before registers holds them."""
    for number, (provider, team) in enumerate((
        ("p1", "Team Noord"), ("p1", "TEAM ZUID"), ("p1", "zuid"), ("p1", "Jan de Vries 123456782"),
        ("p1", "=HYPERLINK(\"http://x\",\"y\")"), ("p2", "Team Noord"),
    )):
        wh.pair(f"t{number}", 70, 60, provider=provider, team=team)


def test_a_build_matches_stored_teams_to_the_register(wh: Staging, tmp_path: Path) -> None:
    legacy_teams(wh)
    build_marts(wh.con, wh.registry, 1, reason_codes=True, teams=REGISTERS)
    stored = fetch(wh.con, "SELECT provider, team, count(*) AS n FROM staging.trajectories GROUP BY ALL ORDER BY ALL")
    assert stored == [
        {"provider": "p1", "team": UNREGISTERED_TEAM, "n": 2},
        {"provider": "p1", "team": "noord", "n": 1},
        {"provider": "p1", "team": "zuid", "n": 2},
        {"provider": "p2", "team": UNREGISTERED_TEAM, "n": 1},  # p2 has no register
    ]
    shown = fetch(wh.con, "SELECT DISTINCT organisation, team FROM mart.trajectory_indicators "
                          "WHERE level = 'team' ORDER BY ALL")
    assert [(r["organisation"], r["team"]) for r in shown] == [
        ("p1", UNREGISTERED_TEAM), ("p1", "noord"), ("p1", "zuid"), ("p2", UNREGISTERED_TEAM)
    ]
    target = tmp_path / "publish" / "analyst.duckdb"
    publish_analyst_copy(wh.con, target)
    assert database_rows(target, "SELECT * FROM mart.teams ORDER BY ALL") == [
        ("p1", UNREGISTERED_TEAM, UNREGISTERED_TEAM_NAME), ("p1", "noord", "Team Noord"),
        ("p1", "zuid", "Team Zuid"), ("p2", UNREGISTERED_TEAM, UNREGISTERED_TEAM_NAME),
    ]
    for cell in string_cells(target):
        assert "Vries" not in cell and "HYPERLINK" not in cell


def test_a_code_taken_out_of_the_register_is_no_longer_published(wh: Staging) -> None:
    wh.pair("t1", 70, 60, team="noord")
    wh.pair("t2", 70, 60, team="zuid")
    build_marts(wh.con, wh.registry, 1, teams={"p1": TeamRegister({"noord": "Team Noord"})})
    assert fetch(wh.con, "SELECT team, team_name FROM mart.teams ORDER BY ALL") == [
        {"team": UNREGISTERED_TEAM, "team_name": UNREGISTERED_TEAM_NAME},
        {"team": "noord", "team_name": "Team Noord"},
    ]


def test_without_registers_a_build_leaves_teams_as_stored(wh: Staging) -> None:
    """Tests of the metrics build without the configuration: codes name themselves."""
    wh.pair("t1", 70, 60, team="A")
    build_marts(wh.con, wh.registry, 1)
    assert fetch(wh.con, "SELECT organisation, team, team_name FROM mart.teams") == [
        {"organisation": "p1", "team": "A", "team_name": "A"}
    ]

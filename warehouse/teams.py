"""The team register in the warehouse (schemas/teams.py): stored teams follow the register in
force, and the analysts' copy names every team code (`mart.teams`), so the dashboard and analysts
show the consortium's display names and nothing a steward typed.

Why stored teams are matched again at each build: a warehouse made before teams were registered
holds the delivered text, and a code the consortium has since taken out of its register is no
longer registered text. Each build (in its transaction) re-matches every stored value that is not
a registered code of its provider, exactly as the read step matches a delivered one; a value it
cannot match goes under the provider's unregistered team. What was stored under the unregistered
team stays there: its delivered text was never kept (a re-delivery of the month sorts it)."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pandas as pd

from schemas.delivery import UNREGISTERED_TEAM, UNREGISTERED_TEAM_NAME
from schemas.teams import TeamRegister
from warehouse.sql import run_sql


def reconcile_stored_teams(con: duckdb.DuckDBPyConnection, teams: Mapping[str, TeamRegister]) -> int:
    """Re-match stored team values that are not a registered code of their provider (intake and
    staging; core is rebuilt from staging). Returns the number of distinct values changed."""
    changes = []
    for provider, stored in run_sql(con, "select_stored_teams"):
        register = teams.get(provider)
        if register is not None and stored in register.names:
            continue
        code = register.code_for(stored) if register is not None else None
        new = code if code is not None else UNREGISTERED_TEAM
        if new != stored:
            changes.append((provider, stored, new))
    if changes:
        frame = pd.DataFrame(changes, columns=["provider", "stored", "code"])
        con.register("team_changes_frame", frame)
        try:
            run_sql(con, "update_stored_teams")
        finally:
            con.unregister("team_changes_frame")
    return len(changes)


def build_team_names(con: duckdb.DuckDBPyConnection, teams: Mapping[str, TeamRegister]) -> None:
    """mart.teams: organisation, team code and display name of every team in core.trajectories
    (so of every team the marts can show). A code no longer in the register (a warehouse built
    without one) is named by its code."""
    frame = pd.DataFrame(
        [(provider, code, name) for provider, register in teams.items() for code, name in register.names.items()],
        columns=["provider", "team", "team_name"],
    ).astype("object")
    con.register("team_names_frame", frame)
    try:
        run_sql(con, "create_mart_teams",
                {"unregistered": UNREGISTERED_TEAM, "unregistered_name": UNREGISTERED_TEAM_NAME})
    finally:
        con.unregister("team_names_frame")

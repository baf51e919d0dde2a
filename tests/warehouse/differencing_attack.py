"""A reader's differencing attack on the published marts, written independently of the build.

The attacker sees exactly what an analyst sees: the rows of `mart.trajectory_indicators` and
`mart.outcome_scores` (a suppressed row shows its keys, not its count; a group without a row has
count 0). They know that the levels nest (consortium ⊃ organisation ⊃ team; consortium ⊃
intervention ⊃ organisation × intervention; organisation ⊃ organisation × intervention) and that
period 'all' is the sum of the calendar years. Every such relation is an equation
"parent = sum of children"; when exactly one of its cells is unknown, subtraction (or, for the
parent, addition) gives it. A recovered count is then used like a shown one, until nothing more
follows. A trajectory count the score table shows as `n_ended` while the trajectory table hides
it is recovered outright.

The rest-of-the-consortium tables (`mart.*_rest`, level 'rest_of_consortium', `organisation` =
the provider left out) add one more relation per organisation and period: consortium =
organisation + rest. A rest count itself is, by definition, consortium − organisation, so what
counts as a leak is a recovered count of the contract tables' groups only.

Only exact counts can be recovered this way, so builds under attack must not round.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

# (level, organisation, team, intervention, period)
Group = tuple[str, str | None, str | None, str | None, str]
# what the reader sees per group: the count, or None when the row hides it
Shown = dict[Group, int | None]

KEY = "level, organisation, team, intervention, period"
PRIME = 2**61 - 1  # the linear attack computes modulo this prime: exact, and counts are far below
Row = tuple[dict[int, int], int]  # a sparse equation: column -> coefficient, and its constant


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def published(con: duckdb.DuckDBPyConnection) -> tuple[dict[object, Shown], dict[Group, int]]:
    """What the reader sees, per table: 'trajectories' (n_ended) and one entry per measure
    (instrument, schaal, informant) of the score table (n_paired); and the trajectory counts the
    score table repeats as `n_ended`."""
    tables: dict[object, Shown] = {"trajectories": {}}
    for *group, n_ended in _rows(con, f"SELECT {KEY}, n_ended FROM mart.trajectory_indicators"):
        tables["trajectories"][tuple(group)] = n_ended
    repeated: dict[Group, int] = {}
    for *group, instrument, schaal, informant, n_ended, n_paired in _rows(
        con, f"SELECT {KEY}, instrument, schaal, informant, n_ended, n_paired FROM mart.outcome_scores"
    ):
        tables.setdefault((instrument, schaal, informant), {})[tuple(group)] = n_paired
        if n_ended is not None:
            repeated[tuple(group)] = n_ended
    has_rest = _rows(con, "SELECT count(*) FROM information_schema.tables "
                          "WHERE table_schema = 'mart' AND table_name = 'outcome_scores_rest'")[0][0]
    if has_rest:
        for *group, n_ended in _rows(con, f"SELECT {KEY}, n_ended FROM mart.trajectory_indicators_rest"):
            tables["trajectories"][tuple(group)] = n_ended
        for *group, instrument, schaal, informant, n_ended, n_paired in _rows(
            con, f"SELECT {KEY}, instrument, schaal, informant, n_ended, n_paired "
                 "FROM mart.outcome_scores_rest"
        ):
            tables.setdefault((instrument, schaal, informant), {})[tuple(group)] = n_paired
            if n_ended is not None:
                repeated[tuple(group)] = n_ended
    return tables, repeated


def equations(groups: set[Group]) -> list[tuple[Group, list[Group]]]:
    """Every "parent = sum of children" the reader can write down over the rows they see."""
    children: dict[tuple[str, Group], list[Group]] = defaultdict(list)
    for group in sorted(groups, key=repr):
        level, organisation, team, intervention, period = group
        if level == "organisation":
            children["organisations", ("consortium", None, None, None, period)].append(group)
        if level in ("organisation", "rest_of_consortium"):
            children[f"rest of {organisation}", ("consortium", None, None, None, period)].append(group)
        if level == "intervention":
            children["interventions", ("consortium", None, None, None, period)].append(group)
        if level == "team":
            children["teams", ("organisation", organisation, None, None, period)].append(group)
        if level == "organisation_intervention":
            children["by organisation", ("intervention", None, None, intervention, period)].append(group)
            children["by intervention", ("organisation", organisation, None, None, period)].append(group)
        if period != "all":
            children["years", (level, organisation, team, intervention, "all")].append(group)
    return [(parent, kids) for (_, parent), kids in children.items() if parent in groups]


def recover(shown: Shown, also_known: dict[Group, int] | None = None) -> dict[Group, int]:
    """The hidden counts that follow from the shown ones (and `also_known`, counts read
    elsewhere), by repeated subtraction."""
    known: dict[Group, int] = {g: n for g, n in shown.items() if n is not None}
    recovered = {g: n for g, n in (also_known or {}).items() if g in shown and g not in known}
    known.update(recovered)
    relations = equations(set(shown))
    progress = True
    while progress:
        progress = False
        for parent, kids in relations:
            unknown = [cell for cell in (parent, *kids) if cell not in known]
            if len(unknown) != 1:
                continue
            (cell,) = unknown
            if cell == parent:
                value = sum(known[kid] for kid in kids)
            else:
                value = known[parent] - sum(known[kid] for kid in kids if kid != cell)
            known[cell] = recovered[cell] = value
            progress = True
    return recovered


def solve(shown: Shown, also_known: dict[Group, int] | None = None) -> dict[Group, int]:
    """The hidden counts that any combination of the relations fixes: the reader solves the
    whole linear system (exactly, by Gauss-Jordan elimination modulo a large prime) and reads
    off every unknown whose row has no free variable left. Finds all that `recover` finds and
    what only follows from several relations together."""
    known: dict[Group, int] = {g: n for g, n in shown.items() if n is not None}
    found = {g: n for g, n in (also_known or {}).items() if g in shown and g not in known}
    known.update(found)
    hidden = sorted((g for g in shown if g not in known), key=repr)
    column = {g: i for i, g in enumerate(hidden)}
    rows: list[Row] = []
    for parent, kids in equations(set(shown)):
        coefficients: dict[int, int] = {}
        constant = 0
        for cell, sign in ((parent, 1), *((kid, -1) for kid in kids)):
            if cell in column:
                coefficients[column[cell]] = sign % PRIME
            else:
                constant -= sign * known[cell]
        if coefficients:
            rows.append((coefficients, constant % PRIME))
    for coefficients, constant in _reduced(rows, len(hidden)):
        if len(coefficients) == 1:
            (index,) = coefficients
            found[hidden[index]] = constant if constant <= PRIME // 2 else constant - PRIME
    return found


def _reduced(rows: list[Row], columns: int) -> list[Row]:
    """Reduced row echelon form modulo PRIME (Gauss-Jordan) of sparse rows."""
    pending = list(rows)
    done: list[Row] = []
    for col in range(columns):
        pick = next((i for i, (c, _) in enumerate(pending) if c.get(col)), None)
        if pick is None:
            continue
        coefficients, constant = pending.pop(pick)
        inverse = pow(coefficients[col], PRIME - 2, PRIME)
        pivot = ({j: v * inverse % PRIME for j, v in coefficients.items()}, constant * inverse % PRIME)
        pending = [_eliminate(row, col, pivot) for row in pending]
        done = [_eliminate(row, col, pivot) for row in done]
        done.append(pivot)
    return done


def _eliminate(row: Row, col: int, pivot: Row) -> Row:
    """`row` minus the multiple of `pivot` (whose coefficient at `col` is 1) that clears `col`."""
    coefficients, constant = row
    factor = coefficients.get(col)
    if not factor:
        return row
    result = dict(coefficients)
    for j, v in pivot[0].items():
        result[j] = (result.get(j, 0) - factor * v) % PRIME
        if not result[j]:
            del result[j]
    return result, (constant - factor * pivot[1]) % PRIME


def attack(con: duckdb.DuckDBPyConnection, linear: bool = False) -> dict[object, dict[Group, int]]:
    """Every table's recovered hidden counts (empty when the publication is safe): by repeated
    subtraction, or with `linear` by solving all relations together."""
    tables, repeated = published(con)
    method = solve if linear else recover
    found = {
        table: {
            group: n
            for group, n in method(shown, repeated if table == "trajectories" else None).items()
            if group[0] != "rest_of_consortium"
        }
        for table, shown in tables.items()
    }
    return {table: counts for table, counts in found.items() if counts}

"""A year of monthly releases of a random consortium, at warehouse level (no Dagster), for the
release attacker (release_attack.py).

A scenario is drawn from a seed: three to five providers (some join late and bring their
backlog at once, one may stop delivering), one to four teams each of varying size, two to four
interventions, end dates over 2024 and 2025, three measures. Provider p1 has a team of exactly
ten ("T10", all with a CBCL pair), and one month is the issue's case: nothing happens in the whole consortium but one
more client ending care in that team. Other months bring a few ended trajectories per provider
(sometimes exactly one in a small team), sometimes a correction (a month delivered again with a
trajectory's score, team, end date or satisfaction changed, replacing the earlier delivery), and
sometimes an erasure (warehouse.privacy.forget_client), published on its own as `databank
forget` does.

`run_scenario` writes each step's deliveries into staging (replacing a re-delivered month, as
the pipeline does), builds with warehouse.marts.build_marts as the pipeline does (secondary
suppression, reason codes, a build record), publishes each build with publish_analyst_copy to
a file of its own, and records the truth (release_truth.py) from the scenario's own model of
what is in force: never from the marts.

Every trajectory is delivered in one month only (its end month), with one start and one end
score per measure it has, a reason for ending other than 5, a goal score and a satisfaction, so
the truth needs no further rules of outcome-metrics §1-§2."""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pseudonymise.keys import KeyRing, key_from_material
from schemas.config import parse_instrument_registry
from tests.warehouse.release_truth import Measure, Registry, Trajectory, Truth, trajectory_values
from tests.warehouse.staging import CLOCK
from warehouse.builds import BuildInputs, last_build
from warehouse.connection import open_warehouse
from warehouse.marts import build_marts
from warehouse.privacy import forget_client
from warehouse.publish import publish_analyst_copy
from warehouse.sql import execute

CBCL: Measure = ("CBCL", "totaal", "ouder")
RING = KeyRing((key_from_material(bytes(range(32))),))  # the erasure list's tokens need a key
TRF: Measure = ("TRF", "totaal", "leerkracht")
YSR: Measure = ("YSR", "totaal", "jeugdige")
MEASURE_SHARE = {CBCL: 0.9, TRF: 0.45, YSR: 0.35}  # how many trajectories have each measure
TRUTH_REGISTRY: Registry = {
    ("CBCL", "totaal"): (True, 10, 0.94, 64),
    ("TRF", "totaal"): (True, 10, 0.92, 64),
    ("YSR", "totaal"): (True, 10, 0.90, 64),
}
REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    + "".join(f"{i},{s},0,100,{'true' if w else 'false'},{sd},{r},{c}\n"
              for (i, s), (w, sd, r, c) in TRUTH_REGISTRY.items())
)
BACKLOG = tuple(f"2024-{m:02d}" for m in range(1, 13))
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))
INTERVENTIONS = ("MST", "FFT", "IAG", "MDFT")
TEAM_OF_TEN = ("p1", "T10")


@dataclass
class Traject:
    """One trajectory as delivered (the scenario's model; ids are the test's own)."""

    provider: str
    tid: str
    team: str
    intervention: str
    start: dt.date
    end: dt.date
    reden: int
    doel: int
    satisfaction: int
    scores: dict[Measure, tuple[int, int]]

    def truth(self) -> Trajectory:
        atom = (self.provider, self.team, self.intervention, str(self.end.year))
        return Trajectory(atom, trajectory_values(TRUTH_REGISTRY, self.reden, self.doel,
                                                  self.satisfaction, self.scores))


@dataclass
class Step:
    """What happens before one build: deliveries (re)written in full, clients erased."""

    note: str
    write: dict[tuple[str, str], list[Traject]] = field(default_factory=dict)
    erase: list[tuple[str, str]] = field(default_factory=list)
    in_force: dict[tuple[str, str], Traject] = field(default_factory=dict)  # after the step


@dataclass
class Scenario:
    seed: int
    k: int
    steps: list[Step]
    issue_step: int  # the step whose only change is one more trajectory in the team of ten
    issue_trajectory: Traject


class _Model:
    """The deliveries in force while a scenario is drawn."""

    def __init__(self, rng: random.Random, teams: dict[str, list[str]], interventions: list[str]) -> None:
        self.rng = rng
        self.teams = teams
        self.interventions = interventions
        self.team_weight = {(p, t): rng.choice((1, 2, 4)) for p, ts in teams.items() for t in ts}
        self.main_intervention = {(p, t): rng.choice(interventions) for p, ts in teams.items() for t in ts}
        self.deliveries: dict[tuple[str, str], list[Traject]] = {}
        self.counter = 0

    def new(self, provider: str, month: str, team: str | None = None) -> Traject:
        rng = self.rng
        if team is None:
            choices = [t for t in self.teams[provider] if (provider, t) != TEAM_OF_TEN]
            team = rng.choices(choices, [self.team_weight[(provider, t)] for t in choices])[0]
        year, number = (int(part) for part in month.split("-"))
        end = dt.date(year, number, rng.randint(1, 28))
        self.counter += 1
        scores = {}
        for measure, share in MEASURE_SHARE.items():
            # everyone in the team of ten has a CBCL pair: the issue's team row of ten
            if rng.random() < share or (measure == CBCL and (provider, team) == TEAM_OF_TEN):
                start = rng.randint(45, 85)
                scores[measure] = (start, max(30, min(95, start - rng.randint(-8, 20))))
        intervention = (self.main_intervention[(provider, team)] if rng.random() < 0.7
                        else rng.choice(self.interventions))
        return Traject(
            provider, f"{provider}-{self.counter:04d}", team, intervention,
            end - dt.timedelta(days=rng.randint(60, 400)), end, rng.choice((1, 1, 1, 2, 3, 4)),
            rng.randint(1, 3), rng.randint(3, 10), scores,
        )

    def deliver(self, step: Step, provider: str, month: str, trajects: list[Traject]) -> None:
        rows = self.deliveries.setdefault((provider, month), [])
        rows += trajects
        step.write[(provider, month)] = copy.deepcopy(rows)

    def in_force(self) -> dict[tuple[str, str], Traject]:
        return {(t.provider, t.tid): copy.deepcopy(t) for rows in self.deliveries.values() for t in rows}

    def others(self) -> list[tuple[tuple[str, str], Traject]]:
        """Trajectories outside the team of ten, with their delivery."""
        return [(key, t) for key, rows in sorted(self.deliveries.items()) for t in rows
                if (t.provider, t.team) != TEAM_OF_TEN]

    def correct(self, step: Step) -> None:
        """A month delivered again with one or two trajectories changed."""
        rng = self.rng
        candidates = self.others()
        if not candidates:
            return
        key, _ = rng.choice(candidates)
        rows = self.deliveries[key]
        changed = [t for t in rows if (t.provider, t.team) != TEAM_OF_TEN]
        for t in rng.sample(changed, min(len(changed), rng.choice((1, 1, 2)))):
            kinds = ["score", "end", "satisfaction"]
            if len([x for x in self.teams[t.provider] if (t.provider, x) != TEAM_OF_TEN]) > 1:
                kinds.append("team")
            kind = rng.choice(kinds)
            if kind == "score" and t.scores:
                measure = rng.choice(sorted(t.scores))
                start, end = t.scores[measure]
                t.scores[measure] = (start, max(30, end + rng.choice((-5, -3, -1, 2, 4))))
            elif kind == "team":
                t.team = rng.choice([x for x in self.teams[t.provider]
                                     if x != t.team and (t.provider, x) != TEAM_OF_TEN])
            elif kind == "end":
                # sometimes across the turn of the year, moving it to another period
                shift = rng.choice((-40, -12, -3, 5, 20)) if t.end.month not in (1, 12) else (
                    rng.choice((-20, 20)))
                t.end = max(t.start + dt.timedelta(days=40), t.end + dt.timedelta(days=shift))
            else:
                t.satisfaction = rng.choice([s for s in range(3, 11) if s != t.satisfaction])
        step.write[key] = copy.deepcopy(rows)
        step.note += f", correction of {key[0]} {key[1]}"

    def erase(self, step: Step) -> None:
        candidates = self.others()
        if not candidates:
            return
        key, gone = self.rng.choice(candidates)
        self.deliveries[key].remove(gone)
        step.erase.append((gone.provider, gone.tid))


def scenario(seed: int) -> Scenario:
    """The seed's consortium and its steps (one release each)."""
    rng = random.Random(seed)
    k = 5 if seed % 3 == 0 else 10
    providers = [f"p{i}" for i in range(1, rng.randint(3, 5) + 1)]
    interventions = rng.sample(INTERVENTIONS, rng.randint(2, 4))
    teams = {p: [f"T{j}" for j in range(1, rng.randint(1, 4) + 1)] for p in providers}
    teams["p1"] = teams["p1"] + ["T10"]
    joins = {p: (0 if p in ("p1", "p2") else rng.choice((0, 0, 3, 6))) for p in providers}
    leaver = rng.choice([p for p in providers if p != "p1"])
    leaves = {leaver: rng.choice((7, 9, 99))}
    model = _Model(rng, teams, interventions)
    issue_step_month = rng.randint(3, 7)
    steps: list[Step] = []
    issue_step = -1
    issue: Traject | None = None
    erasures = 0
    for month_index, month in enumerate(MONTHS):
        step = Step(f"month {month}")
        if month_index == issue_step_month:
            issue = model.new("p1", month, team="T10")
            model.deliver(step, "p1", month, [issue])
            step.note += ": one more client ends care in the team of ten, nothing else"
            issue_step = len(steps)
            step.in_force = model.in_force()
            steps.append(step)
            continue
        for provider in providers:
            if joins[provider] > month_index or leaves.get(provider, 99) < month_index:
                continue
            months = [month]
            if joins[provider] == month_index:  # joining: the backlog at once
                months = [*BACKLOG, *MONTHS[: month_index + 1]]
            for delivered in months:
                new = [model.new(provider, delivered) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
                if provider == "p1" and delivered in BACKLOG[:10]:
                    new.append(model.new(provider, delivered, team="T10"))  # ten in 2024
                model.deliver(step, provider, delivered, new)
        if month_index > 0 and rng.random() < 0.35:
            if rng.random() < 0.3:  # a correction published on its own
                step.in_force = model.in_force()
                steps.append(step)
                step = Step("correction")
            model.correct(step)
        step.in_force = model.in_force()
        steps.append(step)
        if erasures < 3 and month_index + 1 != issue_step_month and rng.random() < 0.3:
            forget = Step("erasure (databank forget)")
            model.erase(forget)
            forget.in_force = model.in_force()
            steps.append(forget)
            erasures += 1
    assert issue is not None
    return Scenario(seed, k, steps, issue_step, issue)


# --- the warehouse side ---------------------------------------------------------------------------


@dataclass
class Run:
    scenario: Scenario
    releases: list[Path]
    truth: Truth
    build_ids: list[str]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Bulk insert by column name; columns the test does not name get a neutral value, and a
    name the table does not have fails (a renamed column must not silently empty the scenario)."""
    if not rows:
        return
    columns = execute(
        con,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'staging' AND table_name = ? ORDER BY ordinal_position",
        [table],
    )
    neutral = {"BOOLEAN": False, "INTEGER": 0, "BIGINT": 0, "DOUBLE": 0.0}
    unknown = set(rows[0]) - {name for name, _ in columns}
    assert not unknown, f"staging.{table} has no column {sorted(unknown)}: the scenario would lose it"
    full = [{name: row.get(name, neutral.get(kind, "")) for name, kind in columns} for row in rows]
    frame = pd.DataFrame(full, columns=[name for name, _ in columns], dtype=object)
    con.register("release_frame", frame)
    try:
        execute(con, f"INSERT INTO staging.{table} BY NAME SELECT * FROM release_frame")
    finally:
        con.unregister("release_frame")


def _replace_deliveries(
    con: duckdb.DuckDBPyConnection,
    deliveries: dict[tuple[str, str], tuple[int, list[Traject]]],
    received_at: dt.datetime,
) -> None:
    """Each (provider, month) given is delivered (again), as the pipeline's staging step does:
    the version in force becomes this one, the earlier version's rows go and its record stays
    (not current)."""
    if not deliveries:
        return
    keys = [f"{provider}|{month}" for provider, month in deliveries]
    for statement in (
        "DELETE FROM staging.trajectories WHERE list_contains(?, provider || '|' || month)",
        "DELETE FROM staging.measurements WHERE list_contains(?, provider || '|' || month)",
        "UPDATE staging.deliveries SET is_current = false WHERE list_contains(?, provider || '|' || month)",
    ):
        execute(con, statement, [keys])
    records, trajectories, measurements = [], [], []
    for (provider, month), (version, rows) in sorted(deliveries.items()):
        delivery_id = f"{provider}:{month}:v{version}"
        scored = [(t, m, s) for t in rows for m, s in sorted(t.scores.items())]
        records.append({
            "delivery_id": delivery_id, "provider": provider, "month": month, "files": "[]",
            "received_at": received_at, "status": "accepted", "is_current": True,
            "fault_codes": "", "rows_trajecten": len(rows), "rows_metingen": 2 * len(scored),
        })
        trajectories += [{
            "delivery_id": delivery_id, "provider": provider, "month": month, "row_number": number,
            "trajectory_id": t.tid, "client_id": f"c-{t.tid}", "local_client_id": f"l-{t.tid}",
            "birth_year": 2010, "age_at_start": 12, "geslacht": "X", "pc4": "1234",
            "team": t.team, "interventie": t.intervention, "hulpvorm": "ambulant",
            # dates as the read step stores them (pseudonymise/minimise.py)
            "start_month": t.start.replace(day=1), "start_day": CLOCK.day(t.tid, t.start),
            "end_month": t.end.replace(day=1), "end_day": CLOCK.day(t.tid, t.end),
            "reden_einde": t.reden,
            "doelrealisatie": t.doel, "tevredenheid": float(t.satisfaction),
        } for number, t in enumerate(rows, start=2)]
        measurements += [{
            "delivery_id": delivery_id, "provider": provider, "month": month,
            "row_number": 2 + 2 * number + offset, "trajectory_id": t.tid,
            "local_client_id": f"l-{t.tid}", "instrument": measure[0], "schaal": measure[1],
            "informant": measure[2], "meetmoment": moment, "measured_day": CLOCK.day(t.tid, day),
            "score": float(score),
        } for number, (t, measure, (start, end)) in enumerate(scored)
            for offset, (moment, day, score) in enumerate((
                ("start", t.start + dt.timedelta(days=5), start),
                ("eind", t.end - dt.timedelta(days=5), end),
            ))]
    _insert(con, "deliveries", records)
    _insert(con, "trajectories", trajectories)
    _insert(con, "measurements", measurements)


Build = Callable[[duckdb.DuckDBPyConnection, int, BuildInputs], object]


def build_without_keyword(con: duckdb.DuckDBPyConnection, k: int, record: BuildInputs) -> object:
    """As the pipeline builds today: secondary suppression, reason codes, a build record."""
    return build_marts(con, REGISTRY, k, secondary=True, reason_codes=True, record=record)


def build_with(protection: bool) -> Build:
    def build(con: duckdb.DuckDBPyConnection, k: int, record: BuildInputs) -> object:
        return build_marts(con, REGISTRY, k, secondary=True, reason_codes=True, record=record,
                           release_protection=protection)  # type: ignore[call-arg]
    return build


def run_scenario(plan: Scenario, root: Path, build: Build = build_without_keyword) -> Run:
    """Every step: write, erase, build, publish to its own file, record the truth."""
    root.mkdir(parents=True, exist_ok=True)
    releases: list[Path] = []
    build_ids: list[str] = []
    truth = Truth()
    versions: dict[tuple[str, str], int] = {}
    with open_warehouse(root / "warehouse.duckdb") as con:
        for number, step in enumerate(plan.steps):
            received_at = dt.datetime(2025, 1, 28) + dt.timedelta(days=30 * number)
            for key in step.write:
                versions[key] = versions.get(key, 0) + 1
            _replace_deliveries(con, {key: (versions[key], rows) for key, rows in step.write.items()},
                                received_at)
            for provider, tid in step.erase:
                forget_client(con, provider, "clientnummer", [f"c-{tid}"], [], (), RING)
            build(con, plan.k, BuildInputs(f"seed{plan.seed}-step{number}",
                                           [f"{p}:{m}:v{v}" for (p, m), v in sorted(versions.items())]))
            latest = last_build(con)
            assert latest is not None
            build_ids.append(latest[0])
            truth.record(latest[0], {key: t.truth() for key, t in step.in_force.items()})
            (count,) = execute(con, "SELECT count(*) FROM core.trajectories")[0]
            assert count == len(step.in_force), (number, step.note, count, len(step.in_force))
            release = root / "releases" / f"{number:02d}.duckdb"
            publish_analyst_copy(con, release)
            releases.append(release)
    return Run(plan, releases, truth, build_ids)

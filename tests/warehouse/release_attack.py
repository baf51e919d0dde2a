"""A reader who keeps every release and differences them; written without the build's code.

What the reader sees. Every analysts' copy (`publish/analyst.duckdb`) ever published, kept side
by side, and nothing else: the rows of `mart.outcome_scores`, `mart.trajectory_indicators` and
the rest-of-the-consortium tables `mart.*_rest` (a suppressed row shows its keys and nulls; a
group without a row has no trajectories in that table), `mart.build_info` (which build a copy
is) and, when the publication has them, the columns `held` and `held_from_build` (the row's
figures are those an earlier build published). No pseudonym, no core table.

What the reader knows.
- The structure. Every ended trajectory has one provider, one team of that provider, one
  intervention and one end year. So the groups are unions of "atoms" (organisation, team,
  intervention, year): consortium ⊃ organisation ⊃ team; consortium ⊃ intervention ⊃
  organisation × intervention; organisation ⊃ organisation × intervention; period 'all' = the
  years; the rest of the consortium for organisation o = consortium − o. A group absent from a
  table of a release has no trajectories there, so its atoms are empty in that build (a
  rest-of-the-consortium row is missing when its own organisation has none).
- The figures are additive. Of a score row (per measure): n = n_paired; n·mean_start and
  n·mean_end are sums of scores; pct_improved, pct_unchanged and pct_deteriorated times n are
  counts, n_clinical_start is one and pct_recovered times it another; sd_improvement with the
  mean gives the sum of squared improvements, effect_size the standard deviation of the start
  scores and so their sum of squares. A score row's n_ended (or n_paired / response_rate) is
  the trajectory count. Of a trajectory row: n = n_ended, and the shares and the mean
  satisfaction times n are counts and a sum (the reader assumes every ended trajectory has a
  reason, a goal score and a satisfaction; the test data are made so).
- Scores and satisfaction are whole numbers (T-scores, a mark from 1 to 10), so a sum known to
  within less than ±0.5 is known exactly. Published numbers may be rounded: the reader infers
  per release and column how many decimals were published and carries every figure as an
  interval, so rounding protects only when it leaves more than one whole number possible.
  Counts rounded to a multiple (`round_counts_to`; the reader sees every count is one) are
  undone where the row's means and shares are whole numbers for only one count in reach.
- A row's figures belong to one build: the release's own (mart.build_info), or for a held row
  the build it names. Figures of the same build fit together; the reader solves per build.

What the reader does, three attacks of increasing strength (each finds what the previous does):
- (a) `pairs`, the issue's own: any two published rows of the same table whose regions the
  reader can order (the same group in two builds; a group and one inside it, in the same or
  another build; the consortium and a rest-of-the-consortium row). When the counts differ by
  1 … k−1 the difference of every figure belongs to those few trajectories: "one more client
  ended care in a team of ten: n₂·mean₂ − n₁·mean₁ is that client's start score". Equal counts
  with changed sums (a correction) are claimed too.
- (b) `hierarchy`: first, per build, what the sum relations give (as
  differencing_attack.py does for counts, here for every figure): a cell that is the one unknown
  of a relation, and the union of the hidden children of a relation ("the two hidden teams
  together"). Those are compared like shown rows, within and across builds.
- (c) `linear`: per build, all relations together: every shown row is an equation over the
  atoms, known-empty atoms are zero, and any region (groups, single atoms, a group minus a group
  inside it) whose indicator lies in the row space is determined; its figures follow from the
  same combination of rows. Then as (a) over all determined regions.

What counts as a leak. A claim states figures (the count and whatever else is pinned to a whole
number) for "region R in build X", or for "region R₂ in build X₂ minus region R₁ in build X₁".
The test, which knows which trajectories with which values each build had (release_truth.py),
calls it a recovery when the trajectories that differ between the two sides (in or out of the
region, or with other values) are fewer than k, at least one, and every stated figure is exactly
right. A region of a single build counts when it holds 1 … k−1 trajectories.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

TRAJECTORIES = "trajectories"
Table = Hashable  # TRAJECTORIES, or a measure (instrument, schaal, informant)
Group = tuple[str, str | None, str | None, str | None, str]  # level, organisation, team, intervention, period
Atom = tuple[str, str | None, str, str]  # organisation, team, intervention, year
KEY = ("level", "organisation", "team", "intervention", "period")
MEASURE = ("instrument", "schaal", "informant")
ALL = "all"

SCORE_COMPONENTS = (
    "n", "sum_start", "sum_end", "n_improved", "n_unchanged", "n_deteriorated",
    "n_clinical_start", "n_recovered", "sumsq_improvement", "sumsq_start",
)  # fmt: skip
TRAJECTORY_COMPONENTS = ("n", "n_planned_end", "n_goals_achieved", "sum_satisfaction")
METHODS = ("pairs", "hierarchy", "linear")

# Relative error of a figure published at full precision (a double and the sums behind it).
FULL_PRECISION = 1e-9
MAX_DECIMALS = 6  # a column whose values all have at most this many decimals was rounded


def components(table: Table) -> tuple[str, ...]:
    return TRAJECTORY_COMPONENTS if table == TRAJECTORIES else SCORE_COMPONENTS


# --- reading the releases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One row as the reader reads it: its figures as intervals [lo, hi] per component (NaN: not
    known), and the build they belong to."""

    release: int
    origin: str
    table: Table
    group: Group
    lo: np.ndarray
    hi: np.ndarray


@dataclass
class Release:
    index: int
    build_id: str
    groups: dict[Table, set[Group]] = field(default_factory=dict)  # every row, shown or not
    observations: list[Observation] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, table: str, present: set[str]) -> list[dict]:
    if table not in present:
        return []
    cursor = con.execute(f"SELECT * FROM mart.{table}")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _half_widths(rows: list[dict], columns: Iterable[str]) -> dict[str, float | None]:
    """Per column, the half-width of its rounding (None: published at full precision), read off
    the values: the fewest decimals that every value of the column in this release has."""
    widths: dict[str, float | None] = {}
    for column in columns:
        values = [float(row[column]) for row in rows if row.get(column) is not None]
        widths[column] = None
        for decimals in range(MAX_DECIMALS + 1):
            scale = 10.0**decimals
            if all(abs(v * scale - round(v * scale)) <= 1e-9 * max(1.0, abs(v * scale)) for v in values):
                widths[column] = 0.5 / scale if values else None
                break
    return widths


def _interval(row: dict, column: str, widths: dict[str, float | None]) -> tuple[float, float]:
    value = row.get(column)
    if value is None:
        return (math.nan, math.nan)
    value = float(value)
    width = widths.get(column)
    spread = width if width is not None else FULL_PRECISION * max(1.0, abs(value))
    return (value - spread, value + spread)


def _times(n: float, interval: tuple[float, float]) -> tuple[float, float]:
    lo, hi = interval
    return (min(n * lo, n * hi), max(n * lo, n * hi))


def _square(interval: tuple[float, float]) -> tuple[float, float]:
    lo, hi = interval
    if lo <= 0 <= hi:
        return (0.0, max(lo * lo, hi * hi))
    return (min(lo * lo, hi * hi), max(lo * lo, hi * hi))


def _plus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return (a[0] + b[0], a[1] + b[1])


def _divide(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    if b[0] <= 0 <= b[1] or any(math.isnan(v) for v in (*a, *b)):
        return (math.nan, math.nan)
    quotients = [x / y for x in a for y in b]
    return (min(quotients), max(quotients))


def _exact(value: object) -> tuple[float, float]:
    return (math.nan, math.nan) if value is None else (float(value), float(value))  # type: ignore[arg-type]


COUNT_COLUMNS = ("n_ended", "n_paired", "n_clinical_start")


def _count_step(tables: Iterable[list[dict]]) -> int:
    """The multiple the release rounds its counts to (1: exact), read off the counts: their
    greatest common divisor, when there are enough of them to tell."""
    values = {int(row[c]) for rows in tables for row in rows for c in COUNT_COLUMNS if row.get(c)}
    step = 0
    for value in values:
        step = math.gcd(step, value)
    return step if step >= 2 and len(values) >= 3 else 1


def _true_count(row: dict, column: str, step: int, widths: dict[str, float | None],
                fractions: tuple[str, ...]) -> int | None:
    """The count behind a published one. Exact when counts are not rounded; else the one whole
    number that rounds to it for which every share and mean of the row (whose denominator it
    is) times it is a whole number, as integer scores make them; None when several fit."""
    published = row.get(column)
    if published is None:
        return None
    if step == 1:
        return int(published)
    intervals = [_interval(row, f, widths) for f in fractions if row.get(f) is not None]
    fits = [
        n for n in range(max(0, math.ceil(published - step / 2)), math.ceil(published + step / 2))
        if all(math.floor(n * hi + 1e-9) >= math.ceil(n * lo - 1e-9) for lo, hi in intervals)
    ]
    return fits[0] if len(fits) == 1 else None


PAIRED_FRACTIONS = ("mean_start", "mean_end", "pct_improved", "pct_unchanged", "pct_deteriorated")
ENDED_FRACTIONS = ("pct_planned_end", "pct_goals_achieved", "mean_satisfaction")


def _score_components(row: dict, widths: dict[str, float | None], step: int) -> list[tuple[float, float]]:
    n = _true_count(row, "n_paired", step, widths, PAIRED_FRACTIONS)
    nan = (math.nan, math.nan)
    if not n:
        return [nan] * len(SCORE_COMPONENTS)
    mean_start = _interval(row, "mean_start", widths)
    mean_improvement = _interval(row, "mean_improvement", widths)
    sumsq_improvement = nan
    if n == 1:
        sumsq_improvement = _square(mean_improvement)
    elif row.get("sd_improvement") is not None:
        sumsq_improvement = _plus(_times(n - 1, _square(_interval(row, "sd_improvement", widths))),
                                  _times(n, _square(mean_improvement)))
    sumsq_start = nan
    sd_start = _divide(mean_improvement, _interval(row, "effect_size", widths))
    if n >= 2 and not math.isnan(sd_start[0]):
        sumsq_start = _plus(_times(n - 1, _square(sd_start)), _times(n, _square(mean_start)))
    clinical = _true_count(row, "n_clinical_start", step, widths, ("pct_recovered",))
    if clinical is None:
        recovered = nan
    elif int(clinical) == 0:
        recovered = (0.0, 0.0)
    else:
        recovered = _times(int(clinical), _interval(row, "pct_recovered", widths))
    return [
        (n, n),
        _times(n, mean_start),
        _times(n, _interval(row, "mean_end", widths)),
        _times(n, _interval(row, "pct_improved", widths)),
        _times(n, _interval(row, "pct_unchanged", widths)),
        _times(n, _interval(row, "pct_deteriorated", widths)),
        _exact(clinical),
        recovered,
        sumsq_improvement,
        sumsq_start,
    ]


def _trajectory_components(row: dict, widths: dict[str, float | None], step: int
                           ) -> list[tuple[float, float]]:
    n = _true_count(row, "n_ended", step, widths, ENDED_FRACTIONS)
    if not n:
        return [(math.nan, math.nan)] * len(TRAJECTORY_COMPONENTS)
    return [
        (n, n),
        _times(n, _interval(row, "pct_planned_end", widths)),
        _times(n, _interval(row, "pct_goals_achieved", widths)),
        _times(n, _interval(row, "mean_satisfaction", widths)),
    ]


def _ended_from_score_row(row: dict, widths: dict[str, float | None], step: int
                          ) -> list[tuple[float, float]]:
    """The trajectory count a score row repeats: n_ended, or n_paired / response_rate (the
    rate is of the true counts, so it also undoes rounded counts)."""
    nan = (math.nan, math.nan)
    paired = _true_count(row, "n_paired", step, widths, PAIRED_FRACTIONS)
    if row.get("n_ended") is not None and step == 1:
        n = (float(row["n_ended"]),) * 2
    elif paired and row.get("response_rate"):
        n = _divide((paired, paired), _interval(row, "response_rate", widths))
    else:
        return [nan] * len(TRAJECTORY_COMPONENTS)
    return [n] + [nan] * (len(TRAJECTORY_COMPONENTS) - 1)


SCORE_FIGURES = ("mean_start", "mean_end", "mean_improvement", "sd_improvement", "effect_size",
                 "pct_improved", "pct_unchanged", "pct_deteriorated", "pct_recovered",
                 "response_rate")  # fmt: skip
TRAJECTORY_FIGURES = ("pct_planned_end", "pct_goals_achieved", "mean_satisfaction")


def read_release(path: Path, index: int) -> Release:
    """One analysts' copy as the reader reads it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        present = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mart'").fetchall()}
        build = _rows(con, "build_info", present)
        release = Release(index, str(build[0]["build_id"]) if build else f"release-{index}")
        tables = {(table, score): _rows(con, table, present) for table, score in (
            ("outcome_scores", True), ("outcome_scores_rest", True),
            ("trajectory_indicators", False), ("trajectory_indicators_rest", False))}
        step = _count_step(tables.values())
        for (_, score), rows in tables.items():
            widths = _half_widths(rows, SCORE_FIGURES if score else TRAJECTORY_FIGURES)
            for row in rows:
                _observe(release, row, score, widths, step)
    finally:
        con.close()
    return release


def _observe(release: Release, row: dict, score: bool, widths: dict[str, float | None],
             step: int) -> None:
    group: Group = tuple(row[column] for column in KEY)  # type: ignore[assignment]
    held = row.get("held_from_build") if row.get("held") else None
    origin = str(held) if held else release.build_id

    def add(table: Table, values: list[tuple[float, float]]) -> None:
        release.groups.setdefault(table, set()).add(group)
        lo = np.array([v[0] for v in values], dtype=float)
        hi = np.array([v[1] for v in values], dtype=float)
        if not np.isnan(lo).all():
            release.observations.append(Observation(release.index, origin, table, group, lo, hi))

    if score:
        add(tuple(row[column] for column in MEASURE), _score_components(row, widths, step))
        add(TRAJECTORIES, _ended_from_score_row(row, widths, step))
    else:
        add(TRAJECTORIES, _trajectory_components(row, widths, step))


def read_releases(paths: Sequence[Path]) -> list[Release]:
    return [read_release(path, index) for index, path in enumerate(paths)]


# --- regions ------------------------------------------------------------------------------------


class Universe:
    """Every atom (organisation, team, intervention, year) the releases name; a region is a set
    of atoms, held as a bit mask."""

    def __init__(self, releases: Sequence[Release]) -> None:
        teams: dict[str, set[str | None]] = defaultdict(set)
        organisations: set[str] = set()
        interventions: set[str] = set()
        years: set[str] = set()
        for release in releases:
            for groups in release.groups.values():
                for level, organisation, team, intervention, period in groups:
                    if organisation is not None:
                        organisations.add(organisation)
                    if level == "team":
                        teams[organisation].add(team)  # type: ignore[index]
                    if intervention is not None:
                        interventions.add(intervention)
                    if period != ALL:
                        years.add(period)
        self.atoms: list[Atom] = [
            (organisation, team, intervention, year)
            for organisation in sorted(organisations)
            for team in sorted(teams[organisation] or {None}, key=str)
            for intervention in sorted(interventions)
            for year in sorted(years)
        ]
        self.index = {atom: i for i, atom in enumerate(self.atoms)}
        self._regions: dict[Group, int] = {}
        self._vectors: dict[int, np.ndarray] = {}

    def groups(self) -> set[Group]:
        """Every group the atoms make up (rest rows aside): when a table of a build has no row
        for one, its atoms are empty in that build."""
        years = sorted({atom[3] for atom in self.atoms})
        found: set[Group] = set()
        for organisation, team, intervention, _ in self.atoms:
            for period in (*years, ALL):
                found |= {("consortium", None, None, None, period),
                          ("organisation", organisation, None, None, period),
                          ("team", organisation, team, None, period),
                          ("intervention", None, None, intervention, period),
                          ("organisation_intervention", organisation, None, intervention, period)}
        return found

    def region(self, group: Group) -> int:
        if group not in self._regions:
            level, organisation, team, intervention, period = group
            mask = 0
            for i, (o, t, iv, year) in enumerate(self.atoms):
                inside = (
                    (period == ALL or year == period)
                    and (level == "consortium"
                         or (level == "organisation" and o == organisation)
                         or (level == "team" and o == organisation and t == team)
                         or (level == "intervention" and iv == intervention)
                         or (level == "organisation_intervention" and o == organisation
                             and iv == intervention)
                         or (level == "rest_of_consortium" and o != organisation))
                )  # fmt: skip
                if inside:
                    mask |= 1 << i
            self._regions[group] = mask
        return self._regions[group]

    def atoms_of(self, region: int) -> list[Atom]:
        return [atom for i, atom in enumerate(self.atoms) if region >> i & 1]

    def vector(self, region: int) -> np.ndarray:
        if region not in self._vectors:
            self._vectors[region] = np.array([region >> i & 1 for i in range(len(self.atoms))], dtype=float)
        return self._vectors[region]

    def describe(self, region: int) -> str:
        for group, mask in self._regions.items():
            if mask == region:
                return "/".join(str(part) for part in group if part is not None)
        atoms = self.atoms_of(region)
        shown = ", ".join("/".join(str(p) for p in atom if p is not None) for atom in atoms[:4])
        return f"{len(atoms)} atoms [{shown}{', …' if len(atoms) > 4 else ''}]"


# --- what the reader derives ----------------------------------------------------------------------


@dataclass(frozen=True)
class Derived:
    """Figures the reader holds for one region of one build's table (intervals, NaN unknown)."""

    origin: str
    table: Table
    region: int
    lo: np.ndarray
    hi: np.ndarray
    how: str
    order: int  # the release the build was published in first: a difference is later − earlier


def _merge(a: Derived, b: Derived) -> Derived:
    """Two readings of the same region of the same build: the narrower interval of each."""
    lo = np.where(np.isnan(a.lo), b.lo, np.where(np.isnan(b.lo), a.lo, np.maximum(a.lo, b.lo)))
    hi = np.where(np.isnan(a.hi), b.hi, np.where(np.isnan(b.hi), a.hi, np.minimum(a.hi, b.hi)))
    return Derived(a.origin, a.table, a.region, lo, hi, a.how, a.order)


def shown(releases: Sequence[Release], universe: Universe) -> dict[tuple[str, Table], dict[Group, Derived]]:
    """Every published row, by the build its figures belong to, one reading per group."""
    found: dict[tuple[str, Table], dict[Group, Derived]] = defaultdict(dict)
    first: dict[str, int] = {}
    for release in releases:
        first.setdefault(release.build_id, release.index)
    for release in releases:
        for o in release.observations:
            derived = Derived(o.origin, o.table, universe.region(o.group), o.lo, o.hi,
                              f"{_name(o.group)} shown in release {o.release}",
                              first.get(o.origin, o.release))
            cells = found[(o.origin, o.table)]
            cells[o.group] = _merge(cells[o.group], derived) if o.group in cells else derived
    return found


def _name(group: Group) -> str:
    return "/".join(str(part) for part in group if part is not None)


def _groups_of_build(releases: Sequence[Release]) -> dict[str, dict[Table, set[Group]]]:
    """Per build, the groups with a row in its own release: the others have no trajectories."""
    return {release.build_id: release.groups for release in releases}


def relations(groups: set[Group]) -> list[tuple[Group, list[Group]]]:
    """Every "parent = sum of children" over the groups of one build and table."""
    children: dict[tuple[str, Group], list[Group]] = defaultdict(list)
    for group in sorted(groups, key=repr):
        level, organisation, team, intervention, period = group
        consortium: Group = ("consortium", None, None, None, period)
        if level == "organisation":
            children["organisations", consortium].append(group)
        if level in ("organisation", "rest_of_consortium"):
            children[f"rest of {organisation}", consortium].append(group)
        if level == "intervention":
            children["interventions", consortium].append(group)
        if level == "team":
            children["teams", ("organisation", organisation, None, None, period)].append(group)
        if level == "organisation_intervention":
            children["by organisation", ("intervention", None, None, intervention, period)].append(group)
            children["by intervention", ("organisation", organisation, None, None, period)].append(group)
        if period != ALL:
            children["years", (level, organisation, team, intervention, ALL)].append(group)
    return [(parent, kids) for (_, parent), kids in children.items() if parent in groups]


def _derive_pairs(releases: Sequence[Release], universe: Universe) -> list[Derived]:
    return [d for cells in shown(releases, universe).values() for d in cells.values()]


def _derive_hierarchy(releases: Sequence[Release], universe: Universe) -> list[Derived]:
    """Shown rows, then per build and table: the one unknown cell of a relation, repeatedly,
    and the union of a relation's unknown children."""
    groups_of = _groups_of_build(releases)
    derived: list[Derived] = []
    for (origin, table), cells in shown(releases, universe).items():
        known: dict[Group, Derived] = dict(cells)
        order = next(iter(cells.values())).order
        groups = set(groups_of.get(origin, {}).get(table, set())) | set(cells)
        rels = relations(groups)
        progress = True
        while progress:
            progress = False
            for parent, kids in rels:
                unknown = [cell for cell in (parent, *kids) if cell not in known]
                if len(unknown) != 1:
                    continue
                (cell,) = unknown
                if cell == parent:
                    lo = sum(known[kid].lo for kid in kids)
                    hi = sum(known[kid].hi for kid in kids)
                else:
                    others = [known[kid] for kid in kids if kid != cell]
                    lo = known[parent].lo - sum((o.hi for o in others), np.zeros_like(known[parent].lo))
                    hi = known[parent].hi - sum((o.lo for o in others), np.zeros_like(known[parent].hi))
                known[cell] = Derived(origin, table, universe.region(cell), lo, hi,
                                      f"{_name(cell)} by subtraction", order)
                progress = True
        derived += known.values()
        for parent, kids in rels:
            hidden = [kid for kid in kids if kid not in known]
            if parent not in known or len(hidden) < 2:
                continue
            region = 0
            for kid in hidden:
                region |= universe.region(kid)
            others = [known[kid] for kid in kids if kid in known]
            zero = np.zeros_like(known[parent].lo)
            derived.append(Derived(
                origin, table, region,
                known[parent].lo - sum((o.hi for o in others), zero),
                known[parent].hi - sum((o.lo for o in others), zero),
                f"{len(hidden)} hidden children of {_name(parent)}", order,
            ))
    return derived


def _candidate_regions(universe: Universe, groups: set[Group]) -> list[int]:
    """Regions worth asking about: every group, every atom, and a group minus a group inside it."""
    regions = {universe.region(g) for g in groups}
    regions |= {1 << i for i in range(len(universe.atoms))}
    group_regions = sorted({universe.region(g) for g in groups})
    for outer in group_regions:
        for inner in group_regions:
            if inner != outer and inner & ~outer == 0:
                regions.add(outer & ~inner)
    regions.discard(0)
    return sorted(regions)


def _derive_linear(releases: Sequence[Release], universe: Universe) -> list[Derived]:
    """Per build and table, every candidate region whose indicator lies in the row space of the
    shown rows (atoms known to be empty count as zero), with its figures. The candidates include
    every region the hierarchy attack reaches, so this finds all it finds."""
    groups_of = _groups_of_build(releases)
    all_groups: dict[Table, set[Group]] = defaultdict(set)
    for release in releases:
        for table, groups in release.groups.items():
            all_groups[table] |= groups
    potential = universe.groups()  # (a missing rest row says only that its organisation has none)
    reached: dict[Table, set[int]] = defaultdict(set)
    for d in _derive_hierarchy(releases, universe):
        reached[d.table].add(d.region)
    candidates = {table: sorted(set(_candidate_regions(universe, groups)) | reached[table])
                  for table, groups in all_groups.items()}
    matrices = {table: np.array([universe.vector(region) for region in regions])
                for table, regions in candidates.items()}
    derived: list[Derived] = []
    for (origin, table), cells in shown(releases, universe).items():
        own = groups_of.get(origin, {}).get(table)
        possible = (1 << len(universe.atoms)) - 1
        if own is not None:  # a group without a row in the build's own release is empty
            for group in potential - own:
                possible &= ~universe.region(group)
        columns = [i for i in range(len(universe.atoms)) if possible >> i & 1]
        if not columns:
            continue
        rows = list(cells.values())
        order = rows[0].order
        a = np.array([universe.vector(d.region) for d in rows])[:, columns]
        lo = np.array([d.lo for d in rows])
        hi = np.array([d.hi for d in rows])
        wanted = candidates[table]
        r = matrices[table][:, columns]
        keep = r.any(axis=1)
        result_lo = np.full((len(wanted), lo.shape[1]), np.nan)
        result_hi = np.full((len(wanted), lo.shape[1]), np.nan)
        determined_any = np.zeros(len(wanted), dtype=bool)
        # Components known on different rows (a score row's n_ended gives only n) are solved
        # apart, each with the rows that know it.
        patterns: dict[bytes, list[int]] = defaultdict(list)
        for component in range(lo.shape[1]):
            patterns[(~np.isnan(lo[:, component])).tobytes()].append(component)
        for pattern, comps in patterns.items():
            usable = np.frombuffer(pattern, dtype=bool)
            if not usable.any():
                continue
            sub = a[usable]
            coefficients = r @ np.linalg.pinv(sub)
            determined = keep & (np.abs(coefficients @ sub - r).max(axis=1) < 1e-6)
            if not determined.any():
                continue
            c = coefficients[determined]
            mid = (lo[usable][:, comps] + hi[usable][:, comps]) / 2
            half = (hi[usable][:, comps] - lo[usable][:, comps]) / 2
            centre = c @ mid
            spread = np.abs(c) @ half + 1e-9 * (np.abs(c) @ np.abs(mid)) + 1e-9
            index = np.flatnonzero(determined)
            result_lo[np.ix_(index, comps)] = centre - spread
            result_hi[np.ix_(index, comps)] = centre + spread
            determined_any |= determined
        for i in np.flatnonzero(determined_any):
            derived.append(Derived(origin, table, wanted[i], result_lo[i], result_hi[i],
                                   "solved from all relations", order))
    return derived


# --- claims ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    origin: str
    region: int
    how: str


@dataclass(frozen=True)
class Claim:
    """Exact figures the reader states for `after` minus `before` (or `after` alone)."""

    method: str
    table: Table
    after: Source
    before: Source | None
    figures: tuple[tuple[str, int], ...]

    @property
    def count(self) -> int:
        return dict(self.figures)["n"]

    @property
    def key(self) -> tuple:
        before = (self.before.origin, self.before.region) if self.before else None
        return (self.table, self.after.origin, self.after.region, before)


def _snap(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The whole number each interval pins down; NaN where none or several fit."""
    low = np.ceil(lo - 1e-9)
    high = np.floor(hi + 1e-9)
    with np.errstate(invalid="ignore"):
        return np.where((low == high) & ~np.isnan(lo) & ~np.isnan(hi), low, np.nan)


def _wanted(values: np.ndarray, k: int, pair: bool) -> np.ndarray:
    """Which snapped figure vectors make a claim: a count of 1 … k−1 (in absolute value for a
    difference), or for a difference an unchanged count with some other figure changed."""
    n = values[..., 0]
    with np.errstate(invalid="ignore"):
        small = (np.abs(n) >= 1) & (np.abs(n) <= k - 1)
        if not pair:
            return small
        changed = np.nan_to_num(np.abs(values[..., 1:]), nan=0.0).max(axis=-1, initial=0) > 0
        return small | ((n == 0) & changed)


def _claim(method: str, table: Table, after: Derived, before: Derived | None,
           values: np.ndarray) -> Claim:
    names = components(table)
    figures = tuple((name, int(v)) for name, v in zip(names, values.tolist(), strict=True)
                    if not math.isnan(v))
    source = lambda d: Source(d.origin, d.region, d.how)  # noqa: E731
    return Claim(method, table, source(after), source(before) if before else None, figures)


def claims(derived: Sequence[Derived], k: int, method: str, canonical: set[int]) -> list[Claim]:
    """Singles (a region of a build with 1 … k−1 trajectories), then differences: the same region
    in two builds, and a canonical region minus a canonical region inside it (any builds). One
    claim per (table, after, before)."""
    found: dict[tuple, Claim] = {}
    merged: dict[tuple[str, Table, int], Derived] = {}
    for d in derived:
        key = (d.origin, d.table, d.region)
        merged[key] = _merge(merged[key], d) if key in merged else d
    by_region: dict[tuple[Table, int], list[Derived]] = defaultdict(list)
    for d in merged.values():
        by_region[(d.table, d.region)].append(d)
        values = _snap(d.lo, d.hi)
        if _wanted(values, k, pair=False):
            claim = _claim(method, d.table, d, None, values)
            found.setdefault(claim.key, claim)

    def differences(afters: list[Derived], befores: list[Derived], same: bool) -> None:
        lo = np.array([d.lo for d in afters])[:, None, :] - np.array([d.hi for d in befores])[None, :, :]
        hi = np.array([d.hi for d in afters])[:, None, :] - np.array([d.lo for d in befores])[None, :, :]
        values = _snap(lo, hi)
        hits = _wanted(values, k, pair=True)
        if same:  # the same region: each pair of builds once, the later one first
            hits &= np.array([d.order for d in afters])[:, None] > np.array([d.order for d in befores])[None, :]
        for i, j in zip(*np.nonzero(hits), strict=True):
            after, before = afters[i], befores[j]
            key = (after.table, after.origin, after.region, (before.origin, before.region))
            if key not in found:
                found[key] = _claim(method, after.table, after, before, values[i, j])

    for ds in by_region.values():
        if len(ds) > 1:
            differences(ds, ds, same=True)
    tables: dict[Table, list[int]] = defaultdict(list)
    for table, region in by_region:
        if region in canonical:
            tables[table].append(region)
    for table, regions in tables.items():
        for outer, inner in ((o, i) for o in regions for i in regions if o != i and i & ~o == 0):
            differences(by_region[(table, outer)], by_region[(table, inner)], same=False)
    return list(found.values())


@dataclass
class AttackResult:
    universe: Universe
    releases: list[Release]
    claims: dict[str, list[Claim]]


def attack(paths: Sequence[Path], k: int, methods: Sequence[str] = METHODS) -> AttackResult:
    """Every claim each attack makes on the releases at `paths` (oldest first)."""
    releases = read_releases(paths)
    universe = Universe(releases)
    canonical = {universe.region(g) for r in releases for gs in r.groups.values() for g in gs}
    derive = {"pairs": _derive_pairs, "hierarchy": _derive_hierarchy, "linear": _derive_linear}
    return AttackResult(
        universe, releases,
        {method: claims(derive[method](releases, universe), k, method, canonical) for method in methods},
    )

"""The ground truth the release attacker (release_attack.py) is judged against: which ended
trajectories each build had, in which atom (organisation, team, intervention, end year), with
which values per table. The tests record it from what they delivered (the scenario's own model
of the deliveries in force), never from the marts.

A claim is judged by recomputing, from the truth, the figures of the trajectories it speaks of:
`after` minus `before`, per component. It is a recovery when, for some figure it states, the
trajectories whose contribution to that figure differs between the two sides (in one and not
the other, or with another value of that component) number 1 … k−1, they
are all on one side or changed values of the same trajectories (not "group A minus group B",
which is no figure of either group and is counted apart as mixed), and every figure the reader
stated is exactly right."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.warehouse.release_attack import (
    SCORE_COMPONENTS,
    TRAJECTORIES,
    TRAJECTORY_COMPONENTS,
    Atom,
    AttackResult,
    Claim,
    Source,
    Table,
    Universe,
)

Measure = tuple[str, str, str]
# (instrument, schaal) -> (higher_is_worse, sd_ref, r, cutoff), as in the instrument registry
Registry = Mapping[tuple[str, str], tuple[bool, float, float, float]]

RECOVERED = "recovered"  # exactly right, about fewer than k trajectories: a leak
NOT_SMALL = "not small"  # exactly right, but about k or more trajectories
WRONG = "wrong"  # the reader was mistaken (e.g. misread a held or rounded figure)
MIXED = "mixed"  # exactly right, but one group's figures minus another's: no figure of a group


@dataclass(frozen=True)
class Trajectory:
    """One ended trajectory as one build had it."""

    atom: Atom
    values: dict[Table, tuple[float, ...]]


def trajectory_values(
    registry: Registry,
    reden_einde: int,
    doelrealisatie: int,
    tevredenheid: float,
    scores: Mapping[Measure, tuple[float, float]],
) -> dict[Table, tuple[float, ...]]:
    """Per table, the trajectory's contribution to each additive figure (outcome-metrics §3-§4):
    the order of TRAJECTORY_COMPONENTS and SCORE_COMPONENTS."""
    values: dict[Table, tuple[float, ...]] = {
        TRAJECTORIES: (1, int(reden_einde == 1), int(doelrealisatie in (1, 2)), tevredenheid),
    }
    for measure, (start, end) in scores.items():
        higher_is_worse, sd_ref, r, cutoff = registry[measure[:2]]
        improvement = (1 if higher_is_worse else -1) * (start - end)
        rci = improvement / (math.sqrt(2) * sd_ref * math.sqrt(1 - r))
        clinical = start >= cutoff if higher_is_worse else start <= cutoff
        non_clinical_end = end < cutoff if higher_is_worse else end > cutoff
        values[measure] = (
            1, start, end, int(rci > 1.96), int(-1.96 <= rci <= 1.96), int(rci < -1.96),
            int(clinical), int(clinical and non_clinical_end and rci > 1.96),
            improvement * improvement, start * start,
        )  # fmt: skip
    assert len(values[TRAJECTORIES]) == len(TRAJECTORY_COMPONENTS)
    assert all(len(v) == len(SCORE_COMPONENTS) for t, v in values.items() if t != TRAJECTORIES)
    return values


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    outcome: str
    support: int  # trajectories that differ between the two sides
    truth: tuple[tuple[str, float], ...]  # the true figures of the claim's components


@dataclass
class Judgement:
    """Verdicts on every claim of one attack result, per method."""

    k: int
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    release_of: dict[str, int] = field(default_factory=dict)  # build id -> release index
    universe: Universe | None = None

    def recovered(self, method: str | None = None) -> list[Verdict]:
        methods = [method] if method else list(self.verdicts)
        seen: dict[tuple, Verdict] = {}
        for m in methods:
            for verdict in self.verdicts[m]:
                if verdict.outcome == RECOVERED:
                    seen.setdefault(verdict.claim.key, verdict)
        return list(seen.values())

    def outcomes(self, method: str) -> Counter:
        return Counter(v.outcome for v in self.verdicts[method])

    def summary(self) -> str:
        parts = []
        for method, verdicts in self.verdicts.items():
            recovered = self.recovered(method)
            within = sum(within_one_build(v) for v in recovered)
            parts.append(f"{method}: {len(recovered)} recovered ({within} within one build) of "
                         f"{len(verdicts)} claims, {self.outcomes(method)[MIXED]} mixed, "
                         f"{self.outcomes(method)[WRONG]} wrong")
        return "; ".join(parts)

    def describe(self, verdict: Verdict) -> str:
        claim = verdict.claim
        table = "/".join(claim.table) if isinstance(claim.table, tuple) else claim.table

        def side(source: Source) -> str:
            where = self.universe.describe(source.region) if self.universe else hex(source.region)
            release = self.release_of.get(source.origin, "?")
            return f"{where} [build of release {release}; {source.how}]"

        what = side(claim.after) + (f" minus {side(claim.before)}" if claim.before else "")
        figures = ", ".join(f"{name}={value}" for name, value in claim.figures)
        truth = ", ".join(f"{name}={_number(value)}" for name, value in verdict.truth)
        return (f"{claim.method}: {table}: {what}: {figures} (truth: {verdict.support} "
                f"trajectories, {truth})")

    def examples(self, limit: int = 6, method: str | None = None) -> str:
        found = sorted(self.recovered(method), key=lambda v: (v.support, repr(v.claim.key)))
        return "\n  ".join(self.describe(v) for v in found[:limit])


def within_one_build(verdict: Verdict) -> bool:
    """A claim about one build alone: a region, or a region minus another of the same build."""
    claim = verdict.claim
    return claim.before is None or claim.before.origin == claim.after.origin


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class Truth:
    """Per build id, its ended trajectories (any hashable id -> Trajectory)."""

    def __init__(self) -> None:
        self.builds: dict[str, dict[object, Trajectory]] = {}
        self._members: dict[tuple, tuple[frozenset, tuple[float, ...]]] = {}

    def record(self, build_id: str, trajectories: Mapping[object, Trajectory]) -> None:
        self.builds[build_id] = dict(trajectories)

    def members(self, table: Table, source: Source | None, universe: Universe
                ) -> tuple[frozenset, tuple[float, ...]]:
        """The trajectories of the region in that build as (id, values) pairs, and the sums of
        their values in that table."""
        width = len(TRAJECTORY_COMPONENTS if table == TRAJECTORIES else SCORE_COMPONENTS)
        if source is None:
            return frozenset(), (0,) * width
        key = (table, source.origin, source.region)
        if key not in self._members:
            if source.origin not in self.builds:
                raise AssertionError(f"a row names build {source.origin!r}, which the test never built")
            atoms = set(universe.atoms_of(source.region))
            items = frozenset(
                (tid, t.values[table]) for tid, t in self.builds[source.origin].items()
                if t.atom in atoms and table in t.values
            )
            sums = tuple(sum(values[i] for _, values in items) for i in range(width))
            self._members[key] = (items, sums)
        return self._members[key]

    def judge(self, claim: Claim, universe: Universe, k: int) -> Verdict:
        """Per stated figure: the trajectories whose contribution to THAT figure differs between
        the two sides (on one side only, or another value of that component). A trajectory whose
        end score was corrected adds the same start score to both sides, so a difference of sums
        of start scores is about the others alone (found by the independent attacker,
        test_release_attack_independent.py)."""
        after, after_sums = self.members(claim.table, claim.after, universe)
        before, before_sums = self.members(claim.table, claim.before, universe)
        after_values, before_values = dict(after), dict(before)
        after_ids, before_ids = set(after_values), set(before_values)
        one_side = after_ids ^ before_ids
        # trajectories on one side only, on both sides: the sum over group A minus the sum over
        # another group B is no figure of either group (the linear attack finds either group
        # alone when its figures follow from what is shown)
        mixed = bool(after_ids - before_ids) and bool(before_ids - after_ids)
        names = TRAJECTORY_COMPONENTS if claim.table == TRAJECTORIES else SCORE_COMPONENTS
        position = {name: i for i, name in enumerate(names)}
        truth = tuple((name, after_sums[position[name]] - before_sums[position[name]])
                      for name, _ in claim.figures)
        exact = all(value == true for (_, value), (_, true) in zip(claim.figures, truth, strict=True))
        supports = [
            len(one_side | {tid for tid in after_ids & before_ids
                            if after_values[tid][position[name]] != before_values[tid][position[name]]})
            for name, _ in claim.figures
        ]
        small = [support for support in supports if 0 < support < k]
        support = min(small) if small else max(supports, default=0)
        if not exact:
            outcome = WRONG
        elif mixed:
            outcome = MIXED
        elif small:
            outcome = RECOVERED
        else:
            outcome = NOT_SMALL
        return Verdict(claim, outcome, support, truth)

    def judge_all(self, result: AttackResult, k: int) -> Judgement:
        judgement = Judgement(k, universe=result.universe,
                              release_of={r.build_id: r.index for r in result.releases})
        judged: dict[tuple, Verdict] = {}  # the same claim by another method: the same verdict
        for method, found in result.claims.items():
            verdicts = []
            for claim in found:
                key = (claim.key, claim.figures)
                if key not in judged:
                    judged[key] = self.judge(claim, result.universe, k)
                seen = judged[key]
                verdicts.append(Verdict(claim, seen.outcome, seen.support, seen.truth))
            judgement.verdicts[method] = verdicts
        return judgement

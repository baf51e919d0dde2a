"""An independent reference for `mart.outcome_scores` and `mart.trajectory_indicators`, written
from outcome-metrics.md (§1-§4, §7) in plain Python over the synthetic generator's ground truth.

Why a second implementation: the product computes the marts in SQL over what its readers,
validators and staging made of the files. A test that compares the published figures with
figures computed here, from what the stewards were *meant* to have delivered, fails on every way
of losing, double-counting or mis-ordering a delivery, not just on the cases someone thought of.
Nothing here imports the product's `warehouse/` or `schemas/` code; the instrument registry is
copied from delivery-format.md §7 (the shipped defaults) for the same reason.

Suppression is primary only (count < k): the product adds secondary suppression, which the
differential test allows for by checking shown rows, not the whole pattern.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats

from pipelines.synthetic import MeasurementState, ScheduledDelivery, TrajectoryState

# delivery-format.md §7: (instrument, schaal) -> (higher_is_worse, sd_ref, r, cutoff)
REGISTRY: dict[tuple[str, str], tuple[bool, float, float, float]] = {
    ("CBCL", "totaal"): (True, 10, 0.94, 64),
    ("CBCL", "internaliseren"): (True, 10, 0.90, 64),
    ("CBCL", "externaliseren"): (True, 10, 0.92, 64),
    ("YSR", "totaal"): (True, 10, 0.90, 64),
    ("TRF", "totaal"): (True, 10, 0.92, 64),
    ("SDQ", "totaal"): (True, 5.8, 0.80, 17),
    ("OBVL", "totaal"): (True, 10, 0.93, 63),
}

LEVELS = ("consortium", "organisation", "team", "intervention", "organisation_intervention")
# (level, organisation, team, intervention, period)
GroupKey = tuple[str, str | None, str | None, str | None, str]
# GroupKey + (instrument, schaal, informant)
ScoreKey = tuple[str, str | None, str | None, str | None, str, str, str, str]

SCORE_FIGURES = (
    "n_ended", "n_paired", "response_rate", "mean_start", "mean_end", "mean_improvement",
    "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved", "pct_unchanged",
    "pct_deteriorated", "n_clinical_start", "pct_recovered",
)  # fmt: skip
INDICATOR_FIGURES = ("n_ended", "pct_planned_end", "pct_goals_achieved", "mean_satisfaction")


@dataclass(frozen=True)
class Pair:
    """One ended trajectory's start and end score on one measure (§2) and its §3 figures."""

    trajectory: TrajectoryState
    measure: tuple[str, str, str]
    x_start: float
    x_end: float
    improvement: float
    rci: float
    clinical_start: bool
    recovered: bool


@dataclass(frozen=True)
class ReferenceMarts:
    scores: dict[ScoreKey, dict[str, float | int | None]]
    indicators: dict[GroupKey, dict[str, float | int | None]]
    k: int

    def score_suppressed(self, key: ScoreKey) -> bool:
        return self.scores[key]["n_paired"] < self.k  # type: ignore[operator]

    def indicator_suppressed(self, key: GroupKey) -> bool:
        return self.indicators[key]["n_ended"] < self.k  # type: ignore[operator]


def current_state(
    deliveries: Iterable[ScheduledDelivery],
) -> tuple[dict[tuple[str, str], TrajectoryState], dict[tuple, MeasurementState]]:
    """§1 over the deliveries in force (one per provider and month): per trajectory the row of
    the newest month that holds it; per measurement key the newest month's score (within a month
    only one version is in force). Objecting clients (bezwaar = ja) are left out before anything
    else (delivery-format.md §3), with their measurements."""
    trajectories: dict[tuple[str, str], tuple[str, TrajectoryState]] = {}
    measurements: dict[tuple, tuple[str, MeasurementState]] = {}
    for delivery in deliveries:
        objecting = {t.traject_id for t in delivery.trajectories if t.bezwaar}
        for t in delivery.trajectories:
            if t.bezwaar:
                continue
            key = (t.provider, t.traject_id)
            if key not in trajectories or trajectories[key][0] < delivery.month:
                trajectories[key] = (delivery.month, t)
        for m in delivery.measurements:
            if m.traject_id in objecting:
                continue
            key = (m.provider, m.traject_id, m.instrument, m.schaal, m.informant, m.meetmoment,
                   m.datum)  # fmt: skip
            if key not in measurements or measurements[key][0] < delivery.month:
                measurements[key] = (delivery.month, m)
    return (
        {key: state for key, (_, state) in trajectories.items()},
        {key: state for key, (_, state) in measurements.items()},
    )


def pairs(
    trajectories: dict[tuple[str, str], TrajectoryState],
    measurements: dict[tuple, MeasurementState],
) -> list[Pair]:
    """§2 and §3 for every ended trajectory and measure with a valid pair."""
    by_measure: dict[tuple, list[MeasurementState]] = defaultdict(list)
    for m in measurements.values():
        by_measure[(m.provider, m.traject_id, m.instrument, m.schaal, m.informant)].append(m)
    result = []
    for (provider, traject_id, instrument, schaal, informant), scores in sorted(
        by_measure.items(), key=lambda item: tuple(str(part) for part in item[0])
    ):
        trajectory = trajectories.get((provider, traject_id))
        if trajectory is None or trajectory.einddatum is None:
            continue
        starts = [m for m in scores if m.meetmoment == "start"]
        ends = [m for m in scores if m.meetmoment == "eind"]
        if not starts or not ends:
            continue
        start = min(starts, key=lambda m: m.datum)
        end = max(ends, key=lambda m: m.datum)
        if not end.datum > start.datum:
            continue
        higher_is_worse, sd_ref, r, cutoff = REGISTRY[(instrument, schaal)]
        d = 1 if higher_is_worse else -1
        improvement = d * (start.score - end.score)
        rci = improvement / (math.sqrt(2) * sd_ref * math.sqrt(1 - r))
        clinical = start.score >= cutoff if higher_is_worse else start.score <= cutoff
        non_clinical_end = end.score < cutoff if higher_is_worse else end.score > cutoff
        result.append(
            Pair(trajectory, (instrument, schaal, informant), float(start.score),
                 float(end.score), float(improvement), rci, clinical,
                 clinical and non_clinical_end and rci > 1.96)
        )  # fmt: skip
    return result


def group_keys(t: TrajectoryState) -> list[GroupKey]:
    """The groups (§4) an ended trajectory belongs to: one per level, per year and 'all'."""
    assert t.einddatum is not None
    keys: list[GroupKey] = []
    for period in (str(t.einddatum.year), "all"):
        keys += [
            ("consortium", None, None, None, period),
            ("organisation", t.provider, None, None, period),
            ("team", t.provider, t.team, None, period),
            ("intervention", None, None, t.interventie, period),
            ("organisation_intervention", t.provider, None, t.interventie, period),
        ]
    return keys


def _sd(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) >= 2 else None


def score_figures(group: list[Pair], n_ended: int) -> dict[str, float | int | None]:
    """§4 score figures and §7.2's nulls for one group and measure."""
    n = len(group)
    improvements = [p.improvement for p in group]
    starts = [p.x_start for p in group]
    mean_improvement = statistics.fmean(improvements)
    sd_improvement = _sd(improvements)
    if sd_improvement is None:
        ci_low = ci_high = None
    else:
        half = stats.t.ppf(0.975, n - 1) * sd_improvement / math.sqrt(n)
        ci_low, ci_high = mean_improvement - half, mean_improvement + half
    sd_start = _sd(starts)
    n_clinical = sum(p.clinical_start for p in group)
    return {
        "n_ended": n_ended,
        "n_paired": n,
        "response_rate": n / n_ended,
        "mean_start": statistics.fmean(starts),
        "mean_end": statistics.fmean(p.x_end for p in group),
        "mean_improvement": mean_improvement,
        "sd_improvement": sd_improvement,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "effect_size": mean_improvement / sd_start if sd_start else None,
        "pct_improved": sum(p.rci > 1.96 for p in group) / n,
        "pct_unchanged": sum(-1.96 <= p.rci <= 1.96 for p in group) / n,
        "pct_deteriorated": sum(p.rci < -1.96 for p in group) / n,
        "n_clinical_start": n_clinical,
        "pct_recovered": sum(p.recovered for p in group) / n_clinical if n_clinical else None,
    }


def indicator_figures(ended: list[TrajectoryState]) -> dict[str, float | int | None]:
    """§4 trajectory figures, with §7.2's nulls and §7.4 (code 5 only leaves the denominator of
    pct_planned_end)."""
    planned_base = [t for t in ended if t.reden_einde != 5]
    goals = [t.doelrealisatie for t in ended if t.doelrealisatie is not None]
    satisfaction = [t.tevredenheid for t in ended if t.tevredenheid is not None]
    return {
        "n_ended": len(ended),
        "pct_planned_end": (
            sum(t.reden_einde == 1 for t in planned_base) / len(planned_base)
            if planned_base else None
        ),
        "pct_goals_achieved": sum(g in (1, 2) for g in goals) / len(goals) if goals else None,
        "mean_satisfaction": statistics.fmean(satisfaction) if satisfaction else None,
    }


def reference_marts(deliveries: Iterable[ScheduledDelivery], k: int) -> ReferenceMarts:
    """Both marts, unsuppressed figures for every group that has a row (§7.1)."""
    trajectories, measurements = current_state(deliveries)
    ended_by_group: dict[GroupKey, list[TrajectoryState]] = defaultdict(list)
    for t in trajectories.values():
        if t.einddatum is not None:
            for key in group_keys(t):
                ended_by_group[key].append(t)
    pairs_by_group: dict[ScoreKey, list[Pair]] = defaultdict(list)
    for pair in pairs(trajectories, measurements):
        for key in group_keys(pair.trajectory):
            pairs_by_group[(*key, *pair.measure)].append(pair)
    indicators = {key: indicator_figures(ended) for key, ended in ended_by_group.items()}
    scores = {
        key: score_figures(group, len(ended_by_group[key[:5]]))  # type: ignore[index]
        for key, group in pairs_by_group.items()
    }
    return ReferenceMarts(scores=scores, indicators=indicators, k=k)

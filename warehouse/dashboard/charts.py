"""Charts for the dashboard as inline SVG, drawn with matplotlib (Agg, no JavaScript): they render
from disk with no network, and the same figures give the same bytes (fixed hash salt per chart,
no date, text kept as text so it stays searchable and scales).

Why text needs care: team names come from the providers' data stewards. matplotlib escapes text
it writes into SVG, and with `text.parse_math` off a `$` in a name is not read as mathtext. A
suppressed group gets only its label and the "< k" text: no figure of it is ever drawn."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.transforms import blended_transform_factory  # noqa: E402

STYLE = {
    "svg.fonttype": "none",  # text as <text>, not glyph paths
    "text.parse_math": False,  # a '$' in a team name is just a dollar sign
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
START_COLOUR, END_COLOUR = "#9aa9b8", "#1f4e79"
CHANGE_COLOURS = ("#2e7d32", "#b0b7bf", "#c62828")  # verbeterd, onveranderd, verslechterd


@dataclass(frozen=True)
class ScoreBar:
    """One group in a score chart; `hidden` is the text shown instead of figures ("< 10")."""

    label: str
    hidden: str | None = None
    mean_start: float | None = None
    mean_end: float | None = None
    mean_improvement: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    pct_improved: float | None = None
    pct_unchanged: float | None = None
    pct_deteriorated: float | None = None


@dataclass(frozen=True)
class IndicatorBar:
    label: str
    hidden: str | None = None
    pct_planned_end: float | None = None
    pct_goals_achieved: float | None = None


def _svg(figure: plt.Figure, salt: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # inline: no XML declaration or doctype
    # Clip-path ids hash an object's memory address (so differ per run) and would collide between
    # the charts of one page: number them per chart instead.
    ids = dict.fromkeys(re.findall(r'id="(p[0-9a-f]{10})"', text))
    for number, old in enumerate(ids):
        text = text.replace(f'"{old}"', f'"{salt}-clip{number}"').replace(f"#{old})", f"#{salt}-clip{number})")
    return text


def _fixed_margins(figure: plt.Figure, labels: Sequence[str]) -> None:
    """Margins from the longest group label instead of matplotlib's constrained layout, which
    draws every figure twice and was half the dashboard's build time at national scale."""
    width, height = figure.get_size_inches()
    longest = max((len(label) for label in labels), default=0)
    left = min(0.45, (0.25 + 0.075 * longest) / width)  # ~0.075 in per character at 9 pt
    figure.subplots_adjust(left=left, right=1 - 0.2 / width, bottom=0.55 / height,
                           top=1 - 0.15 / height, wspace=0.15)


def _hidden_note(axis: plt.Axes, y: float, text: str) -> None:
    axis.text(0.5, y, text, transform=blended_transform_factory(axis.transAxes, axis.transData),
              ha="center", va="center", color="#555555", style="italic")


def score_chart(bars: Sequence[ScoreBar], salt: str) -> str:
    """Three panels per group: mean score at start and end, mean improvement with its 95 %
    interval, and the reliable-change shares."""
    with matplotlib.rc_context(STYLE):
        height = 1.3 + 0.42 * len(bars)
        figure, (scores, change, shares) = plt.subplots(
            1, 3, figsize=(10, height), sharey=True, gridspec_kw={"width_ratios": [1.2, 1, 1]},
        )
        _fixed_margins(figure, [bar.label for bar in bars])
        positions = list(range(len(bars)))[::-1]  # the first group on top
        # Collected per kind and drawn in one call each: one artist per group and mark made the
        # drawing (SVG) the dashboard's main cost.
        starts, ends, paired, intervals, points = [], [], [], [], []
        stacks: list[list[tuple[float, float, float]]] = [[], [], []]  # (y, left, width) per class
        for y, bar in zip(positions, bars, strict=True):
            if bar.hidden is not None:
                for axis in (scores, change, shares):
                    _hidden_note(axis, y, bar.hidden)
                continue
            if bar.mean_start is not None and bar.mean_end is not None:
                starts.append((bar.mean_start, y))
                ends.append((bar.mean_end, y))
                paired += [(bar.mean_start, bar.mean_end), (y, y)]
            if bar.mean_improvement is not None:
                if bar.ci_low is not None and bar.ci_high is not None:
                    intervals.append((bar.mean_improvement, y, bar.ci_low, bar.ci_high))
                else:
                    points.append((bar.mean_improvement, y))
            left = 0.0
            for stack, share in zip(stacks, (bar.pct_improved, bar.pct_unchanged, bar.pct_deteriorated), strict=True):
                if share:
                    stack.append((y, left, share * 100))
                    left += share * 100
        if paired:
            scores.plot(*paired, color="#c8d0d8", zorder=1)
            scores.scatter(*zip(*starts, strict=True), color="white", edgecolors=START_COLOUR, zorder=2)
            scores.scatter(*zip(*ends, strict=True), color=END_COLOUR, zorder=3)
        if intervals:
            x, y, low, high = (list(v) for v in zip(*intervals, strict=True))
            change.errorbar(
                x, y, capsize=3, color=END_COLOUR, fmt="o",
                xerr=[[m - lo for m, lo in zip(x, low, strict=True)], [hi - m for m, hi in zip(x, high, strict=True)]],
            )
        if points:
            change.scatter(*zip(*points, strict=True), color=END_COLOUR)
        for stack, colour in zip(stacks, CHANGE_COLOURS, strict=True):
            if stack:
                y, left, width = zip(*stack, strict=True)
                shares.barh(list(y), list(width), left=list(left), color=colour, height=0.6)
        change.axvline(0, color="#888888", linewidth=0.8)
        scores.set_yticks(positions, [bar.label for bar in bars])
        scores.set_ylim(-0.7, len(bars) - 0.3)
        scores.set_xlabel("Gemiddelde score: ○ start, ● eind")
        change.set_xlabel("Verbetering (95%-BI)")
        shares.set_xlim(0, 100)
        shares.set_xlabel("Verbeterd / onveranderd / verslechterd (%)")
        for axis in (scores, change, shares):
            axis.grid(axis="x", color="#eeeeee")
        return _svg(figure, salt)


def indicator_chart(bars: Sequence[IndicatorBar], salt: str) -> str:
    """Planned end and goals achieved per group, as percentages side by side."""
    with matplotlib.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(8, 1.3 + 0.5 * len(bars)))
        _fixed_margins(figure, [bar.label for bar in bars])
        positions = list(range(len(bars)))[::-1]
        for y, bar in zip(positions, bars, strict=True):
            if bar.hidden is not None:
                _hidden_note(axis, y, bar.hidden)
                continue
            for offset, value, colour in ((0.18, bar.pct_planned_end, END_COLOUR),
                                          (-0.18, bar.pct_goals_achieved, "#e0a030")):
                if value is not None:
                    axis.barh([y + offset], [value * 100], height=0.34, color=colour)
        axis.set_yticks(positions, [bar.label for bar in bars])
        axis.set_ylim(-0.7, len(bars) - 0.3)
        axis.set_xlim(0, 100)
        axis.set_xlabel("Gepland beëindigd (blauw) en doelen behaald (oranje), %")
        axis.grid(axis="x", color="#eeeeee")
        return _svg(figure, salt)

"""Charts for the dashboard as inline SVG, written directly (no JavaScript, no plotting library):
they render from disk with no network, and the same figures give the same bytes (no date, no
object addresses, no ids), with text kept as text so it stays searchable and scales.

Why not matplotlib any more: a score chart cost ~0.3-0.6 s there, nearly all of it building and
laying out tick objects, so the dashboard was a quarter of a rebuild (issue 13). These charts are
simple (dots, intervals, stacked bars, a linear axis with round ticks): written as SVG elements
they cost about a millisecond and show the same things in the same colours and layout.

Why text needs care: team names come from the providers' data stewards. Every text is escaped
(`markupsafe.escape`) before it is written, so markup in a name is shown, never run. A suppressed
group gets only its label and the "< k" text: no figure of it is ever drawn. Coordinates are
computed from the figures as the page shows them (the caller rounds) and written with two
decimals, so a chart carries no more precision than the table beside it (PRIVACY.md §5)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import escape

# Bump when the drawing changes; the dashboard's page digests also cover this file's source.
CHART_FORMAT = 1
START_COLOUR, END_COLOUR = "#9aa9b8", "#1f4e79"
CHANGE_COLOURS = ("#2e7d32", "#b0b7bf", "#c62828")  # verbeterd, onveranderd, verslechterd
GOALS_COLOUR = "#e0a030"
PAIR_COLOUR, GRID_COLOUR, AXIS_COLOUR, ZERO_COLOUR, NOTE_COLOUR = (
    "#c8d0d8", "#eeeeee", "#333333", "#888888", "#555555")
POINTS_PER_INCH = 72.0
FONT = 'font-family="system-ui, \'Segoe UI\', Arial, sans-serif" font-size="9"'


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


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, never '-0'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round tick values inside [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten, at
    most `most` + 1 of them (what matplotlib's default locator gives for these ranges)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw - 1e-12)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    value = first * step
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value = (first + len(ticks)) * step
    return ticks


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """As few decimals as the ticks need to differ, a real minus sign."""
    decimals = 0
    while decimals < 6 and any(abs(t * 10**decimals - round(t * 10**decimals)) > 1e-6 for t in ticks):
        decimals += 1
    text = f"{value:.{decimals}f}"
    if text.startswith("-"):
        text = "0" if float(text) == 0 else "−" + text[1:]
    return text


@dataclass(frozen=True)
class _Scale:
    """A linear map from data to points."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def _data_range(values: Sequence[float], default: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """The values' range with 5 % margins on both sides (matplotlib's autoscale)."""
    if not values:
        return default
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.05 or 0.05
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


class _Canvas:
    """Collects SVG elements of one chart; text always goes through `escape`."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 0.8) -> None:
        self.parts.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                          f'stroke="{colour}" stroke-width="{_n(width)}"/>')

    def rect(self, x: float, y: float, width: float, height: float, colour: str) -> None:
        self.parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0))}" '
                          f'height="{_n(height)}" fill="{colour}"/>')

    def circle(self, x: float, y: float, fill: str, stroke: str) -> None:
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{fill}" stroke="{stroke}"/>')

    def text(self, x: float, y: float, text: str, anchor: str = "middle", colour: str = AXIS_COLOUR,
             italic: bool = False, baseline: str = "central") -> None:
        style = ' font-style="italic"' if italic else ""
        self.parts.append(f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" '
                          f'dominant-baseline="{baseline}" fill="{colour}"{style}>{escape(text)}</text>')

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_n(self.width)}pt" '
                f'height="{_n(self.height)}pt" viewBox="0 0 {_n(self.width)} {_n(self.height)}" {FONT}>\n'
                f'<rect width="100%" height="100%" fill="#ffffff"/>\n'
                + "\n".join(self.parts) + "\n</svg>\n")


@dataclass(frozen=True)
class _Frame:
    """The plot area shared by a chart's panels: group positions top to bottom."""

    top: float
    bottom: float
    count: int

    def y(self, position: float) -> float:
        """Groups sit at positions count-1 (top) … 0 (bottom), limits -0.7 … count-0.3."""
        low, high = -0.7, self.count - 0.3
        return self.bottom - (position - low) / (high - low) * (self.bottom - self.top)

    def band(self, thickness: float) -> float:
        """A bar's height in points for a thickness in position units."""
        return thickness / (self.count + 0.4) * (self.bottom - self.top)


def _layout(width_in: float, height_in: float, labels: Sequence[str]) -> tuple[float, float, float, float]:
    """(left, right, top, bottom) in points: margins from the longest group label, as before."""
    longest = max((len(label) for label in labels), default=0)
    left = min(0.45, (0.25 + 0.075 * longest) / width_in)  # ~0.075 in per character at 9 pt
    width, height = width_in * POINTS_PER_INCH, height_in * POINTS_PER_INCH
    return (left * width, width - 0.2 * POINTS_PER_INCH, 0.15 * POINTS_PER_INCH,
            height - 0.55 * POINTS_PER_INCH)


def _panel(canvas: _Canvas, frame: _Frame, x0: float, x1: float, low: float, high: float,
           label: str, ticks: Sequence[float] | None = None) -> _Scale:
    """Grid, ticks and their labels, the left and bottom spines and the axis label of one panel."""
    scale = _Scale(low, high, x0, x1)
    ticks = list(ticks) if ticks is not None else nice_ticks(low, high)
    for tick in ticks:
        x = scale(tick)
        canvas.line(x, frame.top, x, frame.bottom, GRID_COLOUR)
        canvas.line(x, frame.bottom, x, frame.bottom + 3.5, AXIS_COLOUR)
        canvas.text(x, frame.bottom + 5.5, tick_label(tick, ticks), baseline="hanging")
    canvas.line(x0, frame.top, x0, frame.bottom, AXIS_COLOUR)
    canvas.line(x0, frame.bottom, x1, frame.bottom, AXIS_COLOUR)
    # centred under the panel, but moved left where it would run past the chart's right edge
    # (width estimated at ~0.55 em a character: a label is never cut off)
    centre = min((x0 + x1) / 2, canvas.width - 2 - 0.55 * 9 * len(label) / 2)
    canvas.text(centre, frame.bottom + 19, label, baseline="hanging")
    return scale


def _group_labels(canvas: _Canvas, frame: _Frame, x0: float, labels: Sequence[str]) -> None:
    for position, label in zip(range(len(labels) - 1, -1, -1), labels, strict=True):
        y = frame.y(position)
        canvas.line(x0 - 3.5, y, x0, y, AXIS_COLOUR)
        canvas.text(x0 - 5.5, y, label, anchor="end")


def _panel_edges(left: float, right: float, ratios: Sequence[float], space: float = 0.15) -> list[tuple[float, float]]:
    """Panel extents as matplotlib's grid spec places them (width ratios, wspace)."""
    cell = (right - left) / (len(ratios) + space * (len(ratios) - 1))
    total = sum(ratios)
    edges, x = [], left
    for ratio in ratios:
        width = cell * len(ratios) * ratio / total
        edges.append((x, x + width))
        x += width + space * cell
    return edges


def score_chart(bars: Sequence[ScoreBar], salt: str) -> str:
    """Three panels per group: mean score at start and end, mean improvement with its 95 %
    interval, and the reliable-change shares. `salt` names the chart (kept for the caller's
    anchor; the SVG itself needs no ids)."""
    del salt
    width_in, height_in = 10.0, 1.3 + 0.42 * len(bars)
    labels = [bar.label for bar in bars]
    left, right, top, bottom = _layout(width_in, height_in, labels)
    canvas = _Canvas(width_in * POINTS_PER_INCH, height_in * POINTS_PER_INCH)
    frame = _Frame(top, bottom, len(bars))
    (s0, s1), (c0, c1), (p0, p1) = _panel_edges(left, right, (1.2, 1, 1))
    shown = [bar for bar in bars if bar.hidden is None]
    score_values = [v for bar in shown if bar.mean_start is not None and bar.mean_end is not None
                    for v in (bar.mean_start, bar.mean_end)]
    change_values = [v for bar in shown for v in (bar.mean_improvement, bar.ci_low, bar.ci_high)
                     if v is not None and bar.mean_improvement is not None]
    scores = _panel(canvas, frame, s0, s1, *_data_range(score_values), "Gemiddelde score: ○ start, ● eind")
    change = _panel(canvas, frame, c0, c1, *_data_range([*change_values, 0.0] if change_values else []),
                    "Verbetering (95%-BI)")
    shares = _panel(canvas, frame, p0, p1, 0.0, 100.0, "Verbeterd / onveranderd / verslechterd (%)",
                    ticks=[0, 20, 40, 60, 80, 100])
    _group_labels(canvas, frame, s0, labels)
    if change_values:
        canvas.line(change(0.0), frame.top, change(0.0), frame.bottom, ZERO_COLOUR)
    for position, bar in zip(range(len(bars) - 1, -1, -1), bars, strict=True):
        y = frame.y(position)
        if bar.hidden is not None:
            for a, b in ((s0, s1), (c0, c1), (p0, p1)):
                canvas.text((a + b) / 2, y, bar.hidden, colour=NOTE_COLOUR, italic=True)
            continue
        if bar.mean_start is not None and bar.mean_end is not None:
            canvas.line(scores(bar.mean_start), y, scores(bar.mean_end), y, PAIR_COLOUR, 1.5)
            canvas.circle(scores(bar.mean_start), y, "#ffffff", START_COLOUR)
            canvas.circle(scores(bar.mean_end), y, END_COLOUR, END_COLOUR)
        if bar.mean_improvement is not None:
            if bar.ci_low is not None and bar.ci_high is not None:
                canvas.line(change(bar.ci_low), y, change(bar.ci_high), y, END_COLOUR, 1.5)
                for end in (bar.ci_low, bar.ci_high):
                    canvas.line(change(end), y - 3, change(end), y + 3, END_COLOUR, 1.5)
            canvas.circle(change(bar.mean_improvement), y, END_COLOUR, END_COLOUR)
        offset = 0.0
        for share, colour in zip((bar.pct_improved, bar.pct_unchanged, bar.pct_deteriorated),
                                 CHANGE_COLOURS, strict=True):
            if share:
                height = frame.band(0.6)
                canvas.rect(shares(offset), y - height / 2, shares(offset + share * 100) - shares(offset),
                            height, colour)
                offset += share * 100
    return canvas.svg()


def indicator_chart(bars: Sequence[IndicatorBar], salt: str) -> str:
    """Planned end and goals achieved per group, as percentages side by side."""
    del salt
    width_in, height_in = 8.0, 1.3 + 0.5 * len(bars)
    labels = [bar.label for bar in bars]
    left, right, top, bottom = _layout(width_in, height_in, labels)
    canvas = _Canvas(width_in * POINTS_PER_INCH, height_in * POINTS_PER_INCH)
    frame = _Frame(top, bottom, len(bars))
    axis = _panel(canvas, frame, left, right, 0.0, 100.0,
                  "Gepland beëindigd (blauw) en doelen behaald (oranje), %", ticks=[0, 20, 40, 60, 80, 100])
    _group_labels(canvas, frame, left, labels)
    height = frame.band(0.34)
    for position, bar in zip(range(len(bars) - 1, -1, -1), bars, strict=True):
        if bar.hidden is not None:
            canvas.text((left + right) / 2, frame.y(position), bar.hidden, colour=NOTE_COLOUR, italic=True)
            continue
        for offset, value, colour in ((0.18, bar.pct_planned_end, END_COLOUR),
                                      (-0.18, bar.pct_goals_achieved, GOALS_COLOUR)):
            if value is not None:
                y = frame.y(position + offset)
                canvas.rect(axis(0.0), y - height / 2, axis(value * 100) - axis(0.0), height, colour)
    return canvas.svg()

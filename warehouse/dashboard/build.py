"""The static dashboard (issue 7): one page for the consortium and one per organisation, written
from the published analysts' copy only, so it holds nothing the marts do not (pseudonymised
aggregates, suppressed below k). Opened from disk: no server, no JavaScript, no network.

Every figure cell carries its source as data attributes (table, group keys, measure, metric and
the exact value), so a test can compare the page with the marts number for number. A suppressed
group shows "< k" (primary) or "afgeschermd" (hidden to protect a small group elsewhere) and no
figure at all, not in text, attributes or charts.

The pages are written into a temporary folder beside publish/dashboard and swapped in by
rename, so a reader never opens half a dashboard.

A page is drawn again only when what it shows changed (issue 13): each page's inputs (its
figures, texts, chart data, k, and the renderer's own source) are summed up in a digest kept in
dashboard.json beside the pages. An equal digest means the page would come out byte for byte the
same but for the build id it prints, so the previous file is taken over with only that id
replaced (at the places the renderer recorded). A new month for every provider changes every
page's consortium rows, so then every page is drawn; a correction that moves no shown figure,
a rejected delivery or a change below k redraws nothing."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, is_dataclass
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from warehouse.dashboard import charts as charts_module
from warehouse.dashboard.charts import IndicatorBar, ScoreBar, indicator_chart, score_chart
from warehouse.dashboard.marker import DASHBOARD_FORMAT, MARKER, dashboard_build_id  # noqa: F401
from warehouse.permissions import share_with_group

ALL = "all"
INSTRUMENT_NAMES = {
    "CBCL": "Child Behavior Checklist",
    "YSR": "Youth Self Report",
    "TRF": "Teacher's Report Form",
    "SDQ": "Strengths and Difficulties Questionnaire",
    "OBVL": "Opvoedingsbelastingvragenlijst",
}
QUESTIONS = (
    ("Herkennen", "Herkennen we dit beeld? Past het bij wat we in de praktijk zien bij deze "
                  "jeugdigen en gezinnen?"),
    ("Verklaren", "Hoe verklaren we het? Welke verschillen in doelgroep, werkwijze, meting of "
                  "respons kunnen de uitkomsten verklaren?"),
    ("Waarderen", "Is dit goed genoeg? Wat vinden we ervan, vergeleken met de rest van het "
                  "consortium en met wat we zelf willen bereiken?"),
    ("Verbeteren", "Wat gaan we anders doen? Welke afspraak maken we, en hoe zien we straks "
                   "of het helpt?"),
)
SCORE_METRICS = (  # (column, header, kind)
    ("n_paired", "N", "count"),
    ("response_rate", "Respons", "share"),
    ("mean_start", "Start", "score"),
    ("mean_end", "Eind", "score"),
    ("mean_improvement", "Verbetering", "score"),
    ("ci", "95%-BI", "interval"),
    ("pct_improved", "Verbeterd", "share"),
    ("pct_unchanged", "Onveranderd", "share"),
    ("pct_deteriorated", "Verslechterd", "share"),
    ("pct_recovered", "Hersteld", "share"),
)
INDICATOR_METRICS = (
    ("n_ended", "N beëindigd", "count"),
    ("pct_planned_end", "Gepland beëindigd", "share"),
    ("pct_goals_achieved", "Doelen behaald", "share"),
    ("mean_satisfaction", "Tevredenheid (1–10)", "score"),
)
KEY_COLUMNS = ("level", "organisation", "team", "intervention", "period")
MEASURE_COLUMNS = ("instrument", "schaal", "informant")


@dataclass(frozen=True)
class DashboardSettings:
    """What the consortium decided (config/consortium.toml): names and k for the labels."""

    k: int
    providers: Mapping[str, str]
    interventions: Mapping[str, str]
    show_organisation_names: bool = False
    higher_is_worse: Mapping[tuple[str, str], bool] = field(default_factory=dict)


@dataclass(frozen=True)
class DashboardResult:
    pages: int
    organisation_pages: int
    charts: int
    pages_drawn: int = 0  # pages rendered anew; the others were unchanged and taken over


# --- formatting ---------------------------------------------------------------------------------


def dutch_number(value: float, decimals: int = 1) -> str:
    """12.345 -> '12,3'; Dutch decimal comma, a real minus sign."""
    text = f"{value:.{decimals}f}".replace(".", ",")
    return text.replace("-", "−") if text.startswith("-") else text


def dutch_percentage(value: float) -> str:
    return f"{dutch_number(value * 100, 0)}%"


def _display(kind: str, value: float | int) -> str:
    if kind == "count":
        return str(int(value))
    if kind == "share":
        return dutch_percentage(value)
    return dutch_number(value)


DECIMALS_SHOWN = {"count": 0, "share": 2, "score": 1, "interval": 1}


def _as_shown(kind: str, value: float | int) -> str:
    """The value with exactly the precision the page shows (a share as a whole percentage, a
    number with one decimal): an attribute must not tell a reader more than the text does, or
    two releases' pages could be differenced to the last digit (PRIVACY.md §5)."""
    return repr(_rounded_as_shown(value, kind)) if kind != "count" else str(int(round(value)))


# --- rows to cells ------------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    attributes: dict[str, str]
    colspan: int = 1
    css: str = ""


@dataclass
class Row:
    label: str
    kind: str  # self, rest, consortium, organisation, team, intervention
    cells: list[Cell]


def _source(table: str, row: Mapping[str, object], measure: bool) -> dict[str, str]:
    """The data attributes that say which mart row a cell comes from (keys only, no figure)."""
    keys = KEY_COLUMNS + (MEASURE_COLUMNS if measure else ())
    attributes = {"data-table": table}
    attributes.update({f"data-{key}": str(row[key]) for key in keys if row[key] is not None})
    if row.get("held"):  # figures of an earlier build, kept to protect a release (PRIVACY.md §5)
        attributes["data-held-from-build"] = str(row.get("held_from_build"))
        attributes["title"] = (f"Cijfer van build {row.get('held_from_build')}: sindsdien is te "
                               "weinig veranderd om het opnieuw te publiceren (PRIVACY.md §5).")
    return attributes


def hidden_text(row: Mapping[str, object], k: int) -> str:
    return f"< {k}" if row.get("suppression_reason") in (None, "primary") else "afgeschermd"


def _cells(table: str, row: Mapping[str, object], metrics: tuple, k: int, measure: bool) -> list[Cell]:
    source = _source(table, row, measure)
    if row["suppressed"]:
        # One cell for the whole row: no figure, no count, not even in an attribute.
        return [Cell(hidden_text(row, k), {**source, "data-suppressed": "true"},
                     colspan=len(metrics), css="hidden")]
    cells = []
    for column, _, kind in metrics:
        if kind == "interval":
            low, high = row["ci_low"], row["ci_high"]
            if low is None or high is None:
                cells.append(Cell("–", {**source, "data-metric": "ci_low", "data-null": "true"}))
            else:
                cells.append(Cell(
                    f"[{dutch_number(low)}; {dutch_number(high)}]",
                    {**source, "data-metric": "ci_low", "data-value": _as_shown("interval", low),
                     "data-metric2": "ci_high", "data-value2": _as_shown("interval", high)},
                ))
            continue
        value = row[column]
        if value is None:
            cells.append(Cell("–", {**source, "data-metric": column, "data-null": "true"}))
        else:
            cells.append(Cell(_display(kind, value), {**source, "data-metric": column,
                                                      "data-value": _as_shown(kind, value)}))
    return cells


def _score_bar(label: str, row: Mapping[str, object], k: int) -> ScoreBar:
    if row["suppressed"]:
        return ScoreBar(label, hidden=hidden_text(row, k))
    # the chart is drawn from the figures as the table shows them: its coordinates must not
    # carry more precision than the text (PRIVACY.md §5)
    return ScoreBar(label, **{name: _rounded_as_shown(row[name], kind) for name, kind in (
        ("mean_start", "score"), ("mean_end", "score"), ("mean_improvement", "score"),
        ("ci_low", "interval"), ("ci_high", "interval"), ("pct_improved", "share"),
        ("pct_unchanged", "share"), ("pct_deteriorated", "share"))})


def _rounded_as_shown(value: float | None, kind: str) -> float | None:
    """Exactly the number the text shows (a share as its whole percentage), rounded the way the
    text is formatted, so 0.435 shown as '44%' is 0.44, not round()'s 0.43."""
    if value is None:
        return None
    if kind == "share":
        return float(f"{float(value) * 100:.0f}") / 100
    return float(f"{float(value):.{DECIMALS_SHOWN.get(kind, 1)}f}")


def _indicator_bar(label: str, row: Mapping[str, object], k: int) -> IndicatorBar:
    if row["suppressed"]:
        return IndicatorBar(label, hidden=hidden_text(row, k))
    return IndicatorBar(label, pct_planned_end=_rounded_as_shown(row["pct_planned_end"], "share"),
                        pct_goals_achieved=_rounded_as_shown(row["pct_goals_achieved"], "share"))


# --- reading the published copy -----------------------------------------------------------------


@dataclass
class Published:
    scores: list[dict]
    indicators: list[dict]
    build_id: str | None
    # (organisation, team code) -> the registered display name (mart.teams)
    team_names: dict[tuple[str, str], str] = field(default_factory=dict)


def _fetch(con: duckdb.DuckDBPyConnection, table: str, period: str) -> list[dict]:
    # table comes from the fixed list below; the period is bound
    cursor = con.execute(f"SELECT * FROM mart.{table} WHERE period = ?", [period])
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:
        row["_table"] = table
        row.setdefault("suppression_reason", None)
    return rows


def read_publication(publication: Path, period: str = ALL) -> Published:
    con = duckdb.connect(str(publication), read_only=True)
    try:
        scores, indicators = [], []
        for table, into in (("outcome_scores", scores), ("outcome_scores_rest", scores),
                            ("trajectory_indicators", indicators),
                            ("trajectory_indicators_rest", indicators)):
            into += _fetch(con, table, period)
        build = con.execute("SELECT build_id FROM mart.build_info").fetchall()
        names = con.execute("SELECT organisation, team, team_name FROM mart.teams").fetchall()
    finally:
        con.close()
    return Published(scores, indicators, build[0][0] if build else None,
                     {(organisation, team): name for organisation, team, name in names})


# --- pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """What a chart shows, drawn only when a page is rendered: the page digest is taken over
    these figures, and an unchanged page draws no chart at all. Jinja inserts `__html__`."""

    kind: str  # score | indicator
    bars: tuple[ScoreBar | IndicatorBar, ...]
    salt: str

    def __html__(self) -> Markup:
        draw = score_chart if self.kind == "score" else indicator_chart
        return Markup(draw(self.bars, self.salt))  # every text in it is escaped (charts.py)


@dataclass
class Section:
    title: str
    note: str
    headers: list[str]
    rows: list[Row]
    chart: Chart
    anchor: str


@dataclass
class Page:
    file: str
    title: str
    intro: str
    sections: list[Section]
    links: list[tuple[str, str]]


class _Labels:
    def __init__(self, settings: DashboardSettings, team_names: Mapping[tuple[str, str], str]) -> None:
        self.settings = settings
        self.team_names = team_names

    def organisation(self, code: str) -> str:
        return self.settings.providers.get(code, code)

    def team(self, organisation: str, code: str) -> str:
        """The registered display name (mart.teams); a code is registered text too."""
        return self.team_names.get((organisation, code), code)

    def intervention(self, code: str) -> str:
        name = self.settings.interventions.get(code)
        return f"{name} ({code})" if name and name != code else code

    def measure(self, measure: tuple[str, str, str]) -> str:
        instrument, schaal, informant = measure
        full = INSTRUMENT_NAMES.get(instrument)
        return f"{instrument} {schaal}" + (f" ({full})" if full else "") + f" — informant: {informant}"

    def direction(self, measure: tuple[str, str, str]) -> str:
        worse = self.settings.higher_is_worse.get(measure[:2])
        if worse is None:
            return "Verbetering is positief als het beter gaat, ongeacht de richting van de schaal."
        return ("Een hogere score betekent meer problemen; verbetering = start − eind."
                if worse else "Een hogere score is beter; verbetering = eind − start.")


def _measure_of(row: Mapping[str, object]) -> tuple[str, str, str]:
    return (str(row["instrument"]), str(row["schaal"]), str(row["informant"]))


def _sorted_groups(rows: Iterable[dict], key: str) -> list[dict]:
    return sorted(rows, key=lambda row: str(row[key]))


def _section(
    title: str, note: str, groups: list[tuple[str, str, dict]], settings: DashboardSettings,
    salt: str, scores: bool,
) -> Section:
    metrics = SCORE_METRICS if scores else INDICATOR_METRICS
    rows = [Row(label, kind, _cells(row["_table"], row, metrics, settings.k, scores))
            for label, kind, row in groups]
    if scores:
        chart = Chart("score", tuple(_score_bar(label, row, settings.k) for label, _, row in groups), salt)
    else:
        chart = Chart("indicator", tuple(_indicator_bar(label, row, settings.k) for label, _, row in groups), salt)
    return Section(title, note, [header for _, header, _ in metrics], rows, chart, salt)


def _organisation_page(code: str, published: Published, settings: DashboardSettings,
                       labels: _Labels) -> Page:
    name = labels.organisation(code)

    def pick(rows: list[dict], level: str, table_suffix: str = "") -> list[dict]:
        return [r for r in rows if r["level"] == level and r["_table"].endswith(table_suffix)
                and (level == "consortium" or r["organisation"] == code)]

    def groups_for(rows: list[dict]) -> list[tuple[str, str, dict]]:
        groups = [(name, "self", r) for r in pick(rows, "organisation")]
        groups += [("Rest van het consortium", "rest", r) for r in pick(rows, "rest_of_consortium")]
        groups += [("Consortium (totaal)", "consortium", r) for r in pick(rows, "consortium")]
        teams = sorted((labels.team(code, str(r["team"])), str(r["team"]), r) for r in pick(rows, "team"))
        groups += [(f"Team: {name}", "team", r) for name, _, r in teams]
        groups += [(f"Interventie: {labels.intervention(str(r['intervention']))}", "intervention", r)
                   for r in _sorted_groups(pick(rows, "organisation_intervention"), "intervention")]
        return groups

    sections = []
    own_measures = sorted({_measure_of(r) for r in published.scores
                           if r["level"] == "organisation" and r["organisation"] == code})
    for number, measure in enumerate(own_measures):
        rows = [r for r in published.scores if _measure_of(r) == measure]
        sections.append(_section(labels.measure(measure), labels.direction(measure), groups_for(rows),
                                 settings, f"{code}-m{number}", scores=True))
    sections.append(_section(
        "Trajectindicatoren", "Beëindigde trajecten: gepland beëindigd (reden einde 1, zonder "
        "reden 5 in de noemer), doelen (grotendeels) behaald, tevredenheid.",
        groups_for(published.indicators), settings, f"{code}-ti", scores=False))
    intro = (f"{name} naast de rest van het consortium (alle andere organisaties samen) en het "
             f"consortium als geheel, per team en per interventie. Alle jaren samen.")
    return Page(f"organisatie-{code}.html", f"{name} — Lerende Databank Jeugd", intro, sections,
                [("index.html", "Consortium")])


def _consortium_page(published: Published, settings: DashboardSettings, labels: _Labels,
                     organisations: list[str]) -> Page:
    def groups_for(rows: list[dict]) -> list[tuple[str, str, dict]]:
        contract = [r for r in rows if r["_table"] in ("outcome_scores", "trajectory_indicators")]
        groups = [("Consortium", "consortium", r) for r in contract if r["level"] == "consortium"]
        if settings.show_organisation_names:
            groups += [(labels.organisation(str(r["organisation"])), "organisation", r)
                       for r in _sorted_groups([r for r in contract if r["level"] == "organisation"],
                                               "organisation")]
        groups += [(f"Interventie: {labels.intervention(str(r['intervention']))}", "intervention", r)
                   for r in _sorted_groups([r for r in contract if r["level"] == "intervention"],
                                           "intervention")]
        return groups

    sections = []
    measures = sorted({_measure_of(r) for r in published.scores if r["level"] == "consortium"})
    for number, measure in enumerate(measures):
        rows = [r for r in published.scores if _measure_of(r) == measure]
        sections.append(_section(labels.measure(measure), labels.direction(measure), groups_for(rows),
                                 settings, f"consortium-m{number}", scores=True))
    sections.append(_section("Trajectindicatoren", "Beëindigde trajecten.", groups_for(published.indicators),
                             settings, "consortium-ti", scores=False))
    if settings.show_organisation_names:
        intro = "Het consortium als geheel, per organisatie en per interventie. Alle jaren samen."
        links = [(f"organisatie-{code}.html", labels.organisation(code)) for code in organisations]
    else:
        intro = ("Het consortium als geheel en per interventie. Alle jaren samen. Organisaties "
                 "worden hier niet afzonderlijk getoond; elke organisatie ziet zichzelf naast de "
                 "rest van het consortium op haar eigen pagina.")
        links = []
    return Page("index.html", "Consortium — Lerende Databank Jeugd", intro, sections, links)


_ENVIRONMENT = Environment(
    loader=PackageLoader("warehouse.dashboard", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


# Where the build id goes while a page is rendered: it contains '<', which no escaped text and no
# chart (charts.py escapes its texts) can produce, so it marks exactly the template's own slots.
BUILD_SLOT = Markup("<databank-build-slot/>")
TEMPLATE = "page.html.j2"


@functools.cache
def renderer_version() -> str:
    """The page format and the source of everything that renders a page (this module, the
    charts, the template): a page whose code changed is drawn again, with no version to bump."""
    digest = hashlib.sha256(str(DASHBOARD_FORMAT).encode())
    template = Path(__file__).parent / "templates" / TEMPLATE
    for source in (Path(__file__), Path(charts_module.__file__), template):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def page_digest(page: Page, settings: DashboardSettings) -> str:
    """Everything a page shows but the build id: its texts, cells, chart figures and links, k,
    the questions, and the renderer's version. Equal digests give equal pages (up to the id)."""
    payload = json.dumps(
        [renderer_version(), settings.k, QUESTIONS, page],
        sort_keys=True, ensure_ascii=False, default=_plain,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    """A page's dataclasses as their fields (without asdict's deep copy: half the digest's time),
    anything else as its text."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__, **vars(value)}
    return str(value)


def render_page(page: Page, settings: DashboardSettings, build_id: str | None) -> str:
    return "".join(_render_parts(page, settings, build_id))


def _render_parts(page: Page, settings: DashboardSettings, build_id: str | None) -> list[str]:
    """The page split at its build-id slots, the id between the parts."""
    text = _ENVIRONMENT.get_template(TEMPLATE).render(
        page=page, questions=QUESTIONS, k=settings.k, build_id=BUILD_SLOT,
    )
    parts = text.split(str(BUILD_SLOT))
    shown = str(escape(build_id or "–"))
    out = [parts[0]]
    for part in parts[1:]:
        out += [shown, part]
    return out


@dataclass(frozen=True)
class _Drawn:
    """A page as written: the byte offsets of its build id (for taking it over next time)."""

    content: bytes
    slots: list[int]
    build_id: str


def _drawn(parts: list[str], build_id: str) -> _Drawn:
    encoded = [part.encode("utf-8") for part in parts]
    slots, offset = [], 0
    for index, part in enumerate(encoded):
        if index % 2 == 1:
            slots.append(offset)
        offset += len(part)
    return _Drawn(b"".join(encoded), slots, build_id)


def _taken_over(old: Path, entry: Mapping[str, object], build_id: str) -> _Drawn | None:
    """The previous page with the new build id, if it is exactly the file this renderer wrote
    (checked by its hash) and its id slots are where it recorded them; else None (draw anew)."""
    try:
        content = old.read_bytes()
        old_id = str(entry["build_id"]).encode("utf-8")
        slots = [int(slot) for slot in entry["slots"]]  # type: ignore[union-attr]
    except (OSError, KeyError, TypeError, ValueError):
        return None
    if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
        return None
    parts, previous = [], 0
    for slot in slots:
        if content[slot:slot + len(old_id)] != old_id:
            return None
        parts += [content[previous:slot].decode("utf-8"), build_id]
        previous = slot + len(old_id)
    parts.append(content[previous:].decode("utf-8"))
    return _drawn(parts, build_id)


def _previous_pages(target: Path) -> dict[str, dict]:
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
        pages = marker.get("digests") or {}
        return pages if isinstance(pages, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def build_dashboard(publication: Path, target: Path, settings: DashboardSettings) -> DashboardResult:
    """Render every page whose digest changed from the published copy into a fresh folder (the
    others taken over from the current folder with the new build id) and swap it in."""
    published = read_publication(publication)
    labels = _Labels(settings, published.team_names)
    in_data = {str(r["organisation"]) for r in published.scores + published.indicators
               if r["level"] == "organisation"}
    organisations = sorted(in_data | set(settings.providers))
    pages = [_consortium_page(published, settings, labels, organisations)]
    pages += [_organisation_page(code, published, settings, labels) for code in organisations]
    previous = _previous_pages(target)
    shown_id = str(escape(published.build_id or "–"))

    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.*"):  # left by a killed build
        shutil.rmtree(leftover, ignore_errors=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.mkdir()
    charts = drawn_pages = 0
    digests: dict[str, dict] = {}
    for page in pages:
        digest = page_digest(page, settings)
        entry = previous.get(page.file)
        drawn = None
        if isinstance(entry, dict) and entry.get("digest") == digest:
            drawn = _taken_over(target / page.file, entry, shown_id)
        if drawn is None:
            drawn = _drawn(_render_parts(page, settings, published.build_id), shown_id)
            drawn_pages += 1
        (temporary / page.file).write_bytes(drawn.content)
        digests[page.file] = {"digest": digest, "sha256": hashlib.sha256(drawn.content).hexdigest(),
                              "build_id": drawn.build_id, "slots": drawn.slots}
        charts += len(page.sections)
    (temporary / MARKER).write_text(json.dumps(
        {"build_id": published.build_id, "format": DASHBOARD_FORMAT,
         "pages": [page.file for page in pages], "digests": digests}, indent=1), encoding="utf-8")
    share_with_group(temporary)  # each organisation's readers (warehouse/permissions.py)
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(temporary, target)
    shutil.rmtree(old, ignore_errors=True)
    return DashboardResult(pages=len(pages), organisation_pages=len(pages) - 1, charts=charts,
                           pages_drawn=drawn_pages)

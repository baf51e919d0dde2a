"""Indirect identifiability: what the warehouse keeps of the quasi-identifiers, the k-anonymity
of what it keeps and of what each research extract ships, and the versioned `config/privacy.toml`
that decides both.

An equivalence class is one combination of the quasi-identifiers' values; its size is the number
of distinct clients in it (a client with two trajectories counts once), or of records when no
person column is given. A client counts as standing out ("below k") when any of their rows lies in
a class of fewer than k clients. Reports hold counts only: class sizes and how many classes and
clients have them, never a value of a quasi-identifier, so they are as safe to hand out as the
steward's other reports."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from schemas.config import PRIVACY_FILE, ConfigError, config_file
from schemas.extracts import BUILT_IN_DEFAULT, DEFAULT_SCOPE, ExtractScope, parse_scope
from schemas.files import read_toml, write_text_files

# What the warehouse may keep that an acquaintance of a client could know (PRIVACY.md §1): the
# allowed entries of [anonymity] quasi_identifiers. pc4 and birth_year only when stored.
STORED_QUASI_IDENTIFIERS = (
    "provider", "team", "interventie", "hulpvorm", "age_at_start", "geslacht", "start_month",
    "end_month", "pc4", "birth_year",
)
DEFAULT_QUASI_IDENTIFIERS = STORED_QUASI_IDENTIFIERS[:8]
DATE_LEVELS = ("month", "year")
PC4_LEVELS = ("none", "pc2", "pc4")
BIRTH_YEAR_LEVELS = ("none", "year")
# Stored only for a use the consortium documents under [uses] (AVG art. 5(1)(b), (c)).
OPTIONAL_FIELDS = ("pc4", "birth_year")
REPORT_NAMES = ("anonimiteit.json", "anonimiteit.html")


@dataclass(frozen=True)
class AnonymityConfig:
    version: str = "default"
    k: int = 5  # not the publication k of consortium.toml
    quasi_identifiers: tuple[str, ...] = DEFAULT_QUASI_IDENTIFIERS
    # the share of an extract's clients that must be in classes of at least k (databank extract)
    extract_share: float = 0.95
    dates: str = "month"  # start and end as their month ("month") or their year ("year")
    pc4: str = "none"
    birth_year: str = "none"
    uses: tuple[tuple[str, str], ...] = ()  # (field, the documented use it is stored for)
    extracts: tuple[ExtractScope, ...] = (BUILT_IN_DEFAULT,)
    # [retention]: what happens to a delivery's landing files once it is processed
    landing_after_processing: str = "delete"

    @property
    def generalisation(self) -> dict[str, str]:
        return {"dates": self.dates, "pc4": self.pc4, "birth_year": self.birth_year}

    @property
    def stored_optional(self) -> tuple[str, ...]:
        """The optional quasi-identifiers this configuration stores (pc4, birth_year)."""
        return tuple(f for f in OPTIONAL_FIELDS if getattr(self, f) != "none")

    @property
    def warehouse_quasi_identifiers(self) -> tuple[str, ...]:
        """The configured list plus every optional field that is stored: a report that left out
        the postcode the consortium chose to keep would overstate the warehouse's anonymity."""
        return (*self.quasi_identifiers, *(f for f in self.stored_optional if f not in self.quasi_identifiers))

    def scope(self, name: str) -> ExtractScope:
        """The scope `name` as configured; an unconfigured name gets the default scope's columns
        (under its own name: its pseudonyms are still its own)."""
        by_name = {s.name: s for s in self.extracts}
        if name in by_name:
            return by_name[name]
        default = by_name.get(DEFAULT_SCOPE, BUILT_IN_DEFAULT)
        return replace(default, name=name)

    @property
    def extract_scopes(self) -> tuple[ExtractScope, ...]:
        """Every configured scope, and the default one whether configured or not."""
        names = [s.name for s in self.extracts]
        return self.extracts if DEFAULT_SCOPE in names else (*self.extracts, BUILT_IN_DEFAULT)


@dataclass(frozen=True)
class ClassSizes:
    class_size: int  # clients (or records) sharing one combination of quasi-identifiers
    classes: int  # how many classes have that size
    members: int  # clients (or records) in those classes, summed over the classes


@dataclass
class AnonymityReport:
    k: int
    quasi_identifiers: tuple[str, ...]
    unit: str  # "clients" (distinct persons per class) or "records"
    population: int  # clients (or records) measured
    records: int  # rows measured (trajectories)
    classes: int
    smallest_class: int | None  # None when there are no records
    classes_below_k: int
    below_k: int  # clients (or records) with a row in a class smaller than k, each once
    records_below_k: int
    histogram: list[ClassSizes]
    scope: str = ""
    config_version: str = ""
    generalisation: dict[str, str] = field(default_factory=dict)
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def share_below_k(self) -> float | None:
        return self.below_k / self.population if self.population else None

    @property
    def share_at_least_k(self) -> float | None:
        """The share of clients who share their quasi-identifiers with at least k - 1 others."""
        return None if self.share_below_k is None else 1 - self.share_below_k

    @property
    def meets_k(self) -> bool:
        return self.below_k == 0


# --- measuring ----------------------------------------------------------------------------------


def k_anonymity(
    frame: pd.DataFrame, quasi_identifiers: tuple[str, ...] | list[str], k: int, person_column: str | None = None
) -> AnonymityReport:
    """Equivalence classes over `quasi_identifiers` (an empty value is a value of its own). With
    `person_column`, a class's size is its number of distinct persons, so the same client's
    trajectories cannot make a class look larger than it is, and the counts below k are of
    persons: a client with a row in any small class counts once."""
    qis = tuple(quasi_identifiers)
    missing = [c for c in (*qis, *([person_column] if person_column else [])) if c not in frame.columns]
    if missing:
        raise ValueError(f"columns missing for k-anonymity: {', '.join(missing)}")
    if not qis:
        raise ValueError("k-anonymity needs at least one quasi-identifier")
    unit = "clients" if person_column else "records"
    if frame.empty:
        return AnonymityReport(
            k=k, quasi_identifiers=qis, unit=unit, population=0, records=0, classes=0,
            smallest_class=None, classes_below_k=0, below_k=0, records_below_k=0, histogram=[],
        )
    class_of = frame.groupby(list(qis), dropna=False, sort=False, observed=True).ngroup()
    persons = frame[person_column] if person_column else pd.Series(range(len(frame)), index=frame.index)
    sizes = persons.groupby(class_of).nunique(dropna=False)
    small = class_of.map(sizes) < k
    histogram = sizes.value_counts().sort_index()
    return AnonymityReport(
        k=k,
        quasi_identifiers=qis,
        unit=unit,
        population=int(persons.nunique(dropna=False)),
        records=len(frame),
        classes=len(sizes),
        smallest_class=int(sizes.min()),
        classes_below_k=int((sizes < k).sum()),
        below_k=int(persons[small].nunique(dropna=False)),
        records_below_k=int(small.sum()),
        histogram=[ClassSizes(int(size), int(count), int(size) * int(count)) for size, count in histogram.items()],
    )


def anonymity_report(
    frame: pd.DataFrame, config: AnonymityConfig, scope: str,
    quasi_identifiers: Sequence[str] | None = None,
) -> AnonymityReport:
    """k-anonymity of trajectory records (with their `client_id`) over `quasi_identifiers` (the
    warehouse's, by default)."""
    person = "client_id" if "client_id" in frame.columns else None
    qis = tuple(quasi_identifiers) if quasi_identifiers is not None else config.warehouse_quasi_identifiers
    report = k_anonymity(frame, qis, config.k, person_column=person)
    return replace(report, scope=scope, config_version=config.version, generalisation=config.generalisation)


# --- configuration ------------------------------------------------------------------------------

_SECTIONS = {
    "anonymity": ("k", "quasi_identifiers", "extract_share"),
    "generalisation": ("dates", "pc4", "birth_year"),
    "uses": OPTIONAL_FIELDS,
    "retention": ("landing_after_processing",),
    "extracts": None,  # one sub-table per scope (schemas/extracts.py)
}
RETENTION_CHOICES = ("delete", "keep")
# Settings of privacy.toml versions before minimisation (PRIVACY.md §1): said plainly, since a
# home's file copied from the old defaults carries them.
_WITHDRAWN = {
    ("dates", "day"): 'dates = "day" is no longer offered: the warehouse stores start and end as '
    'months and every other date as days on the trajectory\'s clock (PRIVACY.md §1); use "month" or "year"',
    ("birth_year", "5y"): 'birth_year = "5y" is no longer offered: the age at start in whole years and '
    'the start month already give the birth year within a year; use "none" (the default) or "year"',
}


def load_anonymity_config(config_dir: Path) -> AnonymityConfig:
    return load_privacy_config(config_file(config_dir, PRIVACY_FILE))


def _line_finder(lines: list[str]):  # noqa: ANN202 - (key, section) -> line
    def line_of(key: str, section: str | None = None) -> int | None:
        """The line of `key = ...` (inside `[section]` when given), or of the `[key]` header."""
        current = None
        for number, content in enumerate(lines, start=1):
            header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", content)
            if header:
                current = header.group(1).replace('"', "").replace(" ", "")
                if section is None and current == key:
                    return number
            elif re.match(rf'^\s*"?{re.escape(key)}"?\s*=', content) and current == section:
                return number
        return None

    return line_of


def load_privacy_config(path: Path) -> AnonymityConfig:
    """A key left out takes its default; a key or section the file format does not know is an
    error, since a misspelt generalisation silently ignored would store more than intended."""
    text, data = read_toml(path)
    line_of = _line_finder(text.splitlines())

    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ConfigError(path, line_of("version"), 'a `version = "..."` is required, so reports can name their rules')
    for name, value in data.items():
        if name == "version":
            continue
        if name not in _SECTIONS:
            raise ConfigError(path, line_of(name), f"unknown setting or section {name!r}; expected "
                              f"{', '.join(f'[{s}]' for s in _SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(path, line_of(name), f"{name} must be a [{name}] table")
        for key in value:
            if _SECTIONS[name] is not None and key not in _SECTIONS[name]:
                raise ConfigError(path, line_of(key, name), f"[{name}] has no setting {key!r}; expected "
                                  f"{', '.join(_SECTIONS[name])}")
    anonymity = data.get("anonymity", {})
    generalisation = data.get("generalisation", {})
    defaults = AnonymityConfig()

    k = anonymity.get("k", defaults.k)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ConfigError(path, line_of("k", "anonymity"), "[anonymity] k must be a whole number of at least 2")
    share = anonymity.get("extract_share", defaults.extract_share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ConfigError(path, line_of("extract_share", "anonymity"),
                          "[anonymity] extract_share must be a number above 0 and at most 1 (e.g. 0.95)")

    levels = {}
    for key, allowed in (("dates", DATE_LEVELS), ("pc4", PC4_LEVELS), ("birth_year", BIRTH_YEAR_LEVELS)):
        value = generalisation.get(key, getattr(defaults, key))
        if (key, value) in _WITHDRAWN:
            raise ConfigError(path, line_of(key, "generalisation"), f"[generalisation] {_WITHDRAWN[(key, value)]}")
        if value not in allowed:
            raise ConfigError(path, line_of(key, "generalisation"),
                              f"[generalisation] {key} must be one of {', '.join(map(repr, allowed))}")
        levels[key] = value
    uses = data.get("uses", {})
    for key, use in uses.items():
        if not isinstance(use, str) or not use.strip():
            raise ConfigError(path, line_of(key, "uses"), f"[uses] {key} must say, in words, what it is used for")
    for key in OPTIONAL_FIELDS:
        if levels[key] != "none" and key not in uses:
            raise ConfigError(
                path, line_of(key, "generalisation"),
                f"[generalisation] {key} = {levels[key]!r} stores {key}, which no mart or check needs: name the "
                f'use it is stored for under [uses] ({key} = "...", e.g. the DPIA entry), or set '
                f'{key} = "none" (the default)',
            )

    qis = anonymity.get("quasi_identifiers", list(defaults.quasi_identifiers))
    where = line_of("quasi_identifiers", "anonymity")
    if not isinstance(qis, list) or not qis or not all(isinstance(q, str) for q in qis):
        raise ConfigError(path, where, "[anonymity] quasi_identifiers must be a non-empty list of column names")
    unknown = [q for q in qis if q not in STORED_QUASI_IDENTIFIERS]
    if unknown:
        raise ConfigError(path, where, f"unknown quasi-identifier(s) {', '.join(map(repr, unknown))}; allowed: "
                          f"{', '.join(STORED_QUASI_IDENTIFIERS)}")
    not_stored = [q for q in qis if q in OPTIONAL_FIELDS and levels[q] == "none"]
    if not_stored:
        raise ConfigError(path, where, f"{', '.join(map(repr, not_stored))} is not stored ([generalisation]), "
                          "so it cannot be a quasi-identifier of the warehouse")
    if len(set(qis)) != len(qis):
        raise ConfigError(path, where, "[anonymity] quasi_identifiers lists a column twice")

    extracts = _load_scopes(path, data.get("extracts", {}), levels, line_of)
    retention = data.get("retention", {}).get("landing_after_processing", defaults.landing_after_processing)
    if retention not in RETENTION_CHOICES:
        raise ConfigError(path, line_of("landing_after_processing", "retention"),
                          "[retention] landing_after_processing must be \"delete\" or \"keep\"")
    return AnonymityConfig(
        version=version.strip(), k=k, quasi_identifiers=tuple(qis), extract_share=float(share), **levels,
        uses=tuple((key, uses[key].strip()) for key in OPTIONAL_FIELDS if key in uses),
        extracts=extracts, landing_after_processing=retention,
    )


def _load_scopes(path: Path, tables: dict, levels: dict[str, str], line_of) -> tuple[ExtractScope, ...]:  # noqa: ANN001
    """Each [extracts.<scope>], checked against what the warehouse stores: a scope cannot ask
    for a finer level than is kept (a postcode region when no postcode is stored)."""
    scopes = []
    for name, table in tables.items():
        section = f"extracts.{name}"
        if not isinstance(table, dict):
            raise ConfigError(path, line_of(name, "extracts") or line_of(section),
                              f"extracts.{name} must be an [extracts.{name}] table")
        parsed = parse_scope(name, table)
        if isinstance(parsed, tuple):
            key, problem = parsed
            raise ConfigError(path, line_of(key, section) or line_of(section), problem)
        finer = {
            ("pc4", "pc4"): levels["pc4"] != "pc4",
            ("pc4", "pc2"): levels["pc4"] == "none",
            ("birth_year", "year"): levels["birth_year"] == "none",
            ("start", "month"): levels["dates"] != "month",
            ("start", "quarter"): levels["dates"] != "month",
            ("end", "month"): levels["dates"] != "month",
            ("end", "quarter"): levels["dates"] != "month",
        }
        for key, level in parsed.columns:
            if finer.get((key, level)):
                raise ConfigError(path, line_of(key, section),
                                  f"[extracts.{name}] asks for {key} = {level!r}, finer than the warehouse keeps it "
                                  f"([generalisation]: {key if key in levels else 'dates'} = "
                                  f"{levels[key if key in levels else 'dates']!r})")
        scopes.append(parsed)
    return tuple(scopes) or (BUILT_IN_DEFAULT,)


# --- reports ------------------------------------------------------------------------------------

QI_DUTCH = {
    "provider": "aanbieder", "team": "team", "interventie": "interventie", "hulpvorm": "hulpvorm",
    "birth_year": "geboortejaar", "age_at_start": "leeftijd bij start", "age_band": "leeftijdsklasse",
    "geslacht": "geslacht", "female": "vrouw (ja/nee)", "pc4": "postcode (cijfers)", "pc2": "postcode (regio)",
    "start_month": "startmaand", "start_quarter": "startkwartaal", "start_year": "startjaar",
    "end_month": "eindmaand", "end_quarter": "eindkwartaal", "end_year": "eindjaar",
    "duration_days": "duur (dagen)", "duration_weeks": "duur (weken)", "duration_months": "duur (maanden)",
}
LEVEL_DUTCH = {
    "month": "maand", "year": "jaar", "pc4": "vier cijfers", "pc2": "twee cijfers (regio)",
    "none": "niet opgeslagen",
}


def anonymity_payload(report: AnonymityReport) -> dict:
    """One report as data. `clients_below_k` counts each client once, however many of their
    trajectories lie in small classes; `trajectories` are the rows measured."""
    return {
        "scope": report.scope,
        "config_version": report.config_version,
        "generated_at": report.generated_at,
        "k": report.k,
        "quasi_identifiers": list(report.quasi_identifiers),
        "generalisation": report.generalisation,
        "unit": report.unit,
        report.unit: report.population,
        "trajectories": report.records,
        "classes": report.classes,
        "smallest_class": report.smallest_class,
        "classes_below_k": report.classes_below_k,
        f"{report.unit}_below_k": report.below_k,
        "trajectories_below_k": report.records_below_k,
        "share_below_k": report.share_below_k,
        "share_at_least_k": report.share_at_least_k,
        "meets_k": report.meets_k,
        "class_sizes": [asdict(h) for h in report.histogram],
    }


def anonymity_json(reports: Sequence[AnonymityReport]) -> str:
    return json.dumps({"reports": [anonymity_payload(r) for r in reports]}, indent=2, ensure_ascii=False)


def _section(report: AnonymityReport) -> str:
    e = html.escape
    unit = "cliënten" if report.unit == "clients" else "records"
    share = "" if report.share_below_k is None else f" ({report.share_below_k:.1%})"
    verdict = (
        "geen records" if not report.records
        else f"voldoet aan k = {report.k}" if report.meets_k
        else f"voldoet niet aan k = {report.k}"
    )
    qis = ", ".join(QI_DUTCH.get(q, q) for q in report.quasi_identifiers)
    levels = ", ".join(f"{k}: {LEVEL_DUTCH.get(v, v)}" for k, v in report.generalisation.items())
    rows = "\n".join(
        f'<tr class="{"fail" if h.class_size < report.k else "pass"}"><td>{h.class_size}</td>'
        f"<td>{h.classes}</td><td>{h.members}</td></tr>"
        for h in report.histogram
    )
    return f"""<section>
<h2>{e(report.scope)}</h2>
<p>Een klasse is één combinatie van de waarden van {e(qis)}
(opslag: {e(levels or "zoals aangeleverd")}). De grootte van een klasse is het aantal
verschillende {e(unit)} erin; een cliënt met meer trajecten telt één keer.</p>
<table><tbody>
<tr><th>oordeel</th><td>{e(verdict)}</td></tr>
<tr><th>{e(unit)}</th><td>{report.population}</td></tr>
<tr><th>trajecten</th><td>{report.records}</td></tr>
<tr><th>klassen</th><td>{report.classes}</td></tr>
<tr><th>kleinste klasse</th><td>{e("" if report.smallest_class is None else str(report.smallest_class))}</td></tr>
<tr><th>klassen kleiner dan k = {report.k}</th><td>{report.classes_below_k}</td></tr>
<tr><th>{e(unit)} in een klasse kleiner dan k</th><td>{report.below_k}{e(share)}</td></tr>
</tbody></table>
<h3>Klassegrootten</h3>
<table><thead><tr><th>grootte ({e(unit)})</th><th>aantal klassen</th><th>{e(unit)} in die klassen</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</section>"""


def anonymity_html(reports: Sequence[AnonymityReport]) -> str:
    e = html.escape
    first = reports[0]
    sections = "\n".join(_section(r) for r in reports)
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<title>Herleidbaarheid {e(first.scope)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
tr.fail td{{background:#fde2e1}}tr.pass td{{background:#e6f4ea}}</style>
</head><body>
<h1>Indirecte herleidbaarheid (k-anonimiteit): {e(first.scope)}</h1>
<p>Regels versie {e(first.config_version)}; gemaakt {e(first.generated_at)}.
Dit rapport bevat alleen aantallen, nooit de waarden zelf.</p>
{sections}
</body></html>
"""


def write_anonymity_report(reports: AnonymityReport | Sequence[AnonymityReport], directory: Path) -> list[Path]:
    """One JSON and one HTML file for one report or several (the warehouse and each extract
    scope, in that order)."""
    reports = [reports] if isinstance(reports, AnonymityReport) else list(reports)
    contents = (anonymity_json(reports), anonymity_html(reports))
    return write_text_files(directory, dict(zip(REPORT_NAMES, contents, strict=True)))

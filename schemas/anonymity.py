"""Indirect identifiability: k-anonymity over the quasi-identifiers the warehouse keeps (birth
year, sex, PC4, dates), and their further generalisation where the consortium configures it in
the versioned `config/privacy.toml`.

An equivalence class is one combination of the quasi-identifiers' values, as stored; its size is
the number of distinct clients in it (a client with two trajectories counts once), or of records
when no person column is given. Reports hold counts only: class sizes and how many classes and
records have them, never a value of a quasi-identifier, so they are as safe to hand out as the
steward's other reports."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from schemas.config import PRIVACY_FILE, ConfigError, config_file
from schemas.files import read_toml, write_text_files

QUASI_IDENTIFIER_COLUMNS = ("birth_year", "age_at_start", "geslacht", "pc4", "startdatum", "einddatum")
DEFAULT_QUASI_IDENTIFIERS = ("birth_year", "geslacht", "pc4", "startdatum")
DATE_COLUMNS = ("startdatum", "einddatum", "datum")  # datum: a measurement's date
DATE_LEVELS = ("day", "month", "year")
PC4_LEVELS = ("pc4", "pc2", "none")
BIRTH_YEAR_LEVELS = ("year", "5y")
BAND_YEARS = 5
REPORT_NAMES = ("anonimiteit.json", "anonimiteit.html")


@dataclass(frozen=True)
class AnonymityConfig:
    version: str = "default"
    k: int = 5  # not the publication k of consortium.toml
    quasi_identifiers: tuple[str, ...] = DEFAULT_QUASI_IDENTIFIERS
    dates: str = "day"
    pc4: str = "pc4"
    birth_year: str = "year"
    # [retention]: what happens to a delivery's landing files once it is processed
    landing_after_processing: str = "delete"

    @property
    def generalisation(self) -> dict[str, str]:
        return {"dates": self.dates, "pc4": self.pc4, "birth_year": self.birth_year}

    @property
    def generalises(self) -> bool:
        """False for the defaults: then the stored values are exactly what the read step made."""
        return (self.dates, self.pc4, self.birth_year) != ("day", "pc4", "year")


@dataclass(frozen=True)
class ClassSizes:
    class_size: int  # clients (or records) sharing one combination of quasi-identifiers
    classes: int  # how many classes have that size
    records: int  # how many records those classes hold


@dataclass
class AnonymityReport:
    k: int
    quasi_identifiers: tuple[str, ...]
    unit: str  # "clients" (distinct persons per class) or "records"
    records: int
    classes: int
    smallest_class: int | None  # None when there are no records
    classes_below_k: int
    records_below_k: int
    histogram: list[ClassSizes]
    scope: str = ""
    config_version: str = ""
    generalisation: dict[str, str] = field(default_factory=dict)
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def share_below_k(self) -> float | None:
        return self.records_below_k / self.records if self.records else None

    @property
    def meets_k(self) -> bool:
        return self.records_below_k == 0


# --- measuring ----------------------------------------------------------------------------------


def k_anonymity(
    frame: pd.DataFrame, quasi_identifiers: tuple[str, ...] | list[str], k: int, person_column: str | None = None
) -> AnonymityReport:
    """Equivalence classes over `quasi_identifiers` (an empty value is a value of its own). With
    `person_column`, a class's size is its number of distinct persons, so the same client's
    trajectories cannot make a class look larger than it is."""
    qis = tuple(quasi_identifiers)
    missing = [c for c in (*qis, *([person_column] if person_column else [])) if c not in frame.columns]
    if missing:
        raise ValueError(f"columns missing for k-anonymity: {', '.join(missing)}")
    if not qis:
        raise ValueError("k-anonymity needs at least one quasi-identifier")
    unit = "clients" if person_column else "records"
    if frame.empty:
        return AnonymityReport(
            k=k, quasi_identifiers=qis, unit=unit, records=0, classes=0, smallest_class=None,
            classes_below_k=0, records_below_k=0, histogram=[],
        )
    grouped = frame.groupby(list(qis), dropna=False, sort=False, observed=True)
    records = grouped.size()
    sizes = grouped[person_column].nunique(dropna=False) if person_column else records
    table = pd.DataFrame({"size": sizes.astype("int64"), "records": records.astype("int64")})
    below = table[table["size"] < k]
    histogram = table.groupby("size").agg(classes=("records", "size"), records=("records", "sum"))
    return AnonymityReport(
        k=k,
        quasi_identifiers=qis,
        unit=unit,
        records=len(frame),
        classes=len(table),
        smallest_class=int(table["size"].min()),
        classes_below_k=len(below),
        records_below_k=int(below["records"].sum()),
        histogram=[
            ClassSizes(int(size), int(row.classes), int(row.records))
            for size, row in histogram.sort_index().iterrows()
        ],
    )


def anonymity_report(frame: pd.DataFrame, config: AnonymityConfig, scope: str) -> AnonymityReport:
    """k-anonymity of trajectory records (with their `client_id`) as configured."""
    person = "client_id" if "client_id" in frame.columns else None
    report = k_anonymity(frame, config.quasi_identifiers, config.k, person_column=person)
    return replace(report, scope=scope, config_version=config.version, generalisation=config.generalisation)


# --- generalising -------------------------------------------------------------------------------


def _truncate_dates(values: pd.Series, level: str) -> pd.Series:
    if level == "day":
        return values
    stamps = pd.to_datetime(values)
    return stamps.dt.to_period("M" if level == "month" else "Y").dt.to_timestamp().astype(stamps.dtype)


def _band(values: pd.Series) -> pd.Series:
    return (values // BAND_YEARS) * BAND_YEARS


def generalise(frame: pd.DataFrame, config: AnonymityConfig) -> pd.DataFrame:
    """The configured generalisation of whichever quasi-identifier columns `frame` has (it serves
    trajectories and measurements alike). Dates keep their type: a month becomes its first day,
    a year its 1 January. Idempotent, and the identity under the default configuration."""
    if not config.generalises or frame.empty:
        return frame
    frame = frame.copy()
    for column in DATE_COLUMNS:
        if column in frame.columns:
            frame[column] = _truncate_dates(frame[column], config.dates)
    if "pc4" in frame.columns and config.pc4 != "pc4":
        frame["pc4"] = pd.Series(
            [value[:2] if config.pc4 == "pc2" and isinstance(value, str) else None for value in frame["pc4"]],
            index=frame.index, dtype="object",
        )
    if config.birth_year == "5y":
        for column in ("birth_year", "age_at_start"):
            if column in frame.columns:
                frame[column] = _band(frame[column])
    return frame


# --- configuration ------------------------------------------------------------------------------

_SECTIONS = {
    "anonymity": ("k", "quasi_identifiers"),
    "generalisation": ("dates", "pc4", "birth_year"),
    "retention": ("landing_after_processing",),
}
RETENTION_CHOICES = ("delete", "keep")


def load_anonymity_config(config_dir: Path) -> AnonymityConfig:
    return load_privacy_config(config_file(config_dir, PRIVACY_FILE))


def load_privacy_config(path: Path) -> AnonymityConfig:
    """A key left out takes its default; a key or section the file format does not know is an
    error, since a misspelt generalisation silently ignored would store more than intended."""
    text, data = read_toml(path)
    lines = text.splitlines()

    def line_of(key: str, section: str | None = None) -> int | None:
        """The line of `key = ...` (inside `[section]` when given), or of the `[key]` header."""
        current = None
        for number, content in enumerate(lines, start=1):
            header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", content)
            if header:
                current = header.group(1).strip('"')
                if section is None and current == key:
                    return number
            elif re.match(rf'^\s*"?{re.escape(key)}"?\s*=', content) and current == section:
                return number
        return None

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
            if key not in _SECTIONS[name]:
                raise ConfigError(path, line_of(key, name), f"[{name}] has no setting {key!r}; expected "
                                  f"{', '.join(_SECTIONS[name])}")
    anonymity = data.get("anonymity", {})
    generalisation = data.get("generalisation", {})
    defaults = AnonymityConfig()

    k = anonymity.get("k", defaults.k)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ConfigError(path, line_of("k", "anonymity"), "[anonymity] k must be a whole number of at least 2")
    qis = anonymity.get("quasi_identifiers", list(defaults.quasi_identifiers))
    where = line_of("quasi_identifiers", "anonymity")
    if not isinstance(qis, list) or not qis or not all(isinstance(q, str) for q in qis):
        raise ConfigError(path, where, "[anonymity] quasi_identifiers must be a non-empty list of column names")
    unknown = [q for q in qis if q not in QUASI_IDENTIFIER_COLUMNS]
    if unknown:
        raise ConfigError(path, where, f"unknown quasi-identifier(s) {', '.join(map(repr, unknown))}; allowed: "
                          f"{', '.join(QUASI_IDENTIFIER_COLUMNS)}")
    if len(set(qis)) != len(qis):
        raise ConfigError(path, where, "[anonymity] quasi_identifiers lists a column twice")

    levels = {}
    for key, allowed in (("dates", DATE_LEVELS), ("pc4", PC4_LEVELS), ("birth_year", BIRTH_YEAR_LEVELS)):
        value = generalisation.get(key, getattr(defaults, key))
        if value not in allowed:
            raise ConfigError(path, line_of(key, "generalisation"),
                              f"[generalisation] {key} must be one of {', '.join(map(repr, allowed))}")
        levels[key] = value
    retention = data.get("retention", {}).get("landing_after_processing", defaults.landing_after_processing)
    if retention not in RETENTION_CHOICES:
        raise ConfigError(path, line_of("landing_after_processing", "retention"),
                          "[retention] landing_after_processing must be \"delete\" or \"keep\"")
    return AnonymityConfig(
        version=version.strip(), k=k, quasi_identifiers=tuple(qis), **levels,
        landing_after_processing=retention,
    )


# --- reports ------------------------------------------------------------------------------------

QI_DUTCH = {
    "birth_year": "geboortejaar", "age_at_start": "leeftijd bij start", "geslacht": "geslacht",
    "pc4": "postcode (cijfers)", "startdatum": "startdatum", "einddatum": "einddatum",
}
LEVEL_DUTCH = {
    "day": "dag", "month": "maand", "year": "jaar", "pc4": "vier cijfers", "pc2": "twee cijfers (regio)",
    "none": "niet opgeslagen", "5y": "vijfjaarsklasse",
}


def anonymity_payload(report: AnonymityReport) -> dict:
    return {
        "scope": report.scope,
        "config_version": report.config_version,
        "generated_at": report.generated_at,
        "k": report.k,
        "quasi_identifiers": list(report.quasi_identifiers),
        "generalisation": report.generalisation,
        "unit": report.unit,
        "records": report.records,
        "classes": report.classes,
        "smallest_class": report.smallest_class,
        "classes_below_k": report.classes_below_k,
        "records_below_k": report.records_below_k,
        "share_below_k": report.share_below_k,
        "meets_k": report.meets_k,
        "class_sizes": [asdict(h) for h in report.histogram],
    }


def anonymity_json(report: AnonymityReport) -> str:
    return json.dumps(anonymity_payload(report), indent=2, ensure_ascii=False)


def anonymity_html(report: AnonymityReport) -> str:
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
        f"<td>{h.classes}</td><td>{h.records}</td></tr>"
        for h in report.histogram
    )
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<title>Herleidbaarheid {e(report.scope)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
tr.fail td{{background:#fde2e1}}tr.pass td{{background:#e6f4ea}}</style>
</head><body>
<h1>Indirecte herleidbaarheid (k-anonimiteit): {e(report.scope)}</h1>
<p>Regels versie {e(report.config_version)}; gemaakt {e(report.generated_at)}.</p>
<p>Een klasse is één combinatie van de waarden van {e(qis)}, zoals opgeslagen
(generalisatie: {e(levels or "geen")}). De grootte van een klasse is het aantal {e(unit)} erin.
Dit rapport bevat alleen aantallen, nooit de waarden zelf.</p>
<table><tbody>
<tr><th>oordeel</th><td>{e(verdict)}</td></tr>
<tr><th>records (trajecten)</th><td>{report.records}</td></tr>
<tr><th>klassen</th><td>{report.classes}</td></tr>
<tr><th>kleinste klasse</th><td>{e("" if report.smallest_class is None else str(report.smallest_class))}</td></tr>
<tr><th>klassen kleiner dan k = {report.k}</th><td>{report.classes_below_k}</td></tr>
<tr><th>records in klassen kleiner dan k</th><td>{report.records_below_k}{e(share)}</td></tr>
</tbody></table>
<h2>Klassegrootten</h2>
<table><thead><tr><th>grootte ({e(unit)})</th><th>aantal klassen</th><th>records</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def write_anonymity_report(report: AnonymityReport, directory: Path) -> list[Path]:
    contents = (anonymity_json(report), anonymity_html(report))
    return write_text_files(directory, dict(zip(REPORT_NAMES, contents, strict=True)))

"""The consortium's configuration: registered providers, interventions, suppression and the
instrument registry. These are the consortium's decisions, kept as data under `<home>/config/`;
a malformed file stops the run with the file, the line and what is wrong (interfaces.md)."""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from schemas.delivery import KNOWN_COLUMNS, UNREGISTERED_TEAM_NAME, canonical_header
from schemas.teams import TeamRegister, team_key
from schemas.text import TEAM_NAME_MAX, starts_like_formula

# \Z: no trailing line break passes. delivery-format.md §1 says [a-z0-9-]{2,40}; a leading '-'
# is refused too, because a code is written into CSV and DuckDB cells and a spreadsheet would run
# '-…' as a formula (schemas/text.py).
PROVIDER_CODE = re.compile(r"\A[a-z0-9][a-z0-9-]{1,39}\Z")
PROVIDER_CODE_RULE = "[a-z0-9-]{2,40}, not starting with '-'"
CONSORTIUM_FILE = "consortium.toml"
INSTRUMENTS_FILE = "instruments.csv"
QUALITY_FILE = "quality.toml"
PRIVACY_FILE = "privacy.toml"
SUPPRESSION_KEYS = ("k", "secondary", "round_counts_to")
FRESHNESS_KEYS = ("days_after_month_end",)
DASHBOARD_KEYS = ("show_organisation_names",)
PUBLICATION_KEYS = ("release_protection",)
VALIDATION_KEYS = ("reject_share",)
# The sections consortium.toml may have; any other is a typo whose settings would silently default.
CONSORTIUM_SECTIONS = ("providers", "interventions", "teams", "suppression", "validation", "freshness",
                       "dashboard", "publication", "column_mapping")
CONFIG_FILES = (CONSORTIUM_FILE, INSTRUMENTS_FILE, QUALITY_FILE, PRIVACY_FILE)
# What the project ships for a new home; also what a configuration folder that lacks any file but
# consortium.toml uses for the missing ones (interfaces.md, additions 1.2 item 3).
SHIPPED_DEFAULTS = Path(__file__).resolve().parent / "defaults"
INSTRUMENT_COLUMNS = ("instrument", "schaal", "min", "max", "higher_is_worse", "sd_ref", "r", "cutoff")


class ConfigError(Exception):
    """A configuration file is missing or malformed; the message names file, line and fault."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Instrument:
    """One (instrument, schaal) of the registry, with what the metrics need of it."""

    instrument: str
    schaal: str
    min: float
    max: float
    higher_is_worse: bool
    sd_ref: float
    r: float
    cutoff: float


@dataclass(frozen=True)
class InstrumentRegistry:
    instruments: tuple[Instrument, ...]

    def get(self, instrument: str, schaal: str) -> Instrument | None:
        return self._by_key.get((instrument, schaal))

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Instrument]:
        return {(i.instrument, i.schaal): i for i in self.instruments}


@dataclass(frozen=True)
class ConsortiumConfig:
    providers: dict[str, str]
    interventions: dict[str, str]
    k: int = 10
    # [suppression]: secondary suppression (outcome-metrics §5) and rounding of published counts
    # to multiples of round_counts_to (0 or 1: exact counts)
    secondary_suppression: bool = True
    round_counts_to: int = 0
    reject_share: float = 0.10
    # [freshness]: a registered provider that has delivered before is overdue when any month
    # since its first delivery has no accepted delivery this many days after that month's end
    # (`databank status`, warehouse/status.py)
    days_after_month_end: int = 15
    # [dashboard]: whether the consortium page shows each organisation by name; by default it
    # shows none, and each organisation sees itself beside "the rest of the consortium"
    show_organisation_names: bool = False
    # [publication]: whether a reader who keeps every release is kept from differencing two of
    # them (warehouse/release.py); false only for a closed analysts' room (interfaces.md 1.2)
    release_protection: bool = True
    # provider -> {canonical header in their export -> spec column}
    column_mapping: dict[str, dict[str, str]] = field(default_factory=dict)
    registry: InstrumentRegistry = field(default_factory=lambda: InstrumentRegistry(()))
    # [teams.<provider>]: code -> display name; a provider without a table has no registered
    # team, so every team it delivers is stored under its unregistered team (schemas/teams.py)
    teams: dict[str, TeamRegister] = field(default_factory=dict)


def install_default_config(config_dir: Path) -> None:
    """Give a new home the shipped defaults, never overwriting what the consortium edited."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        target = config_dir / name
        if not target.exists():
            shutil.copyfile(SHIPPED_DEFAULTS / name, target)


def config_file(config_dir: Path, name: str) -> Path:
    """The one rule for where a configuration file is read from: the folder's own file, else,
    for any file but consortium.toml (the consortium's own decisions, which have no default),
    the shipped default. So a folder a steward was given with only some files, or a home made
    by a version that did not ship a file yet, works for `check` and `run` alike."""
    own = config_dir / name
    if own.exists() or name == CONSORTIUM_FILE:
        return own
    return SHIPPED_DEFAULTS / name


def defaults_used(config_dir: Path, names: tuple[str, ...] = CONFIG_FILES) -> tuple[str, ...]:
    """Which of `names` a command reading `config_dir` takes from the shipped defaults."""
    return tuple(n for n in names if config_file(config_dir, n) != config_dir / n)


def defaults_note(config_dir: Path, names: tuple[str, ...] = CONFIG_FILES) -> str | None:
    """The one line a command prints when it uses shipped defaults for missing files (once per
    command, not per delivery); None when the folder has them all."""
    used = defaults_used(config_dir, names)
    if not used:
        return None
    return f"configuration: {', '.join(used)} not in {config_dir}, so the shipped defaults are used"


def toml_error(path: Path, error: tomllib.TOMLDecodeError) -> ConfigError:
    """Python 3.11's TOMLDecodeError has the place only in its text ("... (at line 3, column 14)")."""
    text = str(error)
    match = re.search(r"\(at line (\d+), column \d+\)", text)
    problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", text)
    return ConfigError(path, int(match.group(1)) if match else None, f"not valid TOML ({problem})")


def load_config(config_dir: Path) -> ConsortiumConfig:
    consortium = _load_consortium(config_dir / CONSORTIUM_FILE)
    registry = load_instrument_registry(config_file(config_dir, INSTRUMENTS_FILE))
    return ConsortiumConfig(**consortium, registry=registry)


def _settings_table(
    data: dict, section: str, known: tuple[str, ...], path: Path, line_of: Callable[[str], int | None]
) -> dict:
    """A `[section]` of settings: a table whose every key is known. A misspelt privacy or
    publication setting must not silently fall back to its default."""
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(path, line_of(section), f"[{section}] must be a table")
    for key in table:
        if key not in known:
            raise ConfigError(
                path, line_of(key), f"[{section}] has no setting {key!r} (known: {', '.join(known)})"
            )
    return table


def _load_consortium(path: Path) -> dict:
    from schemas.files import read_toml

    text, data = read_toml(path)

    def line_of(key: str) -> int | None:
        for number, content in enumerate(text.splitlines(), start=1):
            if re.match(rf'^\s*(\[\s*)?"?{re.escape(key)}"?\s*(\]|=)', content):
                return number
        return None

    for section in data:
        if section not in CONSORTIUM_SECTIONS:
            # a misspelt section ([suppresion] k = 20) must not leave its settings at their defaults
            raise ConfigError(
                path, line_of(section),
                f"unknown section [{section}] (known: {', '.join(f'[{s}]' for s in CONSORTIUM_SECTIONS)})",
            )
    providers = data.get("providers")
    if not isinstance(providers, dict) or not providers:
        raise ConfigError(path, line_of("providers"), "[providers] must list at least one provider")
    for code, name in providers.items():
        if not PROVIDER_CODE.match(code):
            raise ConfigError(path, line_of(code), f"provider code {code!r} must match {PROVIDER_CODE_RULE}")
        if not isinstance(name, str):
            raise ConfigError(path, line_of(code), f"provider {code!r} needs a display name in quotes")
        if problem := text_problem(name):
            raise ConfigError(path, line_of(code), f"display name of provider {code!r} {problem}")
    interventions = data.get("interventions")
    if not isinstance(interventions, dict) or not interventions:
        raise ConfigError(path, line_of("interventions"), "[interventions] must list at least one code")
    for code, name in interventions.items():
        if not isinstance(name, str):
            raise ConfigError(path, line_of(code), f"intervention {code!r} needs a display name in quotes")
        for what, value in (("code", code), ("display name", name)):
            if problem := text_problem(value):
                raise ConfigError(path, line_of(code), f"{what} of intervention {code!r} {problem}")
    suppression = _settings_table(data, "suppression", SUPPRESSION_KEYS, path, line_of)
    k = suppression.get("k", 10)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(path, line_of("k"), "[suppression] k must be a whole number of at least 1")
    secondary = suppression.get("secondary", True)
    if not isinstance(secondary, bool):
        raise ConfigError(path, line_of("secondary"), "[suppression] secondary must be true or false")
    round_counts_to = suppression.get("round_counts_to", 0)
    if not isinstance(round_counts_to, int) or isinstance(round_counts_to, bool) or round_counts_to < 0:
        raise ConfigError(
            path, line_of("round_counts_to"),
            "[suppression] round_counts_to must be a whole number of at least 0 (0: no rounding)",
        )
    validation = _settings_table(data, "validation", VALIDATION_KEYS, path, line_of)
    share = validation.get("reject_share", 0.10)
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
        raise ConfigError(path, line_of("reject_share"), "[validation] reject_share must be a number from 0 to 1")
    freshness = _settings_table(data, "freshness", FRESHNESS_KEYS, path, line_of)
    days_after_month_end = freshness.get("days_after_month_end", 15)
    if (
        not isinstance(days_after_month_end, int) or isinstance(days_after_month_end, bool)
        or days_after_month_end < 0
    ):
        raise ConfigError(
            path, line_of("days_after_month_end"),
            "[freshness] days_after_month_end must be a whole number of days of at least 0",
        )
    dashboard = _settings_table(data, "dashboard", DASHBOARD_KEYS, path, line_of)
    show_organisation_names = dashboard.get("show_organisation_names", False)
    if not isinstance(show_organisation_names, bool):
        raise ConfigError(
            path, line_of("show_organisation_names"),
            "[dashboard] show_organisation_names must be true or false",
        )
    publication = _settings_table(data, "publication", PUBLICATION_KEYS, path, line_of)
    release_protection = publication.get("release_protection", True)
    if not isinstance(release_protection, bool):
        raise ConfigError(
            path, line_of("release_protection"), "[publication] release_protection must be true or false"
        )
    mapping = data.get("column_mapping", {})
    if not isinstance(mapping, dict):
        raise ConfigError(path, line_of("column_mapping"), "[column_mapping.<provider>] tables expected")
    column_mapping: dict[str, dict[str, str]] = {}
    for provider, renames in mapping.items():
        if provider not in providers:
            raise ConfigError(
                path, line_of(f"column_mapping.{provider}"),
                f"column_mapping for {provider!r}, which is not in [providers]",
            )
        if not isinstance(renames, dict):
            raise ConfigError(path, line_of(f"column_mapping.{provider}"), "expected a table of renames")
        column_mapping[provider] = {}
        for source, target in renames.items():
            if not isinstance(target, str) or target not in KNOWN_COLUMNS:
                raise ConfigError(
                    path, line_of(source),
                    f"{source!r} must map to a column of the delivery format, not {target!r}",
                )
            column_mapping[provider][canonical_header(source)] = target
    teams = _team_registers(path, data.get("teams", {}), providers, text, line_of)
    return {
        "teams": teams,
        "column_mapping": column_mapping,
        "providers": dict(providers),
        "interventions": dict(interventions),
        "k": k,
        "secondary_suppression": secondary,
        "round_counts_to": round_counts_to,
        "reject_share": float(share),
        "days_after_month_end": days_after_month_end,
        "show_organisation_names": show_organisation_names,
        "release_protection": release_protection,
    }


def text_problem(text: str) -> str | None:
    """Why a code or name of a register cannot be stored and published (None: it can). Every
    text the marts, the analysts' copy and the dashboard show comes from a register, so this is
    where such text is made formula-neutral and single-line (schemas/text.py)."""
    if not text.strip():
        return "is empty"
    if starts_like_formula(text):
        return f"starts with {text[0]!r}, which a spreadsheet would run as a formula"
    if not text.isprintable():
        return "contains a line break or another control character"
    return None


def _team_text_problem(text: str) -> str | None:
    if problem := text_problem(text):
        return problem
    if text != text.strip():
        return "has spaces before or after it"
    if len(text) > TEAM_NAME_MAX:
        return f"is longer than {TEAM_NAME_MAX} characters"
    return None


def _table_line(text: str, header: str) -> int | None:
    """The line of the table header `[header]`."""
    for number, content in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*\[\s*{re.escape(header)}\s*\]", content):
            return number
    return None


def _line_in_table(text: str, header: str, key: str) -> int | None:
    """The line of `key = ...` inside the table `[header]` (a team code may occur under several
    providers, so the first match in the file would point at the wrong one); else the header's."""
    start = _table_line(text, header)
    if start is None:
        return None
    lines = text.splitlines()
    for number in range(start, len(lines)):
        if re.match(r"^\s*\[", lines[number]):
            break
        if re.match(rf'^\s*["\']?{re.escape(key)}["\']?\s*=', lines[number]):
            return number + 1
    return start


def _team_registers(
    path: Path, tables: object, providers: dict, text: str, line_of: Callable[[str], int | None]
) -> dict[str, TeamRegister]:
    """[teams.<provider>] tables: code = display name, per registered provider. A code or name
    must be usable as published text (text_problem, at most 60 characters, no surrounding
    spaces); a code may not start with '_' (the unregistered team's code does); no two entries
    of a provider may be the same team without regard to case, and no name may be the
    unregistered team's, so matching a delivered value is never ambiguous."""
    if not isinstance(tables, dict):
        raise ConfigError(path, line_of("teams"), "[teams.<provider>] tables expected")
    registers: dict[str, TeamRegister] = {}
    for provider, entries in tables.items():
        header = f"teams.{provider}"
        if not isinstance(entries, dict):
            raise ConfigError(
                path, _table_line(text, header) or _line_in_table(text, "teams", provider),
                f"teams of {provider!r} must be a table [teams.{provider}] of code = display name",
            )
        at = _table_line(text, header)
        if provider not in providers:
            raise ConfigError(path, at, f"[teams.{provider}] is for {provider!r}, which is not in [providers]")
        if not entries:
            raise ConfigError(
                path, at, f"[teams.{provider}] lists no teams (leave the table out while none are registered)"
            )
        owner: dict[str, str] = {}  # team_key -> code
        for code, name in entries.items():
            line = _line_in_table(text, header, code)
            if not isinstance(name, str):
                raise ConfigError(path, line, f"team {code!r} of {provider!r} needs a display name in quotes")
            for what, value in (("code", code), ("display name", name)):
                if problem := _team_text_problem(value):
                    raise ConfigError(path, line, f"team {what} {value!r} of {provider!r} {problem}")
            if code.startswith("_"):
                raise ConfigError(path, line, f"team code {code!r} of {provider!r} starts with '_', which is reserved")
            for value in dict.fromkeys((code, name)):
                key = team_key(value)
                if key == team_key(UNREGISTERED_TEAM_NAME):
                    raise ConfigError(path, line, f"{value!r} is the name of the unregistered team; choose another")
                if owner.get(key, code) != code:
                    raise ConfigError(
                        path, line,
                        f"{value!r} of {provider!r} names team {owner[key]!r} too (case does not "
                        "matter when teams are matched); give each team its own code and name",
                    )
                owner[key] = code
        registers[provider] = TeamRegister(dict(entries))
    return registers


def load_instrument_registry(path: Path) -> InstrumentRegistry:
    if not path.is_file():
        raise ConfigError(path, None, "file is missing (a new home gets the defaults from `databank run`)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text") from None
    return parse_instrument_registry(text, path)


def parse_instrument_registry(text: str, path: Path = Path(INSTRUMENTS_FILE)) -> InstrumentRegistry:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != INSTRUMENT_COLUMNS:
        raise ConfigError(path, 1, f"header must be exactly: {','.join(INSTRUMENT_COLUMNS)}")
    seen: set[tuple[str, str]] = set()
    rows: list[Instrument] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(INSTRUMENT_COLUMNS):
            raise ConfigError(path, line, f"expected {len(INSTRUMENT_COLUMNS)} fields, found {len(row)}")
        values = dict(zip(INSTRUMENT_COLUMNS, (cell.strip() for cell in row), strict=True))
        if not values["instrument"] or not values["schaal"]:
            raise ConfigError(path, line, "instrument and schaal must not be empty")
        for name in ("instrument", "schaal"):
            if problem := text_problem(values[name]):
                raise ConfigError(path, line, f"{name} {values[name]!r} {problem}")
        numbers: dict[str, float] = {}
        for name in ("min", "max", "sd_ref", "r", "cutoff"):
            try:
                numbers[name] = float(values[name])
            except ValueError:
                raise ConfigError(path, line, f"{name} must be a number, found {values[name]!r}") from None
            if not math.isfinite(numbers[name]):
                raise ConfigError(path, line, f"{name} must be a finite number")
        if values["higher_is_worse"].lower() not in ("true", "false"):
            raise ConfigError(path, line, "higher_is_worse must be true or false")
        if numbers["min"] >= numbers["max"]:
            raise ConfigError(path, line, "min must be below max")
        if numbers["sd_ref"] <= 0:
            raise ConfigError(path, line, "sd_ref must be positive")
        if not 0 <= numbers["r"] < 1:
            raise ConfigError(path, line, "r must be at least 0 and below 1")
        key = (values["instrument"], values["schaal"])
        if key in seen:
            raise ConfigError(path, line, f"{key[0]} {key[1]} is listed twice")
        seen.add(key)
        rows.append(
            Instrument(
                instrument=key[0],
                schaal=key[1],
                higher_is_worse=values["higher_is_worse"].lower() == "true",
                **numbers,
            )
        )
    if not rows:
        raise ConfigError(path, None, "lists no instruments")
    return InstrumentRegistry(tuple(rows))


def config_fingerprint(config_dir: Path) -> str:
    """Changes whenever the configuration in effect changes, so a rejected delivery is judged
    again under the new rules. It hashes the files as read (config_file): a file taken from the
    shipped defaults counts with the default's bytes, exactly as if it were in the folder with
    those contents; copying the default in, or deleting an unedited copy, changes nothing, while
    an upgrade that changes a shipped default the folder relies on does re-judge."""
    import hashlib

    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        path = config_file(config_dir, name)
        digest.update(name.encode() + b"\x00" + (path.read_bytes() if path.is_file() else b"") + b"\x00")
    return digest.hexdigest()[:16]

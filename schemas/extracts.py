"""Research extract scopes: which columns a recipient gets, and how coarse (config/privacy.toml,
`[extracts.<scope>]`). An extract carries exactly the columns its scope names, nothing else.

Each column of the catalogue below is derived from the warehouse's core tables at one of the
levels listed for it; a scope names a level per column. Columns an acquaintance of a client
could know (provider, team, intervention, form of care, dates, age, sex, place) are the scope's
quasi-identifiers: `databank extract` refuses a scope whose output lets too many clients stand
out on them (schemas/anonymity.py). Outcome values and scores are no quasi-identifiers (nobody
around a child knows their CBCL score), but they make rows unique: the manifest says what share
of an extract's trajectories could be linked to another extract or to the warehouse."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCOPE_NAME = re.compile(r"\A[a-z0-9-]{2,40}\Z")
DEFAULT_SCOPE = "default"


@dataclass(frozen=True)
class ExtractColumn:
    """One column a scope may ask for: its levels, in order from fine to coarse, each with the
    name the column has in the extract (the name says the level: `age_band`, `end_year`)."""

    key: str
    outputs: dict[str, str]  # level -> column name in the extract
    quasi_identifier: bool

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(self.outputs)


def _column(key: str, quasi_identifier: bool, **outputs: str) -> ExtractColumn:
    return ExtractColumn(key, outputs, quasi_identifier)


EXTRACT_COLUMNS: dict[str, ExtractColumn] = {c.key: c for c in (
    _column("trajectory_id", False, pseudonym="trajectory_id"),
    _column("client_id", False, pseudonym="client_id"),
    _column("provider", True, code="provider"),
    _column("team", True, name="team"),
    _column("interventie", True, code="interventie"),
    _column("hulpvorm", True, code="hulpvorm"),
    _column("age_at_start", True, year="age_at_start", band="age_band"),
    _column("geslacht", True, code="geslacht", female="female"),
    _column("start", True, month="start_month", quarter="start_quarter", year="start_year"),
    _column("end", True, month="end_month", quarter="end_quarter", year="end_year"),
    _column("duration", True, days="duration_days", weeks="duration_weeks", months="duration_months"),
    _column("pc4", True, pc4="pc4", pc2="pc2"),
    _column("birth_year", True, year="birth_year"),
    _column("reden_einde", False, code="reden_einde"),
    _column("doelrealisatie", False, code="doelrealisatie"),
    _column("tevredenheid", False, value="tevredenheid"),
)}  # fmt: skip
# Age bands of `age_at_start = "band"`: young children, school age to 17, young adults.
AGE_BANDS = ((0, 11), (12, 17), (18, 27))

# What a scope ships of the measurements (outcome-metrics §2 pairs; ended trajectories only for
# classes and pairs):
#   none    - no measurements table
#   classes - per pair: reliable change class, clinical at start, recovered (§3); no scores
#   pairs   - per pair: the start and the end score; no dates
#   series  - every measurement with its score and the weeks since the trajectory's start
MEASUREMENT_LEVELS = ("none", "classes", "pairs", "series")


@dataclass(frozen=True)
class ExtractScope:
    name: str
    columns: tuple[tuple[str, str], ...]  # (catalogue key, level), in catalogue order
    measurements: str = "none"

    def level(self, key: str) -> str | None:
        return dict(self.columns).get(key)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return tuple(EXTRACT_COLUMNS[key].outputs[level] for key, level in self.columns)

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        """The extract's columns an acquaintance could know, as named in the extract."""
        return tuple(
            EXTRACT_COLUMNS[key].outputs[level] for key, level in self.columns
            if EXTRACT_COLUMNS[key].quasi_identifier
        )


# The scope of every recipient the consortium did not configure one for: coarse enough that on a
# consortium of the demo's size (about 600 trajectories) every client shares intervention, sex
# (female or not) and year of ending with at least four others (tests/warehouse/test_extract_scopes.py).
# No provider, team, age, place or exact date; the measurements as outcome classes, no scores.
BUILT_IN_DEFAULT = ExtractScope(
    DEFAULT_SCOPE,
    (("trajectory_id", "pseudonym"), ("client_id", "pseudonym"), ("interventie", "code"),
     ("geslacht", "female"), ("end", "year"), ("reden_einde", "code"), ("doelrealisatie", "code"),
     ("tevredenheid", "value")),
    "classes",
)


def parse_scope(name: str, table: dict) -> ExtractScope | tuple[str, str]:
    """A scope from its `[extracts.<name>]` table, or (setting, what is wrong) for the caller to
    report with its file and line."""
    if not SCOPE_NAME.match(name):
        return name, "a scope name is 2-40 characters of a-z, 0-9 and '-'"
    chosen: dict[str, str] = {}
    measurements = "none"
    for key, level in table.items():
        if key == "measurements":
            if level not in MEASUREMENT_LEVELS:
                return key, f"measurements must be one of {', '.join(map(repr, MEASUREMENT_LEVELS))}"
            measurements = level
            continue
        column = EXTRACT_COLUMNS.get(key)
        if column is None:
            return key, (f"[extracts.{name}] has no column {key!r}; the columns are "
                         f"{', '.join(EXTRACT_COLUMNS)} and measurements")
        if level not in column.levels:
            return key, f"{key} must be one of {', '.join(map(repr, column.levels))}"
        chosen[key] = level
    if measurements != "none" and "trajectory_id" not in chosen:
        return "measurements", (f"[extracts.{name}] ships measurements, so it needs "
                                'trajectory_id = "pseudonym" to tell which trajectory each belongs to')
    if not chosen:
        return name, f"[extracts.{name}] names no column"
    ordered = tuple((key, chosen[key]) for key in EXTRACT_COLUMNS if key in chosen)
    return ExtractScope(name, ordered, measurements)

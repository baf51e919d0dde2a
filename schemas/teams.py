"""Teams are registered per provider (interfaces.md, additions 1.2 item 1; delivery-format.md §15):
a delivered `team` is stored as the code of the registered team it names, or under the provider's
unregistered team. Free text a steward typed into `team` (a name, a BSN, a formula) therefore
never reaches the warehouse, and every team text that is published comes from the consortium's
register.

Why here: the matching rule and what the steward is told about it are part of the contract; the
read step (pseudonymise/intake.py) applies them while the raw values are at hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from schemas.delivery import TRAJECTEN, UNREGISTERED_TEAM, UNREGISTERED_TEAM_NAME
from schemas.faults import Fault
from schemas.text import looks_like_team_name


def team_key(text: str) -> str:
    """What matching compares: case (casefold, so `STRASSE` finds `Straße`), surrounding spaces
    and runs of spaces inside do not matter."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class TeamRegister:
    """One provider's registered teams, code -> display name (validated by schemas/config.py:
    no two entries share a code or name without regard to case)."""

    names: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def _codes_by_key(self) -> dict[str, str]:
        lookup = {team_key(name): code for code, name in self.names.items()}
        lookup.update({team_key(code): code for code in self.names})
        return lookup

    def code_for(self, delivered: str) -> str | None:
        """The code of the registered team whose code or display name `delivered` is, else None."""
        return self._codes_by_key.get(team_key(delivered))

    def name_of(self, code: str) -> str:
        """The display name a published page shows for a stored code."""
        if code == UNREGISTERED_TEAM:
            return UNREGISTERED_TEAM_NAME
        return self.names.get(code, code)


def _rows(count: int) -> str:
    return f"{count} regel" if count == 1 else f"{count} regels"


def match_teams(
    values: Sequence[str | None],
    lines: Sequence[int],
    register: TeamRegister | None,
    faults: list[Fault],
    unjudged_lines: frozenset[int] | set[int] = frozenset(),
) -> list[str | None]:
    """The stored team per row: the registered code, the unregistered team's code, or None for an
    empty value (a required value, judged by validation).

    Warnings (never row faults: the rows load and nothing counts toward the reject share):
    without a register for the provider, one warning with the number of rows; otherwise one per
    distinct unregistered value that looks like a team name (shown, with its rows and first
    line) and one for all others together (counts only). `unjudged_lines` are rows quarantined
    whole before anything else is judged (a record with the wrong number of fields): their
    `team` cell may be another column's value, an identifier, so it is never shown or counted."""
    lookup = {value: register.code_for(value) if register is not None else None
              for value in set(values) if value is not None}
    codes = [None if value is None else lookup[value] or UNREGISTERED_TEAM for value in values]
    outside = {value for value, code in lookup.items() if code is None}
    seen: dict[str, list] = {}  # value -> [first line, rows]
    if outside:  # a second pass only when there is something to count
        for value, line in zip(values, lines, strict=True):
            if value in outside and line not in unjudged_lines:
                entry = seen.get(value)
                if entry is None:
                    seen[value] = [line, 1]
                else:
                    entry[1] += 1
    unregistered: dict[str, list] = {}  # team_key -> [first spelling, first line, rows]
    for value, (first, rows) in sorted(seen.items(), key=lambda item: item[1][0]):
        entry = unregistered.setdefault(team_key(value), [value, first, 0])
        entry[2] += rows
    if not unregistered:
        return codes
    if register is None:
        rows = sum(entry[2] for entry in unregistered.values())
        faults.append(Fault("WARN_TEAM_REGISTER_MISSING", table=TRAJECTEN, column="team", detail=_rows(rows)))
        return codes
    hidden_rows, hidden_values, hidden_first = 0, 0, None
    found: list[Fault] = []
    for spelling, first, rows in unregistered.values():
        if looks_like_team_name(spelling):
            found.append(Fault("WARN_TEAM_UNREGISTERED", table=TRAJECTEN, row=first, column="team",
                               value=spelling, detail=_rows(rows)))
        else:
            hidden_rows, hidden_values = hidden_rows + rows, hidden_values + 1
            hidden_first = first if hidden_first is None else min(hidden_first, first)
    if hidden_rows:
        detail = _rows(hidden_rows) + (f" ({hidden_values} verschillende waarden)" if hidden_values > 1 else "")
        found.append(Fault("WARN_TEAM_UNREGISTERED_HIDDEN", table=TRAJECTEN, row=hidden_first,
                           column="team", detail=detail))
    faults.extend(sorted(found, key=lambda fault: fault.row or 0))
    return codes


def without_team_values(faults: list[Fault]) -> list[Fault]:
    """A rejected delivery may have shifted columns, so its `team` cells may hold another column's
    values: its unregistered-team warnings keep their counts and lines but show no value."""
    return [
        Fault("WARN_TEAM_UNREGISTERED_HIDDEN", table=f.table, row=f.row, column=f.column, detail=f.detail)
        if f.code == "WARN_TEAM_UNREGISTERED" else f
        for f in faults
    ]

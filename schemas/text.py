"""Text the project writes into cells (CSV, Parquet, DuckDB) must be formula-neutral: a spreadsheet
runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or carriage return) as a
formula, e.g. `=HYPERLINK(...)` that sends the sheet's contents elsewhere. Two defences, one rule:
the consortium's registers are refused at load when a code or name starts like that
(schemas/config.py), so every code stored in DuckDB and Parquet is neutral by construction; every
cell of a CSV the project writes goes through `neutralise_formula`.

This module is the contract's ground floor: it imports nothing of ours."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet would run `text` as a formula."""
    return text.startswith(FORMULA_START)


def neutralise_formula(text: str) -> str:
    """The cell a CSV may hold: a leading `'` makes a spreadsheet show the text as text.

    Applied to every text cell, a plain negative number included: the `waarde` column of the
    steward's report is what the steward delivered (text), and `'-5` shows as -5 without being a
    formula, whereas telling a "plain number" from `-5+A1` would be one more rule to get wrong.
    Numbers the project writes as numbers (row numbers) are never negative."""
    return "'" + text if starts_like_formula(text) else text


# delivery-format.md §15: a delivered team value is shown in a report only when it looks like a
# team name. The spec's conditions (no run of four or more digits: a BSN, phone or client number;
# no `@`: an e-mail address; at most 60 characters) and, because a report is also a spreadsheet,
# no formula start; and only letters, digits, spaces and the punctuation team names use, so no
# markup, URL or quoted formula text is echoed either.
TEAM_NAME_MAX = 60
_TEAM_PUNCTUATION = frozenset(" &'.,-/()")


def looks_like_team_name(text: str) -> bool:
    """True when a delivered team value may be shown to the steward (delivery-format.md §15)."""
    if not text or len(text) > TEAM_NAME_MAX or "@" in text or starts_like_formula(text):
        return False
    run = 0
    for character in text:
        run = run + 1 if character.isdigit() else 0
        if run >= 4:
            return False
        if not (character.isalnum() or character in _TEAM_PUNCTUATION):
            return False
    return True

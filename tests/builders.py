"""Builders for small deliveries in the steward's format and test homes. Data are generated
here, never committed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from pseudonymise.keys import generate_key_file
from warehouse.home import DatabankHome

# The day `databank` commands called in-process take as today (tests/conftest.py fixes it).
COMMAND_DAY = dt.date(2026, 11, 25)

TRAJECTEN_HEADER = [
    "clientnummer", "bsn", "voornaam", "tussenvoegsel", "achternaam", "geboortedatum", "geslacht",
    "postcode", "adres", "woonplaats", "telefoon", "email", "traject_id", "team", "interventie",
    "hulpvorm", "startdatum", "einddatum", "reden_einde", "doelrealisatie", "tevredenheid",
    "opmerkingen", "bezwaar",
]
METINGEN_HEADER = [
    "clientnummer", "traject_id", "instrument", "schaal", "informant", "meetmoment", "datum", "score",
]

TEST_CONSORTIUM = """
[providers]
de-boog = "De Boog Jeugdhulp"
horizon-jeugd = "Horizon Jeugdzorg"

[interventions]
MST = "Multisysteemtherapie"
FFT = "Functional Family Therapy"

[suppression]
k = {k}

[validation]
reject_share = 0.10
"""
# Every team the pipeline tests deliver, registered for both providers with code = display name,
# so a stored or published team reads as the delivered one; anything else a test delivers is
# stored under the provider's unregistered team (delivery-format.md §15).
TEST_TEAMS = (
    "Team Noord", "Team Zuid", "Team Oost", "Team West", "Team Klein", "Februari", "Maart",
    "Maart gecorrigeerd", "Goed", "Fout", "Gecorrigeerd", "Na rotatie", "Na herstel",
)


def teams_toml(teams: Mapping[str, Iterable[str] | Mapping[str, str]]) -> str:
    """[teams.<provider>] tables: a list of names registers each with code = name."""
    lines = []
    for provider, register in teams.items():
        pairs = register.items() if isinstance(register, Mapping) else ((n, n) for n in register)
        lines += [f"[teams.{provider}]", *(f"{json.dumps(c)} = {json.dumps(n)}" for c, n in pairs), ""]
    return "\n".join(lines)


# write_delivery(landing, provider, month, trajecten, metingen=(), encoding=, delimiter=) -> folder
DeliveryWriter = Callable[..., Path]


def trajectory(number: int, **overrides: str) -> dict[str, str]:
    """One valid trajectory row; identifiers derive from `number` so rows stay distinct."""
    row = {
        "clientnummer": f"C{number:05d}",
        "bsn": "",
        "voornaam": "Sanne",
        "tussenvoegsel": "van",
        "achternaam": "Dijk",
        "geboortedatum": "03-07-2012",
        "geslacht": "V",
        "postcode": "3511 AB",
        "adres": "Oudegracht 1",
        "woonplaats": "Utrecht",
        "telefoon": "06-12345678",
        "email": "sanne@example.nl",
        "traject_id": f"T{number:05d}",
        "team": "Team Noord",
        "interventie": "MST",
        "hulpvorm": "ambulant",
        "startdatum": "01-01-2025",
        "einddatum": "",
        "reden_einde": "",
        "doelrealisatie": "",
        "tevredenheid": "",
        "opmerkingen": "",
        "bezwaar": "",
    }
    row.update(overrides)
    return row


def measurement(number: int, meetmoment: str, datum: str, score: str, **overrides: str) -> dict[str, str]:
    row = {
        "clientnummer": f"C{number:05d}",
        "traject_id": f"T{number:05d}",
        "instrument": "CBCL",
        "schaal": "totaal",
        "informant": "ouder",
        "meetmoment": meetmoment,
        "datum": datum,
        "score": score,
    }
    row.update(overrides)
    return row


def render_csv(
    header: Sequence[str], rows: Sequence[dict[str, str]], delimiter: str = ";", newline: str = "\r\n"
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return buffer.getvalue()


def set_landing_retention(home: DatabankHome, rule: str) -> None:
    path = home.config_dir / "privacy.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('landing_after_processing = "delete"', f'landing_after_processing = "{rule}"')
        .replace('landing_after_processing = "keep"', f'landing_after_processing = "{rule}"'),
        encoding="utf-8",
    )


def make_home(
    root: Path, k: int = 10, with_key: bool = True, retention: str = "keep",
    teams: Mapping[str, Iterable[str] | Mapping[str, str]] | None = None,
) -> DatabankHome:
    """Tests re-run deliveries from landing, so test homes keep landing files unless asked.
    `teams`: the team registers (default: TEST_TEAMS for both providers)."""
    home = DatabankHome(root)
    home.prepare()
    if teams is None:
        teams = {"de-boog": TEST_TEAMS, "horizon-jeugd": TEST_TEAMS}
    (home.config_dir / "consortium.toml").write_text(
        TEST_CONSORTIUM.format(k=k) + "\n" + teams_toml(teams), encoding="utf-8"
    )
    set_landing_retention(home, retention)
    if with_key:
        generate_key_file(home.key_file)
    return home


def string_cells(database: Path) -> list[str]:
    """Every distinct string value of every table of a DuckDB file: storage is compressed, so
    searches for values that must not be stored query the file rather than grep its bytes."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        values: list[str] = []
        for schema, table, column in columns:
            values += [
                row[0]
                for row in con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}"').fetchall()
                if row[0] is not None
            ]
        return values
    finally:
        con.close()


def database_rows(database: Path, sql: str) -> list[tuple]:
    """The rows of one query on a DuckDB file, opened read-only and closed again."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def outcomes_only_extract_scope(home: DatabankHome, scope: str) -> None:
    """Configure `scope` to ship pseudonyms and outcomes only: a test consortium of a few dozen
    clients is too small for the shipped default scope's k-anonymity gate (privacy.toml
    `extract_share`), which would refuse the extract."""
    with (home.config_dir / "privacy.toml").open("a", encoding="utf-8") as privacy:
        privacy.write(f'\n[extracts.{scope}]\ntrajectory_id = "pseudonym"\nclient_id = "pseudonym"\n'
                      'reden_einde = "code"\ndoelrealisatie = "code"\ntevredenheid = "value"\n'
                      'measurements = "classes"\n')

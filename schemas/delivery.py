"""The delivery format's month folders, columns and code lists (delivery-format.md §1, §3–§6) as
data: what is required, what identifies a person, and what may pass the read step (the
allow-list)."""

from __future__ import annotations

import re

# The databank's first reporting month: earlier months are no partition of the pipeline.
FIRST_MONTH = "2015-01"
MONTH_FOLDER = re.compile(r"\A[12]\d{3}-(0[1-9]|1[0-2])\Z")  # \Z: "2025-03\n" is no month

TRAJECTEN = "trajecten"
METINGEN = "metingen"
TABLES = (TRAJECTEN, METINGEN)

TRAJECTEN_COLUMNS: dict[str, bool] = {  # column -> required
    "clientnummer": True,
    "bsn": False,
    "voornaam": False,
    "tussenvoegsel": False,
    "achternaam": False,
    "geboortedatum": True,
    "geslacht": True,
    "postcode": False,
    "adres": False,
    "woonplaats": False,
    "telefoon": False,
    "email": False,
    "traject_id": True,
    "team": True,
    "interventie": True,
    "hulpvorm": True,
    "startdatum": True,
    "einddatum": False,
    "reden_einde": False,  # required when einddatum is set: a row rule
    "doelrealisatie": False,
    "tevredenheid": False,
    "opmerkingen": False,
    "bezwaar": False,
}

METINGEN_COLUMNS: dict[str, bool] = {
    "clientnummer": True,
    "traject_id": True,
    "instrument": True,
    "schaal": True,
    "informant": True,
    "meetmoment": True,
    "datum": True,
    "score": True,
}

COLUMNS = {TRAJECTEN: TRAJECTEN_COLUMNS, METINGEN: METINGEN_COLUMNS}

# §9.13: never echoed in any report, message or log. Every column not in the spec too.
IDENTIFYING_COLUMNS = frozenset(
    {
        "clientnummer", "bsn", "traject_id", "voornaam", "tussenvoegsel", "achternaam",
        "geboortedatum", "postcode", "adres", "woonplaats", "telefoon", "email", "opmerkingen",
    }
)
KNOWN_COLUMNS = frozenset(TRAJECTEN_COLUMNS) | frozenset(METINGEN_COLUMNS)

GESLACHT = ("M", "V", "X", "O")
HULPVORM = ("ambulant", "daghulp", "verblijf", "pleegzorg", "overig")
REDEN_EINDE = (1, 2, 3, 4, 5)
DOELREALISATIE = (1, 2, 3)
INFORMANT = ("ouder", "jeugdige", "professional", "leerkracht")
MEETMOMENT = ("start", "tussen", "eind")
BEZWAAR = ("ja", "nee")

# delivery-format.md §15: a delivered team the consortium did not register for the provider is
# stored under this code of that provider, never as delivered. It starts with `_`, which no
# register may use (schemas/config.py), so it can never be confused with a registered team.
UNREGISTERED_TEAM = "_niet_geregistreerd"
UNREGISTERED_TEAM_NAME = "Niet-geregistreerd team"

AGE_MIN, AGE_MAX = 0, 27
SATISFACTION_MIN, SATISFACTION_MAX = 1.0, 10.0

DATE_COLUMNS = {TRAJECTEN: ("geboortedatum", "startdatum", "einddatum"), METINGEN: ("datum",)}
# Dates that may not lie after the reporting month's end (birth dates are covered by the age rule).
DATES_NOT_AFTER_MONTH = {TRAJECTEN: ("startdatum", "einddatum"), METINGEN: ("datum",)}


# Spellings real registration systems export for the spec's columns, after canonical_header.
# Anything a provider's system spells differently goes in its [column_mapping.<provider>].
HEADER_ALIASES: dict[str, str] = {
    "client_nummer": "clientnummer",
    "clientnr": "clientnummer",
    "client_nr": "clientnummer",
    "client_id": "clientnummer",
    "burgerservicenummer": "bsn",
    "bsn_nummer": "bsn",
    "trajectid": "traject_id",
    "traject_nummer": "traject_id",
    "trajectnummer": "traject_id",
    "geboorte_datum": "geboortedatum",
    "geb_datum": "geboortedatum",
    "start_datum": "startdatum",
    "begindatum": "startdatum",
    "eind_datum": "einddatum",
    "redeneinde": "reden_einde",
    "doel_realisatie": "doelrealisatie",
    "meet_moment": "meetmoment",
    "datum_meting": "datum",
}


def canonical_header(name: str) -> str:
    """Case, accents, surrounding spaces and separators do not matter: `Cliënt nummer`,
    ` CLIENT-NUMMER ` and `client_nummer` are one spelling."""
    import unicodedata

    text = unicodedata.normalize("NFKD", name.replace("\ufeff", "").strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\s\-./]+", "_", text).strip("_")
    return text


def resolve_header(name: str, mapping: dict[str, str] | None = None) -> str:
    """The spec column a (canonical) header names: the provider's mapping first, then the known
    aliases, else the header itself (and then, if not in the spec, it is dropped)."""
    if mapping and name in mapping:
        return mapping[name]
    return HEADER_ALIASES.get(name, name)


def is_identifying_column(column: str) -> bool:
    return column in IDENTIFYING_COLUMNS or column not in KNOWN_COLUMNS


def required_columns(table: str) -> list[str]:
    return [name for name, required in COLUMNS[table].items() if required]


def is_month_folder(name: str) -> bool:
    return bool(MONTH_FOLDER.match(name))

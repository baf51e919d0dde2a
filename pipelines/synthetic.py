"""Realistic synthetic deliveries: the data behind `databank demo`, the tests and benchmarks.

Why this exists: the pipeline has to be exercised on data that looks like what data stewards
really drop in `landing/` (delivery-format.md), messiness included - four different export
conventions, 8-digit BSNs, free text with semicolons and line breaks, a non-spec column, a
few faulty rows - without ever touching real client data. Trajectories are modelled once for
the whole period and then written as monthly *state* snapshots, so one trajectory appears in
many deliveries exactly as the format prescribes, and later months supersede earlier ones.

Everything is deterministic for a seed (only `random.Random` instances seeded from the
arguments, never the global generator or the clock), so tests can compare bytes.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import io
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_INTERVENTIONS",
    "DEFAULT_PROVIDERS",
    "SyntheticConsortium",
    "SyntheticDelivery",
    "write_correction",
    "write_synthetic_consortium",
]


@dataclass(frozen=True)
class SyntheticDelivery:
    """What was written for one (provider, month), so callers can check the pipeline's counts."""

    provider: str
    month: str  # "YYYY-MM"
    folder: Path  # landing/<provider>/<YYYY-MM>
    n_trajecten: int  # data rows written in trajecten.csv
    n_metingen: int  # data rows written in metingen.csv
    n_faulty_rows: int  # rows deliberately made faulty (both tables together)
    n_bezwaar: int  # trajecten rows with bezwaar=ja


@dataclass(frozen=True)
class SyntheticConsortium:
    """The consortium the deliveries belong to: what `databank demo` writes into its config."""

    providers: dict[str, str]  # code -> display name
    interventions: dict[str, str]  # code -> display name (subset of DEFAULT_INTERVENTIONS)
    months: tuple[str, ...]
    deliveries: tuple[SyntheticDelivery, ...]
    # provider -> {team code -> display name}: the consortium's team register. The stewards
    # deliver display names; one team of one provider (`unregistered_team`: provider, name) is
    # left out, as a team the consortium has not registered yet, so its rows show the read
    # step's unregistered team and the report's warning (delivery-format.md §15).
    teams: dict[str, dict[str, str]] = field(default_factory=dict)
    unregistered_team: tuple[str, str] | None = None


# The order matters: the n-th provider gets the n-th file convention (see _STYLES).
DEFAULT_PROVIDERS: dict[str, str] = {
    "de-boog": "De Boog Jeugdhulp",
    "horizon-jeugd": "Horizon Jeugdzorg",
    "het-kompas": "Het Kompas Gezinshulp",
    "rivierenland-jz": "Jeugdzorg Rivierenland",
}

DEFAULT_INTERVENTIONS: dict[str, str] = {
    "MST": "Multisysteemtherapie",
    "FFT": "Functional Family Therapy",
    "PMTO": "Parent Management Training Oregon",
    "TRIPLE-P": "Triple P",
    "IPT": "Intensieve Pedagogische Thuishulp",
    "KORTDUREND": "Kortdurende ambulante hulp",
}

TRAJECTEN_COLUMNS: tuple[str, ...] = (
    "clientnummer", "bsn", "voornaam", "tussenvoegsel", "achternaam", "geboortedatum",
    "geslacht", "postcode", "adres", "woonplaats", "telefoon", "email", "traject_id", "team",
    "interventie", "hulpvorm", "startdatum", "einddatum", "reden_einde", "doelrealisatie",
    "tevredenheid", "opmerkingen", "bezwaar",
)  # fmt: skip
METINGEN_COLUMNS: tuple[str, ...] = (
    "clientnummer", "traject_id", "instrument", "schaal", "informant", "meetmoment", "datum",
    "score",
)  # fmt: skip

# The one column outside the spec (delivery-format.md §5): it exercises the allow-list.
EXTRA_COLUMN = "dossierhouder"

# delivery-format.md §7: (instrument, schaal) -> (min, max). Kept here, not read from the
# project's registry file, so the generator has no dependency on the code it tests.
_REGISTRY: dict[tuple[str, str], tuple[int, int]] = {
    ("CBCL", "totaal"): (24, 100),
    ("CBCL", "internaliseren"): (29, 100),
    ("CBCL", "externaliseren"): (28, 100),
    ("YSR", "totaal"): (24, 100),
    ("TRF", "totaal"): (24, 100),
    ("SDQ", "totaal"): (0, 40),
    ("OBVL", "totaal"): (20, 80),
}

_GESLACHT = ("M", "V", "X", "O")
_HULPVORMEN = ("ambulant", "daghulp", "verblijf", "pleegzorg", "overig")
_INFORMANTS = ("ouder", "jeugdige", "professional", "leerkracht")
_MEETMOMENTEN = ("start", "tussen", "eind")

# ----------------------------------------------------------------------------------------
# File conventions: one per provider position, cycling (delivery-format.md §2).


@dataclass(frozen=True)
class _Style:
    encoding: str  # Python codec name used to write the bytes
    delimiter: str
    date_format: str  # "dd-mm-yyyy", "yyyy-mm-dd" or "d-m-yyyy"
    decimal: str
    lineterminator: str
    mixed_headers: bool  # " Clientnummer ", "BSN", ...
    blank_as_space: bool  # some empty fields written as a single space
    excel_bsn: bool  # BSNs starting with 0 lose it, as when the export went through Excel


_STYLES: tuple[_Style, ...] = (
    _Style("cp1252", ";", "dd-mm-yyyy", ",", "\r\n", False, False, True),
    _Style("utf-8-sig", ",", "yyyy-mm-dd", ".", "\n", False, False, False),
    _Style("utf-8", ";", "d-m-yyyy", ",", "\n", True, True, True),
    _Style("utf-8", ";", "dd-mm-yyyy", ",", "\r\n", False, False, True),
)

# ----------------------------------------------------------------------------------------
# Vocabulary. Every character here is encodable in Windows-1252 (the first provider's codec).

_BOYS = (
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Noah", "Luuk", "Bram", "Jesse", "Thijs",
    "Mees", "Sven", "Ruben", "Stijn", "Jayden", "Mohamed", "Ayoub", "Adam", "Yusuf", "Daniël",
    "Raphaël", "Noë", "José", "René", "Joël", "Gijs", "Teun", "Jurre", "Niels", "Kevin",
    "Dylan", "Tim", "Mats", "Hamza", "Emre", "Jaïr", "Ilias",
)  # fmt: skip
_GIRLS = (
    "Emma", "Julia", "Sophie", "Tess", "Sara", "Anna", "Evi", "Lotte", "Fenna", "Saar", "Noor",
    "Lisa", "Fleur", "Isa", "Mila", "Nina", "Yara", "Lieke", "Sanne", "Zoë", "Chloë", "Loïs",
    "Anaïs", "Noémi", "Inès", "Maëlle", "Renée", "Joëlle", "Fatima", "Aya", "Amira", "Hiba",
    "Esmée", "Naomi", "Romy", "Linde",
)  # fmt: skip
_ACCENTED_FIRST = ("Zoë", "Chloë", "Loïs", "Anaïs", "Daniël", "Noë", "José", "René", "Esmée")
_SURNAMES: tuple[tuple[str, str], ...] = (
    ("", "Jansen"), ("de", "Jong"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"),
    ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"),
    ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"),
    ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"),
    ("van", "Vliet"), ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"),
    ("", "Koster"), ("van", "Dam"), ("van der", "Wal"), ("", "Prins"), ("", "Blom"),
    ("", "Huisman"), ("'t", "Hart"), ("ter", "Horst"), ("in 't", "Veld"), ("", "El Amrani"),
    ("", "Bouzid"), ("", "Yilmaz"), ("", "Öztürk"), ("", "Kaya"), ("", "Martínez"),
    ("", "Müller"), ("", "Ramdin"), ("", "Nguyen"), ("", "Hoëvenaars"),
)  # fmt: skip
_STREETS = (
    "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat", "Julianastraat",
    "Wilhelminalaan", "Beatrixstraat", "Oranjestraat", "Prins Bernhardlaan", "Lindelaan",
    "Eikenlaan", "Berkenlaan", "Merelstraat", "Lijsterstraat", "Rembrandtlaan", "Vondelstraat",
    "Van Goghstraat", "Parallelweg", "Nieuwstraat", "Hoofdstraat", "Spoorstraat",
    "Kastanjelaan", "Zonnebloemstraat", "Tulpstraat", "Sportlaan", "Jan Steenstraat",
    "Händelstraat", "Populierenlaan", "Dr. Schaepmanstraat", "Pastoor van Arsstraat",
    "Hoogstraat", "Achter de Kerk", "Esdoornlaan", "Burgemeester de Withstraat",
)  # fmt: skip
# Regions: (woonplaats, first pc4, last pc4, weight). Postcodes fall in the town's real range.
_REGIONS: tuple[tuple[tuple[str, int, int, int], ...], ...] = (
    (("Utrecht", 3511, 3585, 6), ("Nieuwegein", 3430, 3439, 2), ("Zeist", 3701, 3709, 2),
     ("Houten", 3991, 3997, 1), ("IJsselstein", 3401, 3403, 1), ("Vianen", 4131, 4133, 1)),
    (("Haarlem", 2011, 2037, 4), ("Amsterdam", 1011, 1109, 5), ("Zaandam", 1501, 1509, 2),
     ("Hoofddorp", 2131, 2136, 2), ("Purmerend", 1441, 1448, 1), ("Heemskerk", 1961, 1969, 1)),
    (("Zwolle", 8011, 8043, 4), ("Deventer", 7411, 7429, 3), ("Kampen", 8261, 8266, 1),
     ("Raalte", 8101, 8103, 1), ("Hardenberg", 7771, 7773, 1), ("Enschede", 7511, 7548, 3)),
    (("Tiel", 4001, 4007, 3), ("Culemborg", 4101, 4107, 2), ("Geldermalsen", 4191, 4191, 1),
     ("Zaltbommel", 5301, 5301, 1), ("Leerdam", 4141, 4143, 1), ("Gorinchem", 4201, 4207, 2)),
    (("Eindhoven", 5611, 5658, 4), ("Tilburg", 5011, 5049, 4), ("'s-Hertogenbosch", 5211, 5249, 3),
     ("Helmond", 5701, 5709, 2), ("Oss", 5341, 5351, 1)),
    (("Rotterdam", 3011, 3089, 5), ("Den Haag", 2491, 2597, 5), ("Leiden", 2311, 2334, 2),
     ("Delft", 2611, 2629, 2), ("Dordrecht", 3311, 3329, 2)),
)  # fmt: skip
_AREA_CODES = ("010", "020", "023", "030", "038", "040", "013", "070", "071", "0344", "0345")
_MAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "live.nl", "ziggo.nl", "kpnmail.nl",
                 "home.nl", "icloud.com")  # fmt: skip
_TEAMS = (
    "Team Noord", "Team Zuid", "Team Oost", "Team West", "Team Centrum", "Gezinsteam West",
    "Gezinsteam Oost", "Team Jong", "Team Intensief", "Team Jeugd & Gezin", "Team Ambulant",
    "Team Stad", "Team Regio",
)  # fmt: skip
# The code each team is registered under (consortium.toml [teams.<provider>]): stewards deliver
# the display name, the warehouse stores the code.
_TEAM_CODES: dict[str, str] = {
    "Team Noord": "noord", "Team Zuid": "zuid", "Team Oost": "oost", "Team West": "west",
    "Team Centrum": "centrum", "Gezinsteam West": "gezin-west", "Gezinsteam Oost": "gezin-oost",
    "Team Jong": "jong", "Team Intensief": "intensief", "Team Jeugd & Gezin": "jeugd-gezin",
    "Team Ambulant": "ambulant", "Team Stad": "stad", "Team Regio": "regio",
}  # fmt: skip
# Months a trajectory of each intervention is planned to take (the model stays within 2-14).
_PLANNED_MONTHS: dict[str, tuple[float, float]] = {
    "MST": (4, 6), "FFT": (3, 6), "PMTO": (6, 10), "TRIPLE-P": (2, 5), "IPT": (6, 12),
    "KORTDUREND": (2, 4),
}  # fmt: skip
# Form of care per intervention (ambulant, daghulp, verblijf, pleegzorg, overig): the family
# programmes are ambulant by design; home support (IPT) also runs alongside foster or
# residential care.
_PROGRAMME_HULPVORM = (92, 4, 0, 0, 4)
_HULPVORM_WEIGHTS: dict[str, tuple[int, ...]] = {
    "MST": _PROGRAMME_HULPVORM, "FFT": _PROGRAMME_HULPVORM, "PMTO": _PROGRAMME_HULPVORM,
    "TRIPLE-P": _PROGRAMME_HULPVORM, "IPT": (58, 12, 10, 15, 5), "KORTDUREND": (80, 8, 4, 4, 4),
}  # fmt: skip
# Ages (at start) each intervention is meant for: MST and FFT are for adolescents, PMTO and
# Triple P for parents of younger children, the others for the whole 0-22 range.
_AGE_RANGES: dict[str, tuple[int, int]] = {
    "MST": (11, 18), "FFT": (10, 18), "PMTO": (3, 12), "TRIPLE-P": (0, 12), "IPT": (0, 18),
    "KORTDUREND": (0, 22),
}  # fmt: skip
_REDEN_WEIGHTS = (62, 12, 11, 6, 9)  # codes 1..5
_AGE_WEIGHTS = (1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 9, 9, 9, 9, 9, 8, 7, 3, 2, 1, 1, 1)  # 0..22
MIN_DAYS, MAX_DAYS = 61, 426  # 2 and 14 months

# Measures: (instrument, schaal, informant, youngest age, oldest age).
_MEASURES: tuple[tuple[str, str, str, int, int], ...] = (
    ("CBCL", "totaal", "ouder", 1, 18),
    ("CBCL", "internaliseren", "ouder", 1, 18),
    ("CBCL", "externaliseren", "ouder", 1, 18),
    ("YSR", "totaal", "jeugdige", 11, 22),
    ("TRF", "totaal", "leerkracht", 6, 18),
    ("SDQ", "totaal", "ouder", 2, 17),
    ("SDQ", "totaal", "jeugdige", 11, 22),
    ("OBVL", "totaal", "ouder", 0, 18),
)
# Each provider uses its own questionnaire set, as real ROM practice does (weights per measure).
_MEASURE_PROFILES: tuple[tuple[int, ...], ...] = (
    (5, 2, 2, 3, 1, 0, 0, 1),
    (0, 0, 0, 1, 0, 5, 3, 3),
    (4, 1, 1, 2, 1, 0, 0, 3),
    (2, 0, 0, 1, 0, 3, 2, 2),
)
# Score model per family: (start mean, start sd, mean improvement, sd of improvement).
_SCORE_MODEL: dict[str, tuple[float, float, float, float]] = {
    "T": (66.0, 8.0, 6.5, 7.0),
    "SDQ": (19.0, 5.0, 3.5, 4.5),
    "OBVL": (63.0, 8.0, 5.0, 7.0),
}

_REMARKS = (
    "Verwijzing via huisarts.",
    "Verwijzing via Veilig Thuis; zorgen over de thuissituatie.",
    "Intake samen met wijkteam; moeder en stiefvader aanwezig.",
    "Wachttijd ca. 6 weken.\nGestart na overleg met de huisarts.",
    "Jeugdige wil zelf niet in gesprek; ouders wel gemotiveerd.",
    "Crisisinterventie in week 3, daarna stabiel.",
    "Tolk Arabisch nodig bij gesprekken.",
    "Schoolverzuim besproken met leerplichtambtenaar.",
    "ROM-vragenlijst leerkracht niet ontvangen.",
    "Gesprekken deels via beeldbellen.",
    "Ouders gescheiden, co-ouderschap; beide ouders betrokken.",
    "Overdracht naar collega i.v.m. zwangerschapsverlof.",
    "Contact met school (juf {name}) loopt goed.",
    "Afspraak gemaakt met opa ({name}) als steunfiguur.",
    "Vader werkt in ploegendienst, afspraken bij voorkeur ’s avonds.",
    "Moeder vraagt om “rustige” afspraken thuis.",
    "Eigen bijdrage € 0, vervoer geregeld via gemeente.",
)
# Remarks that always contain Windows-1252-only bytes; one of them sits in every anchor.
_RICH_REMARKS = (
    "Moeder (René) vraagt om “rustige” afspraken; bij voorkeur na schooltijd.",
    "Eigen bijdrage € 0, vervoer via gemeente.\nOverleg met school (juf Anaïs) gepland.",
    "Gezin wil “even rust” na de verhuizing; opnieuw starten in overleg met José (voogd).",
)
_END_REMARKS: dict[int, tuple[str, ...]] = {
    1: ("Afgesloten volgens plan; nazorggesprek over 3 maanden.", "Doelen behaald, ouders tevreden.",
        "Afgerond, terugval-preventieplan meegegeven."),
    2: ("Afgesloten in overleg; vervolg bij GGZ.", "In overleg eerder gestopt, gezin redt het zelf."),
    3: ("Cliënt is gestopt, niet meer bereikbaar.", "Ouders hebben de hulp stopgezet."),
    4: ("Gestopt: hulp sloot niet aan, doorverwezen naar specialistische zorg.",),
    5: ("Gezin verhuisd naar andere regio, overgedragen aan lokaal team.",
        "Overgeplaatst naar andere aanbieder."),
}  # fmt: skip

# Values used for deliberately faulty rows: none of them is a valid code.
_UNKNOWN_INTERVENTIONS = ("MDFT", "EMDR", "MST-CAN", "GIZ")
_UNKNOWN_INSTRUMENTS = ("CBCL-2", "SDQ-NL", "VVK", "KIDSCREEN")
_UNKNOWN_SCALES = {"CBCL": "aandacht", "YSR": "internaliseren", "TRF": "externaliseren",
                   "SDQ": "emotioneel", "OBVL": "ouder-kindrelatie"}  # fmt: skip

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"  # PostNL does not use F, I, O, Q, U, Y
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_PROVIDER_RE = re.compile(r"^[a-z0-9-]{2,40}$")
_DATE_RES = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), (3, 2, 1)),
)

# ----------------------------------------------------------------------------------------
# Model of the provider's registration system (never written as such, only as snapshots).


@dataclass
class _Person:
    voornaam: str
    tussenvoegsel: str
    achternaam: str
    geboortedatum: date
    geslacht: str
    bsn: str
    postcode: str
    adres: str
    woonplaats: str
    telefoon: str
    email: str


@dataclass
class _Client:
    clientnummer: str
    person: _Person
    bsn_written: str  # "" when unknown to the provider, 8 digits after Excel
    bezwaar: str


@dataclass
class _Measurement:
    instrument: str
    schaal: str
    informant: str
    meetmoment: str
    datum: date
    score: int


@dataclass
class _Trajectory:
    start: date
    end: date  # after the period's end: still running when the data stop
    reden_einde: int
    interventie: str
    hulpvorm: str
    team: str
    dossierhouder: str
    effect: float  # latent success of the trajectory: ties scores, goals and satisfaction
    anchor: bool = False
    traject_id: str = ""
    client: _Client | None = None
    doelrealisatie: str = ""
    tevredenheid: float | None = None
    opmerking: str = ""
    opmerking_einde: str = ""
    measurements: list[_Measurement] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """Per-provider choices that stay fixed over the period."""

    code: str
    style: _Style
    extra_column: bool
    region: tuple[tuple[str, int, int, int], ...]
    interventions: tuple[str, ...]
    intervention_weights: tuple[float, ...]
    teams: tuple[str, ...]
    workers: dict[str, tuple[str, ...]]
    measure_weights: tuple[int, ...]


# ----------------------------------------------------------------------------------------
# Small helpers.


def _month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a "YYYY-MM" month."""
    year, mon = int(month[:4]), int(month[5:7])
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


def _validate_months(months: Sequence[str]) -> tuple[str, ...]:
    """Consecutive, well-formed months: the model assumes one snapshot per calendar month."""
    result = tuple(months)
    if not result:
        raise ValueError("months must hold at least one 'YYYY-MM' month")
    for month in result:
        if not isinstance(month, str) or not _MONTH_RE.match(month):
            raise ValueError(f"month {month!r} is not of the form 'YYYY-MM'")
    for previous, current in zip(result, result[1:], strict=False):
        _, last = _month_bounds(previous)
        following = last + timedelta(days=1)
        if current != f"{following.year:04d}-{following.month:02d}":
            raise ValueError(f"months must be consecutive: {previous!r} is followed by {current!r}")
    return result


def _shift_years(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _elfproef(digits: str) -> bool:
    """The BSN check of delivery-format.md §3 on a 9-digit string."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, _BSN_WEIGHTS, strict=True))
    return total != 0 and total % 11 == 0


def _new_bsn(rng: random.Random, used: set[str]) -> str:
    """A fresh, unique BSN that passes the elfproef (about one in ten starts with 0)."""
    while True:
        first8 = [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(first8, _BSN_WEIGHTS, strict=False)) % 11
        if check == 10 or first8[:2] == [0, 0]:
            continue
        bsn = "".join(map(str, first8)) + str(check)
        if bsn not in used and _elfproef(bsn):
            used.add(bsn)
            return bsn


def _broken_bsn(rng: random.Random, written: str) -> str:
    """A 9-digit BSN that fails the elfproef: changing only the last digit always does that."""
    base = written.zfill(9) if written else "".join(str(rng.randint(0, 9)) for _ in range(9))
    last = (int(base[-1]) + rng.randint(1, 9)) % 10
    broken = base[:-1] + str(last)
    if base[0] == "0":  # keep it 9 digits but clearly not Excel-shortened
        broken = str(rng.randint(1, 9)) + broken[1:]
    return broken if not _elfproef(broken) else _broken_bsn(rng, "")


def _ascii(text: str) -> str:
    """Lower-case ASCII letters only, for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z]", "", plain.lower())


def _fmt_date(day: date, style: _Style) -> str:
    if style.date_format == "yyyy-mm-dd":
        return day.isoformat()
    if style.date_format == "d-m-yyyy":
        return f"{day.day}-{day.month}-{day.year}"
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def _fmt_number(value: float, style: _Style) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.1f}".replace(".", style.decimal)


def _parse_date(text: str) -> date | None:
    for pattern, order in _DATE_RES:
        match = pattern.match(text.strip())
        if match:
            parts = [int(match.group(i)) for i in order]
            try:
                return date(parts[0], parts[1], parts[2])
            except ValueError:
                return None
    return None


def _parse_number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _score_family(instrument: str) -> str:
    return instrument if instrument in ("SDQ", "OBVL") else "T"


def _weighted(rng: random.Random, items: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(items, weights=weights, k=1)[0]


# ----------------------------------------------------------------------------------------
# Generating one provider's trajectories.


def _make_plan(rng: random.Random, code: str, index: int, n_providers: int) -> _Plan:
    codes = tuple(DEFAULT_INTERVENTIONS)
    offered = sorted(rng.sample(codes, k=rng.randint(4, 5)), key=codes.index)
    teams = tuple(rng.sample(_TEAMS, k=rng.randint(3, 4)))
    workers = {
        team: tuple(f"{rng.choice(_GIRLS + _BOYS)} {_full_surname(rng)}" for _ in range(3))
        for team in teams
    }
    return _Plan(
        code=code,
        style=_STYLES[index % len(_STYLES)],
        extra_column=index == (1 if n_providers > 1 else 0),
        region=_REGIONS[index % len(_REGIONS)],
        interventions=tuple(offered),
        intervention_weights=tuple(round(rng.uniform(1.0, 4.0), 2) for _ in offered),
        teams=teams,
        workers=workers,
        measure_weights=_MEASURE_PROFILES[index % len(_MEASURE_PROFILES)],
    )


def _full_surname(rng: random.Random) -> str:
    tussenvoegsel, achternaam = rng.choice(_SURNAMES)
    return f"{tussenvoegsel} {achternaam}".strip()


def _new_person(
    rng: random.Random,
    trajectory: _Trajectory,
    plan: _Plan,
    used_bsn: set[str],
) -> _Person:
    """A client with a Dutch name, address and contact details, of an age the intervention
    is meant for (always 0-22) on the trajectory's start."""
    start, accented = trajectory.start, trajectory.anchor
    youngest, oldest = _AGE_RANGES[trajectory.interventie]
    ages = range(youngest, oldest + 1)
    age = rng.choices(ages, weights=[_AGE_WEIGHTS[a] for a in ages], k=1)[0]
    latest = _shift_years(start, age)
    earliest = _shift_years(start, age + 1) + timedelta(days=1)
    birth = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
    if not 0 <= _age(birth, start) <= 22:
        birth = latest
    geslacht = _weighted(rng, _GESLACHT, (50, 46, 1.5, 2.5))
    if accented:
        voornaam = rng.choice(_ACCENTED_FIRST)
    elif geslacht == "M":
        voornaam = rng.choice(_BOYS)
    elif geslacht == "V":
        voornaam = rng.choice(_GIRLS)
    else:
        voornaam = rng.choice(_BOYS + _GIRLS)
    tussenvoegsel, achternaam = rng.choice(_SURNAMES)
    town, pc_low, pc_high, _ = rng.choices(plan.region, weights=[r[3] for r in plan.region])[0]
    letters = "SA"
    while letters in ("SA", "SD", "SS"):
        letters = "".join(rng.choice(_POSTCODE_LETTERS) for _ in range(2))
    pc4 = rng.randint(pc_low, pc_high)
    postcode = f"{pc4} {letters}" if rng.random() < 0.7 else f"{pc4}{letters}"
    number = str(rng.randint(1, 180))
    suffix = _weighted(rng, ("", "a", "b", "-2", " bis", "-III"), (80, 7, 3, 6, 1, 3))
    adres = "" if rng.random() < 0.05 else f"{rng.choice(_STREETS)} {number}{suffix}"
    mobile = "".join(str(rng.randint(0, 9)) for _ in range(8))
    kind = rng.random()
    if kind < 0.5:
        telefoon = f"06-{mobile}"
    elif kind < 0.7:
        telefoon = f"06{mobile}"
    elif kind < 0.8:
        telefoon = f"06 {mobile[:4]} {mobile[4:]}"
    elif kind < 0.9:
        area = rng.choice(_AREA_CODES)
        telefoon = f"{area}-" + "".join(str(rng.randint(0, 9)) for _ in range(10 - len(area)))
    else:
        telefoon = ""
    if rng.random() < 0.25:
        email = ""
    else:
        local = f"{_ascii(voornaam)}.{_ascii(tussenvoegsel)}{_ascii(achternaam)}"
        if rng.random() < 0.3:
            local = f"{_ascii(voornaam)[:1]}{_ascii(achternaam)}{rng.randint(1, 99)}"
        email = f"{local}@{rng.choice(_MAIL_DOMAINS)}"
    return _Person(
        voornaam=voornaam,
        tussenvoegsel=tussenvoegsel,
        achternaam=achternaam,
        geboortedatum=birth,
        geslacht=geslacht,
        bsn=_new_bsn(rng, used_bsn),
        postcode=postcode,
        adres=adres,
        woonplaats=town,
        telefoon=telefoon,
        email=email,
    )


def _draw_course(rng: random.Random, plan: _Plan) -> tuple[str, str, int, int]:
    """Intervention, form of care, reason of ending and length in days of one trajectory."""
    interventie = _weighted(rng, plan.interventions, plan.intervention_weights)
    hulpvorm = _weighted(rng, _HULPVORMEN, _HULPVORM_WEIGHTS[interventie])
    months = rng.uniform(*_PLANNED_MONTHS[interventie])
    if hulpvorm in ("verblijf", "pleegzorg"):
        months = max(months, rng.uniform(8, 14))
    reden = rng.choices((1, 2, 3, 4, 5), weights=_REDEN_WEIGHTS, k=1)[0]
    if reden in (2, 3, 4):
        months *= rng.uniform(0.35, 0.85)
    elif reden == 5:
        months *= rng.uniform(0.3, 1.0)
    return interventie, hulpvorm, reden, min(MAX_DAYS, max(MIN_DAYS, round(months * 30.44)))


def _mean_months(plan: _Plan) -> float:
    """The provider's mean trajectory length, estimated on a private generator."""
    rng = random.Random(f"mean-length:{plan.code}:{plan.interventions}")
    return sum(_draw_course(rng, plan)[3] for _ in range(2000)) / 2000 / 30.44


def _new_trajectory(
    rng: random.Random,
    plan: _Plan,
    period: tuple[date, date],
    before_share: float,
    anchor: bool,
) -> _Trajectory:
    """Dates, codes and outcome of one trajectory, before it is tied to a client."""
    period_start, period_end = period
    if anchor:
        # Long-running from before the first month, so every early delivery holds a row.
        interventie = max(plan.interventions, key=lambda c: _PLANNED_MONTHS[c][1])
        hulpvorm = "pleegzorg" if interventie == "IPT" else "ambulant"
        reden, days = 1, rng.randint(MAX_DAYS - 20, MAX_DAYS)
        start = period_start - timedelta(days=rng.randint(14, 45))
    elif rng.random() < before_share:
        # Already running on day one. Drawn length-biased (a long trajectory is more likely
        # to be running on a given day), so the caseload stays about level over the months.
        while True:
            interventie, hulpvorm, reden, days = _draw_course(rng, plan)
            if rng.random() < days / MAX_DAYS:
                break
        start = period_start - timedelta(days=rng.randint(1, min(days - 1, 365)))
    else:
        interventie, hulpvorm, reden, days = _draw_course(rng, plan)
        start = period_start + timedelta(days=rng.randint(0, (period_end - period_start).days))
    team = rng.choice(plan.teams)
    return _Trajectory(
        start=start,
        end=start + timedelta(days=days),
        reden_einde=reden,
        interventie=interventie,
        hulpvorm=hulpvorm,
        team=team,
        dossierhouder=rng.choice(plan.workers[team]),
        effect=rng.gauss(0.0, 1.0),
        anchor=anchor,
    )


def _open_in(trajectory: _Trajectory, first: date, last: date) -> bool:
    return trajectory.start <= last and trajectory.end >= first


def _cover_every_month(
    rng: random.Random, trajectories: list[_Trajectory], months: tuple[str, ...]
) -> None:
    """Move trajectories into empty months: a delivery without trajecten rows is a file fault."""
    bounds = [_month_bounds(m) for m in months]
    for _ in range(4 * len(months) + 10):
        counts = [sum(_open_in(t, *b) for t in trajectories) for b in bounds]
        empty = [i for i, count in enumerate(counts) if count == 0]
        if not empty:
            return
        first, last = bounds[empty[0]]
        spare = [
            t for t in trajectories
            if not t.anchor
            and all(counts[i] > 1 for i, b in enumerate(bounds) if _open_in(t, *b))
        ]  # fmt: skip
        if not spare:
            break
        moved = rng.choice(spare)
        days = (moved.end - moved.start).days
        moved.start = first + timedelta(days=rng.randint(0, (last - first).days))
        moved.end = moved.start + timedelta(days=days)
    raise ValueError(
        f"trajectories_per_provider={len(trajectories)} is too small to give every one of "
        f"{len(months)} months at least one trajectory"
    )


def _end_state(rng: random.Random, trajectory: _Trajectory) -> None:
    """Goal attainment, satisfaction and remarks as they will read once the trajectory ends."""
    reden, z = trajectory.reden_einde, trajectory.effect
    if reden == 1:
        options, weights = ("1", "2", "3", ""), (45 + 15 * z, 35, 5, 5)
    elif reden == 5:
        options, weights = ("2", "3", ""), (30, 10, 60)
    else:
        options, weights = ("1", "2", "3", ""), (5, 35 + 10 * z, 40, 20)
    trajectory.doelrealisatie = _weighted(rng, options, [max(w, 1.0) for w in weights])
    if rng.random() < (0.35 if reden == 3 else 0.15):
        trajectory.tevredenheid = None
    else:
        base = {1: 7.6, 2: 6.4, 3: 5.6, 4: 6.2, 5: 7.0}[reden] + 0.5 * z + rng.gauss(0, 1.0)
        value = round(base * 2) / 2 if rng.random() < 0.2 else float(round(base))
        trajectory.tevredenheid = min(10.0, max(1.0, value))
    name = f"{rng.choice(_GIRLS + _BOYS)} {_full_surname(rng)}"
    if trajectory.anchor:
        trajectory.opmerking = rng.choice(_RICH_REMARKS)
    elif rng.random() < 0.3:
        trajectory.opmerking = rng.choice(_REMARKS).format(name=name)
    if rng.random() < 0.4:
        trajectory.opmerking_einde = rng.choice(_END_REMARKS[reden])


def _measurements(rng: random.Random, trajectory: _Trajectory, plan: _Plan) -> None:
    """Start, interim and end questionnaires with scores that mostly improve."""
    assert trajectory.client is not None
    age = _age(trajectory.client.person.geboortedatum, trajectory.start)
    eligible = [i for i, m in enumerate(_MEASURES) if m[3] <= age <= m[4]]
    weighted = [i for i in eligible if plan.measure_weights[i] > 0]
    pool = weighted or eligible
    weights = [plan.measure_weights[i] or 1 for i in pool]
    chosen = [rng.choices(pool, weights=weights, k=1)[0]]
    rest = [i for i in pool if i != chosen[0]]
    if rest and rng.random() < 0.4:
        chosen.append(rng.choices(rest, weights=[plan.measure_weights[i] or 1 for i in rest])[0])

    duration = (trajectory.end - trajectory.start).days
    month_of_end_last = _month_bounds(trajectory.end.strftime("%Y-%m"))[1]
    start_day = trajectory.start + timedelta(days=rng.randint(-21, 21))
    has_start = rng.random() < 0.92
    tussen_day = None
    if duration >= 150 and rng.random() < 0.7:
        tussen_day = trajectory.start + timedelta(days=duration // 2 + rng.randint(-14, 14))
    eind_day = None
    if rng.random() < (0.4 if trajectory.reden_einde == 3 else 0.75):
        eind_day = min(trajectory.end + timedelta(days=rng.randint(-21, 7)), month_of_end_last)
        eind_day = max(eind_day, (tussen_day or start_day) + timedelta(days=7))
        eind_day = min(eind_day, month_of_end_last)

    modifier = {1: 1.15, 2: 0.5, 3: 0.4, 4: 0.4, 5: 0.8}[trajectory.reden_einde]
    for index in chosen:
        instrument, schaal, informant, _, _ = _MEASURES[index]
        low, high = _REGISTRY[(instrument, schaal)]
        mean0, sd0, gain, sd_gain = _SCORE_MODEL[_score_family(instrument)]

        def clamp(value: float, low: int = low, high: int = high) -> int:
            return int(min(high, max(low, round(value))))

        start_score = rng.gauss(mean0, sd0)
        delta = gain * modifier + sd_gain * (0.6 * trajectory.effect + 0.8 * rng.gauss(0, 1))
        moments: list[tuple[str, date, float]] = []
        if has_start:
            moments.append(("start", start_day, start_score))
        if tussen_day is not None:
            moments.append(("tussen", tussen_day, start_score - delta * rng.uniform(0.3, 0.7)))
        if eind_day is not None:
            moments.append(("eind", eind_day, start_score - delta))
        for meetmoment, day, score in moments:
            trajectory.measurements.append(
                _Measurement(instrument, schaal, informant, meetmoment, day, clamp(score))
            )
    trajectory.measurements.sort(key=lambda m: (m.datum, m.instrument, m.schaal))


def _generate_provider(
    rng: random.Random,
    plan: _Plan,
    months: tuple[str, ...],
    n_trajectories: int,
    shared_pool: list[_Person],
    used_bsn: set[str],
) -> list[_Trajectory]:
    """All trajectories of one provider over the period, with clients and measurements."""
    period = (_month_bounds(months[0])[0], _month_bounds(months[-1])[1])
    # In a steady caseload, those running on day one are (mean length / (mean length + period))
    # of all trajectories seen during the period.
    mean_months = _mean_months(plan)
    before_share = mean_months / (mean_months + len(months))
    trajectories = [
        _new_trajectory(rng, plan, period, before_share, anchor=i == 0)
        for i in range(n_trajectories)
    ]
    _cover_every_month(rng, trajectories, months)
    trajectories.sort(key=lambda t: (t.start, t.end, t.team))

    sequence = rng.randint(1, 400)
    digits = 6 if n_trajectories <= 300_000 else 8
    used_numbers: set[str] = set()
    clients: list[_Client] = []
    own_persons: list[_Person] = []
    for trajectory in trajectories:
        trajectory.traject_id = f"T{trajectory.start.year}-{sequence:05d}"
        sequence += rng.randint(1, 3)  # gaps: numbers used by registrations outside the data

        client = None
        youngest, oldest = _AGE_RANGES[trajectory.interventie]
        if not trajectory.anchor and clients and rng.random() < 0.05:
            recent = [
                c
                for c in clients[-200:]
                if youngest <= _age(c.person.geboortedatum, trajectory.start) <= oldest
            ]
            client = rng.choice(recent) if recent else None
        if client is None:
            person = None
            if shared_pool and not trajectory.anchor and rng.random() < 0.04:
                sample = rng.sample(shared_pool, k=min(50, len(shared_pool)))
                fitting = [
                    p
                    for p in sample
                    if youngest <= _age(p.geboortedatum, trajectory.start) <= oldest
                ]
                person = rng.choice(fitting) if fitting else None
            if person is None:
                person = _new_person(rng, trajectory, plan, used_bsn)
                own_persons.append(person)
            number = ""
            while not number or number in used_numbers:
                number = "C" + str(rng.randint(10 ** (digits - 1), 10**digits - 1))
            used_numbers.add(number)
            written = "" if rng.random() < 0.2 and not trajectory.anchor else person.bsn
            if plan.style.excel_bsn and written.startswith("0") and rng.random() < 0.6:
                written = written[1:]
            bezwaar = _weighted(rng, ("ja", "nee", ""), (2, 15, 83))
            if trajectory.anchor:
                bezwaar = ""
            client = _Client(number, person, written, bezwaar)
            clients.append(client)
        trajectory.client = client
        _end_state(rng, trajectory)
        _measurements(rng, trajectory, plan)
    shared_pool.extend(own_persons)
    return trajectories


# ----------------------------------------------------------------------------------------
# Writing monthly snapshots.


def _header(columns: Sequence[str], style: _Style) -> list[str]:
    """Header names as the provider's export writes them."""
    if not style.mixed_headers:
        return list(columns)
    names = []
    for i, column in enumerate(columns):
        base = {"bsn": "BSN", "traject_id": "Traject_ID"}.get(column, column.capitalize())
        names.append((f" {base} ", base, f"{base} ")[i % 3])
    return names


def _static_row(trajectory: _Trajectory, style: _Style) -> dict[str, str]:
    """The columns that do not change over a trajectory's life."""
    assert trajectory.client is not None
    client, person = trajectory.client, trajectory.client.person
    blank = " " if style.blank_as_space else ""
    return {
        "clientnummer": client.clientnummer,
        "bsn": client.bsn_written,
        "voornaam": person.voornaam,
        "tussenvoegsel": person.tussenvoegsel or blank,
        "achternaam": person.achternaam,
        "geboortedatum": _fmt_date(person.geboortedatum, style),
        "geslacht": person.geslacht,
        "postcode": person.postcode,
        "adres": person.adres,
        "woonplaats": person.woonplaats,
        "telefoon": person.telefoon,
        "email": person.email,
        "traject_id": trajectory.traject_id,
        "team": trajectory.team,
        EXTRA_COLUMN: trajectory.dossierhouder,
        "interventie": trajectory.interventie,
        "hulpvorm": trajectory.hulpvorm,
        "startdatum": _fmt_date(trajectory.start, style),
        "einddatum": blank,
        "reden_einde": "",
        "doelrealisatie": "",
        "tevredenheid": "",
        "opmerkingen": trajectory.opmerking,
        "bezwaar": client.bezwaar,
    }


def _ended_values(trajectory: _Trajectory, style: _Style) -> dict[str, str]:
    """The columns that are filled in from the month the trajectory ends."""
    remark = "\n".join(r for r in (trajectory.opmerking, trajectory.opmerking_einde) if r)
    tevredenheid = trajectory.tevredenheid
    return {
        "einddatum": _fmt_date(trajectory.end, style),
        "reden_einde": str(trajectory.reden_einde),
        "doelrealisatie": trajectory.doelrealisatie,
        "tevredenheid": "" if tevredenheid is None else _fmt_number(tevredenheid, style),
        "opmerkingen": remark,
    }


def _encode_csv(header: Sequence[str], rows: Sequence[Sequence[str]], style: _Style) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=style.delimiter,
        lineterminator=style.lineterminator,
        quoting=csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(style.encoding)


def _fault_trajecten(
    rng: random.Random,
    rows: list[dict[str, str]],
    ended: list[bool],
    trajectories: list[_Trajectory],
    style: _Style,
) -> int:
    """Make a few trajecten rows faulty (row-level faults only, never a bezwaar=ja row)."""
    eligible = [i for i, row in enumerate(rows) if row["bezwaar"] != "ja"]
    chosen = rng.sample(eligible, k=min(len(rows) // 30, len(eligible)))
    for i in chosen:
        row = rows[i]
        kinds = ["bsn", "interventie"] + (["einddatum"] if ended[i] else [])
        kind = rng.choice(kinds)
        if kind == "bsn":
            row["bsn"] = _broken_bsn(rng, row["bsn"])
        elif kind == "interventie":
            row["interventie"] = rng.choice(_UNKNOWN_INTERVENTIONS)
        else:
            before = trajectories[i].start - timedelta(days=rng.randint(3, 60))
            row["einddatum"] = _fmt_date(before, style)
    return len(chosen)


def _fault_metingen(rng: random.Random, rows: list[list[str]], bezwaar_ids: set[str]) -> int:
    """Make a few metingen rows faulty: score out of range, unknown instrument or scale."""
    eligible = [i for i, row in enumerate(rows) if row[1] not in bezwaar_ids]
    chosen = rng.sample(eligible, k=min(len(rows) // 30, len(eligible)))
    for i in chosen:
        row = rows[i]
        kind = rng.choice(("score", "score", "instrument", "schaal"))
        if kind == "score":
            low, high = _REGISTRY[(row[2], row[3])]
            wrong = high + rng.randint(1, 20) if rng.random() < 0.7 else low - rng.randint(1, 10)
            row[7] = str(wrong)
        elif kind == "instrument":
            row[2] = rng.choice(_UNKNOWN_INSTRUMENTS)
        else:
            row[3] = _UNKNOWN_SCALES[row[2]]
    return len(chosen)


def _snapshot(
    month: str,
    trajectories: list[_Trajectory],
    static_rows: list[dict[str, str]],
    ended_rows: list[dict[str, str]],
    style: _Style,
) -> tuple[list[dict[str, str]], list[bool], list[_Trajectory], list[list[str]]]:
    """The rows of one month's delivery: every trajectory open in the month, in its state at the
    month's end, and every measurement dated up to that end (delivery-format.md §1, §9.2)."""
    first, last = _month_bounds(month)
    rows: list[dict[str, str]] = []
    ended: list[bool] = []
    included: list[_Trajectory] = []
    for trajectory, static, end_values in zip(trajectories, static_rows, ended_rows, strict=True):
        if not _open_in(trajectory, first, last):
            continue
        row = dict(static)
        is_ended = trajectory.end <= last
        if is_ended:
            row.update(end_values)
        rows.append(row)
        ended.append(is_ended)
        included.append(trajectory)

    metingen: list[list[str]] = []
    for trajectory in included:
        assert trajectory.client is not None
        for m in trajectory.measurements:
            if m.datum <= last:
                metingen.append([
                    trajectory.client.clientnummer, trajectory.traject_id, m.instrument, m.schaal,
                    m.informant, m.meetmoment, _fmt_date(m.datum, style), str(m.score),
                ])  # fmt: skip
    return rows, ended, included, metingen


def _write_delivery(
    folder: Path,
    plan: _Plan,
    month: str,
    trajectories: list[_Trajectory],
    static_rows: list[dict[str, str]],
    ended_rows: list[dict[str, str]],
    fault_rng: random.Random | None,
) -> SyntheticDelivery:
    """One month's snapshot of the provider's registration, written in its conventions."""
    style = plan.style
    rows, ended, included, metingen = _snapshot(
        month, trajectories, static_rows, ended_rows, style
    )
    n_faulty = 0
    if fault_rng is not None:
        bezwaar_ids = {r["traject_id"] for r in rows if r["bezwaar"] == "ja"}
        n_faulty += _fault_trajecten(fault_rng, rows, ended, included, style)
        n_faulty += _fault_metingen(fault_rng, metingen, bezwaar_ids)

    columns = list(TRAJECTEN_COLUMNS)
    if plan.extra_column:
        columns.insert(columns.index("team") + 1, EXTRA_COLUMN)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trajecten.csv").write_bytes(
        _encode_csv(_header(columns, style), [[r[c] for c in columns] for r in rows], style)
    )
    (folder / "metingen.csv").write_bytes(
        _encode_csv(_header(METINGEN_COLUMNS, style), metingen, style)
    )
    return SyntheticDelivery(
        provider=plan.code,
        month=month,
        folder=folder,
        n_trajecten=len(rows),
        n_metingen=len(metingen),
        n_faulty_rows=n_faulty,
        n_bezwaar=sum(r["bezwaar"] == "ja" for r in rows),
    )


def _validate_providers(
    providers: Mapping[str, str] | None, trajectories_per_provider: int
) -> dict[str, str]:
    chosen = dict(DEFAULT_PROVIDERS if providers is None else providers)
    if not chosen:
        raise ValueError("providers must name at least one provider")
    for code in chosen:
        if not _PROVIDER_RE.match(code):
            raise ValueError(f"provider code {code!r} does not match [a-z0-9-]{{2,40}}")
    if trajectories_per_provider < 1:
        raise ValueError("trajectories_per_provider must be at least 1")
    return chosen


def _model_providers(
    providers: Mapping[str, str], months: tuple[str, ...], trajectories_per_provider: int, seed: int
) -> list[tuple[_Plan, list[_Trajectory]]]:
    """Every provider's plan and trajectories over the whole period, in provider order.

    Why in order and all at once: the providers share a pool of persons (a few clients are in
    care at two providers), so a provider's model depends on those before it; each provider
    draws from its own generator seeded with (seed, code), which keeps the grid writer's bytes
    the same whatever schedule the deliveries are later written in."""
    shared_pool: list[_Person] = []
    used_bsn: set[str] = set()
    models = []
    for index, code in enumerate(providers):
        rng = random.Random(f"{seed}:{code}")
        plan = _make_plan(rng, code, index, len(providers))
        trajectories = _generate_provider(
            rng, plan, months, trajectories_per_provider, shared_pool, used_bsn
        )
        models.append((plan, trajectories))
    return models


def _team_register(
    plans: Sequence[_Plan], leave_out: tuple[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """The consortium's team register for these providers: every team they deliver, code ->
    display name, except `leave_out` (provider, display name)."""
    return {
        plan.code: {_TEAM_CODES[name]: name for name in plan.teams if (plan.code, name) != leave_out}
        for plan in plans
    }


def write_synthetic_consortium(
    landing: Path,
    *,
    months: Sequence[str],
    providers: Mapping[str, str] | None = None,
    trajectories_per_provider: int = 120,
    seed: int = 20261125,
    faulty_rows: bool = True,
) -> SyntheticConsortium:
    """Write monthly deliveries for every provider into `landing/<provider>/<YYYY-MM>/`.

    Why a whole consortium at once: clients are linked across providers by BSN (a few people
    are in care at two providers), and `databank demo` needs the matching configuration
    (providers and interventions) together with the data. The n-th provider gets the n-th file
    convention of delivery-format.md §2 (cp1252/`;`/dd-mm-yyyy/CRLF, UTF-8 BOM/`,`/ISO,
    UTF-8/`;`/d-m-yyyy with mixed-case headers, UTF-8/`;`/dd-mm-yyyy/CRLF), cycling; the second
    provider also exports a non-spec `dossierhouder` column. With `faulty_rows`, each table of a
    delivery gets one faulty row per 30 rows (so at most 3.3 %, never enough to reject it).
    """
    month_list = _validate_months(months)
    chosen = _validate_providers(providers, trajectories_per_provider)

    landing = Path(landing)
    deliveries: list[SyntheticDelivery] = []
    models = _model_providers(chosen, month_list, trajectories_per_provider, seed)
    for plan, trajectories in models:
        code = plan.code
        static_rows = [_static_row(t, plan.style) for t in trajectories]
        ended_rows = [_ended_values(t, plan.style) for t in trajectories]
        for month in month_list:
            fault_rng = random.Random(f"{seed}:{code}:{month}:faults") if faulty_rows else None
            deliveries.append(
                _write_delivery(
                    landing / code / month, plan, month, trajectories, static_rows, ended_rows,
                    fault_rng,
                )
            )  # fmt: skip
    # The second provider (the messy one: an extra column, a workbook in the demo) uses a team
    # the consortium has not registered: its last.
    messy = models[1 if len(models) > 1 else 0][0]
    unregistered = (messy.code, messy.teams[-1]) if len(messy.teams) > 1 else None
    return SyntheticConsortium(
        providers=chosen,
        interventions=dict(DEFAULT_INTERVENTIONS),
        months=month_list,
        deliveries=tuple(deliveries),
        teams=_team_register([plan for plan, _ in models], unregistered),
        unregistered_team=unregistered,
    )


# ----------------------------------------------------------------------------------------
# Corrections: read back what was written, change a little, write it the same way.


@dataclass
class _CsvFile:
    encoding: str
    delimiter: str
    lineterminator: str
    header: list[str]
    rows: list[list[str]]
    columns: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = {h.strip().lower(): i for i, h in enumerate(self.header)}

    def index(self, column: str) -> int:
        return self.columns[column]

    def encode(self) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(
            buffer,
            delimiter=self.delimiter,
            lineterminator=self.lineterminator,
            quoting=csv.QUOTE_MINIMAL,
        )
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue().encode(self.encoding)


def _read_csv(path: Path) -> _CsvFile:
    """Read one of our own files back, remembering its conventions so they survive a rewrite."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    text = data.decode(encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    terminator = "\r\n" if "\r\n" in text else "\n"
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records:
        raise ValueError(f"{path} has no header")
    return _CsvFile(encoding, delimiter, terminator, records[0], records[1:])


def _metingen_fault(row: list[str], met: _CsvFile) -> str | None:
    """Why a metingen row is faulty ('score', 'instrument'), or None."""
    key = (row[met.index("instrument")].strip(), row[met.index("schaal")].strip())
    if key not in _REGISTRY:
        return "instrument"
    if row[met.index("informant")].strip() not in _INFORMANTS:
        return "code"
    if row[met.index("meetmoment")].strip() not in _MEETMOMENTEN:
        return "code"
    if _parse_date(row[met.index("datum")]) is None:
        return "date"
    score = _parse_number(row[met.index("score")])
    low, high = _REGISTRY[key]
    if score is None or not low <= score <= high:
        return "score"
    return None


def _trajecten_fault(row: list[str], traj: _CsvFile) -> bool:
    def value(column: str) -> str:
        return row[traj.index(column)].strip()

    bsn = value("bsn")
    if bsn and not (bsn.isdigit() and len(bsn) in (8, 9) and _elfproef(bsn.zfill(9))):
        return True
    if value("interventie") not in DEFAULT_INTERVENTIONS or value("hulpvorm") not in _HULPVORMEN:
        return True
    if value("geslacht") not in _GESLACHT:
        return True
    start, end = _parse_date(value("startdatum")), value("einddatum")
    if start is None or _parse_date(value("geboortedatum")) is None:
        return True
    if end:
        end_date = _parse_date(end)
        if end_date is None or end_date < start or not value("reden_einde"):
            return True
    return False


def _count_faults(traj: _CsvFile, met: _CsvFile) -> tuple[int, int]:
    """(faulty rows, bezwaar=ja rows) of a delivery, for the kinds of fault we generate."""
    bezwaar_col, id_col = traj.index("bezwaar"), traj.index("traject_id")
    bezwaar_ids = {r[id_col].strip() for r in traj.rows if r[bezwaar_col].strip() == "ja"}
    faulty = sum(_trajecten_fault(r, traj) for r in traj.rows if r[bezwaar_col].strip() != "ja")
    met_id = met.index("traject_id")
    faulty += sum(
        _metingen_fault(r, met) is not None
        for r in met.rows
        if r[met_id].strip() not in bezwaar_ids
    )
    return faulty, len(bezwaar_ids)


def write_correction(
    landing: Path, provider: str, month: str, *, seed: int = 1
) -> SyntheticDelivery:
    """Rewrite one already-written month folder as a correction, as a steward would resend it.

    Same trajectories and file conventions as the original (encoding, BOM, delimiter, line
    endings, header spelling and date format are kept), with a few values changed: up to two
    trajectories moved to another team, one questionnaire score corrected (a faulty,
    out-of-range score is fixed when there is one, otherwise a valid score shifts a little)
    and one trajectory removed together with its measurements (delivery-format.md §9.6 says it
    then falls back to its previous month). The returned counts are recounted from the files.
    """
    _validate_months([month])
    folder = Path(landing) / provider / month
    traj_path, met_path = folder / "trajecten.csv", folder / "metingen.csv"
    if not traj_path.is_file() or not met_path.is_file():
        raise FileNotFoundError(f"no delivery to correct in {folder}")
    traj, met = _read_csv(traj_path), _read_csv(met_path)
    rng = random.Random(f"{seed}:{provider}:{month}:correction")
    changed = False

    team_col, id_col = traj.index("team"), traj.index("traject_id")
    teams = sorted({r[team_col] for r in traj.rows})
    if len(teams) > 1:
        for i in rng.sample(range(len(traj.rows)), k=min(2, len(traj.rows))):
            traj.rows[i][team_col] = rng.choice([t for t in teams if t != traj.rows[i][team_col]])
            changed = True

    if met.rows:
        score_col = met.index("score")
        faulty = [i for i, r in enumerate(met.rows) if _metingen_fault(r, met) == "score"]
        valid = [i for i, r in enumerate(met.rows) if _metingen_fault(r, met) is None]
        if faulty or valid:
            i = rng.choice(faulty) if faulty else rng.choice(valid)
            row = met.rows[i]
            original = row[score_col]
            low, high = _REGISTRY[(row[met.index("instrument")], row[met.index("schaal")])]
            old = _parse_number(row[score_col])
            if faulty or old is None:
                new = rng.randint(low + (high - low) // 3, low + 2 * (high - low) // 3)
            else:
                step = rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))
                new = int(min(high, max(low, round(old) + step)))
                if new == old:
                    new = int(min(high, max(low, round(old) - step)))
            row[score_col] = str(new)
            changed = changed or row[score_col] != original

    if len(traj.rows) > 1:
        removed = traj.rows.pop(rng.randrange(len(traj.rows)))[id_col]
        met_id = met.index("traject_id")
        met.rows = [r for r in met.rows if r[met_id] != removed]
        changed = True

    if not changed:  # a single row without scores or teams to move: still change something
        remark_col = traj.index("opmerkingen")
        traj.rows[0][remark_col] = (traj.rows[0][remark_col] + " (gecorrigeerd)").strip()

    traj_path.write_bytes(traj.encode())
    met_path.write_bytes(met.encode())
    n_faulty, n_bezwaar = _count_faults(traj, met)
    return SyntheticDelivery(
        provider=provider,
        month=month,
        folder=folder,
        n_trajecten=len(traj.rows),
        n_metingen=len(met.rows),
        n_faulty_rows=n_faulty,
        n_bezwaar=n_bezwaar,
    )


# ----------------------------------------------------------------------------------------
# Irregular consortia: deliveries arriving over several runs, as real consortia deliver.


@dataclass(frozen=True)
class TrajectoryState:
    """One trajectory as a delivery states it: the typed values behind its row, so that a
    reference computation need not read the files back (or trust the pipeline's reader)."""

    provider: str
    traject_id: str
    clientnummer: str
    geslacht: str
    team: str
    interventie: str
    startdatum: date
    einddatum: date | None
    reden_einde: int | None
    doelrealisatie: int | None
    tevredenheid: float | None
    bezwaar: bool


@dataclass(frozen=True)
class MeasurementState:
    """One questionnaire score as a delivery states it."""

    provider: str
    traject_id: str
    instrument: str
    schaal: str
    informant: str
    meetmoment: str
    datum: date
    score: int


@dataclass(frozen=True)
class ScheduledDelivery:
    """One delivery of an irregular consortium: when it arrives, what it states, and what the
    pipeline must decide about it (delivery-format.md §8, §9.1).

    `kind` is "regular" (a month delivered at its own step), "late" (a month delivered one or two
    steps after its own), "correction" (a month delivered before, resent with changes),
    "redelivery" (a month whose first delivery was rejected, resent correctly) or "unregistered"
    (a provider folder the consortium does not know). `fault` names the file-level fault of a
    delivery that must be rejected ("column_missing", "unregistered"), else None."""

    step: int
    provider: str
    month: str
    kind: str
    workbook: bool
    fault: str | None
    trajectories: tuple[TrajectoryState, ...]
    measurements: tuple[MeasurementState, ...]
    files: Mapping[str, bytes] = field(repr=False, compare=False, hash=False)

    @property
    def accepted(self) -> bool:
        return self.fault is None


@dataclass(frozen=True)
class IrregularConsortium:
    """A consortium whose deliveries arrive over `n_steps` runs (steps 0 .. n_steps - 1), with the
    ground truth of every delivery. `providers` are the registered ones (the configuration);
    `unregistered` is the code of the folder that is not."""

    providers: dict[str, str]
    interventions: dict[str, str]
    months: tuple[str, ...]
    n_steps: int
    unregistered: str | None
    schedule: tuple[ScheduledDelivery, ...]
    # provider -> {team code -> display name}: every team delivered is registered (the
    # deliveries state display names; the warehouse stores codes, see `team_code`)
    teams: dict[str, dict[str, str]] = field(default_factory=dict)

    def team_code(self, provider: str, name: str) -> str:
        """The code the warehouse stores for a team a delivery states by its display name."""
        return next(code for code, shown in self.teams[provider].items() if shown == name)

    def step(self, step: int) -> tuple[ScheduledDelivery, ...]:
        return tuple(d for d in self.schedule if d.step == step)

    def in_force(self, through_step: int) -> list[ScheduledDelivery]:
        """Per registered (provider, month), the newest accepted delivery that has arrived by the
        end of `through_step`: a correction replaces its month whole, a rejected one leaves the
        earlier version in force (delivery-format.md §1, §9.6)."""
        chosen: dict[tuple[str, str], ScheduledDelivery] = {}
        for delivery in sorted(self.schedule, key=lambda d: d.step):
            if delivery.step <= through_step and delivery.accepted:
                chosen[(delivery.provider, delivery.month)] = delivery
        return [chosen[key] for key in sorted(chosen)]


@dataclass
class _Entry:
    """A trajectory's row in one delivery, with the values a correction may change."""

    trajectory: _Trajectory
    team: str
    tevredenheid: float | None
    ended: bool


def _snapshot_entries(
    month: str, trajectories: list[_Trajectory]
) -> tuple[list[_Entry], list[tuple[_Trajectory, _Measurement]]]:
    """The same selection as `_snapshot`, kept as objects so rows and ground truth agree."""
    first, last = _month_bounds(month)
    entries = [
        _Entry(t, t.team, t.tevredenheid, t.end <= last)
        for t in trajectories
        if _open_in(t, first, last)
    ]
    measurements = [
        (e.trajectory, m) for e in entries for m in e.trajectory.measurements if m.datum <= last
    ]
    return entries, measurements


def _correct_entries(
    rng: random.Random,
    entries: list[_Entry],
    measurements: list[tuple[_Trajectory, _Measurement]],
    teams: Sequence[str],
) -> tuple[list[_Entry], list[tuple[_Trajectory, _Measurement]]]:
    """What a steward's correction changes (as `write_correction` does, on the model): up to two
    trajectories move to another team, one score shifts, one ended trajectory's satisfaction
    changes, and one trajectory is left out with its measurements (§9.6: it falls back to its
    previous month)."""
    entries = [_Entry(e.trajectory, e.team, e.tevredenheid, e.ended) for e in entries]
    if len(teams) > 1:
        for e in rng.sample(entries, k=min(2, len(entries))):
            e.team = rng.choice([t for t in teams if t != e.team])
    ended = [e for e in entries if e.ended]
    if ended:
        e = rng.choice(ended)
        e.tevredenheid = float(rng.choice([v for v in range(1, 11) if v != e.tevredenheid]))
    measurements = list(measurements)
    if measurements:
        i = rng.randrange(len(measurements))
        trajectory, m = measurements[i]
        low, high = _REGISTRY[(m.instrument, m.schaal)]
        step = rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))
        new = min(high, max(low, m.score + step))
        if new == m.score:
            new = min(high, max(low, m.score - step))
        measurements[i] = (
            trajectory,
            _Measurement(m.instrument, m.schaal, m.informant, m.meetmoment, m.datum, new),
        )
    if len(entries) > 1:
        removed = entries.pop(rng.randrange(len(entries))).trajectory
        measurements = [(t, m) for t, m in measurements if t is not removed]
    return entries, measurements


def _truth(
    code: str, entries: list[_Entry], measurements: list[tuple[_Trajectory, _Measurement]]
) -> tuple[tuple[TrajectoryState, ...], tuple[MeasurementState, ...]]:
    states = []
    for e in entries:
        t = e.trajectory
        assert t.client is not None
        states.append(
            TrajectoryState(
                provider=code,
                traject_id=t.traject_id,
                clientnummer=t.client.clientnummer,
                geslacht=t.client.person.geslacht,
                team=e.team,
                interventie=t.interventie,
                startdatum=t.start,
                einddatum=t.end if e.ended else None,
                reden_einde=t.reden_einde if e.ended else None,
                doelrealisatie=int(t.doelrealisatie) if e.ended and t.doelrealisatie else None,
                tevredenheid=e.tevredenheid if e.ended else None,
                bezwaar=t.client.bezwaar == "ja",
            )
        )
    scores = tuple(
        MeasurementState(
            code, t.traject_id, m.instrument, m.schaal, m.informant, m.meetmoment, m.datum, m.score
        )
        for t, m in measurements
    )
    return tuple(states), scores


def _entry_rows(
    plan: _Plan, entries: list[_Entry], measurements: list[tuple[_Trajectory, _Measurement]]
) -> tuple[list[str], list[dict[str, str]], list[list[str]]]:
    """Columns, trajecten rows and metingen rows (text, in the provider's conventions)."""
    style = plan.style
    rows = []
    for e in entries:
        row = _static_row(e.trajectory, style)
        row["team"] = e.team
        if e.ended:
            row.update(_ended_values(e.trajectory, style))
            tevredenheid = e.tevredenheid
            row["tevredenheid"] = "" if tevredenheid is None else _fmt_number(tevredenheid, style)
        rows.append(row)
    metingen = []
    for t, m in measurements:
        assert t.client is not None
        metingen.append([
            t.client.clientnummer, t.traject_id, m.instrument, m.schaal, m.informant,
            m.meetmoment, _fmt_date(m.datum, style), str(m.score),
        ])  # fmt: skip
    columns = list(TRAJECTEN_COLUMNS)
    if plan.extra_column:
        columns.insert(columns.index("team") + 1, EXTRA_COLUMN)
    return columns, rows, metingen


_XLSX_DATES = {"geboortedatum", "startdatum", "einddatum", "datum"}
_XLSX_NUMBERS = {"score", "tevredenheid", "reden_einde", "doelrealisatie"}


def _xlsx_cell(column: str, text: str) -> object:
    """What a spreadsheet holds for a CSV field: date cells, numeric cells, text otherwise."""
    text = text.strip()
    if not text:
        return None
    if column in _XLSX_DATES:
        parsed = _parse_date(text)
        return parsed if parsed is not None else text
    if column in _XLSX_NUMBERS:
        number = _parse_number(text)
        if number is not None:
            return int(number) if number.is_integer() else number
    return text


def _encode_workbook(
    columns: Sequence[str], rows: list[dict[str, str]], metingen: list[list[str]]
) -> bytes:
    """One `export.xlsx` with the sheets `trajecten` and `metingen` (delivery-format.md §1)."""
    from openpyxl import Workbook  # a project dependency, but only the irregular writer needs it

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "trajecten"
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_xlsx_cell(c, row[c]) for c in columns])
    measured = workbook.create_sheet("metingen")
    measured.append(list(METINGEN_COLUMNS))
    for values in metingen:
        measured.append([_xlsx_cell(c, v) for c, v in zip(METINGEN_COLUMNS, values, strict=True)])
    return _workbook_bytes(workbook)


_FIXED_MOMENT = (2025, 1, 1, 0, 0, 0)


def _workbook_bytes(workbook: Any) -> bytes:  # noqa: ANN401 (openpyxl is imported lazily)
    """The workbook's bytes, the same for the same cells: openpyxl stamps the save time into the
    document properties and every zip entry, which would break the generator's determinism."""
    import datetime as dt
    import zipfile

    moment = dt.datetime(*_FIXED_MOMENT)
    workbook.properties.created = workbook.properties.modified = moment
    workbook.properties.creator = "databank synthetic"
    saved = io.BytesIO()
    workbook.save(saved)
    fixed = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(fixed, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "docProps/core.xml":  # save() stamps `modified` with the clock
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2025-01-01T00:00:00Z\2", data)
            entry = zipfile.ZipInfo(name, date_time=_FIXED_MOMENT)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return fixed.getvalue()


def _encode_delivery(
    plan: _Plan,
    entries: list[_Entry],
    measurements: list[tuple[_Trajectory, _Measurement]],
    workbook: bool,
    drop_column: str | None = None,
) -> dict[str, bytes]:
    columns, rows, metingen = _entry_rows(plan, entries, measurements)
    if drop_column is not None:  # a file-level fault: a required column missing (§8)
        columns.remove(drop_column)
    if workbook:
        return {"export.xlsx": _encode_workbook(columns, rows, metingen)}
    style = plan.style
    return {
        "trajecten.csv": _encode_csv(
            _header(columns, style), [[r[c] for c in columns] for r in rows], style
        ),
        "metingen.csv": _encode_csv(_header(METINGEN_COLUMNS, style), metingen, style),
    }


@dataclass
class _Slot:
    """One (provider, month) a provider delivers, and how."""

    provider: str
    month_index: int
    step: int
    late: bool
    workbook: bool


def _natural_step(month_index: int, n_months: int, n_steps: int) -> int:
    """The run at which a month normally arrives: the first run reads the first share of the
    months (a first load), each later run the next share."""
    return min(n_steps - 1, month_index * n_steps // n_months)


def _plan_slots(
    rng: random.Random, codes: Sequence[str], n_months: int, n_steps: int
) -> list[_Slot]:
    """Which months each provider delivers and at which step: a late joiner, an early leaver, a
    skipped month, late months and workbook deliveries, at least one of each kind that fits."""
    joins = {c: 0 for c in codes}
    leaves = {c: n_months - 1 for c in codes}
    for code in codes[1:]:
        if rng.random() < 0.35:
            joins[code] = rng.randint(1, max(1, n_months // 2))
    if len(codes) > 1 and all(joins[c] == 0 for c in codes):
        joins[codes[-1]] = rng.randint(1, max(1, n_months // 2))
    for code in codes:
        if rng.random() < 0.25 and n_months - 2 >= joins[code] + 2:
            leaves[code] = rng.randint(joins[code] + 2, n_months - 2)
    skipped: dict[str, set[int]] = {c: set() for c in codes}
    for code in codes:
        months = range(joins[code] + 1, leaves[code])
        if len(months) >= 2 and rng.random() < 0.5:
            skipped[code].add(rng.choice(months))
    if not any(skipped.values()):
        code = max(codes, key=lambda c: leaves[c] - joins[c])
        if leaves[code] - joins[code] >= 2:
            skipped[code].add(rng.randint(joins[code] + 1, leaves[code] - 1))
    workbook_provider = rng.choice(list(codes))
    slots = []
    for code in codes:
        for index in range(joins[code], leaves[code] + 1):
            if index in skipped[code]:
                continue
            step = _natural_step(index, n_months, n_steps)
            late = step < n_steps - 1 and rng.random() < 0.2
            if late:
                step = rng.randint(step + 1, min(n_steps - 1, step + 2))
            workbook = code == workbook_provider or rng.random() < 0.1
            slots.append(_Slot(code, index, step, late, workbook))
    candidates = [s for s in slots if s.step < n_steps - 1]
    if candidates and not any(s.late for s in slots):
        chosen = rng.choice(candidates)
        chosen.step, chosen.late = chosen.step + 1, True
    return slots


def irregular_consortium(
    *,
    months: Sequence[str],
    providers: Mapping[str, str] | None = None,
    trajectories_per_provider: int = 40,
    seed: int = 20261203,
    steps: int = 3,
    irregular: bool = True,
    unregistered: str | None = "nieuw-perspectief",
) -> IrregularConsortium:
    """A consortium whose deliveries arrive over `steps` runs, with the ground truth of each.

    Why: a grid (every provider, every month, all at once) hides what goes wrong when providers
    join late, leave, skip a month, deliver an old month late, correct one, or send one the
    pipeline must reject. With `irregular` the schedule (seeded, deterministic) has all of
    these: a late joiner and a skipped month at least, late months, one provider exporting
    workbooks (`export.xlsx`) and a few other workbook months, one or two corrections (changed
    teams, a changed score and satisfaction, a trajectory left out), one or two rejected
    deliveries (a required column missing: either a month's first delivery, resent correctly
    later when a step is left, or a correction, which leaves the earlier version in force) and,
    when `unregistered` names a code, a folder of that unregistered provider (rejected).
    Without `irregular`: every provider delivers every month, as CSV, at step 0.

    The trajectories are the grid generator's (no faulty rows; bezwaar = ja as always), so the
    truth of a (provider, month) is the same whatever its step. Nothing is written here:
    `write_step` puts one step's deliveries into a landing folder."""
    month_list = _validate_months(months)
    chosen = _validate_providers(providers, trajectories_per_provider)
    if steps < 1:
        raise ValueError("steps must be at least 1")
    if unregistered is not None and (unregistered in chosen or not _PROVIDER_RE.match(unregistered)):
        raise ValueError(f"unregistered provider code {unregistered!r} is registered or invalid")
    models = _model_providers(chosen, month_list, trajectories_per_provider, seed)
    plans = {plan.code: (plan, trajectories) for plan, trajectories in models}
    rng = random.Random(f"{seed}:schedule")
    if irregular:
        slots = _plan_slots(rng, list(chosen), len(month_list), steps)
    else:
        slots = [_Slot(c, i, 0, False, False) for c in chosen for i in range(len(month_list))]

    schedule: list[ScheduledDelivery] = []

    def add(slot: _Slot, step: int, kind: str, corrected: bool, fault: str | None) -> None:
        plan, trajectories = plans[slot.provider]
        month = month_list[slot.month_index]
        entries, measurements = _snapshot_entries(month, trajectories)
        if corrected:
            fix = random.Random(f"{seed}:{slot.provider}:{month}:correction")
            entries, measurements = _correct_entries(fix, entries, measurements, plan.teams)
        drop = "geslacht" if fault == "column_missing" else None
        files = _encode_delivery(plan, entries, measurements, slot.workbook, drop)
        states, scores = ((), ()) if fault else _truth(slot.provider, entries, measurements)
        schedule.append(
            ScheduledDelivery(step, slot.provider, month, kind, slot.workbook, fault, states,
                              scores, files)
        )  # fmt: skip

    last = steps - 1
    # One or two rejected deliveries, and one or two corrections, of distinct slots.
    order = rng.sample(slots, k=len(slots)) if irregular else []
    rejected = order[: rng.randint(1, 2)] if order else []
    corrected = [s for s in order[len(rejected):] if s.step < last][: rng.randint(1, 2)]
    for slot in slots:
        kind = "late" if slot.late else "regular"
        if slot in rejected and (slot.step == last or rng.random() < 0.5):
            add(slot, slot.step, kind, False, "column_missing")  # the first delivery fails
            if slot.step < last:
                add(slot, rng.randint(slot.step + 1, last), "redelivery", False, None)
        elif slot in rejected:
            add(slot, slot.step, kind, False, None)  # a correction that fails
            add(slot, rng.randint(slot.step + 1, last), "correction", True, "column_missing")
        elif slot in corrected:
            add(slot, slot.step, kind, False, None)
            add(slot, rng.randint(slot.step + 1, last), "correction", True, None)
        else:
            add(slot, slot.step, kind, False, None)
    if irregular and unregistered is not None:
        template = rng.choice([d for d in schedule if d.accepted])
        schedule.append(
            ScheduledDelivery(rng.randint(0, last), unregistered, template.month, "unregistered",
                              template.workbook, "unregistered", (), (), template.files)
        )  # fmt: skip
    schedule.sort(key=lambda d: (d.step, d.provider, d.month))
    return IrregularConsortium(
        providers=chosen,
        interventions=dict(DEFAULT_INTERVENTIONS),
        months=month_list,
        n_steps=steps,
        unregistered=unregistered if irregular else None,
        schedule=tuple(schedule),
        teams=_team_register([plan for plan, _ in models]),
    )


_DELIVERY_FILES = ("trajecten.csv", "metingen.csv", "export.xlsx")


def write_step(landing: Path, consortium: IrregularConsortium, step: int) -> list[ScheduledDelivery]:
    """Drop one step's deliveries into `landing/<provider>/<YYYY-MM>/`, as stewards would: a
    resent month replaces the folder's files (a workbook never sits beside CSVs)."""
    written = []
    for delivery in consortium.step(step):
        folder = Path(landing) / delivery.provider / delivery.month
        folder.mkdir(parents=True, exist_ok=True)
        for name in _DELIVERY_FILES:
            (folder / name).unlink(missing_ok=True)
        for name, data in delivery.files.items():
            (folder / name).write_bytes(data)
        written.append(delivery)
    return written


def convert_to_workbook(folder: Path) -> Path:
    """Replace a written CSV delivery (`trajecten.csv` + `metingen.csv`) by one `export.xlsx` of
    the same rows, as a steward whose system exports workbooks would deliver it (date cells,
    numeric cells; headers as written). Why: the demo and the benchmark mix both kinds of file
    (delivery-format.md §1) without generating a second consortium."""
    folder = Path(folder)
    tables = {name: _read_csv(folder / f"{name}.csv") for name in ("trajecten", "metingen")}
    from openpyxl import Workbook  # a project dependency, only needed here and for irregular runs

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, table in tables.items():
        sheet = workbook.create_sheet(name)
        sheet.append(table.header)
        canonical = [h.strip().lower() for h in table.header]
        for row in table.rows:
            sheet.append([_xlsx_cell(column, value) for column, value in zip(canonical, row, strict=True)])
    path = folder / "export.xlsx"
    path.write_bytes(_workbook_bytes(workbook))
    for name in tables:
        (folder / f"{name}.csv").unlink()
    return path

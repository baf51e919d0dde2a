"""The fault catalogue (delivery-format.md §8): a stable code per fault, a plain-Dutch message for
the steward and an English line for logs. A fault may show a value only from a column that does
not identify anyone (§9.13); the type makes that a check, not a habit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemas.delivery import UNREGISTERED_TEAM_NAME, is_identifying_column
from schemas.text import looks_like_team_name


class Level(StrEnum):
    FILE = "file"  # rejects the whole delivery
    ROW = "row"  # quarantines the row
    WARNING = "warning"  # reported, nothing held back


@dataclass(frozen=True)
class FaultKind:
    code: str
    level: Level
    dutch: str  # what is wrong and what to do, for the steward
    english: str  # one line for logs


def _kind(code: str, level: Level, dutch: str, english: str) -> FaultKind:
    return FaultKind(code, level, dutch, english)


F, R, W = Level.FILE, Level.ROW, Level.WARNING
MAX_SHOWN_VALUE = 40

CATALOGUE: dict[str, FaultKind] = {
    k.code: k
    for k in (
        # File level: the delivery is rejected, earlier data stay as they were.
        _kind("FILE_UNKNOWN_PROVIDER", F,
              "Aanbieder '{detail}' is niet geregistreerd bij het consortium. Vraag de beheerder "
              "de code toe te voegen aan [providers] in config/consortium.toml, of lever aan in "
              "de map met de juiste aanbiedercode.",
              "provider folder is not a registered provider code"),
        _kind("FILE_INVALID_PROVIDER_FOLDER", F,
              "De mapnaam '{detail}' is geen geldige aanbiedercode (kleine letters, cijfers en "
              "'-', 2 tot 40 tekens, niet beginnend met '-').",
              "provider folder name is not a valid provider code"),
        _kind("FILE_INVALID_MONTH_FOLDER", F,
              "De maandmap '{detail}' heeft niet de vorm JJJJ-MM (bijvoorbeeld 2025-03). Zet de "
              "bestanden in een map met de verslagmaand als naam.",
              "month folder is not YYYY-MM"),
        _kind("FILE_MONTH_IN_FUTURE", F,
              "De verslagmaand {detail} ligt in de toekomst. Lever een maand pas aan als die "
              "begonnen is.",
              "reporting month lies in the future"),
        _kind("FILE_MONTH_TOO_EARLY", F,
              "De verslagmaand {detail} ligt vóór het begin van de databank (2015-01).",
              "reporting month before the databank's first month"),
        _kind("FILE_TABLE_MISSING", F,
              "Het bestand voor tabel '{table}' ontbreekt. Een levering bevat trajecten.csv en "
              "metingen.csv, of één export.xlsx met de tabbladen 'trajecten' en 'metingen'.",
              "a delivery table is missing"),
        _kind("FILE_AMBIGUOUS", F,
              "De map bevat zowel CSV-bestanden als export.xlsx. Lever één van beide aan.",
              "both CSV files and a workbook were delivered"),
        _kind("FILE_UNDECODABLE", F,
              "Het bestand voor '{table}' is geen leesbare tekst in UTF-8 of Windows-1252{detail}. "
              "Exporteer opnieuw als 'CSV (gescheiden door lijstscheidingsteken)' of 'CSV UTF-8'.",
              "file cannot be decoded as UTF-8 or Windows-1252"),
        _kind("FILE_TOO_LARGE", F,
              "Het bestand voor '{table}' is te groot om te verwerken ({detail}). Lever één "
              "maand per levering aan; neem contact op met de beheerder als dit klopt.",
              "file exceeds the size or row bounds"),
        _kind("FILE_UNSAFE_PATH", F,
              "'{detail}' is een snelkoppeling (symbolische link) of verwijst buiten de "
              "leveringsmap. Zet de echte bestanden in de map zelf.",
              "symlink or path outside the landing folder refused"),
        _kind("FILE_UNPARSEABLE", F,
              "Het bestand voor '{table}' kan niet als tabel gelezen worden ({detail}). Controleer "
              "of het een CSV-export is en of aanhalingstekens gesloten zijn.",
              "file cannot be parsed as a table"),
        _kind("FILE_PROCESSING_ERROR", F,
              "De levering kon door een fout in de verwerking niet beoordeeld worden ({detail}). "
              "Uw eerdere gegevens blijven staan. Meld dit bij de beheerder van de databank.",
              "unexpected error while judging the delivery (a defect, not a delivery fault)"),
        _kind("FILE_REQUIRED_COLUMN_MISSING", F,
              "In '{table}' ontbreekt de verplichte kolom '{column}'. Voeg de kolom toe (de "
              "kolomnamen staan in het aanleverformat).",
              "required column missing"),
        _kind("FILE_DUPLICATE_COLUMN", F,
              "In '{table}' komt de kolomnaam '{column}' twee keer voor in de kopregel. Geef elke "
              "kolom een eigen naam.",
              "column name repeated in header"),
        _kind("FILE_NO_HEADER", F,
              "Het bestand voor '{table}' is leeg: er is zelfs geen kopregel.",
              "file has no header"),
        _kind("FILE_NO_DATA_ROWS", F,
              "'{table}' bevat geen enkele gegevensregel. Een levering bevat minstens één traject.",
              "table has no data rows"),
        _kind("FILE_TOO_MANY_FAULTS", F,
              "In '{table}' zijn {detail} van de regels afgekeurd; dat is meer dan de grens. Zo'n "
              "groot aandeel wijst op een systematische fout (datumnotatie, verschoven kolom). "
              "Bekijk de eerste regels in het rapport en lever opnieuw aan.",
              "share of quarantined rows above the threshold"),
        # Row level: the row is quarantined, the rest of the delivery loads.
        _kind("ROW_FIELD_COUNT", R,
              "Regel {row} van '{table}' heeft een ander aantal velden dan de kopregel. "
              "Controleer scheidingstekens en aanhalingstekens in die regel.",
              "row has a different number of fields than the header"),
        _kind("ROW_REQUIRED_EMPTY", R,
              "Regel {row} van '{table}': het verplichte veld '{column}' is leeg. Vul het in het "
              "bronsysteem in en exporteer opnieuw.",
              "required value empty"),
        _kind("ROW_BSN_INVALID", R,
              "Regel {row} van '{table}': het BSN voldoet niet aan de elfproef of heeft geen 8 of "
              "9 cijfers. Controleer het BSN in het bronsysteem of laat het veld leeg.",
              "bsn fails the elfproef or has the wrong length"),
        _kind("ROW_DATE_INVALID", R,
              "Regel {row} van '{table}': '{column}' is geen geldige datum. Gebruik dd-mm-jjjj of "
              "jjjj-mm-dd.",
              "date does not parse"),
        _kind("ROW_DATE_AFTER_MONTH", R,
              "Regel {row} van '{table}': '{column}' ligt na het einde van de verslagmaand. "
              "Controleer de datum, of lever het bestand aan in de map van de juiste maand.",
              "date after the end of the reporting month"),
        _kind("ROW_END_BEFORE_START", R,
              "Regel {row} van '{table}': de einddatum ligt vóór de startdatum. Controleer beide "
              "datums in het bronsysteem.",
              "einddatum before startdatum"),
        _kind("ROW_END_REASON_MISSING", R,
              "Regel {row} van '{table}': er is een einddatum maar geen reden_einde. Vul "
              "reden_einde in (1 t/m 5).",
              "einddatum without reden_einde"),
        _kind("ROW_CODE_UNKNOWN", R,
              "Regel {row} van '{table}': '{column}' heeft de onbekende waarde '{value}'. "
              "Toegestaan: {detail}. Pas de waarde aan in het bronsysteem.",
              "value outside its code list"),
        _kind("ROW_NUMBER_INVALID", R,
              "Regel {row} van '{table}': '{column}' is geen getal ('{value}'). Gebruik cijfers, "
              "met een komma of punt voor decimalen.",
              "value is not a number"),
        _kind("ROW_SATISFACTION_OUT_OF_RANGE", R,
              "Regel {row} van '{table}': tevredenheid {value} ligt niet tussen 1 en 10. "
              "Controleer het cijfer of laat het veld leeg.",
              "tevredenheid outside 1-10"),
        _kind("ROW_AGE_OUT_OF_RANGE", R,
              "Regel {row} van '{table}': de leeftijd bij de start ({detail} jaar) ligt niet tussen "
              "0 en 27. Controleer geboortedatum en startdatum.",
              "age at start outside 0-27"),
        _kind("ROW_INSTRUMENT_UNKNOWN", R,
              "Regel {row} van '{table}': instrument en schaal '{value}' staan niet in het "
              "instrumentenregister van het consortium. Controleer de spelling, of vraag het "
              "consortium het instrument op te nemen.",
              "(instrument, schaal) not in the registry"),
        _kind("ROW_SCORE_OUT_OF_RANGE", R,
              "Regel {row} van '{table}': score {value} ligt buiten het bereik van dit instrument "
              "({detail}). Controleer de score in het vragenlijstsysteem.",
              "score outside the instrument's range"),
        _kind("ROW_TRAJECTORY_UNKNOWN", R,
              "Regel {row} van '{table}': het traject_id van deze meting komt niet voor in "
              "trajecten van deze levering. Neem het traject op in trajecten van dezelfde "
              "levering.",
              "measurement's traject_id not in this delivery's trajecten"),
        _kind("ROW_TRAJECTORY_DUPLICATE", R,
              "Regel {row} van '{table}': dit traject_id komt meer dan eens voor in deze "
              "levering (alle regels ervan zijn afgekeurd). Houd één regel per traject over.",
              "traject_id occurs twice in one delivery"),
        # Warnings: told, nothing held back.
        _kind("WARN_COLUMN_DROPPED", W,
              "De kolom '{column}' in '{table}' hoort niet bij het aanleverformat en is niet "
              "opgeslagen (alleen de naam wordt hier genoemd).",
              "column not in the delivery format dropped"),
        _kind("WARN_POSTCODE_INVALID", W,
              "Regel {row} van '{table}': de postcode heeft niet de vorm 1234 AB; er is geen "
              "PC4 afgeleid.",
              "postcode not of the form 1234 AB; pc4 left empty"),
        # delivery-format.md §15: an unregistered team is not a fault; the rows are loaded under
        # the provider's unregistered team and the steward is told how many.
        _kind("WARN_TEAM_UNREGISTERED", W,
              "In '{table}' hebben {detail} het team '{value}' (de eerste op regel {row}). Het "
              "consortium heeft dit team niet geregistreerd voor deze aanbieder; de trajecten zijn "
              f"geladen onder '{UNREGISTERED_TEAM_NAME}'. Gebruik de code of naam van een "
              "geregistreerd team, of vraag de beheerder het team toe te voegen aan "
              "[teams.<aanbieder>] in config/consortium.toml.",
              "team not in the consortium's register: loaded under the unregistered team"),
        _kind("WARN_TEAM_UNREGISTERED_HIDDEN", W,
              "In '{table}' hebben {detail} een team dat het consortium niet heeft geregistreerd "
              "voor deze aanbieder (de eerste op regel {row}). De waarde wordt niet getoond: ze "
              "lijkt geen teamnaam (een reeks cijfers, een @, een formule of te lang) en kan "
              f"persoonsgegevens bevatten. De trajecten zijn geladen onder '{UNREGISTERED_TEAM_NAME}'. "
              "Zet in de kolom team alleen de code of naam van een geregistreerd team.",
              "team not in the register and not shown: loaded under the unregistered team"),
        _kind("WARN_TEAM_REGISTER_MISSING", W,
              "Het consortium heeft voor deze aanbieder nog geen teams geregistreerd "
              "([teams.<aanbieder>] in config/consortium.toml ontbreekt). Alle {detail} met een "
              f"team zijn geladen onder '{UNREGISTERED_TEAM_NAME}'. Vraag de beheerder de teams "
              "van uw organisatie te registreren.",
              "provider has no team register: every team loaded under the unregistered team"),
        _kind("WARN_FILE_IGNORED", W,
              "Het bestand '{detail}' in de leveringsmap hoort niet bij het aanleverformat en is "
              "niet gelezen.",
              "file in the delivery folder not part of the format"),
    )
}


@dataclass(frozen=True)
class Fault:
    """One finding. `value` is only kept for non-identifying columns (enforced here)."""

    code: str
    table: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise ValueError(f"unknown fault code {self.code}")
        if self.value is not None and (
            self.column is None
            or is_identifying_column(self.column)
            or len(self.value) > MAX_SHOWN_VALUE
            or not self.value.isprintable()
            or (self.column == "team" and not looks_like_team_name(self.value))
        ):
            # A long or multi-line value is not a code: likely a shifted column or an unclosed
            # quote that swallowed other cells, so it is not shown. A team is free text: shown
            # only when it looks like a team name (delivery-format.md §15).
            object.__setattr__(self, "value", None)

    @property
    def kind(self) -> FaultKind:
        return CATALOGUE[self.code]

    @property
    def level(self) -> Level:
        return self.kind.level

    def message(self) -> str:
        return self.kind.dutch.format(
            table=self.table or "",
            row=self.row if self.row is not None else "",
            column=self.column or "",
            value=self.value if self.value is not None else "",
            detail=self.detail or "",
        )

    def log_line(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"table={self.table}" if self.table else "",
                f"line={self.row}" if self.row is not None else "",
                f"column={self.column}" if self.column else "",
            )
            if part
        )
        return f"{self.code}: {self.kind.english}" + (f" ({where})" if where else "")


class DeliveryRejected(Exception):
    """A file-level fault: the whole delivery is refused. Carries faults, never data."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        super().__init__("; ".join(f.log_line() for f in faults))

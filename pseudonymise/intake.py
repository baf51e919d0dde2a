"""The read step: raw tables in, pseudonymised tables out. Rows of erased clients (the
suppression list, PRIVACY.md §4) and objections are removed first, rules
that need a raw identifier (elfproef, birth date) are checked here, identifiers are hashed or
generalised, and every other column that is not allow-listed is dropped. Nothing identifying
leaves this function, not even in a fault."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pandas as pd

from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read import RawTable
from schemas.delivery import (
    COLUMNS,
    DATE_COLUMNS,
    METINGEN,
    TRAJECTEN,
    required_columns,
    resolve_header,
)
from schemas.faults import DeliveryRejected, Fault
from schemas.records import (
    MEASUREMENT_FIELDS,
    OBJECTION_FIELDS,
    TRAJECTORY_FIELDS,
    PseudonymisedDelivery,
)
from schemas.teams import TeamRegister, match_teams

_DMY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_INTEGER = re.compile(r"^\d{1,9}$")  # codes are small; a long digit run is a shifted column
# Dates are stored as timestamps; a typo like 3026 or 0206 must become a fault, not a crash.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
_POSTCODE = re.compile(r"^([1-9]\d{3})\s?([A-Za-z]{2})$")


def parse_date(text: str | None) -> dt.date | None:
    """dd-mm-yyyy, d-m-yyyy and yyyy-mm-dd (§2); anything else is not a date."""
    if text is None:
        return None
    match = _DMY.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        match = _YMD.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None


def parse_number(text: str | None) -> float | None:
    if text is None or not _NUMBER.match(text):
        return None
    return float(text.replace(",", "."))


_ELFPROEF_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def normalise_bsn(text: str) -> str | None:
    """Nine digits passing the elfproef; eight digits are left-padded with 0 (§3, §9.7). The
    elfproef is python-stdnum's (tested against it), written out: it runs once per row of
    every delivery, and stdnum's general-purpose cleaning made it a tenth of the read step."""
    digits = text.replace(" ", "").replace(".", "")
    if len(digits) == 8:
        digits = "0" + digits
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit() or digits == "000000000":
        return None
    checksum = sum(w * (ord(c) - 48) for w, c in zip(_ELFPROEF_WEIGHTS, digits, strict=True))
    return digits if checksum % 11 == 0 else None


def age_in_whole_years(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def derive_pc4(postcode: str | None) -> tuple[str | None, bool]:
    """The four digits of a Dutch postcode; the flag says a postcode was given but malformed."""
    if postcode is None:
        return None, False
    match = _POSTCODE.match(postcode.strip())
    return (match.group(1), False) if match else (None, True)


def _check_header(table: RawTable, faults: list[Fault]) -> None:
    """Header names are echoed only when the header is genuine: with required columns missing
    the 'header' may be a data row (an export without its header line), so no name is shown."""
    present = set(table.columns)
    missing = [name for name in required_columns(table.name) if name not in present]
    if missing:
        raise DeliveryRejected(
            [Fault("FILE_REQUIRED_COLUMN_MISSING", table=table.name, column=name) for name in missing]
        )
    seen: set[str] = set()
    duplicates: list[Fault] = []
    for name in table.columns:
        if name and name in seen:
            shown = name if name in COLUMNS[table.name] else "(kolom buiten het aanleverformat)"
            duplicates.append(Fault("FILE_DUPLICATE_COLUMN", table=table.name, column=shown))
        seen.add(name)
    if duplicates:
        raise DeliveryRejected(duplicates)
    for name in table.columns:
        if name not in COLUMNS[table.name]:
            faults.append(Fault("WARN_COLUMN_DROPPED", table=table.name, column=_safe_column(name)))


def _safe_column(name: str) -> str:
    """A column name is the steward's header text: shown, but bounded and single-line."""
    cleaned = " ".join(name.split())[:60]
    return cleaned or "(naamloos)"


def _column_getter(table: RawTable) -> Callable[[str], list[str | None]]:
    index = {name: i for i, name in enumerate(table.columns)}

    def column(name: str) -> list[str | None]:
        i = index.get(name)
        if i is None:
            return [None] * len(table.rows)
        return [row[i] for row in table.rows]

    return column


def _parse_dates(
    values: list[str | None], table: str, column: str, lines: list[int], faults: list[Fault]
) -> list[dt.date | None]:
    cache: dict[str, dt.date | None] = {}
    parsed: list[dt.date | None] = []
    for value, line in zip(values, lines, strict=True):
        if value is None:
            parsed.append(None)
            continue
        if value not in cache:
            cache[value] = parse_date(value)
        result = cache[value]
        if result is None or result.year < EARLIEST_YEAR:
            faults.append(Fault("ROW_DATE_INVALID", table=table, row=line, column=column))
            result = None
        elif result.year > LATEST_YEAR:
            faults.append(Fault("ROW_DATE_AFTER_MONTH", table=table, row=line, column=column))
            result = None
        parsed.append(result)
    return parsed


def _parse_numbers(
    values: list[str | None], table: str, column: str, lines: list[int], faults: list[Fault]
) -> list[float | None]:
    parsed: list[float | None] = []
    for value, line in zip(values, lines, strict=True):
        number = parse_number(value)
        if value is not None and number is None:
            faults.append(Fault("ROW_NUMBER_INVALID", table=table, row=line, column=column, value=value))
        parsed.append(number)
    return parsed


def _parse_codes(
    values: list[str | None], table: str, column: str, lines: list[int], faults: list[Fault],
    allowed: str,
) -> list[int | None]:
    parsed: list[int | None] = []
    for value, line in zip(values, lines, strict=True):
        if value is None:
            parsed.append(None)
        elif _INTEGER.match(value):
            parsed.append(int(value))
        else:
            faults.append(
                Fault("ROW_CODE_UNKNOWN", table=table, row=line, column=column, value=value, detail=allowed)
            )
            parsed.append(None)
    return parsed


def _required_identifier_faults(
    values: list[str | None], table: str, column: str, lines: list[int], faults: list[Fault]
) -> None:
    for value, line in zip(values, lines, strict=True):
        if value is None:
            faults.append(Fault("ROW_REQUIRED_EMPTY", table=table, row=line, column=column))


def _drop_objections(
    trajecten: RawTable, metingen: RawTable, faults: list[Fault], provider: str,
    pseudonymiser: Pseudonymiser,
) -> tuple[RawTable, RawTable, dict[str, int], pd.DataFrame]:
    """`bezwaar = ja` rows and their measurements leave before any other step (§3); only the
    objecting clients' pseudonyms are kept, to remove what earlier months delivered of them."""
    column = _column_getter(trajecten)
    bezwaar = column("bezwaar")
    traject_ids = column("traject_id")
    objecting: set[str] = set()
    objectors: set[tuple[str | None, str]] = set()
    keep: list[int] = []
    for i, (value, traject_id, clientnummer, raw_bsn) in enumerate(
        zip(bezwaar, traject_ids, column("clientnummer"), column("bsn"), strict=True)
    ):
        normalised = value.lower() if value else None
        if normalised == "ja":
            if traject_id is not None:
                objecting.add(traject_id)
            if clientnummer is not None:
                bsn = normalise_bsn(raw_bsn) if raw_bsn else None
                objectors.add((
                    pseudonymiser.client(provider, clientnummer, bsn) if bsn else None,
                    pseudonymiser.local_client(provider, clientnummer),
                ))
            continue
        if normalised not in (None, "nee"):
            faults.append(
                Fault("ROW_CODE_UNKNOWN", table=TRAJECTEN, row=trajecten.lines[i], column="bezwaar",
                      value=value, detail="ja, nee of leeg")
            )
        keep.append(i)
    m_ids = _column_getter(metingen)("traject_id")
    m_keep = [i for i, t in enumerate(m_ids) if t is None or t not in objecting]
    kept_trajecten, kept_metingen = _rows_kept(trajecten, keep), _rows_kept(metingen, m_keep)
    excluded = {
        TRAJECTEN: len(trajecten.rows) - len(keep),
        METINGEN: len(metingen.rows) - len(m_keep),
    }
    objections = pd.DataFrame(sorted(objectors, key=lambda o: o[1]), columns=OBJECTION_FIELDS)
    return kept_trajecten, kept_metingen, excluded, objections


def _rows_kept(table: RawTable, keep: list[int]) -> RawTable:
    kept_lines = {table.lines[i] for i in keep}
    return RawTable(
        table.name, table.columns, [table.rows[i] for i in keep], [table.lines[i] for i in keep],
        [line for line in table.ragged_lines if line in kept_lines],
    )


def _drop_erased(
    trajecten: RawTable, metingen: RawTable, provider: str, pseudonymiser: Pseudonymiser
) -> tuple[RawTable, RawTable, dict[str, int]]:
    """Rows of clients erased on request leave before any other step, so that no re-delivered
    or corrected month brings them back and none of their pseudonyms is written again (not even
    as an objection or in quarantine). Only counts remain."""
    if not pseudonymiser.erases:
        return trajecten, metingen, {TRAJECTEN: 0, METINGEN: 0}
    column = _column_getter(trajecten)
    erased_trajectories: set[str] = set()
    keep: list[int] = []
    for i, (clientnummer, raw_bsn, traject_id) in enumerate(
        zip(column("clientnummer"), column("bsn"), column("traject_id"), strict=True)
    ):
        bsn = normalise_bsn(raw_bsn) if raw_bsn else None
        if pseudonymiser.is_erased(provider, clientnummer, bsn, traject_id):
            if traject_id is not None:
                erased_trajectories.add(traject_id)
            continue
        keep.append(i)
    m_column = _column_getter(metingen)
    m_keep = [
        i
        for i, (clientnummer, traject_id) in enumerate(
            zip(m_column("clientnummer"), m_column("traject_id"), strict=True)
        )
        if traject_id not in erased_trajectories
        and not pseudonymiser.is_erased(provider, clientnummer, None, traject_id)
    ]
    excluded = {TRAJECTEN: len(trajecten.rows) - len(keep), METINGEN: len(metingen.rows) - len(m_keep)}
    return _rows_kept(trajecten, keep), _rows_kept(metingen, m_keep), excluded


def _local_clients(
    pseudonymiser: Pseudonymiser, provider: str, clientnummers: list[str | None]
) -> list[str | None]:
    return [pseudonymiser.local_client(provider, c) if c is not None else None for c in clientnummers]


def pseudonymise_trajectories(
    table: RawTable, provider: str, pseudonymiser: Pseudonymiser, faults: list[Fault],
    teams: TeamRegister | None = None,
) -> pd.DataFrame:
    column = _column_getter(table)
    lines = table.lines
    t = TRAJECTEN
    clientnummers = column("clientnummer")
    traject_ids = column("traject_id")
    _required_identifier_faults(clientnummers, t, "clientnummer", lines, faults)
    _required_identifier_faults(traject_ids, t, "traject_id", lines, faults)
    _required_identifier_faults(column("geboortedatum"), t, "geboortedatum", lines, faults)

    client_ids: list[str | None] = []
    for clientnummer, raw_bsn, line in zip(clientnummers, column("bsn"), lines, strict=True):
        bsn = None
        if raw_bsn is not None:
            bsn = normalise_bsn(raw_bsn)
            if bsn is None:
                faults.append(Fault("ROW_BSN_INVALID", table=t, row=line, column="bsn"))
        if bsn is None and clientnummer is None:
            client_ids.append(None)
        else:
            client_ids.append(pseudonymiser.client(provider, clientnummer or "", bsn))

    dates = {name: _parse_dates(column(name), t, name, lines, faults) for name in DATE_COLUMNS[t]}
    birth_years: list[int | None] = []
    ages: list[int | None] = []
    for birth, start in zip(dates["geboortedatum"], dates["startdatum"], strict=True):
        birth_years.append(birth.year if birth else None)
        ages.append(age_in_whole_years(birth, start) if birth and start else None)

    pc4s: list[str | None] = []
    for postcode, line in zip(column("postcode"), lines, strict=True):
        pc4, malformed = derive_pc4(postcode)
        if malformed:
            faults.append(Fault("WARN_POSTCODE_INVALID", table=t, row=line, column="postcode"))
        pc4s.append(pc4)

    frame = pd.DataFrame(
        {
            "row_number": pd.Series(lines, dtype="int64"),
            "trajectory_id": pd.Series(pseudonymiser.trajectories(provider, traject_ids), dtype="object"),
            "client_id": pd.Series(client_ids, dtype="object"),
            "local_client_id": pd.Series(_local_clients(pseudonymiser, provider, clientnummers), dtype="object"),
            "birth_year": pd.Series(birth_years, dtype="Int64"),
            "age_at_start": pd.Series(ages, dtype="Int64"),
            "geslacht": pd.Series(column("geslacht"), dtype="object"),
            "pc4": pd.Series(pc4s, dtype="object"),
            # the registered code, or the unregistered team: never the delivered text (§15)
            "team": pd.Series(
                match_teams(column("team"), lines, teams, faults, set(table.ragged_lines)), dtype="object"
            ),
            "interventie": pd.Series(column("interventie"), dtype="object"),
            "hulpvorm": pd.Series(column("hulpvorm"), dtype="object"),
            "startdatum": pd.to_datetime(pd.Series(dates["startdatum"], dtype="object")),
            "einddatum": pd.to_datetime(pd.Series(dates["einddatum"], dtype="object")),
            "reden_einde": pd.Series(
                _parse_codes(column("reden_einde"), t, "reden_einde", lines, faults, "1, 2, 3, 4 of 5"),
                dtype="Int64",
            ),
            "doelrealisatie": pd.Series(
                _parse_codes(column("doelrealisatie"), t, "doelrealisatie", lines, faults, "1, 2 of 3"),
                dtype="Int64",
            ),
            "tevredenheid": pd.Series(
                _parse_numbers(column("tevredenheid"), t, "tevredenheid", lines, faults), dtype="float64"
            ),
        }
    )
    return frame[TRAJECTORY_FIELDS]


def pseudonymise_measurements(
    table: RawTable, provider: str, pseudonymiser: Pseudonymiser, faults: list[Fault]
) -> pd.DataFrame:
    column = _column_getter(table)
    lines = table.lines
    m = METINGEN
    traject_ids = column("traject_id")
    clientnummers = column("clientnummer")
    _required_identifier_faults(clientnummers, m, "clientnummer", lines, faults)
    _required_identifier_faults(traject_ids, m, "traject_id", lines, faults)
    frame = pd.DataFrame(
        {
            "row_number": pd.Series(lines, dtype="int64"),
            "trajectory_id": pd.Series(pseudonymiser.trajectories(provider, traject_ids), dtype="object"),
            "local_client_id": pd.Series(_local_clients(pseudonymiser, provider, clientnummers), dtype="object"),
            "instrument": pd.Series(column("instrument"), dtype="object"),
            "schaal": pd.Series(column("schaal"), dtype="object"),
            "informant": pd.Series(column("informant"), dtype="object"),
            "meetmoment": pd.Series(column("meetmoment"), dtype="object"),
            "datum": pd.to_datetime(pd.Series(_parse_dates(column("datum"), m, "datum", lines, faults), dtype="object")),
            "score": pd.Series(_parse_numbers(column("score"), m, "score", lines, faults), dtype="float64"),
        }
    )
    return frame[MEASUREMENT_FIELDS]


def _apply_column_mapping(table: RawTable, mapping: dict[str, str] | None) -> RawTable:
    return RawTable(
        table.name, [resolve_header(name, mapping) for name in table.columns], table.rows,
        table.lines, table.ragged_lines,
    )


def pseudonymise_delivery(
    tables: dict[str, RawTable],
    provider: str,
    month: str,
    pseudonymiser: Pseudonymiser,
    column_mapping: dict[str, str] | None = None,
    teams: TeamRegister | None = None,
) -> PseudonymisedDelivery:
    """`column_mapping` is the provider's own spelling of column names and `teams` its team
    register (consortium.toml); without a register every team is the unregistered team."""
    faults: list[Fault] = []
    trajecten = _apply_column_mapping(tables[TRAJECTEN], column_mapping)
    metingen = _apply_column_mapping(tables[METINGEN], column_mapping)
    _check_header(trajecten, faults)
    _check_header(metingen, faults)
    if not trajecten.rows:
        raise DeliveryRejected([Fault("FILE_NO_DATA_ROWS", table=TRAJECTEN)])
    rows_read = {TRAJECTEN: len(trajecten.rows), METINGEN: len(metingen.rows)}
    trajecten, metingen, erased = _drop_erased(trajecten, metingen, provider, pseudonymiser)
    trajecten, metingen, excluded, objections = _drop_objections(
        trajecten, metingen, faults, provider, pseudonymiser
    )
    for table in (trajecten, metingen):
        for line in table.ragged_lines:
            faults.append(Fault("ROW_FIELD_COUNT", table=table.name, row=line))
    trajectories = pseudonymise_trajectories(trajecten, provider, pseudonymiser, faults, teams)
    measurements = pseudonymise_measurements(metingen, provider, pseudonymiser, faults)
    return PseudonymisedDelivery(
        provider=provider,
        month=month,
        trajectories=trajectories,
        measurements=measurements,
        faults=faults,
        rows_read=rows_read,
        excluded_bezwaar=excluded,
        excluded_erased=erased,
        objections=objections,
    )


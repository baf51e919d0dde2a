"""The read step: raw tables in, pseudonymised tables out. Rows of erased clients (the
suppression list, PRIVACY.md §4) and objections are removed first, rules
that need a raw identifier (elfproef, birth date) are checked here, identifiers are hashed or
generalised, and every other column that is not allow-listed is dropped. Nothing identifying
leaves this function, not even in a fault."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
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


def _check_header(table: str, header: list[str], faults: list[Fault]) -> None:
    """Header names are echoed only when the header is genuine: with required columns missing
    the 'header' may be a data row (an export without its header line), so no name is shown."""
    present = set(header)
    missing = [name for name in required_columns(table) if name not in present]
    if missing:
        raise DeliveryRejected(
            [Fault("FILE_REQUIRED_COLUMN_MISSING", table=table, column=name) for name in missing]
        )
    seen: set[str] = set()
    duplicates: list[Fault] = []
    for name in header:
        if name and name in seen:
            shown = name if name in COLUMNS[table] else "(kolom buiten het aanleverformat)"
            duplicates.append(Fault("FILE_DUPLICATE_COLUMN", table=table, column=shown))
        seen.add(name)
    if duplicates:
        raise DeliveryRejected(duplicates)
    for name in header:
        if name not in COLUMNS[table]:
            faults.append(Fault("WARN_COLUMN_DROPPED", table=table, column=_safe_column(name)))


def _safe_column(name: str) -> str:
    """A column name is the steward's header text: shown, but bounded and single-line."""
    cleaned = " ".join(name.split())[:60]
    return cleaned or "(naamloos)"


# --- columns: each rule below is one expression over a whole column --------------------------
#
# A table is held as one object array per column (str or None) beside the physical line of each
# record. A rule is computed once per distinct value (a set and a dict: hashing in C) and mapped back
# to the rows, so its Python cost follows the number of distinct values, not of rows; the rows
# that break it are a boolean mask, and only they become Fault objects, in row order.


@dataclass
class _Columns:
    """One table after reading, column by column; `keep` filters every column and the lines."""

    name: str
    values: dict[str, np.ndarray]
    lines: np.ndarray  # int64, the physical line of each record (§9.5)
    ragged_lines: list[int]

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> np.ndarray:
        """A column's values; a column the delivery lacks is all absent."""
        found = self.values.get(name)
        return found if found is not None else np.full(len(self.lines), None, dtype=object)

    def keep(self, mask: np.ndarray) -> _Columns:
        if mask.all():
            return self
        lines = self.lines[mask]
        kept = set(lines.tolist())
        return _Columns(
            self.name, {name: values[mask] for name, values in self.values.items()}, lines,
            [line for line in self.ragged_lines if line in kept],
        )


def _columns(table: RawTable, header: list[str]) -> _Columns:
    """The table's allow-listed columns under its (mapped) header: the rows transposed once."""
    count = len(table.rows)
    transposed = list(zip(*table.rows, strict=True)) if count else [() for _ in header]
    values: dict[str, np.ndarray] = {}
    for name, cells in zip(header, transposed, strict=True):
        if name in COLUMNS[table.name] and name not in values:  # the allow-list (§5)
            column = np.empty(count, dtype=object)
            column[:] = cells
            values[name] = column
    return _Columns(table.name, values, np.asarray(table.lines, dtype="int64"), list(table.ragged_lines))


def _per_distinct(values: np.ndarray, convert: Callable[[str], object], absent: object = None) -> np.ndarray:
    """`convert` applied once per distinct present value and mapped back to every row (object
    array); an absent value gives `absent`. The distinct values are a set and the mapping back a
    dict lookup per row, both in C: a delivery's columns are a few thousand values, where
    pd.factorize's fixed cost per call outweighed its speed per value."""
    cells = values.tolist()
    converted: dict[str | None, object] = {v: convert(v) for v in set(cells) if v is not None}
    converted[None] = absent
    result = np.empty(len(cells), dtype=object)
    result[:] = list(map(converted.__getitem__, cells))
    return result


def _faults_where(
    mask: np.ndarray, lines: np.ndarray, faults: list[Fault], code: str, table: str, column: str,
    values: np.ndarray | None = None, detail: str | None = None,
) -> None:
    """One fault per row of `mask`, in row order; `values` only from a column that identifies
    no one (§9.13)."""
    rows = np.flatnonzero(mask)
    if not len(rows):
        return
    shown = values[rows].tolist() if values is not None else [None] * len(rows)
    for line, value in zip(lines[rows].tolist(), shown, strict=True):
        faults.append(Fault(code, table=table, row=line, column=column, value=value, detail=detail))


def _absent(values: np.ndarray) -> np.ndarray:
    return pd.isna(values)


_VALID, _INVALID, _AFTER = 0, 1, 2
_NAT = np.datetime64("NaT", "ns").astype("int64")  # a date as int64 nanoseconds: NaT's value


def _judged_date(text: str) -> tuple[int, int]:
    """A delivered date (int64 nanoseconds since 1970) and its verdict (§2): one that does not
    parse or lies before 1900 is invalid; one after 2200 cannot lie in or before any reporting
    month."""
    parsed = parse_date(text)
    if parsed is None or parsed.year < EARLIEST_YEAR:
        return _NAT, _INVALID
    if parsed.year > LATEST_YEAR:
        return _NAT, _AFTER
    return (parsed - _UNIX_DAY).days * _NS_PER_DAY, _VALID


_UNIX_DAY = dt.date(1970, 1, 1)
_NS_PER_DAY = 86_400 * 10**9


def _parse_dates(
    values: np.ndarray, table: str, column: str, lines: np.ndarray, faults: list[Fault]
) -> pd.Series:
    cells = values.tolist()
    judged = {v: _judged_date(v) for v in set(cells) if v is not None}
    stamps = {v: stamp for v, (stamp, _) in judged.items()} | {None: _NAT}
    verdict_of = {v: verdict for v, (_, verdict) in judged.items()} | {None: _VALID}  # absent: see the required rules
    dates = np.fromiter(map(stamps.__getitem__, cells), dtype="int64", count=len(cells)).view("datetime64[ns]")
    verdicts = np.fromiter(map(verdict_of.__getitem__, cells), dtype="int8", count=len(cells))
    rows = np.flatnonzero(verdicts != _VALID)
    for line, verdict in zip(lines[rows].tolist(), verdicts[rows].tolist(), strict=True):
        code = "ROW_DATE_INVALID" if verdict == _INVALID else "ROW_DATE_AFTER_MONTH"
        faults.append(Fault(code, table=table, row=line, column=column))
    return pd.Series(dates, dtype="datetime64[ns]")


def _parse_numbers(
    values: np.ndarray, table: str, column: str, lines: np.ndarray, faults: list[Fault]
) -> pd.Series:
    cells = values.tolist()
    parsed = {v: _NAN if (n := parse_number(v)) is None else n for v in set(cells) if v is not None}
    numbers = np.fromiter(map((parsed | {None: _NAN}).__getitem__, cells), dtype="float64", count=len(cells))
    _faults_where(np.isnan(numbers) & ~_absent(values), lines, faults, "ROW_NUMBER_INVALID", table, column, values)
    return pd.Series(numbers, dtype="float64")


_NAN = float("nan")


def _parse_codes(
    values: np.ndarray, table: str, column: str, lines: np.ndarray, faults: list[Fault], allowed: str,
) -> pd.Series:
    cells = values.tolist()
    codes = {v: int(v) if _INTEGER.match(v) else -1 for v in set(cells) if v is not None} | {None: -1}
    parsed = np.fromiter(map(codes.__getitem__, cells), dtype="int64", count=len(cells))  # -1: none
    unknown = (parsed < 0) & ~_absent(values)
    _faults_where(unknown, lines, faults, "ROW_CODE_UNKNOWN", table, column, values, detail=allowed)
    return pd.Series(pd.arrays.IntegerArray(np.maximum(parsed, 0), parsed < 0))


def _required_identifier_faults(
    values: np.ndarray, table: str, column: str, lines: np.ndarray, faults: list[Fault]
) -> None:
    _faults_where(_absent(values), lines, faults, "ROW_REQUIRED_EMPTY", table, column)


def _bsns(raw: np.ndarray) -> np.ndarray:
    """Each delivered BSN normalised (§3, §9.7), or None when absent or failing the elfproef."""
    return _per_distinct(raw, normalise_bsn)


def _client_pseudonyms(
    pseudonymiser: Pseudonymiser, provider: str, clientnummers: np.ndarray, bsns: np.ndarray
) -> np.ndarray:
    """The BSN's pseudonym where a valid BSN was given, else the provider's client number's;
    None when neither is there."""
    without_bsn = _absent(bsns)
    by_bsn = _per_distinct(bsns, lambda b: pseudonymiser.client(provider, "", b))
    by_number = _per_distinct(
        np.where(without_bsn, clientnummers, None), lambda c: pseudonymiser.client(provider, c, None)
    )
    return np.where(without_bsn, by_number, by_bsn)


def _drop_objections(
    trajecten: _Columns, metingen: _Columns, faults: list[Fault], provider: str,
    pseudonymiser: Pseudonymiser,
) -> tuple[_Columns, _Columns, dict[str, int], pd.DataFrame]:
    """`bezwaar = ja` rows and their measurements leave before any other step (§3); only the
    objecting clients' pseudonyms are kept, to remove what earlier months delivered of them."""
    bezwaar = _per_distinct(trajecten.column("bezwaar"), str.lower)
    objecting_rows = bezwaar == "ja"
    other = ~objecting_rows & ~_absent(bezwaar) & (bezwaar != "nee")
    _faults_where(
        other, trajecten.lines, faults, "ROW_CODE_UNKNOWN", TRAJECTEN, "bezwaar",
        trajecten.column("bezwaar"), detail="ja, nee of leeg",
    )
    objectors: set[tuple[str | None, str]] = set()
    objecting: set[str] = set()
    rows = np.flatnonzero(objecting_rows)
    for traject_id, clientnummer, raw_bsn in zip(
        trajecten.column("traject_id")[rows].tolist(), trajecten.column("clientnummer")[rows].tolist(),
        trajecten.column("bsn")[rows].tolist(), strict=True,
    ):
        if traject_id is not None:
            objecting.add(traject_id)
        if clientnummer is not None:
            bsn = normalise_bsn(raw_bsn) if raw_bsn else None
            objectors.add((
                pseudonymiser.client(provider, clientnummer, bsn) if bsn else None,
                pseudonymiser.local_client(provider, clientnummer),
            ))
    m_keep = ~pd.Series(metingen.column("traject_id"), dtype=object).isin(objecting).to_numpy()
    excluded = {TRAJECTEN: int(objecting_rows.sum()), METINGEN: int(len(metingen) - m_keep.sum())}
    objections = pd.DataFrame(sorted(objectors, key=lambda o: o[1]), columns=OBJECTION_FIELDS)
    return trajecten.keep(~objecting_rows), metingen.keep(m_keep), excluded, objections


def _drop_erased(
    trajecten: _Columns, metingen: _Columns, provider: str, pseudonymiser: Pseudonymiser
) -> tuple[_Columns, _Columns, dict[str, int]]:
    """Rows of clients erased on request leave before any other step, so that no re-delivered
    or corrected month brings them back and none of their pseudonyms is written again (not even
    as an objection or in quarantine). Only counts remain."""
    if not pseudonymiser.erases:
        return trajecten, metingen, {TRAJECTEN: 0, METINGEN: 0}
    erased_trajectories: set[str] = set()
    keep = np.ones(len(trajecten), dtype=bool)
    for i, (clientnummer, bsn, traject_id) in enumerate(
        zip(trajecten.column("clientnummer").tolist(), _bsns(trajecten.column("bsn")).tolist(),
            trajecten.column("traject_id").tolist(), strict=True)
    ):
        if pseudonymiser.is_erased(provider, clientnummer, bsn, traject_id):
            if traject_id is not None:
                erased_trajectories.add(traject_id)
            keep[i] = False
    m_keep = np.array(
        [
            traject_id not in erased_trajectories
            and not pseudonymiser.is_erased(provider, clientnummer, None, traject_id)
            for clientnummer, traject_id in zip(
                metingen.column("clientnummer").tolist(), metingen.column("traject_id").tolist(), strict=True
            )
        ],
        dtype=bool,
    )
    excluded = {TRAJECTEN: int((~keep).sum()), METINGEN: int((~m_keep).sum())}
    return trajecten.keep(keep), metingen.keep(m_keep), excluded


def _ages(birth: pd.Series, start: pd.Series) -> pd.Series:
    """Whole years on the start date (age_in_whole_years, for a column)."""
    before_birthday = (start.dt.month * 100 + start.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    return (start.dt.year - birth.dt.year - before_birthday.astype("int64")).astype("Int64")


def pseudonymise_trajectories(
    table: _Columns, provider: str, pseudonymiser: Pseudonymiser, faults: list[Fault],
    teams: TeamRegister | None = None,
) -> pd.DataFrame:
    column, lines, t = table.column, table.lines, TRAJECTEN
    clientnummers = column("clientnummer")
    traject_ids = column("traject_id")
    _required_identifier_faults(clientnummers, t, "clientnummer", lines, faults)
    _required_identifier_faults(traject_ids, t, "traject_id", lines, faults)
    _required_identifier_faults(column("geboortedatum"), t, "geboortedatum", lines, faults)

    raw_bsn = column("bsn")
    bsns = _bsns(raw_bsn)
    _faults_where(_absent(bsns) & ~_absent(raw_bsn), lines, faults, "ROW_BSN_INVALID", t, "bsn")
    client_ids = _client_pseudonyms(pseudonymiser, provider, clientnummers, bsns)

    dates = {name: _parse_dates(column(name), t, name, lines, faults) for name in DATE_COLUMNS[t]}
    birth, start = dates["geboortedatum"], dates["startdatum"]

    postcode = column("postcode")
    pc4 = _per_distinct(postcode, lambda p: derive_pc4(p)[0])
    _faults_where(_absent(pc4) & ~_absent(postcode), lines, faults, "WARN_POSTCODE_INVALID", t, "postcode")

    # the registered code, or the unregistered team: never the delivered text (§15)
    team = match_teams(column("team").tolist(), lines.tolist(), teams, faults, set(table.ragged_lines))
    frame = pd.DataFrame(
        {
            "row_number": pd.Series(lines, dtype="int64"),
            "trajectory_id": pd.Series(_trajectories(pseudonymiser, provider, traject_ids), dtype="object"),
            "client_id": pd.Series(client_ids, dtype="object"),
            "local_client_id": pd.Series(_local_clients(pseudonymiser, provider, clientnummers), dtype="object"),
            "birth_year": birth.dt.year.astype("Int64"),
            "age_at_start": _ages(birth, start),
            "geslacht": pd.Series(column("geslacht"), dtype="object"),
            "pc4": pd.Series(pc4, dtype="object"),
            "team": pd.Series(team, dtype="object"),
            "interventie": pd.Series(column("interventie"), dtype="object"),
            "hulpvorm": pd.Series(column("hulpvorm"), dtype="object"),
            "startdatum": start,
            "einddatum": dates["einddatum"],
            "reden_einde": _parse_codes(column("reden_einde"), t, "reden_einde", lines, faults, "1, 2, 3, 4 of 5"),
            "doelrealisatie": _parse_codes(column("doelrealisatie"), t, "doelrealisatie", lines, faults, "1, 2 of 3"),
            "tevredenheid": _parse_numbers(column("tevredenheid"), t, "tevredenheid", lines, faults),
        }
    )
    return frame[TRAJECTORY_FIELDS]


def _trajectories(pseudonymiser: Pseudonymiser, provider: str, traject_ids: np.ndarray) -> np.ndarray:
    return _per_distinct(traject_ids, lambda t: pseudonymiser.trajectory(provider, t))


def _local_clients(pseudonymiser: Pseudonymiser, provider: str, clientnummers: np.ndarray) -> np.ndarray:
    return _per_distinct(clientnummers, lambda c: pseudonymiser.local_client(provider, c))


def pseudonymise_measurements(
    table: _Columns, provider: str, pseudonymiser: Pseudonymiser, faults: list[Fault]
) -> pd.DataFrame:
    column, lines, m = table.column, table.lines, METINGEN
    traject_ids = column("traject_id")
    clientnummers = column("clientnummer")
    _required_identifier_faults(clientnummers, m, "clientnummer", lines, faults)
    _required_identifier_faults(traject_ids, m, "traject_id", lines, faults)
    frame = pd.DataFrame(
        {
            "row_number": pd.Series(lines, dtype="int64"),
            "trajectory_id": pd.Series(_trajectories(pseudonymiser, provider, traject_ids), dtype="object"),
            "local_client_id": pd.Series(_local_clients(pseudonymiser, provider, clientnummers), dtype="object"),
            "instrument": pd.Series(column("instrument"), dtype="object"),
            "schaal": pd.Series(column("schaal"), dtype="object"),
            "informant": pd.Series(column("informant"), dtype="object"),
            "meetmoment": pd.Series(column("meetmoment"), dtype="object"),
            "datum": _parse_dates(column("datum"), m, "datum", lines, faults),
            "score": _parse_numbers(column("score"), m, "score", lines, faults),
        }
    )
    return frame[MEASUREMENT_FIELDS]


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
    headers = {
        name: [resolve_header(column, column_mapping) for column in table.columns]
        for name, table in tables.items()
    }
    _check_header(TRAJECTEN, headers[TRAJECTEN], faults)
    _check_header(METINGEN, headers[METINGEN], faults)
    trajecten = _columns(tables[TRAJECTEN], headers[TRAJECTEN])
    metingen = _columns(tables[METINGEN], headers[METINGEN])
    if not len(trajecten):
        raise DeliveryRejected([Fault("FILE_NO_DATA_ROWS", table=TRAJECTEN)])
    rows_read = {TRAJECTEN: len(trajecten), METINGEN: len(metingen)}
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

"""The pandas yardstick (issue 13): the delivery contract and the two published marts, written the
way a competent analyst would write them in one pandas script. It is a measure for the benchmark,
not a product path: nothing of the pipeline uses it, and it uses nothing of the pipeline.

Why a second implementation: "at least 5x faster than a straightforward pandas implementation of
the same contract" needs that implementation. It must be honest both ways: vectorised pandas where
that is natural (no row loops where a column expression will do, each identifier hashed once per
distinct value), but no DuckDB, no Polars and no code from `schemas/`, `pseudonymise/` or
`warehouse/`. The instrument registry is copied from delivery-format.md §7, as
tests/reference_marts.py does.

What it does, in order (delivery-format.md, outcome-metrics.md §1-§4, §7):

1. every delivery under each LANDING_DIR (`<provider>/<YYYY-MM>/`, `trajecten.csv` +
   `metingen.csv` in UTF-8 or cp1252, `;` or `,`, or one `export.xlsx` read by calamine), all
   columns as text, trimmed;
2. file-level faults reject a delivery (unknown provider, bad or future month, a missing table or
   required column, a repeated header, no trajectories, more than the reject share of a table's
   rows faulty); objecting clients' rows (`bezwaar = ja`) leave first, with their measurements;
3. the row rules (identifiers present, BSN elfproef, dates that parse and do not lie after the
   month, codes in their lists, scores in the instrument's range, satisfaction 1-10, age 0-27, end
   before start or without reason, a traject_id twice, a measurement of an unknown trajectory)
   drop the row;
4. HMAC-SHA256 pseudonyms (stdlib `hmac`) of client number, BSN and traject_id; every direct
   identifier is dropped; teams become the consortium's registered code (§15);
5. LANDING_DIRs are read in the order given, as successive arrivals: a provider-month in a later
   one replaces the earlier version, unless the later one is rejected. Objections reach back over
   every month of their provider. Per trajectory the newest month's valid row wins, per
   measurement key the newest month's score;
6. both marts per level and period with primary suppression (count < k), written to OUT_DIR as
   `outcome_scores.parquet` and `trajectory_indicators.parquet`.

The pipeline adds secondary suppression, rounding options and the case-mix columns of §8; this
script does not (the differential test allows for the first, tests/pipelines/test_yardstick.py).
Simplifications an analyst would make and the benchmark's data never hit: no column mapping or
header aliases, no size limits on files, no row numbers or steward reports, a record with too many
fields is skipped by pandas rather than counted as faulty.

Not for real deliveries: its parquet files carry primary suppression only (a hidden count may
follow from shown ones by subtraction), so they are no publication. It reads raw identifiers only
in memory and writes nothing but the two marts.

Usage: python -m pipelines.yardstick LANDING_DIR [LANDING_DIR ...] OUT_DIR
           [--consortium consortium.toml] [--key-file F] [--k N] [--today YYYY-MM-DD]
It prints one JSON line (deliveries, rows read, mart rows) and never a value from a file.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import secrets
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

# delivery-format.md §7: (instrument, schaal) -> (min, max, higher_is_worse, sd_ref, r, cutoff)
REGISTRY: dict[tuple[str, str], tuple[float, float, bool, float, float, float]] = {
    ("CBCL", "totaal"): (24, 100, True, 10, 0.94, 64),
    ("CBCL", "internaliseren"): (29, 100, True, 10, 0.90, 64),
    ("CBCL", "externaliseren"): (28, 100, True, 10, 0.92, 64),
    ("YSR", "totaal"): (24, 100, True, 10, 0.90, 64),
    ("TRF", "totaal"): (24, 100, True, 10, 0.92, 64),
    ("SDQ", "totaal"): (0, 40, True, 5.8, 0.80, 17),
    ("OBVL", "totaal"): (20, 80, True, 10, 0.93, 63),
}

TRAJECTEN_REQUIRED = ("clientnummer", "geboortedatum", "geslacht", "traject_id", "team",
                      "interventie", "hulpvorm", "startdatum")  # fmt: skip
METINGEN_REQUIRED = ("clientnummer", "traject_id", "instrument", "schaal", "informant",
                     "meetmoment", "datum", "score")  # fmt: skip
GESLACHT = ("M", "V", "X", "O")
HULPVORM = ("ambulant", "daghulp", "verblijf", "pleegzorg", "overig")
INFORMANT = ("ouder", "jeugdige", "professional", "leerkracht")
MEETMOMENT = ("start", "tussen", "eind")
UNREGISTERED_TEAM = "_niet_geregistreerd"  # the code the pipeline stores for an unregistered team
FIRST_MONTH = "2015-01"
EARLIEST_YEAR = 1900

LEVELS = ("consortium", "organisation", "team", "intervention", "organisation_intervention")
GROUP_KEY = ["level", "organisation", "team", "intervention", "period"]
MEASURE = ["instrument", "schaal", "informant"]
SCORE_COLUMNS = [
    *GROUP_KEY, *MEASURE, "n_ended", "n_paired", "response_rate", "mean_start", "mean_end",
    "mean_improvement", "sd_improvement", "ci_low", "ci_high", "effect_size", "pct_improved",
    "pct_unchanged", "pct_deteriorated", "n_clinical_start", "pct_recovered", "suppressed",
]  # fmt: skip
INDICATOR_COLUMNS = [*GROUP_KEY, "n_ended", "pct_planned_end", "pct_goals_achieved",
                     "mean_satisfaction", "suppressed"]  # fmt: skip

_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_MONTH = re.compile(r"^[12]\d{3}-(0[1-9]|1[0-2])$")
_NUMBER = r"[+-]?\d+(?:[.,]\d+)?"
_CODE = r"\d{1,9}"
_ELFPROEF = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])


class Rejected(Exception):
    """A file-level fault: the delivery is left out whole. Carries a code, never a value."""


class UsageError(Exception):
    """Bad arguments or configuration: a message for the user, no traceback."""


@dataclass(frozen=True)
class Consortium:
    """What the yardstick needs of config/consortium.toml (interfaces.md)."""

    providers: frozenset[str]
    interventions: dict[str, str]  # lower-case code -> code as configured
    teams: dict[str, dict[str, str]]  # provider -> team key -> registered code
    k: int = 10
    reject_share: float = 0.10


@dataclass
class Delivery:
    """One judged provider-month: its valid rows (pseudonymised) or the reason it was rejected."""

    provider: str
    month: str
    rows_read: int = 0
    rejected: str | None = None
    trajectories: pd.DataFrame = field(default_factory=pd.DataFrame)
    measurements: pd.DataFrame = field(default_factory=pd.DataFrame)
    objectors: pd.DataFrame = field(default_factory=pd.DataFrame)


# ----------------------------------------------------------------------------------------
# Configuration and key


def team_key(text: str) -> str:
    """Teams match without regard to case and runs of spaces (delivery-format.md §15)."""
    return " ".join(text.split()).casefold()


def load_consortium(path: Path) -> Consortium:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no consortium configuration (give --consortium)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not valid TOML ({error})") from None
    providers = data.get("providers") or {}
    interventions = data.get("interventions") or {}
    if not providers or not interventions:
        raise UsageError(f"{path}: [providers] and [interventions] must each list at least one code")
    teams = {
        provider: {
            **{team_key(str(name)): code for code, name in register.items()},
            **{team_key(code): code for code in register},
        }
        for provider, register in (data.get("teams") or {}).items()
    }
    return Consortium(
        providers=frozenset(providers),
        interventions={code.lower(): code for code in interventions},
        teams=teams,
        k=int((data.get("suppression") or {}).get("k", 10)),
        reject_share=float((data.get("validation") or {}).get("reject_share", 0.10)),
    )


def load_key(path: Path | None) -> bytes:
    """The last key line of a key file (base64, `#` comments); without a file a random key: the
    marts do not depend on which key made the pseudonyms."""
    if path is None:
        return secrets.token_bytes(32)
    try:
        lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines()]
        return base64.b64decode([line for line in lines if line and not line.startswith("#")][-1])
    except (OSError, UnicodeDecodeError, IndexError, ValueError):
        raise UsageError(f"{path}: not a readable key file (base64 key lines)") from None


class Pseudonyms:
    """HMAC-SHA256 per purpose, each distinct value hashed once."""

    def __init__(self, key: bytes) -> None:
        self._contexts = {
            purpose: hmac.new(hmac.digest(key, purpose.encode(), "sha256"), digestmod=hashlib.sha256)
            for purpose in ("client", "local-client", "trajectory")
        }

    def of(self, purpose: str, values: pd.Series) -> pd.Series:
        context = self._contexts[purpose]

        def digest(value: str) -> str:
            keyed = context.copy()
            keyed.update(value.encode("utf-8"))
            return keyed.hexdigest()[:32]

        distinct = values.dropna().unique()
        return values.map(dict(zip(distinct, map(digest, distinct), strict=True)))


# ----------------------------------------------------------------------------------------
# Reading


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Trimmed text; empty or only spaces is absent (delivery-format.md §2, §9.12)."""
    frame = frame.apply(lambda column: column.str.strip())
    return frame.where(frame.ne(""))


def _header(names: Sequence[object]) -> list[str]:
    header = [str(name).replace("\ufeff", "").strip().lower() for name in names]
    if len(set(header)) != len(header):
        raise Rejected("FILE_DUPLICATE_COLUMN")
    return header


def read_csv_table(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    try:
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        data.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            raise Rejected("FILE_UNDECODABLE") from None
    first_line = data.split(b"\n", 1)[0].decode(encoding)
    if not first_line.strip():
        raise Rejected("FILE_NO_HEADER")
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    header = _header(next(csv.reader([first_line.rstrip("\r")], delimiter=delimiter)))
    try:
        frame = pd.read_csv(
            io.BytesIO(data), sep=delimiter, encoding=encoding, dtype=str, keep_default_na=False,
            header=0, names=header, on_bad_lines="skip",
        )  # fmt: skip
    except (pd.errors.ParserError, ValueError):
        raise Rejected("FILE_UNPARSEABLE") from None
    # A record with too few fields: its last cells are missing, not empty.
    short = frame[header[-1]].isna()
    frame = _tidy(frame)
    frame["_short"] = short
    return frame


def _cell_text(value: object) -> object:
    """A workbook cell as the text a CSV export would hold (delivery-format.md §9.7)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="calamine", header=None, dtype=object)
    except Exception:  # noqa: BLE001 (calamine raises its own types for a broken workbook)
        raise Rejected("FILE_UNPARSEABLE") from None
    by_name = {name.strip().lower(): sheet for name, sheet in sheets.items()}
    tables = {}
    for table in ("trajecten", "metingen"):
        sheet = by_name.get(table)
        if sheet is None:
            raise Rejected("FILE_TABLE_MISSING")
        if sheet.empty:
            raise Rejected("FILE_NO_HEADER")
        header = _header(_cell_text(v) for v in sheet.iloc[0])
        body = sheet.iloc[1:].map(_cell_text)
        body.columns = header
        body = body[body.ne("").any(axis=1)]  # rows left empty at the end of a sheet
        frame = _tidy(body.reset_index(drop=True).astype(str))
        frame["_short"] = False
        tables[table] = frame
    return tables


def read_delivery(folder: Path) -> dict[str, pd.DataFrame]:
    files = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    csvs = [files.get("trajecten.csv"), files.get("metingen.csv")]
    workbook = files.get("export.xlsx")
    if workbook is not None and any(csvs):
        raise Rejected("FILE_AMBIGUOUS")
    if workbook is not None:
        return read_workbook(workbook)
    if not all(csvs):
        raise Rejected("FILE_TABLE_MISSING")
    return {"trajecten": read_csv_table(csvs[0]), "metingen": read_csv_table(csvs[1])}


# ----------------------------------------------------------------------------------------
# Judging one delivery


def parse_dates(values: pd.Series) -> pd.Series:
    """dd-mm-yyyy, d-m-yyyy and yyyy-mm-dd (delivery-format.md §2)."""
    dmy = pd.to_datetime(values, format="%d-%m-%Y", errors="coerce")
    ymd = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    return dmy.fillna(ymd)


def parse_numbers(values: pd.Series) -> pd.Series:
    text = values.where(values.str.fullmatch(_NUMBER, na=False))
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


def parse_codes(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.where(values.str.fullmatch(_CODE, na=False)), errors="coerce")


def bad_date(text: pd.Series, parsed: pd.Series, last_day: pd.Timestamp | None) -> pd.Series:
    """Present but not a date (or before 1900), or after the reporting month's end."""
    bad = text.notna() & (parsed.isna() | (parsed.dt.year < EARLIEST_YEAR))
    if last_day is not None:
        bad |= parsed > last_day
    return bad


def normalise_bsn(values: pd.Series) -> pd.Series:
    """Nine digits passing the elfproef (eight are left-padded with 0); anything else is NA."""
    digits = values.str.replace(r"[ .]", "", regex=True)
    digits = digits.where(digits.str.len() != 8, "0" + digits)
    plausible = digits.str.fullmatch(r"\d{9}", na=False) & digits.ne("000000000")
    candidates = digits[plausible]
    if candidates.empty:
        return digits.where(plausible)
    matrix = np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8).reshape(-1, 9) - 48
    passes = pd.Series((matrix.astype(np.int64) @ _ELFPROEF) % 11 == 0, index=candidates.index)
    return digits.where(plausible & passes.reindex(digits.index, fill_value=False))


def month_end(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)


def _lower(values: pd.Series) -> pd.Series:
    return values.str.lower()


def judge(
    tables: dict[str, pd.DataFrame], provider: str, month: str, consortium: Consortium,
    pseudonyms: Pseudonyms,
) -> Delivery:
    """The valid, pseudonymised rows of one delivery, or a Rejected."""
    t, m = tables["trajecten"], tables["metingen"]
    for frame, required in ((t, TRAJECTEN_REQUIRED), (m, METINGEN_REQUIRED)):
        if any(column not in frame.columns for column in required):
            raise Rejected("FILE_REQUIRED_COLUMN_MISSING")
    if t.empty:
        raise Rejected("FILE_NO_DATA_ROWS")
    rows_read = len(t) + len(m)
    last_day = month_end(month)
    for column in ("bsn", "einddatum", "reden_einde", "doelrealisatie", "tevredenheid", "bezwaar"):
        if column not in t.columns:
            t[column] = None

    # Objections first (delivery-format.md §3): the rows and their measurements leave.
    bezwaar = _lower(t["bezwaar"])
    objecting = bezwaar.eq("ja").fillna(False)
    bsn = normalise_bsn(t["bsn"])
    client_message = ("bsn\x1f" + bsn).fillna("provider\x1f" + provider + "\x1f" + t["clientnummer"])
    objectors = pd.DataFrame({
        "provider": provider,
        "client_id": pseudonyms.of("client", ("bsn\x1f" + bsn)[objecting]),
        "local_client_id": pseudonyms.of("local-client", provider + "\x1f" + t["clientnummer"][objecting]),
    })  # fmt: skip
    objectors = objectors[objectors["local_client_id"].notna()]
    objecting_ids = set(t.loc[objecting, "traject_id"].dropna())
    keep = ~objecting
    t, bsn, client_message, bezwaar = t[keep], bsn[keep], client_message[keep], bezwaar[keep]
    m = m[~m["traject_id"].isin(objecting_ids)]

    # Row rules on trajecten
    bad_t = t["_short"].copy()
    for column in TRAJECTEN_REQUIRED:
        bad_t |= t[column].isna()
    bad_t |= t["bsn"].notna() & bsn.isna()
    bad_t |= bezwaar.notna() & ~bezwaar.isin(["ja", "nee"])
    birth, start, end = (parse_dates(t[c]) for c in ("geboortedatum", "startdatum", "einddatum"))
    bad_t |= bad_date(t["geboortedatum"], birth, None) | (birth.dt.year > 2200)
    bad_t |= bad_date(t["startdatum"], start, last_day) | bad_date(t["einddatum"], end, last_day)
    geslacht, hulpvorm = t["geslacht"].str.upper(), _lower(t["hulpvorm"])
    interventie = _lower(t["interventie"]).map(consortium.interventions)
    bad_t |= t["geslacht"].notna() & ~geslacht.isin(GESLACHT)
    bad_t |= t["hulpvorm"].notna() & ~hulpvorm.isin(HULPVORM)
    bad_t |= t["interventie"].notna() & interventie.isna()
    reden, doel = parse_codes(t["reden_einde"]), parse_codes(t["doelrealisatie"])
    bad_t |= t["reden_einde"].notna() & ~reden.isin([1, 2, 3, 4, 5])
    bad_t |= t["doelrealisatie"].notna() & ~doel.isin([1, 2, 3])
    tevredenheid = parse_numbers(t["tevredenheid"])
    bad_t |= t["tevredenheid"].notna() & ~tevredenheid.between(1, 10)
    had_birthday = (start.dt.month > birth.dt.month) | (
        (start.dt.month == birth.dt.month) & (start.dt.day >= birth.dt.day)
    )
    age = start.dt.year - birth.dt.year - (~had_birthday).astype(int)
    bad_t |= age.notna() & ~age.between(0, 27)
    bad_t |= end < start
    bad_t |= end.notna() & t["reden_einde"].isna()
    bad_t |= t["traject_id"].notna() & t["traject_id"].duplicated(keep=False)

    # Row rules on metingen
    bad_m = m["_short"].copy()
    for column in METINGEN_REQUIRED:
        bad_m |= m[column].isna()
    informant, meetmoment = _lower(m["informant"]), _lower(m["meetmoment"])
    bad_m |= m["informant"].notna() & ~informant.isin(INFORMANT)
    bad_m |= m["meetmoment"].notna() & ~meetmoment.isin(MEETMOMENT)
    registry = pd.DataFrame(
        [(a.lower(), b.lower(), a, b, low, high) for (a, b), (low, high, *_) in REGISTRY.items()],
        columns=["_i", "_s", "instrument", "schaal", "_min", "_max"],
    )
    measured = pd.DataFrame({"_i": _lower(m["instrument"]), "_s": _lower(m["schaal"])}, index=m.index)
    known = measured.reset_index().merge(registry, on=["_i", "_s"], how="left").set_index("index")
    score = parse_numbers(m["score"])
    bad_m |= m["instrument"].notna() & m["schaal"].notna() & known["instrument"].isna()
    bad_m |= m["score"].notna() & score.isna()
    bad_m |= known["instrument"].notna() & score.notna() & ~score.between(known["_min"], known["_max"])
    datum = parse_dates(m["datum"])
    bad_m |= bad_date(m["datum"], datum, last_day)
    bad_m |= m["traject_id"].notna() & ~m["traject_id"].isin(set(t["traject_id"].dropna()))

    # More than the reject share of a table faulty: a systematic fault (§8, §9.3).
    for bad in (bad_t, bad_m):
        if len(bad) and bad.sum() / len(bad) > consortium.reject_share:
            raise Rejected("FILE_TOO_MANY_FAULTS")

    register = consortium.teams.get(provider, {})
    ok_t, ok_m = ~bad_t, ~bad_m
    trajectories = pd.DataFrame({
        "provider": provider,
        "month": month,
        "trajectory_id": pseudonyms.of("trajectory", provider + "\x1f" + t["traject_id"][ok_t]),
        "client_id": pseudonyms.of("client", client_message[ok_t]),
        "local_client_id": pseudonyms.of("local-client", provider + "\x1f" + t["clientnummer"][ok_t]),
        "team": t["team"][ok_t].map({v: register.get(team_key(v), UNREGISTERED_TEAM)
                                     for v in t["team"][ok_t].unique()}),
        "interventie": interventie[ok_t],
        "einddatum": end[ok_t],
        "reden_einde": reden[ok_t].astype("float64"),
        "doelrealisatie": doel[ok_t].astype("float64"),
        "tevredenheid": tevredenheid[ok_t],
    })  # fmt: skip
    measurements = pd.DataFrame({
        "provider": provider,
        "month": month,
        "line": np.arange(ok_m.sum()),
        "trajectory_id": pseudonyms.of("trajectory", provider + "\x1f" + m["traject_id"][ok_m]),
        "local_client_id": pseudonyms.of("local-client", provider + "\x1f" + m["clientnummer"][ok_m]),
        "instrument": known["instrument"][ok_m],
        "schaal": known["schaal"][ok_m],
        "informant": informant[ok_m],
        "meetmoment": meetmoment[ok_m],
        "datum": datum[ok_m],
        "score": score[ok_m],
    })  # fmt: skip
    return Delivery(provider, month, rows_read, None, trajectories, measurements, objectors)


# ----------------------------------------------------------------------------------------
# All deliveries: what is in force, objections, current state


def month_folders(landing: Path) -> list[tuple[str, str, Path]]:
    return [
        (provider.name, month.name, month)
        for provider in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith("."))
        for month in sorted(p for p in provider.iterdir() if p.is_dir() and not p.name.startswith("."))
    ]


def judge_folder(
    provider: str, month: str, folder: Path, consortium: Consortium, pseudonyms: Pseudonyms,
    today: dt.date,
) -> Delivery:
    try:
        if not _PROVIDER.match(provider):
            raise Rejected("FILE_INVALID_PROVIDER_FOLDER")
        if provider not in consortium.providers:
            raise Rejected("FILE_UNKNOWN_PROVIDER")
        if not _MONTH.match(month):
            raise Rejected("FILE_INVALID_MONTH_FOLDER")
        if month > f"{today.year:04d}-{today.month:02d}":
            raise Rejected("FILE_MONTH_IN_FUTURE")
        if month < FIRST_MONTH:
            raise Rejected("FILE_MONTH_TOO_EARLY")
        return judge(read_delivery(folder), provider, month, consortium, pseudonyms)
    except Rejected as rejected:
        return Delivery(provider, month, rejected=str(rejected))


def in_force(
    landings: Sequence[Path], consortium: Consortium, pseudonyms: Pseudonyms, today: dt.date
) -> tuple[dict[tuple[str, str], Delivery], list[Delivery], pd.DataFrame]:
    """Per provider-month the newest accepted version, every judged delivery, and the objectors
    of every accepted one (an objection stands once made, whatever replaces its delivery)."""
    chosen: dict[tuple[str, str], Delivery] = {}
    judged: list[Delivery] = []
    objectors = []
    for landing in landings:
        for provider, month, folder in month_folders(landing):
            delivery = judge_folder(provider, month, folder, consortium, pseudonyms, today)
            judged.append(delivery)
            if delivery.rejected is None:
                chosen[(provider, month)] = delivery
                objectors.append(delivery.objectors)
    objections = pd.concat(objectors, ignore_index=True) if objectors else pd.DataFrame(
        columns=["provider", "client_id", "local_client_id"]
    )
    return chosen, judged, objections


def current_state(
    chosen: dict[tuple[str, str], Delivery], objections: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """outcome-metrics §1 after the objections: the newest month's valid row per trajectory, the
    newest month's score per measurement key (within a delivery the later line)."""
    deliveries = list(chosen.values())
    if not deliveries:
        return pd.DataFrame(columns=["provider", "trajectory_id", "einddatum"]), pd.DataFrame()
    trajectories = pd.concat([d.trajectories for d in deliveries], ignore_index=True)
    measurements = pd.concat([d.measurements for d in deliveries], ignore_index=True)

    def among(frame: pd.DataFrame, columns: list[str], found: pd.DataFrame) -> np.ndarray:
        return pd.MultiIndex.from_frame(frame[columns]).isin(pd.MultiIndex.from_frame(found[columns]))

    local = ["provider", "local_client_id"]
    by_client = objections[["provider", "client_id"]].dropna()
    hit = among(trajectories, local, objections) | among(trajectories, ["provider", "client_id"], by_client)
    purged = trajectories.loc[hit, ["provider", "trajectory_id"]]
    trajectories = trajectories[~hit]
    gone = among(measurements, ["provider", "trajectory_id"], purged) | among(measurements, local, objections)
    measurements = measurements[~gone]

    trajectories = trajectories.sort_values("month", kind="stable").drop_duplicates(
        ["provider", "trajectory_id"], keep="last"
    )
    measurements = measurements.sort_values(["month", "line"], kind="stable").drop_duplicates(
        ["provider", "trajectory_id", *MEASURE, "meetmoment", "datum"], keep="last"
    )
    return trajectories, measurements


# ----------------------------------------------------------------------------------------
# The marts


def paired_scores(trajectories: pd.DataFrame, measurements: pd.DataFrame) -> pd.DataFrame:
    """outcome-metrics §2-§3 for every ended trajectory and measure with a valid pair."""
    ended = trajectories.loc[trajectories["einddatum"].notna(), ["provider", "trajectory_id"]]
    scores = measurements.merge(ended, on=["provider", "trajectory_id"])
    key = ["provider", "trajectory_id", *MEASURE]
    starts = (scores[scores["meetmoment"] == "start"].sort_values("datum", kind="stable")
              .drop_duplicates(key, keep="first"))  # fmt: skip
    ends = (scores[scores["meetmoment"] == "eind"].sort_values("datum", kind="stable")
            .drop_duplicates(key, keep="last"))  # fmt: skip
    pairs = starts[[*key, "datum", "score"]].merge(
        ends[[*key, "datum", "score"]], on=key, suffixes=("_start", "_end")
    )
    pairs = pairs[pairs["datum_end"] > pairs["datum_start"]].rename(
        columns={"score_start": "x_start", "score_end": "x_end"}
    )
    registry = pd.DataFrame(
        [(a, b, worse, sd, r, cutoff) for (a, b), (_, _, worse, sd, r, cutoff) in REGISTRY.items()],
        columns=["instrument", "schaal", "higher_is_worse", "sd_ref", "r", "cutoff"],
    )
    pairs = pairs.merge(registry, on=["instrument", "schaal"])
    worse = pairs["higher_is_worse"]
    pairs["improvement"] = np.where(worse, 1, -1) * (pairs["x_start"] - pairs["x_end"])
    pairs["rci"] = pairs["improvement"] / (np.sqrt(2) * pairs["sd_ref"] * np.sqrt(1 - pairs["r"]))
    pairs["clinical_start"] = np.where(worse, pairs["x_start"] >= pairs["cutoff"], pairs["x_start"] <= pairs["cutoff"])
    non_clinical_end = np.where(worse, pairs["x_end"] < pairs["cutoff"], pairs["x_end"] > pairs["cutoff"])
    pairs["improved"] = pairs["rci"] > 1.96
    pairs["deteriorated"] = pairs["rci"] < -1.96
    pairs["unchanged"] = pairs["rci"].between(-1.96, 1.96)
    pairs["recovered"] = pairs["clinical_start"] & non_clinical_end & pairs["improved"]
    return pairs


def memberships(ended: pd.DataFrame) -> pd.DataFrame:
    """Each ended trajectory once per level and period (its end year, and 'all'); columns a
    level does not group by are null (outcome-metrics §4, §6)."""
    frames = []
    year = ended["einddatum"].dt.year.astype(str)
    for period in (year, "all"):
        for level in LEVELS:
            frames.append(pd.DataFrame({
                "provider": ended["provider"],
                "trajectory_id": ended["trajectory_id"],
                "level": level,
                "organisation": ended["provider"] if level in ("organisation", "team", "organisation_intervention") else None,
                "team": ended["team"] if level == "team" else None,
                "intervention": ended["interventie"] if level in ("intervention", "organisation_intervention") else None,
                "period": period,
            }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def trajectory_groups(ended: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Unsuppressed trajectory figures per group; reden_einde 5 leaves only the denominator of
    the planned-end share (§7.4)."""
    figures = ended.assign(
        planned=ended["reden_einde"].eq(1).astype(int),
        planned_base=ended["reden_einde"].ne(5).astype(int),
        goals_known=ended["doelrealisatie"].notna().astype(int),
        goals_achieved=ended["doelrealisatie"].isin([1, 2]).astype(int),
    )[["provider", "trajectory_id", "planned", "planned_base", "goals_known", "goals_achieved", "tevredenheid"]]
    grouped = members.merge(figures, on=["provider", "trajectory_id"]).groupby(GROUP_KEY, dropna=False).agg(
        n_ended=("trajectory_id", "size"), planned=("planned", "sum"), planned_base=("planned_base", "sum"),
        goals_known=("goals_known", "sum"), goals_achieved=("goals_achieved", "sum"),
        mean_satisfaction=("tevredenheid", "mean"),
    ).reset_index()  # fmt: skip
    grouped["pct_planned_end"] = (grouped["planned"] / grouped["planned_base"]).where(grouped["planned_base"] > 0)
    grouped["pct_goals_achieved"] = (grouped["goals_achieved"] / grouped["goals_known"]).where(grouped["goals_known"] > 0)
    return grouped


def trajectory_indicators(groups: pd.DataFrame, k: int) -> pd.DataFrame:
    """The published table: a group of fewer than k ended trajectories shows nothing (§5)."""
    grouped = groups.copy()
    grouped["suppressed"] = grouped["n_ended"] < k
    figures_shown = ["n_ended", "pct_planned_end", "pct_goals_achieved", "mean_satisfaction"]
    grouped["n_ended"] = grouped["n_ended"].astype("Int64")
    grouped.loc[grouped["suppressed"], figures_shown] = None
    return grouped[INDICATOR_COLUMNS]


def outcome_scores(
    pairs: pd.DataFrame, members: pd.DataFrame, n_ended: pd.DataFrame, k: int
) -> pd.DataFrame:
    grouped = members.merge(pairs, on=["provider", "trajectory_id"]).groupby(
        [*GROUP_KEY, *MEASURE], dropna=False
    ).agg(
        n_paired=("improvement", "size"), mean_start=("x_start", "mean"), mean_end=("x_end", "mean"),
        mean_improvement=("improvement", "mean"), sd_improvement=("improvement", "std"),
        sd_start=("x_start", "std"), n_improved=("improved", "sum"), n_unchanged=("unchanged", "sum"),
        n_deteriorated=("deteriorated", "sum"), n_clinical_start=("clinical_start", "sum"),
        n_recovered=("recovered", "sum"),
    ).reset_index()  # fmt: skip
    grouped = grouped.merge(n_ended, on=GROUP_KEY, how="left")
    n = grouped["n_paired"]
    grouped["response_rate"] = n / grouped["n_ended"]
    several = n >= 2
    half = stats.t.ppf(0.975, (n - 1).where(several, 1)) * grouped["sd_improvement"] / np.sqrt(n)
    grouped["sd_improvement"] = grouped["sd_improvement"].where(several)
    grouped["ci_low"] = (grouped["mean_improvement"] - half).where(several)
    grouped["ci_high"] = (grouped["mean_improvement"] + half).where(several)
    grouped["effect_size"] = (grouped["mean_improvement"] / grouped["sd_start"]).where(grouped["sd_start"] > 0)
    for share, count in (("pct_improved", "n_improved"), ("pct_unchanged", "n_unchanged"),
                         ("pct_deteriorated", "n_deteriorated")):  # fmt: skip
        grouped[share] = grouped[count] / n
    clinical = grouped["n_clinical_start"]
    grouped["pct_recovered"] = (grouped["n_recovered"] / clinical).where(clinical > 0)
    grouped["suppressed"] = n < k
    for column in ("n_ended", "n_paired", "n_clinical_start"):
        grouped[column] = grouped[column].astype("Int64")
    hidden = [c for c in SCORE_COLUMNS if c not in (*GROUP_KEY, *MEASURE, "suppressed")]
    grouped.loc[grouped["suppressed"], hidden] = None
    return grouped[SCORE_COLUMNS]


def build_marts(
    trajectories: pd.DataFrame, measurements: pd.DataFrame, k: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    ended = trajectories[trajectories["einddatum"].notna()]
    members = memberships(ended)
    groups = trajectory_groups(ended, members)
    indicators = trajectory_indicators(groups, k)
    n_ended = groups[[*GROUP_KEY, "n_ended"]]
    pairs = paired_scores(trajectories, measurements) if len(measurements) else None
    if pairs is None or pairs.empty:
        scores = pd.DataFrame(columns=SCORE_COLUMNS)
    else:
        scores = outcome_scores(pairs, members, n_ended, k)
    return scores, indicators


def _null_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Grouping columns a level does not group by are null, not NaN."""
    frame = frame.copy()
    for column in ("organisation", "team", "intervention"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


# ----------------------------------------------------------------------------------------
# Command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.yardstick",
        description="The pandas yardstick: the delivery contract and both marts in plain pandas.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="LANDING_DIR ... OUT_DIR",
                        help="landing folders in order of arrival, then the output folder")  # fmt: skip
    parser.add_argument("--consortium", type=Path,
                        help="consortium.toml (default: config/consortium.toml beside the first landing folder)")  # fmt: skip
    parser.add_argument("--key-file", type=Path, help="pseudonymisation key (default: a random key)")
    parser.add_argument("--k", type=int, help="suppression threshold (default: the consortium's k)")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="the day whose month is the last that may be delivered (default: today)")  # fmt: skip
    return parser


def run(argv: Sequence[str] | None = None) -> dict:
    args = _parser().parse_args(argv)
    if len(args.paths) < 2:
        raise UsageError("give at least one LANDING_DIR and an OUT_DIR")
    *landings, out = args.paths
    for landing in landings:
        if not landing.is_dir():
            raise UsageError(f"{landing}: no such landing folder")
    consortium = load_consortium(args.consortium or landings[0].parent / "config" / "consortium.toml")
    k = consortium.k if args.k is None else args.k
    pseudonyms = Pseudonyms(load_key(args.key_file))
    chosen, judged, objections = in_force(landings, consortium, pseudonyms, args.today or dt.date.today())
    trajectories, measurements = current_state(chosen, objections)
    scores, indicators = build_marts(trajectories, measurements, k)
    out.mkdir(parents=True, exist_ok=True)
    _null_keys(scores).to_parquet(out / "outcome_scores.parquet", index=False)
    _null_keys(indicators).to_parquet(out / "trajectory_indicators.parquet", index=False)
    return {
        "deliveries": len(judged),
        "accepted": sum(d.rejected is None for d in judged),
        "rejected": sorted(f"{d.provider}/{d.month}: {d.rejected}" for d in judged if d.rejected),
        "rows_read": sum(d.rows_read for d in judged),
        "outcome_scores": len(scores),
        "trajectory_indicators": len(indicators),
    }


def main(argv: Sequence[str] | None = None) -> int:
    try:
        summary = run(argv)
    except UsageError as error:
        print(f"yardstick: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The read step (delivery-format.md §2, §3, §5, §8, §9): parsing of dates, numbers, BSN and
postcode, objections removed first, the allow-list, file faults on headers, and above all that
no raw identifier leaves `pseudonymise_delivery` in a frame cell or a fault."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest
from stdnum.nl import bsn as stdnum_bsn

from pseudonymise.intake import (
    age_in_whole_years,
    derive_pc4,
    normalise_bsn,
    parse_date,
    parse_number,
    pseudonymise_delivery,
)
from pseudonymise.keys import KEY_BYTES, key_from_material
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read import RawTable
from schemas.delivery import METINGEN, TRAJECTEN
from schemas.faults import DeliveryRejected, Fault
from schemas.records import MEASUREMENT_FIELDS, TRAJECTORY_FIELDS, PseudonymisedDelivery
from schemas.teams import TeamRegister

PROVIDER = "de-boog"
MONTH = "2025-03"
TEAMS = TeamRegister({"noord": "Team Noord"})  # the register of every provider in these tests
KEY = key_from_material(b"k" * KEY_BYTES)


def elfproef(digits: str) -> bool:
    """The BSN eleven test, computed independently of the code under test."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0 and int(digits) > 0


def valid_bsns(prefix: str, count: int) -> list[str]:
    found = []
    for n in itertools.count():
        candidate = f"{prefix}{n:0{9 - len(prefix)}d}"
        if elfproef(candidate):
            assert stdnum_bsn.is_valid(candidate)
            found.append(candidate)
            if len(found) == count:
                return found
    raise AssertionError  # pragma: no cover


BSN_A, BSN_B = valid_bsns("23", 2)
BSN_LEADING_ZERO = valid_bsns("0712", 1)[0]
BSN_FAILING = "123456789"
assert not elfproef(BSN_FAILING)


def raw_table(name: str, columns: list[str], rows: list[dict[str, str | None]]) -> RawTable:
    return RawTable(
        name=name,
        columns=list(columns),
        rows=[[row.get(c) for c in columns] for row in rows],
        lines=list(range(2, 2 + len(rows))),
    )


TRAJECT_COLUMNS = [
    "clientnummer", "bsn", "voornaam", "tussenvoegsel", "achternaam", "geboortedatum",
    "geslacht", "postcode", "adres", "woonplaats", "telefoon", "email", "traject_id", "team",
    "interventie", "hulpvorm", "startdatum", "einddatum", "reden_einde", "doelrealisatie",
    "tevredenheid", "opmerkingen", "bezwaar",
]
METING_COLUMNS = [
    "clientnummer", "traject_id", "instrument", "schaal", "informant", "meetmoment", "datum",
    "score",
]


def trajectory_row(**values: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "clientnummer": "KLNT-0001", "geboortedatum": "14-03-2012", "geslacht": "V",
        "traject_id": "TRJ-0001", "team": "Team Noord", "interventie": "MST",
        "hulpvorm": "ambulant", "startdatum": "06-01-2025",
    }
    row.update(values)
    return row


def measurement_row(**values: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "clientnummer": "KLNT-0001", "traject_id": "TRJ-0001", "instrument": "CBCL",
        "schaal": "totaal", "informant": "ouder", "meetmoment": "start", "datum": "10-01-2025",
        "score": "64",
    }
    row.update(values)
    return row


def deliver(
    trajectories: list[dict[str, str | None]],
    measurements: list[dict[str, str | None]],
    traject_columns: list[str] | None = None,
    meting_columns: list[str] | None = None,
    provider: str = PROVIDER,
    pseudonymiser: Pseudonymiser | None = None,
    teams: TeamRegister | None = TEAMS,
) -> PseudonymisedDelivery:
    tables = {
        TRAJECTEN: raw_table(TRAJECTEN, traject_columns or TRAJECT_COLUMNS, trajectories),
        METINGEN: raw_table(METINGEN, meting_columns or METING_COLUMNS, measurements),
    }
    return pseudonymise_delivery(
        tables, provider, MONTH, pseudonymiser or Pseudonymiser(KEY), teams=teams
    )


def codes(faults: list[Fault]) -> list[str]:
    return [f.code for f in faults]


# --- parse_date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06-01-2025", dt.date(2025, 1, 6)),
        ("6-1-2025", dt.date(2025, 1, 6)),
        ("31-12-2024", dt.date(2024, 12, 31)),
        ("2025-01-06", dt.date(2025, 1, 6)),
        ("29-02-2024", dt.date(2024, 2, 29)),
    ],
)
def test_parse_date_accepts_the_spec_formats(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["31-02-2025", "29-02-2025", "2025/01/01", "01/06/2025", "gisteren", "13-13-2025",
     "06-01-25", "2025-13-01", "", "06-01-2025 10:00"],
)
def test_parse_date_rejects_other_text(text: str) -> None:
    assert parse_date(text) is None


def test_parse_date_none_is_none() -> None:
    assert parse_date(None) is None


# --- parse_number ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7,5", 7.5), ("7.5", 7.5), ("8", 8.0), ("-3", -3.0), ("+2,25", 2.25), ("0,0", 0.0)],
)
def test_parse_number_accepts_comma_and_point(text: str, expected: float) -> None:
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["zeven", "7,5,1", "1.000,5", "7 5", "", ",5", None])
def test_parse_number_rejects_non_numbers(text: str | None) -> None:
    assert parse_number(text) is None


# --- normalise_bsn ---------------------------------------------------------------------------


def test_normalise_bsn_accepts_a_valid_nine_digit_bsn() -> None:
    assert normalise_bsn(BSN_A) == BSN_A
    assert normalise_bsn(f"{BSN_A[:4]}.{BSN_A[4:6]}.{BSN_A[6:]}") == BSN_A
    assert normalise_bsn(f"{BSN_A[:3]} {BSN_A[3:6]} {BSN_A[6:]}") == BSN_A


def test_normalise_bsn_left_pads_eight_digits() -> None:
    assert BSN_LEADING_ZERO.startswith("0")
    assert normalise_bsn(BSN_LEADING_ZERO[1:]) == BSN_LEADING_ZERO
    assert normalise_bsn(BSN_LEADING_ZERO) == BSN_LEADING_ZERO


def test_normalise_bsn_applies_the_elfproef() -> None:
    assert normalise_bsn(BSN_FAILING) is None
    # change one digit of a valid BSN: the elfproef catches every single-digit error
    last = BSN_A[-1]
    for digit in "0123456789":
        if digit != last:
            assert normalise_bsn(BSN_A[:-1] + digit) is None
    # eight digits that fail after padding
    eight = next(f"{n:08d}" for n in range(10_000_000, 99_999_999) if not elfproef(f"0{n:08d}"))
    assert normalise_bsn(eight) is None


def test_normalise_bsn_agrees_with_python_stdnum_on_every_kind_of_digit_string() -> None:
    """The elfproef is written out for speed; python-stdnum is the reference it must match."""
    import random

    rng = random.Random(11)
    candidates = [f"{rng.randrange(10**9):09d}" for _ in range(20_000)]
    candidates += [f"{n:09d}" for n in range(0, 2_000)]  # leading zeros, the all-zero number
    candidates += [valid for prefix in ("1", "23", "9") for valid in valid_bsns(prefix, 50)]
    for digits in candidates:
        expected = digits if stdnum_bsn.is_valid(digits) else None
        assert normalise_bsn(digits) == expected, digits
        if digits.startswith("0"):
            assert normalise_bsn(digits[1:]) == expected, digits  # eight digits, padded
    assert sum(normalise_bsn(d) is not None for d in candidates) > 1_000  # both outcomes occur


@pytest.mark.parametrize("text", ["1234-5678", "١٢٣٤٥٦٧٨٢", "²34567890"])
def test_normalise_bsn_accepts_only_ascii_digits_and_the_separators_space_and_dot(text: str) -> None:
    assert normalise_bsn(text) is None


@pytest.mark.parametrize("text", ["1234567", "1234567890", "12345678a", "abcdefghi", ""])
def test_normalise_bsn_rejects_wrong_lengths_and_letters(text: str) -> None:
    assert normalise_bsn(text) is None


# --- age_in_whole_years ----------------------------------------------------------------------


def test_age_in_whole_years_on_and_before_birthday() -> None:
    birth = dt.date(2012, 3, 14)
    assert age_in_whole_years(birth, dt.date(2025, 3, 14)) == 13
    assert age_in_whole_years(birth, dt.date(2025, 3, 13)) == 12
    assert age_in_whole_years(birth, dt.date(2025, 3, 15)) == 13
    assert age_in_whole_years(birth, dt.date(2024, 12, 31)) == 12
    assert age_in_whole_years(birth, birth) == 0


def test_age_in_whole_years_born_on_29_february() -> None:
    birth = dt.date(2008, 2, 29)
    assert age_in_whole_years(birth, dt.date(2024, 2, 29)) == 16
    assert age_in_whole_years(birth, dt.date(2024, 2, 28)) == 15
    assert age_in_whole_years(birth, dt.date(2025, 2, 28)) == 16
    assert age_in_whole_years(birth, dt.date(2025, 3, 1)) == 17


# --- derive_pc4 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("3511 AB", ("3511", False)),
        ("3511AB", ("3511", False)),
        ("3511ab", ("3511", False)),
        ("  9999 ZZ ", ("9999", False)),
        (None, (None, False)),
        ("0511 AB", (None, True)),
        ("3511", (None, True)),
        ("351 AB", (None, True)),
        ("AB 3511", (None, True)),
    ],
)
def test_derive_pc4(postcode: str | None, expected: tuple[str | None, bool]) -> None:
    assert derive_pc4(postcode) == expected


# --- pseudonymise_delivery: allow-list and identifiers ---------------------------------------

SECRETS = {
    "clientnummer": "KLNT-73310",
    "bsn": None,  # set below to a valid BSN
    "voornaam": "Annemijn",
    "tussenvoegsel": "van der",
    "achternaam": "Wijngaarden",
    "geboortedatum": "17-08-2011",
    "postcode": "3512 JK",
    "adres": "Oudegracht 231",
    "woonplaats": "Utrecht",
    "telefoon": "06-12345678",
    "email": "annemijn@example.nl",
    "traject_id": "TRJ-99231",
    "opmerkingen": "Vader zit in detentie, moeder werkt bij de gemeente",
}


def leaky_delivery() -> tuple[PseudonymisedDelivery, set[str]]:
    """A delivery full of identifiers, and the raw values that must not leak from it."""
    first = dict(SECRETS, bsn=BSN_A)
    second = dict(
        clientnummer="KLNT-55102", bsn=BSN_FAILING, voornaam="Sjoerd", achternaam="Bakkerhuis",
        geboortedatum="31-02-2013", postcode="XYZ 12", adres="Lange Nieuwstraat 9",
        woonplaats="Amersfoort", telefoon="030-7654321", email="sjoerd.b@example.org",
        traject_id="TRJ-40017", opmerkingen="Zie dossier; agressie-incident in januari",
    )
    third = dict(
        clientnummer="KLNT-61234", bsn=BSN_LEADING_ZERO[1:], geboortedatum="2010-05-05",
        postcode="1011AB", traject_id="TRJ-50050", voornaam="Fenna", email="f@example.com",
    )
    trajectories = [
        trajectory_row(**first, notitie_intern="Moeder bellen na 17u", tevredenheid="7,5"),
        trajectory_row(**second, notitie_intern="Gezin Bakkerhuis", tevredenheid="acht"),
        trajectory_row(**third, notitie_intern="Fenna logeert bij oma"),
    ]
    measurements = [
        measurement_row(clientnummer="KLNT-73310", traject_id="TRJ-99231"),
        measurement_row(clientnummer="KLNT-55102", traject_id="TRJ-40017", score="hoog"),
        measurement_row(clientnummer="KLNT-61234", traject_id="TRJ-50050", extra="Fenna Visser"),
    ]
    columns = TRAJECT_COLUMNS + ["notitie_intern"]
    delivery = deliver(
        trajectories, measurements, traject_columns=columns,
        meting_columns=METING_COLUMNS + ["extra"],
    )
    raw_values: set[str] = set()
    for row in trajectories:
        for column, value in row.items():
            if value and column in set(SECRETS) | {"notitie_intern"}:
                raw_values.add(value)
    raw_values |= {BSN_LEADING_ZERO, "Fenna Visser", "1011 AB", "1011AB"}
    return delivery, raw_values


def test_pseudonymise_delivery_no_raw_identifier_in_any_output() -> None:
    delivery, raw_values = leaky_delivery()
    # the delivery did find faults on the identifying rows, so the faults are worth checking
    found = set(codes(delivery.faults))
    assert {"ROW_BSN_INVALID", "ROW_DATE_INVALID", "WARN_POSTCODE_INVALID",
            "WARN_COLUMN_DROPPED", "ROW_NUMBER_INVALID"} <= found
    texts: list[str] = []
    for frame in (delivery.trajectories, delivery.measurements):
        texts += [str(c) for c in frame.columns]
        texts += [str(v) for v in frame.astype(object).to_numpy().ravel()]
    for fault in delivery.faults:
        texts += [str(getattr(fault, name)) for name in ("code", "table", "row", "column",
                                                          "value", "detail")]
        texts += [fault.message(), fault.log_line()]
    texts.append(repr(delivery.faults))
    for raw in sorted(raw_values):
        leaks = [t for t in texts if raw in t]
        assert not leaks, f"raw value {raw!r} leaked: {leaks[:3]}"


def test_pseudonymise_delivery_frames_hold_only_allow_listed_fields() -> None:
    delivery, _ = leaky_delivery()
    assert list(delivery.trajectories.columns) == TRAJECTORY_FIELDS
    assert list(delivery.measurements.columns) == MEASUREMENT_FIELDS
    assert set(TRAJECTORY_FIELDS) == {
        "row_number", "trajectory_id", "client_id", "local_client_id", "birth_year", "age_at_start", "geslacht",
        "pc4", "team", "interventie", "hulpvorm", "startdatum", "einddatum", "reden_einde",
        "doelrealisatie", "tevredenheid",
    }
    assert set(MEASUREMENT_FIELDS) == {
        "row_number", "trajectory_id", "local_client_id", "instrument", "schaal", "informant",
        "meetmoment", "datum", "score",
    }


def test_pseudonymise_delivery_unknown_columns_warned_by_name() -> None:
    delivery, _ = leaky_delivery()
    dropped = [f for f in delivery.faults if f.code == "WARN_COLUMN_DROPPED"]
    assert {(f.table, f.column) for f in dropped} == {
        (TRAJECTEN, "notitie_intern"), (METINGEN, "extra"),
    }
    assert all(f.value is None and f.row is None for f in dropped)
    assert "notitie_intern" in next(f for f in dropped if f.table == TRAJECTEN).message()


def test_pseudonymise_delivery_known_identifier_columns_are_not_warned() -> None:
    delivery = deliver([trajectory_row(voornaam="Piet", email="p@example.nl")], [])
    assert "WARN_COLUMN_DROPPED" not in codes(delivery.faults)


def test_pseudonymise_delivery_derives_fields() -> None:
    delivery, _ = leaky_delivery()
    frame = delivery.trajectories
    first, second, third = (frame.iloc[i] for i in range(3))
    assert first["birth_year"] == 2011
    assert first["age_at_start"] == 13  # born 17-08-2011, start 06-01-2025
    assert first["pc4"] == "3512"
    assert first["tevredenheid"] == pytest.approx(7.5)
    assert pd.isna(second["birth_year"]) and pd.isna(second["age_at_start"])
    assert second["pc4"] is None or pd.isna(second["pc4"])
    assert third["pc4"] == "1011"
    assert first["startdatum"] == pd.Timestamp("2025-01-06")
    assert list(frame["row_number"]) == [2, 3, 4]
    pseudonymiser = Pseudonymiser(KEY)
    assert first["client_id"] == pseudonymiser.client(PROVIDER, "KLNT-73310", BSN_A)
    # an invalid BSN falls back to the provider's client number
    assert second["client_id"] == pseudonymiser.client(PROVIDER, "KLNT-55102", None)
    # eight digits are left-padded before hashing
    assert third["client_id"] == pseudonymiser.client(PROVIDER, "other", BSN_LEADING_ZERO)
    assert first["trajectory_id"] == pseudonymiser.trajectory(PROVIDER, "TRJ-99231")
    assert delivery.measurements.iloc[0]["trajectory_id"] == first["trajectory_id"]


def test_pseudonymise_delivery_bsn_links_clients_across_providers() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    here = deliver([trajectory_row(bsn=BSN_B, clientnummer="A1")], [], pseudonymiser=pseudonymiser)
    there = deliver(
        [trajectory_row(bsn=BSN_B, clientnummer="ZZ-9")], [], provider="horizon-jeugd",
        pseudonymiser=pseudonymiser,
    )
    local_here = deliver([trajectory_row(clientnummer="A1")], [], pseudonymiser=pseudonymiser)
    local_there = deliver(
        [trajectory_row(clientnummer="A1")], [], provider="horizon-jeugd",
        pseudonymiser=pseudonymiser,
    )
    assert here.trajectories.loc[0, "client_id"] == there.trajectories.loc[0, "client_id"]
    assert local_here.trajectories.loc[0, "client_id"] != local_there.trajectories.loc[0, "client_id"]
    assert (
        local_here.trajectories.loc[0, "trajectory_id"]
        != local_there.trajectories.loc[0, "trajectory_id"]
    )


# --- pseudonymise_delivery: objections -------------------------------------------------------


def test_pseudonymise_delivery_bezwaar_rows_and_measurements_removed_first() -> None:
    trajectories = [
        trajectory_row(traject_id="T-KEEP", clientnummer="C-KEEP", bezwaar="nee"),
        # the objecting row is full of faults that must not even be looked at
        trajectory_row(
            traject_id="T-OBJ", clientnummer="C-OBJ", bsn=BSN_FAILING, geboortedatum="gisteren",
            postcode="???", tevredenheid="heel goed", reden_einde="9", bezwaar="ja",
        ),
        trajectory_row(traject_id="T-OBJ2", clientnummer="C-OBJ2", bezwaar="JA"),
        trajectory_row(traject_id="T-EMPTY", clientnummer="C-EMPTY", bezwaar=None),
    ]
    measurements = [
        measurement_row(traject_id="T-KEEP"),
        measurement_row(traject_id="T-OBJ", score="veel", datum="31-02-2025"),
        measurement_row(traject_id="T-OBJ", score="70"),
        measurement_row(traject_id="T-OBJ2"),
        measurement_row(traject_id="T-EMPTY"),
    ]
    delivery = deliver(trajectories, measurements)
    assert delivery.excluded_bezwaar == {TRAJECTEN: 2, METINGEN: 3}
    assert delivery.rows_read == {TRAJECTEN: 4, METINGEN: 5}
    assert delivery.faults == []
    assert list(delivery.trajectories["row_number"]) == [2, 5]
    assert list(delivery.measurements["row_number"]) == [2, 6]
    pseudonymiser = Pseudonymiser(KEY)
    objecting = {
        pseudonymiser.trajectory(PROVIDER, "T-OBJ"), pseudonymiser.trajectory(PROVIDER, "T-OBJ2")
    }
    assert not objecting & set(delivery.trajectories["trajectory_id"])
    assert not objecting & set(delivery.measurements["trajectory_id"])


def test_pseudonymise_delivery_bezwaar_ragged_row_not_reported() -> None:
    tables = {
        TRAJECTEN: raw_table(
            TRAJECTEN, TRAJECT_COLUMNS,
            [trajectory_row(traject_id="A"), trajectory_row(traject_id="B", bezwaar="ja")],
        ),
        METINGEN: raw_table(METINGEN, METING_COLUMNS, []),
    }
    tables[TRAJECTEN].ragged_lines = [3]
    delivery = pseudonymise_delivery(tables, PROVIDER, MONTH, Pseudonymiser(KEY))
    assert "ROW_FIELD_COUNT" not in codes(delivery.faults)
    tables[TRAJECTEN].ragged_lines = [2]
    delivery = pseudonymise_delivery(tables, PROVIDER, MONTH, Pseudonymiser(KEY))
    assert [(f.code, f.row) for f in delivery.faults] == [("ROW_FIELD_COUNT", 2)]


def test_pseudonymise_delivery_bezwaar_other_value_is_a_row_fault() -> None:
    delivery = deliver([trajectory_row(bezwaar="misschien")], [])
    assert [(f.code, f.column, f.row) for f in delivery.faults] == [
        ("ROW_CODE_UNKNOWN", "bezwaar", 2)
    ]
    assert len(delivery.trajectories) == 1


# --- pseudonymise_delivery: file faults ------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "missing"),
    [(TRAJECTEN, "clientnummer"), (TRAJECTEN, "startdatum"), (TRAJECTEN, "traject_id"),
     (METINGEN, "score"), (METINGEN, "traject_id")],
)
def test_pseudonymise_delivery_required_column_missing(table: str, missing: str) -> None:
    traject_columns = [c for c in TRAJECT_COLUMNS if not (table == TRAJECTEN and c == missing)]
    meting_columns = [c for c in METING_COLUMNS if not (table == METINGEN and c == missing)]
    with pytest.raises(DeliveryRejected) as caught:
        deliver([trajectory_row()], [measurement_row()], traject_columns, meting_columns)
    assert [(f.code, f.table, f.column) for f in caught.value.faults] == [
        ("FILE_REQUIRED_COLUMN_MISSING", table, missing)
    ]


def test_pseudonymise_delivery_duplicate_header_rejected() -> None:
    columns = TRAJECT_COLUMNS + ["team"]
    tables = {
        TRAJECTEN: RawTable(
            TRAJECTEN, columns, [[trajectory_row().get(c) for c in columns]], [2]
        ),
        METINGEN: raw_table(METINGEN, METING_COLUMNS, []),
    }
    with pytest.raises(DeliveryRejected) as caught:
        pseudonymise_delivery(tables, PROVIDER, MONTH, Pseudonymiser(KEY))
    assert [(f.code, f.table, f.column) for f in caught.value.faults] == [
        ("FILE_DUPLICATE_COLUMN", TRAJECTEN, "team")
    ]


def test_pseudonymise_delivery_duplicate_header_in_metingen_rejected() -> None:
    columns = METING_COLUMNS + ["score"]
    tables = {
        TRAJECTEN: raw_table(TRAJECTEN, TRAJECT_COLUMNS, [trajectory_row()]),
        METINGEN: RawTable(METINGEN, columns, [], []),
    }
    with pytest.raises(DeliveryRejected) as caught:
        pseudonymise_delivery(tables, PROVIDER, MONTH, Pseudonymiser(KEY))
    assert codes(caught.value.faults) == ["FILE_DUPLICATE_COLUMN"]
    assert caught.value.faults[0].table == METINGEN


def test_pseudonymise_delivery_trajecten_without_rows_rejected() -> None:
    with pytest.raises(DeliveryRejected) as caught:
        deliver([], [measurement_row()])
    assert [(f.code, f.table) for f in caught.value.faults] == [("FILE_NO_DATA_ROWS", TRAJECTEN)]


def test_pseudonymise_delivery_metingen_header_only_is_fine() -> None:
    delivery = deliver([trajectory_row()], [])
    assert len(delivery.trajectories) == 1
    assert len(delivery.measurements) == 0
    assert list(delivery.measurements.columns) == MEASUREMENT_FIELDS
    assert delivery.rows_read == {TRAJECTEN: 1, METINGEN: 0}
    assert delivery.faults == []
    assert delivery.provider == PROVIDER and delivery.month == MONTH


def test_pseudonymise_delivery_minimal_columns_only() -> None:
    required_t = [
        "clientnummer", "geboortedatum", "geslacht", "traject_id", "team", "interventie",
        "hulpvorm", "startdatum",
    ]
    delivery = deliver(
        [trajectory_row()], [measurement_row()], traject_columns=required_t,
    )
    row = delivery.trajectories.iloc[0]
    assert pd.isna(row["pc4"]) and pd.isna(row["einddatum"]) and pd.isna(row["tevredenheid"])
    assert row["client_id"] == Pseudonymiser(KEY).client(PROVIDER, "KLNT-0001", None)
    assert delivery.faults == []


def test_pseudonymise_delivery_headerless_file_rejection_echoes_no_identifier() -> None:
    # A steward exported without the header line: the first data row became the header.
    first = ["KLNT-80808", BSN_A, "Jan", None, "Smit", "14-03-2012", "M", "3511 AB", None, None,
             None, None, "KLNT-80808", "Team Noord", "MST", "ambulant", "06-01-2025"]
    tables = {
        TRAJECTEN: RawTable(
            TRAJECTEN, [(v or "").lower() for v in first], [list(first)], [2]
        ),
        METINGEN: raw_table(METINGEN, METING_COLUMNS, []),
    }
    with pytest.raises(DeliveryRejected) as caught:
        pseudonymise_delivery(tables, PROVIDER, MONTH, Pseudonymiser(KEY))
    assert "FILE_REQUIRED_COLUMN_MISSING" in codes(caught.value.faults)
    texts = [str(caught.value)] + [f.message() for f in caught.value.faults]
    texts += [str(f.column) for f in caught.value.faults]
    for raw in ("klnt-80808", BSN_A, "3511 ab", "smit"):
        assert not any(raw in t.lower() for t in texts), raw

"""Indirect identifiability (schemas/anonymity.py): k-anonymity on frames with a known smallest
class, distinct clients rather than records, the configured generalisations (month, year, pc2,
no postcode, five-year bands) and what they do to the classes, the versioned privacy.toml with
errors that name file and line, and reports that hold counts but never a quasi-identifier."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from schemas.anonymity import (
    DEFAULT_QUASI_IDENTIFIERS,
    AnonymityConfig,
    ClassSizes,
    anonymity_html,
    anonymity_json,
    anonymity_report,
    generalise,
    k_anonymity,
    load_anonymity_config,
    load_privacy_config,
    write_anonymity_report,
)
from schemas.config import PRIVACY_FILE, ConfigError, config_fingerprint, install_default_config

SHIPPED = Path(__file__).resolve().parents[2] / "schemas" / "defaults" / PRIVACY_FILE
BASIC = ("birth_year", "geslacht", "pc4")


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Trajectory records (client_id, birth_year, geslacht, pc4, startdatum, einddatum,
    age_at_start) typed as the read step types them."""
    columns = ["client_id", "birth_year", "geslacht", "pc4", "startdatum", "einddatum", "age_at_start"]
    data = pd.DataFrame(rows, columns=columns)
    data["birth_year"] = data["birth_year"].astype("Int64")
    data["age_at_start"] = data["age_at_start"].astype("Int64")
    data["pc4"] = data["pc4"].astype("object")
    for column in ("startdatum", "einddatum"):
        data[column] = pd.to_datetime(data[column]).astype("datetime64[ns]")
    return data


def known_frame() -> pd.DataFrame:
    """One record alone in (2011, V, 9731); five in (2003, M, 8264); six in (2011, M, 9731)."""
    rows = [("c-alone", 2011, "V", "9731", "2019-03-04", None, 7)]
    rows += [(f"c-m{n}", 2003, "M", "8264", f"2019-0{1 + n % 5}-1{n}", None, 15) for n in range(5)]
    rows += [(f"c-n{n}", 2011, "M", "9731", f"2019-07-2{n}", "2019-09-13", 8) for n in range(6)]
    return frame(rows)


# --- k-anonymity --------------------------------------------------------------------------------


def test_k_anonymity_known_smallest_class_and_records_below_k() -> None:
    report = k_anonymity(known_frame(), BASIC, k=5)

    assert report.records == 12
    assert report.classes == 3
    assert report.smallest_class == 1
    assert report.classes_below_k == 1
    assert report.records_below_k == 1
    assert report.share_below_k == pytest.approx(1 / 12)
    assert not report.meets_k
    assert report.histogram == [ClassSizes(1, 1, 1), ClassSizes(5, 1, 5), ClassSizes(6, 1, 6)]


def test_k_anonymity_a_class_of_exactly_k_meets_k() -> None:
    data = known_frame()
    report = k_anonymity(data[data["client_id"] != "c-alone"], BASIC, k=5)

    assert report.smallest_class == 5
    assert report.records_below_k == report.classes_below_k == 0
    assert report.meets_k


def test_k_anonymity_larger_k_puts_more_records_below_it() -> None:
    report = k_anonymity(known_frame(), BASIC, k=6)

    assert (report.classes_below_k, report.records_below_k) == (2, 6)  # the 1 and the 5


def test_k_anonymity_counts_distinct_clients_not_trajectories() -> None:
    """The same client's three trajectories do not make a class of three people."""
    data = frame([("same", 2010, "V", "3511", "2020-01-01", None, 9)] * 3
                 + [(f"c{n}", 2010, "M", "3511", "2020-01-01", None, 9) for n in range(3)])

    by_client = k_anonymity(data, BASIC, k=3, person_column="client_id")
    by_record = k_anonymity(data, BASIC, k=3)

    assert by_client.unit == "clients" and by_record.unit == "records"
    assert by_client.smallest_class == 1
    assert (by_client.classes_below_k, by_client.records_below_k) == (1, 3)
    assert by_client.histogram == [ClassSizes(1, 1, 3), ClassSizes(3, 1, 3)]
    assert by_record.smallest_class == 3 and by_record.meets_k


def test_k_anonymity_empty_value_is_a_class_of_its_own() -> None:
    data = frame([("a", 2010, "V", None, "2020-01-01", None, 9), ("b", 2010, "V", "3511", "2020-01-01", None, 9),
                  ("c", None, "V", "3511", "2020-01-01", None, None)])

    report = k_anonymity(data, BASIC, k=2)

    assert report.classes == 3
    assert report.records_below_k == 3


def test_k_anonymity_of_no_records() -> None:
    report = k_anonymity(known_frame().iloc[0:0], BASIC, k=5)

    assert (report.records, report.classes, report.smallest_class, report.records_below_k) == (0, 0, None, 0)
    assert report.share_below_k is None and report.histogram == []


def test_k_anonymity_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="pc4"):
        k_anonymity(known_frame().drop(columns="pc4"), BASIC, k=5)


def test_anonymity_report_uses_the_configured_set_and_client_ids() -> None:
    config = AnonymityConfig(version="v-test", k=5, quasi_identifiers=BASIC)
    report = anonymity_report(known_frame(), config, "levering de-boog 2019-09")

    assert report.unit == "clients"
    assert (report.scope, report.config_version) == ("levering de-boog 2019-09", "v-test")
    assert report.generalisation == {"dates": "day", "pc4": "pc4", "birth_year": "year"}
    assert report.smallest_class == 1


# --- generalisation -----------------------------------------------------------------------------


def test_generalise_default_config_changes_nothing() -> None:
    data = known_frame()

    assert not AnonymityConfig().generalises
    assert generalise(data, AnonymityConfig()) is data


def test_generalise_pc2_merges_postcodes_of_one_region() -> None:
    data = frame([(f"a{n}", 2010, "V", "9731", "2020-01-01", None, 9) for n in range(3)]
                 + [(f"b{n}", 2010, "V", "9745", "2020-01-01", None, 9) for n in range(3)]
                 + [("c", 2010, "V", None, "2020-01-01", None, 9)])
    config = AnonymityConfig(k=5, quasi_identifiers=BASIC, pc4="pc2")

    before = k_anonymity(data, BASIC, 5, "client_id")
    generalised = generalise(data, config)
    after = k_anonymity(generalised, BASIC, 5, "client_id")

    assert list(generalised["pc4"]) == ["97"] * 6 + [None]
    assert (before.classes, before.smallest_class, before.records_below_k) == (3, 1, 7)
    assert (after.classes, after.smallest_class, after.records_below_k) == (2, 1, 1)


def test_generalise_pc4_none_stores_no_postcode() -> None:
    data = frame([(f"c{n}", 2010, "V", pc4, "2020-01-01", None, 9) for n, pc4 in enumerate(["9731", "9745", "1011"])])

    generalised = generalise(data, AnonymityConfig(pc4="none"))

    assert generalised["pc4"].isna().all()
    assert k_anonymity(data, BASIC, 3).classes == 3
    assert k_anonymity(generalised, BASIC, 3).classes == 1  # only birth year and sex remain


def test_generalise_month_keeps_dates_as_first_of_month() -> None:
    data = frame([("a", 2010, "V", "3511", "2020-03-04", "2020-11-30", 9),
                  ("b", 2010, "V", "3511", "2020-03-28", None, 9)])
    qis = ("birth_year", "startdatum")

    generalised = generalise(data, AnonymityConfig(dates="month"))

    assert generalised["startdatum"].dtype == data["startdatum"].dtype
    assert list(generalised["startdatum"]) == [pd.Timestamp("2020-03-01")] * 2
    assert generalised.loc[0, "einddatum"] == pd.Timestamp("2020-11-01")
    assert pd.isna(generalised.loc[1, "einddatum"])
    assert k_anonymity(data, qis, 2).classes == 2
    assert k_anonymity(generalised, qis, 2).classes == 1


def test_generalise_year_and_measurement_dates() -> None:
    measurements = pd.DataFrame({"trajectory_id": ["t1", "t2"],
                                 "datum": pd.to_datetime(["2020-03-04", "2021-12-31"]).astype("datetime64[ns]"),
                                 "score": [60.0, 55.0]})

    generalised = generalise(measurements, AnonymityConfig(dates="year"))

    assert list(generalised["datum"]) == [pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")]
    assert list(generalised["score"]) == [60.0, 55.0]
    assert list(generalise(measurements, AnonymityConfig(dates="month"))["datum"]) == [
        pd.Timestamp("2020-03-01"), pd.Timestamp("2021-12-01")]


def test_generalise_five_year_bands_for_birth_year_and_age() -> None:
    data = frame([(f"c{year}", year, "V", "3511", "2020-01-01", None, 2020 - year) for year in range(2009, 2016)])

    generalised = generalise(data, AnonymityConfig(birth_year="5y"))

    assert list(generalised["birth_year"]) == [2005, 2010, 2010, 2010, 2010, 2010, 2015]
    assert list(generalised["age_at_start"]) == [10, 10, 5, 5, 5, 5, 5]
    assert generalised["birth_year"].dtype == "Int64"
    assert k_anonymity(data, ("birth_year",), 5).classes == 7
    assert k_anonymity(generalised, ("birth_year",), 5).classes == 3


def test_generalise_is_idempotent_and_keeps_empty_values() -> None:
    config = AnonymityConfig(dates="month", pc4="pc2", birth_year="5y")
    data = pd.concat([known_frame(), frame([("x", None, "O", None, "2019-05-05", None, None)])], ignore_index=True)

    once = generalise(data, config)

    pd.testing.assert_frame_equal(generalise(once, config), once)
    assert once.iloc[-1][["birth_year", "pc4", "age_at_start", "einddatum"]].isna().all()
    assert data["pc4"].iloc[0] == "9731"  # the input frame is not changed


# --- configuration ------------------------------------------------------------------------------


def test_shipped_privacy_config_is_the_identity() -> None:
    config = load_privacy_config(SHIPPED)

    assert config.version
    assert (config.k, config.quasi_identifiers) == (5, DEFAULT_QUASI_IDENTIFIERS)
    assert config.generalisation == {"dates": "day", "pc4": "pc4", "birth_year": "year"}
    assert not config.generalises


def test_new_home_gets_privacy_toml_and_it_is_fingerprinted(tmp_path: Path) -> None:
    install_default_config(tmp_path)
    assert load_anonymity_config(tmp_path) == load_privacy_config(SHIPPED)
    before = config_fingerprint(tmp_path)

    path = tmp_path / PRIVACY_FILE
    path.write_text(path.read_text(encoding="utf-8").replace('dates = "day"', 'dates = "month"'), encoding="utf-8")

    assert load_anonymity_config(tmp_path).dates == "month"
    assert config_fingerprint(tmp_path) != before


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / PRIVACY_FILE
    path.write_text(text, encoding="utf-8")
    return path


VALID = """version = "t1"

[anonymity]
k = 3
quasi_identifiers = ["birth_year", "pc4"]

[generalisation]
dates = "month"
pc4 = "pc2"
birth_year = "5y"
"""


def test_privacy_config_reads_every_setting(tmp_path: Path) -> None:
    config = load_privacy_config(write(tmp_path, VALID))

    assert config == AnonymityConfig(version="t1", k=3, quasi_identifiers=("birth_year", "pc4"),
                                     dates="month", pc4="pc2", birth_year="5y")


def test_privacy_config_left_out_settings_take_defaults(tmp_path: Path) -> None:
    config = load_privacy_config(write(tmp_path, 'version = "t2"\n'))

    assert config == AnonymityConfig(version="t2")


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('dates = "month"', 'dates = "week"', 8, "dates must be one of"),
        ('pc4 = "pc2"', 'pc4 = "pc3"', 9, "pc4 must be one of"),
        ('birth_year = "5y"', 'birth_year = "10y"', 10, "birth_year must be one of"),
        ('dates = "month"', 'date = "month"', 8, "no setting 'date'"),
        ("k = 3", "k = 1", 4, "at least 2"),
        ("k = 3", 'k = "5"', 4, "whole number"),
        ("k = 3", "k = true", 4, "whole number"),
        ('["birth_year", "pc4"]', '["birth_year", "postcode"]', 5, "'postcode'"),
        ('["birth_year", "pc4"]', "[]", 5, "non-empty list"),
        ('["birth_year", "pc4"]', '["pc4", "pc4"]', 5, "twice"),
        ("[generalisation]", "[generalization]", 7, "unknown setting or section 'generalization'"),
    ],
)
def test_privacy_config_error_names_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new))

    with pytest.raises(ConfigError) as error:
        load_privacy_config(path)

    assert error.value.path == path
    assert error.value.line == line
    assert words in error.value.problem
    assert f"{path}, line {line}" in str(error.value)


def test_privacy_config_without_version_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('version = "t1"', ""))

    with pytest.raises(ConfigError, match="version"):
        load_privacy_config(path)


def test_privacy_config_invalid_toml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('pc4 = "pc2"', "pc4 = pc2"))

    with pytest.raises(ConfigError) as error:
        load_privacy_config(path)

    assert error.value.line == 9
    assert "not valid TOML" in error.value.problem


def test_privacy_config_missing_file_is_named(tmp_path: Path) -> None:
    # A configuration folder without privacy.toml uses the shipped one (tests/schemas/test_config.py);
    # a privacy file asked for by name must be there.
    with pytest.raises(ConfigError) as error:
        load_privacy_config(tmp_path / PRIVACY_FILE)

    assert error.value.path == tmp_path / PRIVACY_FILE


# --- reports ------------------------------------------------------------------------------------

# Every quasi-identifier value of known_frame(); years chosen so none is the report's own date.
QI_VALUES = ("9731", "8264", "2011", "2003", "2019", "c-alone", "c-m1", "c-n1")


def test_reports_hold_counts_and_no_quasi_identifier_value(tmp_path: Path) -> None:
    config = AnonymityConfig(version="v-test", quasi_identifiers=(*BASIC, "startdatum", "einddatum"))
    report = anonymity_report(known_frame(), config, "levering de-boog 2025-01")

    paths = write_anonymity_report(report, tmp_path / "out")

    assert [p.name for p in paths] == ["anonimiteit.json", "anonimiteit.html"]
    payload = json.loads(paths[0].read_text(encoding="utf-8"))
    assert payload["records"] == 12
    assert payload["smallest_class"] == 1
    assert payload["records_below_k"] == payload["classes_below_k"] == 12  # day-level start dates: every record alone
    assert payload["quasi_identifiers"] == ["birth_year", "geslacht", "pc4", "startdatum", "einddatum"]
    assert sum(h["records"] for h in payload["class_sizes"]) == 12
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for value in QI_VALUES:
            assert value not in text, (path.name, value)
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_report_json_and_html_agree_on_the_counts() -> None:
    report = anonymity_report(known_frame(), AnonymityConfig(quasi_identifiers=BASIC), "s")
    payload = json.loads(anonymity_json(report))
    page = anonymity_html(report)

    assert (payload["smallest_class"], payload["records_below_k"], payload["share_below_k"]) == (1, 1, 1 / 12)
    assert payload["meets_k"] is False
    assert "voldoet niet aan k = 5" in page
    assert "<td>1 (8.3%)</td>" in page


def test_report_html_is_escaped() -> None:
    report = anonymity_report(known_frame(), AnonymityConfig(version="<b>v</b>", quasi_identifiers=BASIC),
                              "<script>alert(1)</script>")

    page = anonymity_html(report)

    assert "<script>" not in page and "<b>v</b>" not in page
    assert "&lt;script&gt;" in page

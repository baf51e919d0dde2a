"""Indirect identifiability (schemas/anonymity.py): k-anonymity on frames with a known smallest
class, counted in distinct clients rather than records; the versioned privacy.toml (minimal by
default, optional fields only with a documented use, extract scopes) with errors that name file
and line; and reports that hold counts but never a quasi-identifier."""

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
    k_anonymity,
    load_anonymity_config,
    load_privacy_config,
    write_anonymity_report,
)
from schemas.config import PRIVACY_FILE, ConfigError, config_fingerprint, install_default_config
from schemas.extracts import BUILT_IN_DEFAULT, ExtractScope

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

    assert report.records == report.population == 12
    assert report.classes == 3
    assert report.smallest_class == 1
    assert report.classes_below_k == 1
    assert report.records_below_k == report.below_k == 1
    assert report.share_below_k == pytest.approx(1 / 12)
    assert report.share_at_least_k == pytest.approx(11 / 12)
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
    assert (by_client.population, by_client.records) == (4, 6)
    assert by_client.smallest_class == 1
    # one client below k (their three trajectories), not three
    assert (by_client.classes_below_k, by_client.below_k, by_client.records_below_k) == (1, 1, 3)
    assert by_client.share_below_k == pytest.approx(1 / 4)
    assert by_client.histogram == [ClassSizes(1, 1, 1), ClassSizes(3, 1, 3)]
    assert by_record.smallest_class == 3 and by_record.meets_k


def test_k_anonymity_empty_value_is_a_class_of_its_own() -> None:
    data = frame([("a", 2010, "V", None, "2020-01-01", None, 9), ("b", 2010, "V", "3511", "2020-01-01", None, 9),
                  ("c", None, "V", "3511", "2020-01-01", None, None)])

    report = k_anonymity(data, BASIC, k=2)

    assert report.classes == 3
    assert report.records_below_k == 3


def test_k_anonymity_client_with_one_trajectory_in_a_small_class_counts_below_k() -> None:
    """A client stands out when any of their rows does: the other, common trajectory hides nothing."""
    data = frame([("both", 2010, "V", "3511", "2020-01-01", None, 9), ("both", 2001, "X", "1011", "2020-01-01", None, 9)]
                 + [(f"c{n}", 2010, "V", "3511", "2020-01-01", None, 9) for n in range(4)])

    report = k_anonymity(data, BASIC, k=5, person_column="client_id")

    assert (report.population, report.below_k, report.records_below_k) == (5, 1, 1)
    assert report.share_at_least_k == pytest.approx(4 / 5)


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
    assert report.generalisation == {"dates": "month", "pc4": "none", "birth_year": "none"}
    assert report.smallest_class == 1


def test_anonymity_report_measures_stored_optional_fields_even_when_not_listed() -> None:
    """A postcode the consortium chose to store is always among the warehouse's quasi-identifiers."""
    config = AnonymityConfig(quasi_identifiers=("geslacht",), pc4="pc2", uses=(("pc4", "planning"),))

    assert config.warehouse_quasi_identifiers == ("geslacht", "pc4")
    assert anonymity_report(known_frame(), config, "s").classes == 3  # not 2: pc4 splits the M's
    assert AnonymityConfig().warehouse_quasi_identifiers == DEFAULT_QUASI_IDENTIFIERS


# --- configuration ------------------------------------------------------------------------------


def test_shipped_privacy_config_is_minimal() -> None:
    """The defaults store no postcode and no birth year, dates as months, and ship the built-in
    default scope; every setting of the shipped file is its default."""
    config = load_privacy_config(SHIPPED)

    assert config.version
    assert (config.k, config.quasi_identifiers, config.extract_share) == (5, DEFAULT_QUASI_IDENTIFIERS, 0.95)
    assert config.generalisation == {"dates": "month", "pc4": "none", "birth_year": "none"}
    assert config.stored_optional == () and config.uses == ()
    assert config.extracts == (BUILT_IN_DEFAULT,)
    assert config == AnonymityConfig(version=config.version)


def test_new_home_gets_privacy_toml_and_it_is_fingerprinted(tmp_path: Path) -> None:
    install_default_config(tmp_path)
    assert load_anonymity_config(tmp_path) == load_privacy_config(SHIPPED)
    before = config_fingerprint(tmp_path)

    path = tmp_path / PRIVACY_FILE
    path.write_text(path.read_text(encoding="utf-8").replace('dates = "month"', 'dates = "year"'), encoding="utf-8")

    assert load_anonymity_config(tmp_path).dates == "year"
    assert config_fingerprint(tmp_path) != before


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / PRIVACY_FILE
    path.write_text(text, encoding="utf-8")
    return path


VALID = """version = "t1"

[anonymity]
k = 3
quasi_identifiers = ["age_at_start", "pc4"]
extract_share = 0.9

[generalisation]
dates = "month"
pc4 = "pc2"
birth_year = "year"

[uses]
pc4 = "regional planning, DPIA 2027-02"
birth_year = "cohort study"

[extracts.onderzoek]
trajectory_id = "pseudonym"
age_at_start = "band"
pc4 = "pc2"
measurements = "pairs"
"""


def test_privacy_config_reads_every_setting(tmp_path: Path) -> None:
    config = load_privacy_config(write(tmp_path, VALID))

    scope = ExtractScope("onderzoek", (("trajectory_id", "pseudonym"), ("age_at_start", "band"), ("pc4", "pc2")),
                         "pairs")
    assert config == AnonymityConfig(
        version="t1", k=3, quasi_identifiers=("age_at_start", "pc4"), extract_share=0.9, dates="month",
        pc4="pc2", birth_year="year",
        uses=(("pc4", "regional planning, DPIA 2027-02"), ("birth_year", "cohort study")), extracts=(scope,),
    )
    assert config.stored_optional == ("pc4", "birth_year")
    assert config.warehouse_quasi_identifiers == ("age_at_start", "pc4", "birth_year")


def test_privacy_config_left_out_settings_take_defaults(tmp_path: Path) -> None:
    config = load_privacy_config(write(tmp_path, 'version = "t2"\n'))

    assert config == AnonymityConfig(version="t2")


def test_privacy_config_scopes_and_the_default_scope(tmp_path: Path) -> None:
    """A configured scope gets its own columns; any other name the default scope's, under its own
    name (its pseudonyms stay its own); the default scope is always among the extract scopes."""
    config = load_privacy_config(write(tmp_path, VALID))

    assert config.scope("onderzoek").output_columns == ("trajectory_id", "age_band", "pc2")
    assert config.scope("onderzoek").quasi_identifiers == ("age_band", "pc2")
    unconfigured = config.scope("iemand-anders")
    assert unconfigured.name == "iemand-anders"
    assert (unconfigured.columns, unconfigured.measurements) == (BUILT_IN_DEFAULT.columns, "classes")
    assert [s.name for s in config.extract_scopes] == ["onderzoek", "default"]
    assert BUILT_IN_DEFAULT.output_columns == (
        "trajectory_id", "client_id", "interventie", "female", "end_year", "reden_einde", "doelrealisatie",
        "tevredenheid")
    assert BUILT_IN_DEFAULT.quasi_identifiers == ("interventie", "female", "end_year")


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('dates = "month"', 'dates = "week"', 9, "dates must be one of"),
        ('dates = "month"', 'dates = "day"', 9, "no longer offered"),
        ('pc4 = "pc2"\nbirth', 'pc4 = "pc3"\nbirth', 10, "pc4 must be one of"),
        ('birth_year = "year"', 'birth_year = "10y"', 11, "birth_year must be one of"),
        ('birth_year = "year"', 'birth_year = "5y"', 11, "no longer offered"),
        ('dates = "month"', 'date = "month"', 9, "no setting 'date'"),
        ("k = 3", "k = 1", 4, "at least 2"),
        ("k = 3", 'k = "5"', 4, "whole number"),
        ("k = 3", "k = true", 4, "whole number"),
        ("extract_share = 0.9", "extract_share = 1.5", 6, "at most 1"),
        ("extract_share = 0.9", "extract_share = 0", 6, "above 0"),
        ('["age_at_start", "pc4"]', '["age_at_start", "postcode"]', 5, "'postcode'"),
        ('["age_at_start", "pc4"]', '["startdatum"]', 5, "'startdatum'"),
        ('["age_at_start", "pc4"]', "[]", 5, "non-empty list"),
        ('["age_at_start", "pc4"]', '["pc4", "pc4"]', 5, "twice"),
        ("[generalisation]", "[generalization]", 8, "unknown setting or section 'generalization'"),
        # storing an optional field needs its use; a use must be words
        ('pc4 = "regional planning, DPIA 2027-02"\n', "", 10, "name the use"),
        ('birth_year = "cohort study"', 'birth_year = " "', 15, "must say"),
        ('[uses]', '[uses]\npostcode = "x"', 14, "no setting 'postcode'"),
        # extract scopes
        ('age_at_start = "band"', 'age_at_start = "decade"', 19, "age_at_start must be one of"),
        ('age_at_start = "band"', 'postcode = "band"', 19, "has no column 'postcode'"),
        ('pc4 = "pc2"\nmeasurements', 'pc4 = "pc4"\nmeasurements', 20, "finer than the warehouse keeps"),
        ('measurements = "pairs"', 'measurements = "all"', 21, "measurements must be one of"),
        ('trajectory_id = "pseudonym"\n', "", 20, "needs trajectory_id"),
        ("[extracts.onderzoek]", "[extracts.Onderzoek]", 17, "scope name"),
    ],
)
def test_privacy_config_error_names_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))

    with pytest.raises(ConfigError) as error:
        load_privacy_config(path)

    assert error.value.path == path
    assert error.value.line == line
    assert words in error.value.problem
    assert f"{path}, line {line}" in str(error.value)


def test_privacy_config_quasi_identifier_must_be_stored(tmp_path: Path) -> None:
    path = write(tmp_path, 'version = "t3"\n[anonymity]\nquasi_identifiers = ["geslacht", "pc4"]\n')

    with pytest.raises(ConfigError) as error:
        load_privacy_config(path)

    assert error.value.line == 3 and "'pc4' is not stored" in error.value.problem


def test_privacy_config_of_an_older_home_says_what_to_change(tmp_path: Path) -> None:
    """A home whose privacy.toml was copied from the defaults before minimisation stops with a
    message naming the first line to change, not by storing postcodes and birth years on."""
    old = write(tmp_path, 'version = "2026-11-25.1"\n[anonymity]\nk = 5\n[generalisation]\n'
                          'dates = "day"\npc4 = "pc4"\nbirth_year = "year"\n')

    with pytest.raises(ConfigError) as error:
        load_privacy_config(old)

    assert error.value.line == 5 and "month" in error.value.problem
    old.write_text(old.read_text(encoding="utf-8").replace('"day"', '"month"'), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_privacy_config(old)
    assert error.value.line == 6 and '[uses]' in error.value.problem and 'pc4 = "none"' in error.value.problem


def test_privacy_config_without_version_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('version = "t1"', ""))

    with pytest.raises(ConfigError, match="version"):
        load_privacy_config(path)


def test_privacy_config_invalid_toml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('pc4 = "pc2"', "pc4 = pc2", 1))

    with pytest.raises(ConfigError) as error:
        load_privacy_config(path)

    assert error.value.line == 10
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
    config = AnonymityConfig(version="v-test", quasi_identifiers=BASIC)
    report = anonymity_report(known_frame(), config, "levering de-boog 2025-01", (*BASIC, "startdatum"))

    paths = write_anonymity_report(report, tmp_path / "out")

    assert [p.name for p in paths] == ["anonimiteit.json", "anonimiteit.html"]
    (payload,) = json.loads(paths[0].read_text(encoding="utf-8"))["reports"]
    assert (payload["unit"], payload["clients"], payload["trajectories"]) == ("clients", 12, 12)
    assert payload["smallest_class"] == 1
    assert payload["clients_below_k"] == payload["classes_below_k"] == 12  # day-level dates: everyone alone
    assert payload["quasi_identifiers"] == ["birth_year", "geslacht", "pc4", "startdatum"]
    assert sum(h["members"] for h in payload["class_sizes"]) == 12
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for value in QI_VALUES:
            assert value not in text, (path.name, value)
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_report_of_several_scopes_in_one_file(tmp_path: Path) -> None:
    config = AnonymityConfig(quasi_identifiers=BASIC)
    reports = [anonymity_report(known_frame(), config, "warehouse"),
               anonymity_report(known_frame(), config, "extract default", ("birth_year",))]

    paths = write_anonymity_report(reports, tmp_path)

    payloads = json.loads(paths[0].read_text(encoding="utf-8"))["reports"]
    assert [(p["scope"], p["clients_below_k"]) for p in payloads] == [("warehouse", 1), ("extract default", 0)]
    page = paths[1].read_text(encoding="utf-8")
    assert page.count("<section>") == 2 and "extract default" in page


def test_report_json_and_html_agree_on_the_counts() -> None:
    report = anonymity_report(known_frame(), AnonymityConfig(quasi_identifiers=BASIC), "s")
    (payload,) = json.loads(anonymity_json([report]))["reports"]
    page = anonymity_html([report])

    assert (payload["smallest_class"], payload["clients_below_k"], payload["share_below_k"]) == (1, 1, 1 / 12)
    assert payload["meets_k"] is False
    assert "voldoet niet aan k = 5" in page
    assert "<td>1 (8.3%)</td>" in page


def test_report_html_is_escaped() -> None:
    report = anonymity_report(known_frame(), AnonymityConfig(version="<b>v</b>", quasi_identifiers=BASIC),
                              "<script>alert(1)</script>")

    page = anonymity_html([report])

    assert "<script>" not in page and "<b>v</b>" not in page
    assert "&lt;script&gt;" in page

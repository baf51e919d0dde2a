"""Teams are registered per provider (interfaces.md additions 1.2 item 1, delivery-format.md §15):
the register as configuration (errors name file and line), matching a delivered value to a code or
display name without regard to case, the unregistered team for anything else with a warning that
counts rows and shows the value only when it looks like a team name, and the same through
`inspect_delivery`, the function `databank check` and the pipeline share."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from schemas.config import ConfigError, ConsortiumConfig, load_config
from schemas.delivery import UNREGISTERED_TEAM, UNREGISTERED_TEAM_NAME
from schemas.faults import Fault, Level
from schemas.report import findings_csv, verdict_summary
from schemas.teams import TeamRegister, match_teams, team_key, without_team_values
from schemas.text import looks_like_team_name
from schemas.validation import Status

if TYPE_CHECKING:
    from tests.schemas.conftest import DeliveryBuilder, Helpers

T = "trajecten"
REGISTER = TeamRegister({"noord": "Team Noord", "JG": "Jeugd & Gezin", "Team Zuid": "Team Zuid"})
NAME_WITH_BSN = "Jan de Vries 123456782"  # a name and a valid BSN
FORMULA = '=HYPERLINK("http://x","y")'


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delivered", "code"),
    [
        ("noord", "noord"), ("NOORD", "noord"), ("  Noord ", "noord"),  # the code
        ("Team Noord", "noord"), ("team noord", "noord"), ("TEAM  NOORD", "noord"),  # its name
        ("jg", "JG"), ("JEUGD & GEZIN", "JG"), ("jeugd & gezin", "JG"),
        ("team zuid", "Team Zuid"),  # code and name are the same text
        ("Team Oost", None), ("Noord", "noord"), ("Team Noord-West", None), ("", None),
    ],
)
def test_register_matches_code_or_name_without_regard_to_case(delivered: str, code: str | None) -> None:
    assert REGISTER.code_for(delivered) == code


def test_register_names_codes_and_the_unregistered_team() -> None:
    assert REGISTER.name_of("JG") == "Jeugd & Gezin"
    assert REGISTER.name_of(UNREGISTERED_TEAM) == UNREGISTERED_TEAM_NAME
    assert team_key(" Straße  Noord ") == team_key("STRASSE NOORD")


def test_unregistered_values_are_stored_under_the_unregistered_code_and_counted() -> None:
    values = ["Team Noord", "Team Oost", "team oost", None, NAME_WITH_BSN, "jg", FORMULA, "Team Oost"]
    lines = list(range(2, 2 + len(values)))
    faults: list[Fault] = []
    codes = match_teams(values, lines, REGISTER, faults)
    assert codes == ["noord", UNREGISTERED_TEAM, UNREGISTERED_TEAM, None, UNREGISTERED_TEAM, "JG",
                     UNREGISTERED_TEAM, UNREGISTERED_TEAM]
    assert [(f.code, f.row, f.value, f.detail) for f in faults] == [
        ("WARN_TEAM_UNREGISTERED", 3, "Team Oost", "3 regels"),  # one team, whatever its case
        ("WARN_TEAM_UNREGISTERED_HIDDEN", 6, None, "2 regels (2 verschillende waarden)"),
    ]
    assert all(f.level is Level.WARNING for f in faults)
    text = " ".join(f.message() for f in faults)
    assert "Jan de Vries" not in text and "123456782" not in text and "HYPERLINK" not in text
    assert "'Team Oost'" in text and UNREGISTERED_TEAM_NAME in text


def test_without_a_register_every_team_is_unregistered_and_said_once() -> None:
    faults: list[Fault] = []
    codes = match_teams(["Team Noord", "Team Oost", NAME_WITH_BSN, None], [2, 3, 4, 5], None, faults)
    assert codes == [UNREGISTERED_TEAM] * 3 + [None]
    assert [(f.code, f.value, f.detail) for f in faults] == [("WARN_TEAM_REGISTER_MISSING", None, "3 regels")]
    assert "[teams.<aanbieder>]" in faults[0].message()


def test_a_row_with_the_wrong_number_of_fields_is_never_shown_or_counted() -> None:
    """Its `team` cell may be another column's value (a name, a place): it is quarantined anyway."""
    faults: list[Fault] = []
    codes = match_teams(["Utrecht", "Team Oost"], [2, 3], REGISTER, faults, unjudged_lines={2})
    assert codes == [UNREGISTERED_TEAM, UNREGISTERED_TEAM]
    assert [(f.row, f.value, f.detail) for f in faults] == [(3, "Team Oost", "1 regel")]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Team Oost", True), ("Team Jeugd & Gezin", True), ("'s-Hertogenbosch (West)", True),
        ("Team Zoë", True), ("Team 12", True), ("x" * 60, True),
        (NAME_WITH_BSN, False), ("Team 1234", False), ("team@example.nl", False), ("x" * 61, False),
        (FORMULA, False), ("+31 6 12", False), ("-Team", False), ("@Team", False), ("\tTeam", False),
        ("<script>alert(1)</script>", False), ("Team: Noord", False), ('Team "Noord"', False),
        ("Team\nNoord", False), ("", False),
    ],
)
def test_a_value_is_shown_only_when_it_looks_like_a_team_name(text: str, shown: bool) -> None:
    assert looks_like_team_name(text) is shown
    kept = Fault("WARN_TEAM_UNREGISTERED", table=T, row=2, column="team", value=text).value
    assert (kept == text) is (shown and len(text) <= 40)  # and no value over 40 characters, ever


def test_a_rejected_delivery_shows_no_team_value() -> None:
    shown = Fault("WARN_TEAM_UNREGISTERED", table=T, row=4, column="team", value="Sanne", detail="3 regels")
    other = Fault("ROW_BSN_INVALID", table=T, row=5, column="bsn")
    hidden = without_team_values([shown, other])
    assert [(f.code, f.row, f.value, f.detail) for f in hidden] == [
        ("WARN_TEAM_UNREGISTERED_HIDDEN", 4, None, "3 regels"), ("ROW_BSN_INVALID", 5, None, None)
    ]


# --- through inspect_delivery (databank check and the pipeline) ---------------------------------


def test_delivery_with_unregistered_teams_is_accepted_and_the_report_counts_them(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers, tmp_path: Path
) -> None:
    """Every row unregistered: still accepted (a warning, not a row fault: nothing counts toward
    the reject share), stored under the code, the report counts and shows only team names."""
    for index in range(check.n_trajectories):
        team = ("TEAM OOST", "Team Oost", NAME_WITH_BSN, FORMULA, "Team Noord")[index % 5]
        delivery.set(T, index, team=team)
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED
    assert validated.verdict.quarantined == {"trajecten": 0, "metingen": 0}
    stored = validated.trajectories["team"].value_counts().to_dict()
    assert stored == {UNREGISTERED_TEAM: 16, "noord": 4}
    assert check.codes(validated) == ["WARN_TEAM_UNREGISTERED", "WARN_TEAM_UNREGISTERED_HIDDEN"]
    summary, table = verdict_summary(validated.verdict), findings_csv(validated.verdict)
    assert "hebben 8 regels het team 'TEAM OOST' (de eerste op regel 2)" in summary
    assert "hebben 8 regels (2 verschillende waarden) een team" in summary
    assert ";team;TEAM OOST;" in table
    for text in (summary, table):
        assert "Jan de Vries" not in text and "123456782" not in text and "HYPERLINK" not in text


def test_unregistered_teams_of_a_rejected_delivery_are_counted_not_shown(
    delivery: DeliveryBuilder, config: ConsortiumConfig, check: Helpers
) -> None:
    for index in range(check.n_trajectories):
        delivery.set(T, index, team="Sanne Zwaluwstaart", geslacht="Q" if index < 5 else "V")
    validated = delivery.inspect(config)
    assert validated.verdict.status is Status.REJECTED
    hidden = check.faults_with(validated, "WARN_TEAM_UNREGISTERED_HIDDEN")
    assert [(f.value, f.detail) for f in hidden] == [(None, "20 regels")]
    assert "Zwaluwstaart" not in verdict_summary(validated.verdict)


def test_a_provider_without_a_register_gets_one_warning(
    make_delivery: object, config: ConsortiumConfig, check: Helpers
) -> None:
    """The shipped defaults register teams for de-boog only: check says so once, not per value."""
    builder = make_delivery(provider="horizon-jeugd")  # type: ignore[operator]
    validated = builder.inspect(config)
    assert validated.verdict.status is Status.ACCEPTED
    assert set(validated.trajectories["team"]) == {UNREGISTERED_TEAM}
    assert [(f.code, f.detail) for f in validated.verdict.faults] == [
        ("WARN_TEAM_REGISTER_MISSING", f"{check.n_trajectories} regels")
    ]


def test_the_register_applies_per_provider(
    delivery: DeliveryBuilder, config: ConsortiumConfig
) -> None:
    """A team registered for another provider is not this provider's team."""
    delivery.set(T, 0, team="Team Elders")
    elsewhere = {**config.teams, "horizon-jeugd": TeamRegister({"elders": "Team Elders"})}
    validated = delivery.inspect(dataclasses.replace(config, teams=elsewhere))
    assert validated.trajectories.loc[0, "team"] == UNREGISTERED_TEAM


# --- the register as configuration ------------------------------------------------------------

CONSORTIUM = """[providers]
de-boog = "De Boog"
horizon-jeugd = "Horizon"

[interventions]
MST = "Multisysteemtherapie"

[teams.de-boog]
noord = "Team Noord"
zuid = "Team Zuid"

[teams.horizon-jeugd]
noord = "Noord"
"""


def config_dir(tmp_path: Path, consortium: str) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "consortium.toml").write_text(consortium, encoding="utf-8")
    return folder


def test_registers_load_per_provider(tmp_path: Path) -> None:
    config = load_config(config_dir(tmp_path, CONSORTIUM))
    assert config.teams["de-boog"].names == {"noord": "Team Noord", "zuid": "Team Zuid"}
    assert config.teams["horizon-jeugd"].code_for("NOORD") == "noord"
    without = load_config(config_dir(tmp_path, CONSORTIUM.split("[teams")[0]))
    assert without.teams == {}


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (("zuid = \"Team Zuid\"", "zuid = 3"), 10, "needs a display name in quotes"),
        (("zuid = \"Team Zuid\"", "zuid = \"\""), 10, "is empty"),
        (("zuid = \"Team Zuid\"", "zuid = \"   \""), 10, "is empty"),
        (("zuid = \"Team Zuid\"", "zuid = \"=HYPERLINK(1)\""), 10, "would run as a formula"),
        (("zuid = \"Team Zuid\"", "\"+zuid\" = \"Team Zuid\""), 10, "would run as a formula"),
        (("zuid = \"Team Zuid\"", "zuid = \"-Zuid\""), 10, "would run as a formula"),
        (("zuid = \"Team Zuid\"", "zuid = \"@Zuid\""), 10, "would run as a formula"),
        (("zuid = \"Team Zuid\"", "zuid = \"\\tZuid\""), 10, "would run as a formula"),
        (("zuid = \"Team Zuid\"", "zuid = \"\\rZuid\""), 10, "would run as a formula"),
        (("zuid = \"Team Zuid\"", "zuid = \"Team\\nZuid\""), 10, "line break"),
        (("zuid = \"Team Zuid\"", f"zuid = \"{'x' * 61}\""), 10, "longer than 60 characters"),
        (("zuid = \"Team Zuid\"", "zuid = \" Team Zuid\""), 10, "spaces before or after"),
        (("zuid = \"Team Zuid\"", "_zuid = \"Team Zuid\""), 10, "reserved"),
        (("zuid = \"Team Zuid\"", "zuid = \"TEAM NOORD\""), 10, "names team 'noord' too"),
        (("zuid = \"Team Zuid\"", "NOORD = \"Team Zuid\""), 10, "names team 'noord' too"),
        (("zuid = \"Team Zuid\"", "zuid = \"Niet-geregistreerd team\""), 10, "name of the unregistered team"),
        (("[teams.horizon-jeugd]", "[teams.onbekend]"), 12, "not in [providers]"),
        (("[teams.horizon-jeugd]\nnoord = \"Noord\"", "[teams.horizon-jeugd]"), 12, "lists no teams"),
        (("[teams.horizon-jeugd]\nnoord = \"Noord\"", "[teams]\nhorizon-jeugd = \"Noord\""), 13,
         "must be a table [teams.horizon-jeugd]"),
    ],
)
def test_a_malformed_register_names_file_line_and_problem(
    tmp_path: Path, change: tuple[str, str], line: int, problem: str
) -> None:
    consortium = CONSORTIUM.replace(*change)
    assert consortium != CONSORTIUM
    with pytest.raises(ConfigError) as error:
        load_config(config_dir(tmp_path, consortium))
    assert error.value.line == line, str(error.value)
    assert problem in error.value.problem and "consortium.toml" in str(error.value)


def test_a_code_under_two_providers_is_reported_on_its_own_line(tmp_path: Path) -> None:
    consortium = CONSORTIUM.replace('noord = "Noord"', 'noord = "=Noord"')
    with pytest.raises(ConfigError) as error:
        load_config(config_dir(tmp_path, consortium))
    assert error.value.line == 13 and "'horizon-jeugd'" in error.value.problem


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (('MST = "Multisysteemtherapie"', '"=MST" = "Multisysteemtherapie"'), 6, "code of intervention"),
        (('MST = "Multisysteemtherapie"', 'MST = "+Multi"'), 6, "display name of intervention"),
        (('de-boog = "De Boog"', 'de-boog = "@Boog"'), 2, "display name of provider"),
        (('de-boog = "De Boog"', '-boog = "De Boog"'), 2, "not starting with '-'"),
    ],
)
def test_other_registers_are_formula_neutral_too(
    tmp_path: Path, change: tuple[str, str], line: int, problem: str
) -> None:
    """Intervention codes, provider codes and display names are stored or published as well."""
    consortium = CONSORTIUM.split("[teams")[0].replace(*change)
    with pytest.raises(ConfigError) as error:
        load_config(config_dir(tmp_path, consortium))
    assert error.value.line == line and problem in error.value.problem


def test_instrument_codes_are_formula_neutral(tmp_path: Path) -> None:
    folder = config_dir(tmp_path, CONSORTIUM)
    registry = Path("schemas/defaults/instruments.csv").read_text(encoding="utf-8")
    (folder / "instruments.csv").write_text(registry.replace("SDQ,totaal", "SDQ,-totaal"), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(folder)
    assert error.value.path.name == "instruments.csv" and "'-totaal'" in error.value.problem


def test_the_shipped_defaults_register_an_example() -> None:
    config = load_config(Path("schemas/defaults"))
    assert config.teams["de-boog"].code_for("team noord") == "noord"
    assert "horizon-jeugd" not in config.teams  # shows the provider without a register

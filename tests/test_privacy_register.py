"""PRIVACY.md is a register the code must match: every delivery column named in it is handled as
it says (in what the read step stores), every column of the delivery format is named in it, and
every field the warehouse stores is in its table of why it is kept, with the files that use it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from pseudonymise.keys import throwaway_key
from pseudonymise.minimise import minimise_measurements, minimise_trajectories
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read_step import inspect_delivery
from schemas.anonymity import AnonymityConfig
from schemas.config import load_config
from schemas.delivery import COLUMNS, UNREGISTERED_TEAM
from tests.builders import METINGEN_HEADER, TRAJECTEN_HEADER, measurement, render_csv, trajectory
from warehouse.privacy import PSEUDONYM_COLUMNS

REGISTER = Path(__file__).resolve().parents[1] / "PRIVACY.md"
ROW = re.compile(r"^\| `(?P<column>[a-z_]+)` \| (?P<table>trajecten|metingen) \| (?P<treatment>[a-z ]+) \| (?P<stored>.*) \|$")
PSEUDONYM_FIELDS = {column for columns in PSEUDONYM_COLUMNS.values() for column in columns}


def register() -> list[dict[str, str]]:
    return [m.groupdict() for line in REGISTER.read_text(encoding="utf-8").splitlines() if (m := ROW.match(line))]


def stored_names(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_.]+)`", text))


def test_register_names_every_column_of_the_delivery_format_once() -> None:
    named = [(r["table"], r["column"]) for r in register()]
    expected = [(table, column) for table, columns in COLUMNS.items() for column in columns]
    assert sorted(named) == sorted(expected)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One delivery in which every column holds a distinctive value, through the read step."""
    folder = tmp_path_factory.mktemp("register") / "de-boog" / "2025-03"
    folder.mkdir(parents=True)
    row = trajectory(
        1, bsn="725763863", voornaam="Registervoornaam", tussenvoegsel="registertussen",
        achternaam="Registerachternaam", adres="Registerstraat 9", woonplaats="Registerdorp",
        telefoon="06-55544433", email="register@example.nl", opmerkingen="Registeropmerking",
        postcode="9876 ZY", startdatum="15-01-2025", einddatum="20-03-2025", reden_einde="1", doelrealisatie="2",
        tevredenheid="8",
    )
    unregistered = trajectory(3, team="Registerteam Kanarie 98765")  # not in the register
    (folder / "trajecten.csv").write_text(
        render_csv(TRAJECTEN_HEADER, [row, trajectory(2, team=" TEAM NOORD "), unregistered]), encoding="utf-8"
    )
    meting = measurement(1, "start", "05-01-2025", "70")
    (folder / "metingen.csv").write_text(render_csv(METINGEN_HEADER, [meting]), encoding="utf-8")
    config = load_config(Path("schemas/defaults"))
    pseudonymiser = Pseudonymiser(throwaway_key())
    validated = inspect_delivery(folder, "de-boog", "2025-03", config, pseudonymiser, dt.date(2026, 11, 25))
    assert validated.verdict.status.value == "accepted"
    # what is stored: the read step's last step, under the shipped privacy.toml
    return {
        "row": row,
        "meting": meting,
        "trajecten": minimise_trajectories(validated.trajectories, AnonymityConfig(), pseudonymiser.clock),
        "metingen": minimise_measurements(validated.measurements, pseudonymiser.clock),
        "unregistered": unregistered["team"],
        "teams": config.teams["de-boog"],
    }


@pytest.mark.parametrize("entry", register(), ids=lambda e: f"{e['table']}.{e['column']}")
def test_register_row_matches_what_the_read_step_stores(entry: dict[str, str], delivered: dict) -> None:
    frame = delivered[entry["table"]]
    fields = set(frame.columns)
    column, treatment, stored = entry["column"], entry["treatment"], stored_names(entry["stored"])
    all_cells = {str(v) for v in frame.astype(str).to_numpy().ravel()}
    raw = delivered["row" if entry["table"] == "trajecten" else "meting"].get(column, "")
    if treatment == "kept":
        assert stored == {column} and column in fields
    elif treatment == "dropped":
        assert column not in fields
        assert raw and not any(raw in cell for cell in all_cells)
    elif treatment == "pseudonymised":
        assert column not in fields and stored & fields and stored <= PSEUDONYM_FIELDS
        for name in stored & fields:
            assert all(str(v)[:2] in ("CL", "LC", "TR") for v in frame[name].dropna())
        if raw:
            assert not any(raw in cell for cell in all_cells)
    elif treatment == "generalised":
        assert column not in fields and stored and stored <= fields
        assert raw and not any(raw in cell for cell in all_cells)
        if column in ("startdatum", "einddatum", "datum"):  # no calendar day, in any notation
            day, month, year = raw.split("-")
            assert not any(f"{year}-{month}-{day}" in cell for cell in all_cells)
    elif treatment == "registered":
        # stored as a code of the provider's register (or its unregistered team), never as delivered
        assert stored == {column, UNREGISTERED_TEAM} and column in fields
        codes = set(frame[column])
        assert codes == set(delivered["teams"].names) & codes | {UNREGISTERED_TEAM}
        assert len(codes) == 2  # a registered team (delivered by name, in two spellings) and the other
        for text in (raw, delivered["unregistered"]):
            assert text and not any(text in cell for cell in all_cells)
    elif treatment == "acted on":
        assert column not in fields
    else:
        pytest.fail(f"unknown treatment {treatment!r} in PRIVACY.md")


WHY = re.compile(r"^\| `(?P<field>[a-z0-9_]+)` \| (?P<why>[^|]+) \| (?P<used_by>[^|]+) \|$")


def why_kept() -> dict[str, list[str]]:
    """PRIVACY.md's table of why each stored field is kept: field -> the files named as using it."""
    return {m["field"]: re.findall(r"`([a-z_/]+\.(?:sql|py))`", m["used_by"])
            for line in REGISTER.read_text(encoding="utf-8").splitlines() if (m := WHY.match(line))}


def test_every_stored_field_says_why_it_is_kept(tmp_path: Path) -> None:
    from warehouse.connection import open_warehouse
    from warehouse.sql import execute

    with open_warehouse(tmp_path / "w.duckdb") as con:
        stored = {
            column for (column,) in execute(
                con, "SELECT DISTINCT column_name FROM information_schema.columns WHERE table_schema IN "
                "('intake', 'staging', 'core') AND table_name IN ('trajectories', 'measurements')")
        }
    assert set(why_kept()) == stored


@pytest.mark.parametrize(("field", "files"), sorted(why_kept().items()))
def test_every_file_named_as_using_a_field_uses_it(field: str, files: list[str]) -> None:
    root = REGISTER.parent
    assert files, f"{field}: PRIVACY.md names no file that uses it"
    for name in files:
        assert re.search(rf"\b{field}\b", (root / name).read_text(encoding="utf-8")), (field, name)

"""No direct identifier survives the read step (delivery-format §5, §9.13): distinctive canary
values go through the whole graph, accepted, quarantined and rejected, and `databank check`;
then every artefact under the home except landing/ is searched, DuckDB files by query."""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.runner import run_pipeline
from schemas.delivery import UNREGISTERED_TEAM
from tests.builders import (
    DeliveryWriter,
    database_rows,
    measurement,
    outcomes_only_extract_scope,
    string_cells,
    trajectory,
)
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)

CANARY_IDENTIFIERS = {
    "clientnummer": "CLNR-KANARIE-77",
    "bsn": "725763863",
    "voornaam": "Kanariepietje",
    "tussenvoegsel": "kanarietussen",
    "achternaam": "Zwaluwstaartje",
    "geboortedatum": "17-11-2009",
    "postcode": "9999 ZZ",
    "adres": "Kanariestraat 13",
    "woonplaats": "Kanariedorp",
    "telefoon": "06-99887766",
    "email": "kanarie.vogel@example.nl",
    "traject_id": "TRJ-KANARIE-88",
    "opmerkingen": "GEHEIM moeder vertelde over huiselijk geweld",
}
BAD_BSN = "123456780"  # fails the elfproef: its row is quarantined
EXTRA_COLUMN_VALUE = "Dr. Kanariehouder"
# Free text in `team` (issue 12): a name with a valid BSN, and a spreadsheet formula. Neither is
# registered, so both rows load under de-boog's unregistered team and the text goes nowhere.
TEAM_WITH_BSN = "Jan de Vries 123456782"
TEAM_FORMULA = '=HYPERLINK("http://x","y")'
CANARIES = sorted(
    {*CANARY_IDENTIFIERS.values(), BAD_BSN, EXTRA_COLUMN_VALUE, "9999ZZ", "2009-11-17",
     "CLNR-KANARIE-78", "TRJ-KANARIE-89", "TRJ-KANARIE-90",
     TEAM_WITH_BSN, "Jan de Vries", "123456782", TEAM_FORMULA, "HYPERLINK"}
)


def canary_deliveries(home: DatabankHome, write_delivery: DeliveryWriter) -> Path:
    ordinary = [trajectory(n) for n in range(1, 20)]
    accepted = [
        trajectory(0, **CANARY_IDENTIFIERS, einddatum="20-03-2025", reden_einde="1"),
        trajectory(0, **{**CANARY_IDENTIFIERS, "clientnummer": "CLNR-KANARIE-78",
                         "traject_id": "TRJ-KANARIE-89", "bsn": BAD_BSN}),
        *ordinary,
        # ended, with scores: in the marts, the analysts' copy, the dashboard and the extract
        trajectory(20, team=TEAM_WITH_BSN, einddatum="20-03-2025", reden_einde="1"),
        trajectory(21, team=TEAM_FORMULA, einddatum="20-03-2025", reden_einde="1"),
    ]
    metingen = [
        measurement(0, "start", "05-01-2025", "70", clientnummer="CLNR-KANARIE-77", traject_id="TRJ-KANARIE-88"),
        measurement(0, "eind", "15-03-2025", "55", clientnummer="CLNR-KANARIE-77", traject_id="TRJ-KANARIE-88"),
        # Unknown trajectory: quarantined measurement carrying canaries.
        measurement(0, "start", "05-01-2025", "70", clientnummer="CLNR-KANARIE-78", traject_id="TRJ-KANARIE-90"),
        *[measurement(n, "start", "05-01-2025", "66") for n in range(1, 20)],
        *[measurement(n, moment, day, score) for n in (20, 21)
          for moment, day, score in (("start", "05-01-2025", "71"), ("eind", "15-03-2025", "58"))],
    ]
    folder = write_delivery(home.landing, "de-boog", "2025-03", accepted, metingen)
    # An extra column the spec does not know: dropped, its values never stored.
    text = (folder / "trajecten.csv").read_bytes().decode("cp1252").splitlines()
    text = [text[0] + ";dossierhouder"] + [line + f";{EXTRA_COLUMN_VALUE}" for line in text[1:]]
    (folder / "trajecten.csv").write_bytes(("\r\n".join(text) + "\r\n").encode("cp1252"))
    os.utime(folder / "trajecten.csv", (1_700_000_000, 1_700_000_000))  # a finished file
    # A rejected delivery full of canaries (every row faulty: over the threshold).
    rejected = [trajectory(0, **{**CANARY_IDENTIFIERS, "bsn": BAD_BSN, "team": team})
                for team in (TEAM_WITH_BSN, TEAM_FORMULA, "Team Noord")]
    write_delivery(home.landing, "horizon-jeugd", "2025-03", rejected, [])
    return folder


def test_canaries_appear_nowhere_under_home_but_landing(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    folder = canary_deliveries(home, write_delivery)
    summary = run_pipeline(home, today=TODAY)
    assert sorted(s for _, _, s in summary.judged) == ["accepted_with_quarantine", "rejected"]
    assert main(["check", str(folder), "--config", str(home.config_dir), "--report", str(home.root / "check-report")]) == 0
    run_pipeline(home, today=TODAY)  # the unchanged second run writes Dagster events too
    # Every privacy artefact too: an extract, a key rotation, an erasure and their audit records.
    # The canary consortium has 22 clients: the shipped default scope (intervention, sex, end
    # year) is too fine for it and would be refused, so the canary scope ships outcomes only.
    outcomes_only_extract_scope(home, "canary-onderzoek")
    assert main(["extract", "--scope", "canary-onderzoek", "--out", str(home.root / "extracts" / "canary")]) == 0
    assert main(["rotate-key"]) == 0
    assert main(["forget", "--provider", "de-boog", "--clientnummer", "CLNR-KANARIE-78"]) == 0
    assert main(["status"]) == 0 and main(["explain"]) == 0  # their terminal output is searched too
    printed = capsys.readouterr()

    files = [p for p in home.root.rglob("*") if p.is_file() and home.landing not in p.parents]
    assert any(p.suffix == ".parquet" for p in files) and any(p.name == "manifest.json" for p in files)
    assert any(p.name == "anonimiteit.json" for p in files) and any(p.name == "kwaliteit.json" for p in files)
    duckdb_files = [p for p in files if p.suffix == ".duckdb"]
    assert {p.name for p in duckdb_files} >= {"databank.duckdb", "analyst.duckdb"}
    assert any("dagster" in p.parts for p in files), "Dagster's storage must be searched too"
    assert any(p.name == "bevindingen.csv" for p in files)
    # The dashboard and the data dictionary are searched like every other file (HTML with inline
    # SVG, the JSON marker), and the dashboard holds figures of the canary's organisation.
    dashboard = {p.relative_to(home.dashboard).as_posix() for p in files if home.dashboard in p.parents}
    assert {"index.html", "organisatie-de-boog.html", "dashboard.json"} <= dashboard
    assert "data-value=" in (home.dashboard / "organisatie-de-boog.html").read_text(encoding="utf-8")
    assert any(p.name == "data-dictionary.md" for p in files) and any(p.name == "data-dictionary.html" for p in files)

    hits: list[str] = []
    for path in files:
        data = path.read_bytes()
        for canary in CANARIES:
            for encoding in ("utf-8", "cp1252", "utf-16-le"):
                if canary.encode(encoding) in data:
                    hits.append(f"{path.relative_to(home.root)}: {canary}")
    for database in duckdb_files:
        cells = string_cells(database)
        assert cells, f"{database} holds string data to search"
        for cell in cells:
            hits += [f"{database.name} cell: {c}" for c in CANARIES if c.lower() in cell.lower()]
    for stream in (printed.out, printed.err):
        hits += [f"terminal: {c}" for c in CANARIES if c in stream]
    # The key material itself appears in no artefact but the key file.
    from pseudonymise.keys import load_key_ring

    for key in load_key_ring(home.key_file).keys:
        forms = {base64.b64encode(key.material), key.material.hex().encode(), key.material}
        for path in files:
            if path != home.key_file and any(form in path.read_bytes() for form in forms):
                hits.append(f"{path.relative_to(home.root)}: key material")
    assert hits == []


def test_canary_rows_were_really_processed(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    """Guards the test above against passing because nothing was loaded."""
    canary_deliveries(home, write_delivery)
    run_pipeline(home, today=TODAY)
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        quarantine = con.execute(
            "SELECT provider, reason_code FROM staging.quarantine ORDER BY ALL"
        ).fetchall()
        # the canary, born 17 November 2009, is the only one 15 at the start; by default neither
        # the birth year nor the postcode digits are stored (PRIVACY.md §1)
        canary = con.execute(
            "SELECT age_at_start, birth_year, pc4 FROM core.trajectories WHERE age_at_start = 15"
        ).fetchall()
        teams = con.execute(
            "SELECT team, count(*) FROM core.trajectories WHERE provider = 'de-boog' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert ("de-boog", "ROW_BSN_INVALID") in quarantine
    assert ("de-boog", "ROW_TRAJECTORY_UNKNOWN") in quarantine
    assert canary == [(15, None, None)]
    # the two free-text teams are loaded, as de-boog's unregistered team, and published as such
    assert teams == [("Team Noord", 20), (UNREGISTERED_TEAM, 2)]
    published = database_rows(
        home.publication, "SELECT organisation, team, team_name, (SELECT count(*) FROM mart.trajectory_indicators "
        "WHERE level = 'team' AND team = t.team AND NOT suppressed) FROM mart.teams AS t ORDER BY ALL",
    )
    assert ("de-boog", UNREGISTERED_TEAM, "Niet-geregistreerd team", 2) in published
    report = (home.reports / "de-boog" / "2025-03" / "rapport.txt").read_text(encoding="utf-8")
    assert "WARN_TEAM_UNREGISTERED_HIDDEN (melding): 1x" in report
    assert "hebben 2 regels (2 verschillende waarden) een team" in report


def test_unexpected_error_in_read_step_keeps_values_out_of_dagster_storage(
    home: DatabankHome, write_delivery: DeliveryWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug whose message quotes a raw cell must not carry it into the event log."""
    import assets.deliveries as deliveries
    from pipelines.runner import PipelineFailed

    def broken(*_: object, **__: object) -> None:
        raise ValueError(f"could not convert {CANARY_IDENTIFIERS['achternaam']!r}")

    monkeypatch.setattr(deliveries, "read_delivery", broken)
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    with pytest.raises(PipelineFailed) as failure:
        run_pipeline(home, today=TODAY)
    assert CANARY_IDENTIFIERS["achternaam"] not in str(failure.value)
    stored = [p for p in home.dagster_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in stored)
    leaked = [p for p in stored if CANARY_IDENTIFIERS["achternaam"].encode() in p.read_bytes()]
    assert leaked == []
    events = b"".join(p.read_bytes() for p in stored)
    assert b"ReadStepFailed" in events  # the failure itself is recorded, without the value

"""AVG rights and key management end to end: a late objection, erasure on request, key
rotation and scoped research extracts, on real runs of the pipeline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.runner import run_pipeline
from pseudonymise.keys import load_key_ring
from pseudonymise.pseudonyms import Pseudonymiser
from tests.builders import DeliveryWriter, measurement, string_cells, trajectory
from tests.builders import database_rows as rows
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)
BSN = "725763863"


def ended(n: int, **overrides: str) -> dict[str, str]:
    return trajectory(n, einddatum="20-03-2025", reden_einde="1", **overrides)


def two_clients(home: DatabankHome, write_delivery: DeliveryWriter, month: str = "2025-03", **first: str) -> None:
    write_delivery(
        home.landing, "de-boog", month,
        [ended(1, bsn=BSN, **first), ended(2), ended(3)],
        [m for n in (1, 2, 3) for m in (measurement(n, "start", "05-01-2025", "70"),
                                         measurement(n, "eind", "15-03-2025", "60"))],
    )


def pseudonyms_of_client_1(home: DatabankHome) -> set[str]:
    p = Pseudonymiser(load_key_ring(home.key_file))
    return {p.client("de-boog", "", BSN), p.local_client("de-boog", "C00001"), p.trajectory("de-boog", "T00001")}


def test_late_objection_removes_earlier_months_and_keeps_them_out(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == [(3,)]
    # April carries the objection of client 1; their March rows must go too.
    write_delivery(home.landing, "de-boog", "2025-04", [ended(1, bsn=BSN, bezwaar="ja"), ended(2), ended(3)])
    run_pipeline(home, today=TODAY)
    client_1 = pseudonyms_of_client_1(home)
    assert not client_1 & set(string_cells(home.warehouse)) - {
        v for (v,) in rows(home.warehouse, "SELECT client_id FROM privacy.objections UNION SELECT local_client_id FROM privacy.objections")
    }
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == [(2,)]
    # A correction of March that still contains client 1 cannot bring them back.
    two_clients(home, write_delivery, "2025-03", team="Gecorrigeerd")
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT count(*) FROM staging.trajectories WHERE team = 'Gecorrigeerd'") == [(0,)]
    assert not client_1 & set(string_cells(home.publication))


@pytest.mark.parametrize("by", ["clientnummer", "bsn"])
def test_forget_removes_the_client_everywhere_and_the_marts_follow(
    home: DatabankHome, write_delivery: DeliveryWriter, by: str, capsys: pytest.CaptureFixture
) -> None:
    two_clients(home, write_delivery, "2025-03")
    write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1, bsn=BSN), trajectory(2)])
    run_pipeline(home, today=TODAY)
    before = rows(home.publication, "SELECT n_ended FROM mart.trajectory_indicators WHERE level = 'consortium' AND period = 'all'")
    client_1 = pseudonyms_of_client_1(home)
    assert client_1 <= set(string_cells(home.warehouse))

    value = "C00001" if by == "clientnummer" else BSN
    assert main(["forget", "--provider", "de-boog", f"--{by}", value]) == 0
    out = capsys.readouterr().out
    assert value not in out and "one client" in out

    assert not client_1 & set(string_cells(home.warehouse))
    assert not client_1 & set(string_cells(home.publication))
    after = rows(home.publication, "SELECT n_ended FROM mart.trajectory_indicators WHERE level = 'consortium' AND period = 'all'")
    assert before == [(3,)] and after == [(2,)]
    audit = rows(home.warehouse, "SELECT * FROM privacy.erasures")
    assert len(audit) == 1 and audit[0][1:] == ("de-boog", by, 2, 2, 0)


def test_forget_of_an_identifier_found_nowhere_says_so_and_exits_1(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    """A typo or the wrong --provider must not read as a done erasure (found in review)."""
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    assert main(["forget", "--provider", "de-boog", "--clientnummer", "C99999"]) == 1
    printed = capsys.readouterr()
    assert "no row of this client was found at de-boog" in printed.err
    assert "C99999" not in printed.out + printed.err


def test_rotate_key_keeps_marts_and_linkage(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    marts_before = rows(home.publication, "SELECT * FROM mart.outcome_scores ORDER BY ALL")
    ids_before = rows(home.warehouse, "SELECT client_id FROM core.trajectories ORDER BY ALL")
    days_since_start = ("SELECT m.meetmoment, m.measured_day - t.start_day, t.end_day - t.start_day "
                        "FROM core.measurements m JOIN core.trajectories t USING (provider, trajectory_id) ORDER BY ALL")
    days_before, clocks_before = rows(home.warehouse, days_since_start), rows(home.warehouse, "SELECT start_day FROM core.trajectories ORDER BY ALL")

    assert main(["rotate-key"]) == 0
    ring = load_key_ring(home.key_file)
    assert len(ring.keys) == 2
    assert rows(home.warehouse, "SELECT from_key_id, to_key_id FROM privacy.key_rotations") == [
        (ring.keys[0].key_id, ring.keys[1].key_id)
    ]
    assert rows(home.publication, "SELECT * FROM mart.outcome_scores ORDER BY ALL") == marts_before
    ids_after = rows(home.warehouse, "SELECT client_id FROM core.trajectories ORDER BY ALL")
    assert not set(ids_before) & set(ids_after)  # every stored pseudonym was keyed again
    assert all(i.startswith(f"CL1-{ring.key_id}-") for (i,) in ids_after)

    # The stored days moved to the new key's clock with their pseudonyms: every difference stayed.
    assert rows(home.warehouse, days_since_start) == days_before
    assert rows(home.warehouse, "SELECT start_day FROM core.trajectories ORDER BY ALL") != clocks_before

    # April, delivered after the rotation, carries the same client and trajectory: still one, and
    # its measurements (sent again) are the same measurements, not new ones on another clock.
    write_delivery(home.landing, "de-boog", "2025-04", [ended(1, bsn=BSN, team="Na rotatie")],
                   [measurement(1, "start", "05-01-2025", "70"), measurement(1, "eind", "15-03-2025", "60")])
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT count(*), count(DISTINCT client_id) FROM core.trajectories") == [(3, 3)]
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories WHERE team = 'Na rotatie'") == [(1,)]
    assert rows(home.warehouse, days_since_start) == days_before
    consortium = "SELECT * FROM mart.outcome_scores WHERE level = 'consortium' ORDER BY ALL"
    assert rows(home.publication, consortium) == [r for r in marts_before if r[0] == "consortium"]


def test_rotate_key_finishes_or_undoes_an_interrupted_rotation(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    from pseudonymise.keys import new_key, pending_ring_path, write_key_ring

    two_clients(home, write_delivery)
    run_pipeline(home, today=TODAY)
    original = home.key_file.read_bytes()
    # Stopped after the extended ring was written, before the warehouse was re-keyed.
    write_key_ring(pending_ring_path(home.key_file), load_key_ring(home.key_file).with_key(new_key()))
    assert main(["run"]) == 2
    assert "interrupted" in capsys.readouterr().err
    assert main(["rotate-key"]) == 0
    assert "Undid" in capsys.readouterr().out
    assert home.key_file.read_bytes() == original and not pending_ring_path(home.key_file).exists()
    assert main(["run"]) == 0


def test_extract_pseudonyms_differ_between_scopes_and_are_stable_within_one(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import pandas as pd

    two_clients(home, write_delivery)
    run_pipeline(home, today=TODAY)
    # Three alike clients cannot hide among four others: the default k = 5 refuses the extract.
    assert main(["extract", "--scope", "onderzoek-a", "--out", str(tmp_path / "a1")]) == 1
    assert not (tmp_path / "a1").exists()
    privacy = home.config_dir / "privacy.toml"
    privacy.write_text(privacy.read_text(encoding="utf-8").replace("\nk = 5\n", "\nk = 2\n"), encoding="utf-8")
    capsys.readouterr()
    for out, scope in (("a1", "onderzoek-a"), ("a2", "onderzoek-a"), ("b", "onderzoek-b")):
        assert main(["extract", "--scope", scope, "--out", str(tmp_path / out)]) == 0
    printed = capsys.readouterr().out
    assert "linkable: at most 0 of 3 trajectories (0.0%)" in printed  # three alike: none unique
    assert "100.0% of 3 clients share their interventie, female, end_year" in printed
    a1, a2, b = (pd.read_parquet(tmp_path / out / "trajectories.parquet") for out in ("a1", "a2", "b"))
    assert a1["client_id"].tolist() == a2["client_id"].tolist()
    assert not set(a1["client_id"]) & set(b["client_id"])
    assert not set(a1["trajectory_id"]) & set(b["trajectory_id"])
    warehouse_ids = set(string_cells(home.warehouse))
    assert not (set(a1["client_id"]) | set(a1["trajectory_id"])) & warehouse_ids
    measurements = pd.read_parquet(tmp_path / "a1" / "measurements.parquet")
    assert set(measurements["trajectory_id"]) <= set(a1["trajectory_id"])  # joinable within a scope
    manifest = json.loads((tmp_path / "a1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scope"] == "onderzoek-a"
    assert manifest["tables"]["trajectories"]["rows"] == len(a1) == 3
    assert main(["extract", "--scope", "Bad Scope!", "--out", str(tmp_path / "x")]) == 2


def test_run_refuses_a_key_file_readable_by_others(
    home: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    home.key_file.chmod(0o644)
    assert main(["run"]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_landing_files_are_deleted_once_processed_unless_newer_bytes_arrived(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    from tests.builders import set_landing_retention

    set_landing_retention(home, "delete")
    two_clients(home, write_delivery, "2025-03")
    folder = write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1), trajectory(2)])
    (folder / "metingen.csv").unlink()  # rejected: its files go too, its report stays
    summary = run_pipeline(home, today=TODAY)
    assert sorted(s for _, _, s in summary.judged) == ["accepted", "rejected"]
    assert not (home.landing / "de-boog" / "2025-03").exists()
    assert not (home.landing / "de-boog" / "2025-02").exists()
    assert (home.report_dir("de-boog", "2025-02") / "rapport.txt").is_file()
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == [(3,)]
    # With nothing left in landing, the next run changes nothing.
    assert run_pipeline(home, today=TODAY).judged == []
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == [(3,)]


def test_landing_files_replaced_during_the_run_are_not_deleted(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    from pseudonymise.landing import remove_processed_delivery

    folder = write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    assert not remove_processed_delivery("de-boog", "2025-03", folder, "an-older-delivery-id")
    assert (folder / "trajecten.csv").is_file()


def test_retention_rule_must_be_delete_or_keep(home: DatabankHome) -> None:
    from schemas.anonymity import load_anonymity_config
    from schemas.config import ConfigError
    from tests.builders import set_landing_retention

    set_landing_retention(home, "bewaren")
    with pytest.raises(ConfigError) as error:
        load_anonymity_config(home.config_dir)
    assert "privacy.toml" in str(error.value) and error.value.line is not None


# --- erasure that sticks (issue 12): the suppression list and the file's bytes -------------------


def warehouse_bytes(home: DatabankHome) -> bytes:
    """The raw bytes of every file DuckDB keeps for the warehouse (the file, a `.wal`, spill files):
    a freed block or a log still holding a value is found here, where a query would not see it."""
    return b"".join(p.read_bytes() for p in sorted(home.warehouse.parent.rglob("*")) if p.is_file())


def in_bytes(home: DatabankHome, values: set[str]) -> set[str]:
    raw = warehouse_bytes(home)
    return {v for v in values if v.encode() in raw}


def pseudonyms_under(ring_file: Path, provider: str, clients: range) -> set[str]:
    """Every pseudonym of the given test clients (client, client number, trajectory) under the
    key file's ring as it is now."""
    p = Pseudonymiser(load_key_ring(ring_file))
    return {
        value
        for n in clients
        for value in (
            p.client(provider, "", BSN) if n == 1 else p.client(provider, f"C{n:05d}", None),
            p.local_client(provider, f"C{n:05d}"),
            p.trajectory(provider, f"T{n:05d}"),
        )
    }


@pytest.mark.parametrize("by", ["clientnummer", "bsn"])
def test_forget_leaves_none_of_the_clients_pseudonyms_in_the_warehouse_bytes(
    home: DatabankHome, write_delivery: DeliveryWriter, by: str
) -> None:
    two_clients(home, write_delivery, "2025-03")
    write_delivery(home.landing, "de-boog", "2025-02", [trajectory(1, bsn=BSN), trajectory(2)])
    run_pipeline(home, today=TODAY)
    client_1 = pseudonyms_of_client_1(home)
    others = pseudonyms_under(home.key_file, "de-boog", range(2, 4))
    assert in_bytes(home, client_1) == client_1  # the search finds them while they are stored

    assert main(["forget", "--provider", "de-boog", f"--{by}", BSN if by == "bsn" else "C00001"]) == 0
    assert in_bytes(home, client_1) == set()
    assert in_bytes(home, others) == others  # the rewrite kept everyone else
    assert not list(home.warehouse.parent.glob("*.wal")) and not list(home.warehouse.parent.glob("*.rewrite*"))
    tokens = rows(home.warehouse, "SELECT token, provider FROM privacy.erasure_tokens")
    assert tokens and all(t.startswith("ER1-") and provider is None for t, provider in tokens)
    assert not {t for t, _ in tokens} & (client_1 | others)


def test_rotate_key_and_a_run_leave_no_pre_rotation_pseudonym_in_the_warehouse_bytes(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    before_rotation = pseudonyms_under(home.key_file, "de-boog", range(1, 4))
    assert in_bytes(home, before_rotation) == before_rotation

    assert main(["rotate-key"]) == 0
    write_delivery(home.landing, "de-boog", "2025-04", [ended(1, bsn=BSN), ended(2), ended(3), ended(4)])
    run_pipeline(home, today=TODAY)
    after_rotation = pseudonyms_under(home.key_file, "de-boog", range(1, 4))
    assert in_bytes(home, before_rotation) == set()
    assert in_bytes(home, after_rotation) == after_rotation


def excluded_counts(home: DatabankHome, month: str) -> list[tuple]:
    return rows(
        home.warehouse,
        "SELECT excluded_bezwaar, excluded_bezwaar_metingen FROM staging.deliveries "
        f"WHERE provider = 'de-boog' AND month = '{month}' AND is_current",
    )


def test_an_erased_client_stays_out_of_a_correction_a_new_month_and_another_provider(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    """By BSN: re-sent and corrected months, a new month without the BSN (the client number
    carries it) and another provider delivering the BSN all leave the client out, counted."""
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    assert main(["forget", "--provider", "de-boog", "--bsn", BSN]) == 0
    client_1 = pseudonyms_of_client_1(home)

    # March again, corrected with a fourth client; April without the BSN; horizon-jeugd with it.
    write_delivery(
        home.landing, "de-boog", "2025-03",
        [ended(1, bsn=BSN), ended(2), ended(3), ended(4)],
        [m for n in (1, 2, 3, 4) for m in (measurement(n, "start", "05-01-2025", "70"),
                                            measurement(n, "eind", "15-03-2025", "60"))],
    )
    write_delivery(home.landing, "de-boog", "2025-04", [ended(1), ended(2)], [measurement(1, "eind", "15-03-2025", "61")])
    write_delivery(home.landing, "horizon-jeugd", "2025-04", [ended(7, bsn=BSN), ended(8)])
    summary = run_pipeline(home, today=TODAY)
    assert {status for _, _, status in summary.judged} == {"accepted"}

    assert rows(home.warehouse, "SELECT provider, count(*) FROM core.trajectories GROUP BY ALL ORDER BY ALL") == [
        ("de-boog", 3), ("horizon-jeugd", 1)
    ]
    assert excluded_counts(home, "2025-03") == [(1, 2)] and excluded_counts(home, "2025-04") == [(1, 1)]
    horizon = Pseudonymiser(load_key_ring(home.key_file))
    erased_elsewhere = {horizon.local_client("horizon-jeugd", "C00007"), horizon.trajectory("horizon-jeugd", "T00007")}
    assert in_bytes(home, client_1 | erased_elsewhere) == set()
    assert not (client_1 | erased_elsewhere) & set(string_cells(home.warehouse))
    report = (home.report_dir("de-boog", "2025-03") / "rapport.txt").read_text(encoding="utf-8")
    assert "weggelaten omdat de cliënt op verzoek is gewist: 1 trajecten, 2 metingen" in report
    assert BSN not in report and "C00001" not in report


def test_an_erasure_by_clientnummer_blocks_that_providers_number_only(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    assert main(["forget", "--provider", "de-boog", "--clientnummer", "C00001"]) == 0
    write_delivery(home.landing, "de-boog", "2025-04", [ended(1), ended(2)])  # no BSN: the number
    write_delivery(home.landing, "horizon-jeugd", "2025-04", [ended(1, bsn=BSN), ended(8)])
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT provider, count(*) FROM core.trajectories GROUP BY ALL ORDER BY ALL") == [
        ("de-boog", 2), ("horizon-jeugd", 2)
    ]
    assert excluded_counts(home, "2025-04") == [(1, 0)]


def test_forget_replaces_an_objecting_clients_objection_records_by_tokens(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    """Object first, then ask for erasure: the objection's pseudonyms go too, and the client stays
    out of a re-delivered month at that provider."""
    two_clients(home, write_delivery, "2025-03")
    write_delivery(home.landing, "de-boog", "2025-04", [ended(1, bsn=BSN, bezwaar="ja"), ended(2), ended(3)])
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT count(*) FROM privacy.objections") == [(1,)]
    assert main(["forget", "--provider", "de-boog", "--clientnummer", "C00001"]) == 0
    assert rows(home.warehouse, "SELECT count(*) FROM privacy.objections") == [(0,)]
    assert in_bytes(home, pseudonyms_of_client_1(home)) == set()
    assert ("de-boog",) in rows(home.warehouse, "SELECT DISTINCT provider FROM privacy.erasure_tokens")
    two_clients(home, write_delivery, "2025-03", tevredenheid="7")  # new bytes for March
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == [(2,)]
    assert in_bytes(home, pseudonyms_of_client_1(home)) == set()


def test_erasure_tokens_survive_a_key_rotation(home: DatabankHome, write_delivery: DeliveryWriter) -> None:
    two_clients(home, write_delivery, "2025-03")
    run_pipeline(home, today=TODAY)
    assert main(["forget", "--provider", "de-boog", "--bsn", BSN]) == 0
    tokens_before = rows(home.warehouse, "SELECT token FROM privacy.erasure_tokens ORDER BY ALL")
    assert main(["rotate-key"]) == 0
    tokens_after = rows(home.warehouse, "SELECT token FROM privacy.erasure_tokens ORDER BY ALL")
    assert len(tokens_after) == len(tokens_before) and not set(tokens_after) & set(tokens_before)
    two_clients(home, write_delivery, "2025-03", tevredenheid="7")
    run_pipeline(home, today=TODAY)
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == [(2,)]
    assert excluded_counts(home, "2025-03") == [(1, 2)]


def test_forget_by_bsn_removes_the_client_at_every_provider_that_delivered_it(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    two_clients(home, write_delivery, "2025-03")
    write_delivery(home.landing, "horizon-jeugd", "2025-03", [ended(7, bsn=BSN), ended(8)])
    run_pipeline(home, today=TODAY)
    horizon = Pseudonymiser(load_key_ring(home.key_file))
    there = {horizon.local_client("horizon-jeugd", "C00007"), horizon.trajectory("horizon-jeugd", "T00007")}
    assert in_bytes(home, there) == there
    capsys.readouterr()
    assert main(["forget", "--provider", "de-boog", "--bsn", BSN]) == 0
    assert "every provider that delivered the BSN" in capsys.readouterr().out
    assert rows(home.warehouse, "SELECT provider, count(*) FROM core.trajectories GROUP BY ALL ORDER BY ALL") == [
        ("de-boog", 2), ("horizon-jeugd", 1)
    ]
    assert in_bytes(home, there | pseudonyms_of_client_1(home)) == set()
    audit = rows(home.warehouse, "SELECT provider, requested_by, trajectories FROM privacy.erasures")
    assert audit == [("de-boog", "bsn", 2)]

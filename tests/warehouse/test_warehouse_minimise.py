"""A warehouse made before data minimisation (warehouse/minimise.py): it stored calendar dates,
postcode digits and birth years. No build runs on it until the first `databank run` converts it
with the key, in place: the same day numbers a new delivery would get, the old date columns
gone, postcode and birth year dropped as privacy.toml now says, and the same marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.runner import PipelineFailed, rebuild_and_publish, run_pipeline
from pseudonymise.clock import EPOCH, TrajectoryClock
from pseudonymise.keys import load_key_ring
from pseudonymise.pseudonyms import TRAJECTORY, rekey
from tests.builders import DeliveryWriter, measurement, trajectory
from tests.builders import database_rows as rows
from warehouse.home import DatabankHome
from warehouse.minimise import CLOCK_COLUMNS, OLD_DATE_COLUMNS, unconverted_tables

TODAY = dt.date(2026, 11, 25)
EPOCH_SQL = f"DATE '{EPOCH.isoformat()}'"
DAYS_SINCE_START = ("SELECT m.meetmoment, m.score, m.measured_day - t.start_day, t.end_day - t.start_day "
                    "FROM core.measurements m JOIN core.trajectories t USING (provider, trajectory_id) ORDER BY ALL")
CLOCKS = ("SELECT trajectory_id, start_day, end_day FROM core.trajectories ORDER BY ALL",
          "SELECT trajectory_id, measured_day, score FROM staging.measurements ORDER BY ALL")


def make_old(home: DatabankHome) -> None:
    """Turn the warehouse back into what the pipeline stored before minimisation: dates instead
    of months and clock days, with the postcode digits and birth year it then kept."""
    clock = TrajectoryClock(load_key_ring(home.key_file).current)
    con = duckdb.connect(str(home.warehouse))
    try:
        ids = [t for (t,) in con.execute("SELECT DISTINCT trajectory_id FROM staging.trajectories").fetchall()]
        con.register("offsets", pd.DataFrame({"trajectory_id": ids, "o": clock.offsets(ids)}))
        for table, days in CLOCK_COLUMNS.items():
            for old, day in zip(OLD_DATE_COLUMNS[table], days, strict=True):
                con.execute(f"ALTER TABLE {table} ADD COLUMN {old} DATE")
                con.execute(f"UPDATE {table} AS t SET {old} = {EPOCH_SQL} + CAST(t.{day} - offsets.o AS INTEGER) "
                            "FROM offsets WHERE t.trajectory_id = offsets.trajectory_id")
            if table.endswith("trajectories"):
                con.execute(f"UPDATE {table} SET pc4 = '3511', birth_year = 2012")
                days = (*days, "start_month", "end_month")
            for column in days:
                con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    finally:
        con.close()


def convert(home: DatabankHome, command: str, tmp_path: Path) -> None:
    """Each command that holds the key converts the warehouse before anything else."""
    from pipelines.cli import main

    if command == "run":
        assert run_pipeline(home, today=TODAY).judged == []  # nothing new: it converts (and rebuilds)
    elif command == "extract":
        privacy = home.config_dir / "privacy.toml"  # three clients: let them through the gate
        privacy.write_text(privacy.read_text(encoding="utf-8").replace("\nk = 5\n", "\nk = 2\n"), encoding="utf-8")
        assert main(["extract", "--scope", "test", "--out", str(tmp_path / "extract")]) == 0
    else:
        assert main([command]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "extract", "rotate-key"])
def test_an_old_warehouse_is_converted_once_with_the_same_days_and_marts(
    home: DatabankHome, write_delivery: DeliveryWriter, command: str, tmp_path: Path
) -> None:
    ended = {"einddatum": "20-03-2025", "reden_einde": "1"}
    write_delivery(home.landing, "de-boog", "2025-03",
                   [trajectory(n, startdatum=f"0{n}-01-2025", **ended) for n in range(1, 4)],
                   [m for n in range(1, 4) for m in (measurement(n, "start", f"1{n}-01-2025", str(70 + n)),
                                                     measurement(n, "eind", f"1{n}-03-2025", "60"))])
    run_pipeline(home, today=TODAY)
    clocks = [rows(home.warehouse, sql) for sql in CLOCKS]
    days = rows(home.warehouse, DAYS_SINCE_START)
    marts = rows(home.publication, "SELECT * FROM mart.outcome_scores ORDER BY ALL")

    make_old(home)
    assert rows(home.warehouse, "SELECT DISTINCT startdatum, pc4 FROM core.trajectories ORDER BY 1")[0] == (
        dt.date(2025, 1, 1), "3511")
    with pytest.raises(PipelineFailed):  # no build on calendar dates: periods would be empty
        rebuild_and_publish(home)

    convert(home, command, tmp_path)

    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert unconverted_tables(con) == []
    finally:
        con.close()
    if command == "rotate-key":  # converted on the old key's clock, then moved to the new key's
        old, new = load_key_ring(home.key_file).keys
        moved = {t: rekey(new, TRAJECTORY, t) for t, _, _ in clocks[0]}
        shift = {t: TrajectoryClock(new).offset(moved[t]) - TrajectoryClock(old).offset(t) for t in moved}
        clocks[0] = sorted((moved[t], start + shift[t], end + shift[t]) for t, start, end in clocks[0])
        clocks[1] = sorted((moved[t], day + shift[t], score) for t, day, score in clocks[1])
    assert [rows(home.warehouse, sql) for sql in CLOCKS] == clocks
    assert rows(home.warehouse, DAYS_SINCE_START) == days
    assert rows(home.warehouse, "SELECT DISTINCT start_month, end_month, pc4, birth_year FROM staging.trajectories") == [
        (dt.date(2025, 1, 1), dt.date(2025, 3, 1), None, None)]
    rebuild_and_publish(home)
    assert rows(home.publication, "SELECT * FROM mart.outcome_scores ORDER BY ALL") == marts
    assert run_pipeline(home, today=TODAY).up_to_date  # converted once: nothing left to do

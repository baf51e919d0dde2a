"""Warehouses made before data minimisation stored calendar dates, the postcode digits and the
birth year. Their rows are converted once, in place, to what pseudonymise/minimise.py stores
today: the same published figures (the clock keeps every difference between a trajectory's dates
exactly), without the dates themselves. The clock needs the key, so the conversion runs where the
key is checked: `databank run`, the daemon's read step, `databank extract` and `rotate-key`
(before it re-keys). A build refuses to run on unconverted rows: periods and pairs would be empty.

One transaction: the new columns are filled from the old ones, the postcode and birth year kept
only as privacy.toml now says, and the old date columns dropped. DuckDB keeps freed pages in the
file until the file is rewritten (stack notes), so the old values' bytes stay in it until then;
PRIVACY.md §1 says so."""

from __future__ import annotations

import duckdb
import pandas as pd

from pseudonymise.clock import EPOCH, TrajectoryClock
from schemas.anonymity import AnonymityConfig
from warehouse.connection import transaction
from warehouse.sql import execute

# The date columns of the old representation, per table that had them.
OLD_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "intake.trajectories": ("startdatum", "einddatum"),
    "staging.trajectories": ("startdatum", "einddatum"),
    "core.trajectories": ("startdatum", "einddatum"),
    "intake.measurements": ("datum",),
    "staging.measurements": ("datum",),
    "core.measurements": ("datum",),
}


# Every column holding a day on a trajectory's clock: rotation moves them with the pseudonym.
CLOCK_COLUMNS: dict[str, tuple[str, ...]] = {
    "intake.trajectories": ("start_day", "end_day"),
    "staging.trajectories": ("start_day", "end_day"),
    "core.trajectories": ("start_day", "end_day"),
    "intake.measurements": ("measured_day",),
    "staging.measurements": ("measured_day",),
    "core.measurements": ("measured_day",),
}


class UnconvertedWarehouse(Exception):
    """A build asked for on rows still in the old representation."""

    def __init__(self, tables: list[str]) -> None:
        super().__init__(
            f"the warehouse still stores calendar dates in {', '.join(tables)} (made before data "
            "minimisation); run `databank run` once: it converts them with the key and rebuilds"
        )


def unconverted_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables that still have a column of the old representation."""
    present = {
        f"{schema}.{table}"
        for schema, table, column in execute(
            con, "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        )
        if column in ("startdatum", "einddatum", "datum")
    }
    return [table for table in OLD_DATE_COLUMNS if table in present]


def ensure_converted(con: duckdb.DuckDBPyConnection) -> None:
    """For the build: stop with a message rather than build marts from empty periods."""
    tables = unconverted_tables(con)
    if tables:
        raise UnconvertedWarehouse(tables)


def _pc4(level: str) -> str:
    return {"none": "NULL", "pc2": "left(pc4, 2)", "pc4": "pc4"}[level]


def convert_old_rows(con: duckdb.DuckDBPyConnection, clock: TrajectoryClock, config: AnonymityConfig) -> int:
    """Convert every table still in the old representation; the number of rows converted (0 when
    there was nothing to do, which is a cheap catalogue query)."""
    tables = unconverted_tables(con)
    if not tables:
        return 0
    unit = "month" if config.dates == "month" else "year"
    epoch = f"DATE '{EPOCH.isoformat()}'"
    with transaction(con):
        union = " UNION ".join(f"SELECT trajectory_id FROM {table}" for table in tables)
        ids = [t for (t,) in execute(con, f"SELECT DISTINCT trajectory_id FROM ({union}) WHERE trajectory_id IS NOT NULL")]
        con.register("clock_offsets", pd.DataFrame({"trajectory_id": ids, "clock_offset": clock.offsets(ids)}))
        converted = 0
        try:
            for table in tables:
                converted += execute(con, f"SELECT count(*) FROM {table}")[0][0]
                if table.endswith("trajectories"):
                    execute(con, f"""
                        UPDATE {table} AS t SET
                            start_month = date_trunc('{unit}', t.startdatum),
                            end_month = date_trunc('{unit}', t.einddatum),
                            start_day = datediff('day', {epoch}, t.startdatum) + o.clock_offset,
                            end_day = datediff('day', {epoch}, t.einddatum) + o.clock_offset,
                            pc4 = {_pc4(config.pc4)},
                            birth_year = {"NULL" if config.birth_year == "none" else "birth_year"}
                        FROM clock_offsets AS o WHERE t.trajectory_id = o.trajectory_id""")
                else:
                    execute(con, f"""
                        UPDATE {table} AS m SET measured_day = datediff('day', {epoch}, m.datum) + o.clock_offset
                        FROM clock_offsets AS o WHERE m.trajectory_id = o.trajectory_id""")
                for column in OLD_DATE_COLUMNS[table]:
                    execute(con, f"ALTER TABLE {table} DROP COLUMN {column}")
        finally:
            con.unregister("clock_offsets")
    if "core.measurements" in tables:  # as a new warehouse has it; DuckDB refuses this beside updates
        execute(con, "ALTER TABLE core.measurements ALTER COLUMN measured_day SET NOT NULL")
    return converted

"""k-anonymity of the warehouse as a whole: the quasi-identifiers of `core.trajectories` (the
latest state of every trajectory), measured as stored. Deliveries read under an earlier
generalisation keep theirs, so this is the warehouse's actual exposure, mixed or not. Only the
counts of `schemas.anonymity` leave this module."""

from __future__ import annotations

import duckdb

from schemas.anonymity import AnonymityConfig, AnonymityReport, anonymity_report
from warehouse.sql import load_sql

SCOPE = "warehouse"


def warehouse_anonymity(con: duckdb.DuckDBPyConnection, config: AnonymityConfig) -> AnonymityReport:
    frame = con.execute(load_sql("anonymity_quasi_identifiers")).df()
    return anonymity_report(frame, config, SCOPE)

"""Dagster's SQLite event log with its engines kept (dagster.yaml `event_log_storage`).

Why: Dagster 1.13's `SqliteEventLogStorage._connect` creates a new SQLAlchemy engine with
`NullPool` for every event it stores, so each event builds an engine, opens the run's database
file, commits with a full sync and closes it; an asset event then does the same again in the
cross-run index (`index.db`). Measured here: ~20 ms an event, 1-2 s of every in-process run
(`databank run` makes one per box of deliveries plus the rebuild), and the same in the daemon's
runs. This class keeps one engine per database file (the index and the few most recent runs);
the index's connections stay open in a pool, a run's own file is still opened and closed per
event (closing checkpoints the WAL into `<run>.db`, and that file's change is what the UI's
live view of a run watches for: tests/pipelines/test_dagster_storage.py). Commits use
`synchronous=NORMAL`, which in WAL mode (Dagster's setting) keeps every committed event through
a crash of the process and can lose only the last events at a power failure: the warehouse's
own ledger, not Dagster's event log, decides what was processed.

The files, their schema and their WAL mode are Dagster's own: the daemon, the UI and
`databank run` all load this same class from dagster.yaml, and an older home's event logs are
read as they are. Written against the installed dagster 1.13.27 (pinned in requirements.lock);
it overrides `_connect`, the one place that opens connections, plus `wipe` and `dispose`."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# Engines kept: the index and the runs being written. A long-lived process (the daemon) touches
# many runs; older engines are disposed so they do not pile up.
OPEN_ENGINES = 8


def default_event_log_dir() -> str:
    """Where Dagster keeps a SQLite instance's event logs: $DAGSTER_HOME/history/runs."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("DAGSTER_HOME is not set: the event log has no place to live")
    return os.path.join(home, "history", "runs", "")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose connections are pooled per database file (see the module)."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir or default_event_log_dir(), inst_data)

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                # a run's own file is closed after every event, as Dagster does: closing checkpoints
                # the WAL into <run>.db, whose change is what the UI's live log view watches for
                **({} if shard == INDEX_SHARD_NAME else {"poolclass": NullPool}),
            )
            event.listen(engine, "connect", _fast_commits)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_ENGINES:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the run files are deleted: no connection may keep them
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _fast_commits(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()

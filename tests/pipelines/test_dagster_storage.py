"""The home's Dagster event log (pipelines/dagster_storage.py, named in dagster.yaml): Dagster's
own SQLite files under $DAGSTER_HOME/history/runs, written through engines that are kept, and
still a run's file changes with every event, which is what the UI's live view of a run watches."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.dagster_storage import PooledSqliteEventLogStorage
from tests.builders import make_home


@dg.asset
def tiny() -> None:
    """Nothing but events."""


def test_a_homes_event_log_is_pooled_in_dagsters_place_and_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(home.dagster_home))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        first = dg.materialize([tiny], instance=instance)
        second = dg.materialize([tiny], instance=instance)
        assert first.success and second.success
        latest = instance.get_latest_materialization_event(dg.AssetKey("tiny"))
        assert latest is not None and latest.run_id == second.run_id
        assert (home.dagster_home / "history" / "runs" / f"{second.run_id}.db").is_file()
        assert (home.dagster_home / "history" / "runs" / "index.db").is_file()

        seen: list[str] = []
        def saw(entry: dg.EventLogEntry, _cursor: str) -> None:
            seen.append(entry.dagster_event.message if entry.dagster_event else entry.user_message)

        storage.watch(first.run_id, None, saw)
        try:
            run = instance.get_run_by_id(first.run_id)
            instance.report_engine_event("looked at again", run)
            deadline = time.monotonic() + 10
            while "looked at again" not in seen and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            storage.end_watch(first.run_id, saw)
        assert "looked at again" in seen  # the watcher saw the run's file change

    # another process (the UI, the daemon) reads the same files with Dagster's own class
    plain = dg.DagsterInstance.from_config(str(home.dagster_home))
    assert plain.get_latest_materialization_event(dg.AssetKey("tiny")).run_id == second.run_id

"""Killing a real `databank run` (SIGKILL) at many points of every stage leaves the last good
state: the published copy always opens whole, and the next run yields exactly the marts of an
uninterrupted run. The points are the named crash points the code passes (warehouse/crash.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from tests.builders import (
    METINGEN_HEADER,
    TRAJECTEN_HEADER,
    make_home,
    measurement,
    render_csv,
    trajectory,
)

DATABANK = str(Path(sys.executable).with_name("databank"))
MART_QUERIES = (
    "SELECT * EXCLUDE (suppression_reason) FROM mart.outcome_scores ORDER BY ALL",
    "SELECT * FROM mart.trajectory_indicators ORDER BY ALL",
    "SELECT organisation, month, status FROM mart.deliveries ORDER BY ALL",
)


def write(home_landing: Path, provider: str, month: str, trajecten: list, metingen: list) -> None:
    folder = home_landing / provider / month
    folder.mkdir(parents=True)
    (folder / "trajecten.csv").write_text(render_csv(TRAJECTEN_HEADER, trajecten), encoding="utf-8")
    (folder / "metingen.csv").write_text(render_csv(METINGEN_HEADER, metingen), encoding="utf-8")
    for path in folder.iterdir():
        os.utime(path, (1_700_000_000, 1_700_000_000))


def databank_run(home: Path, *command: str, **env: str) -> subprocess.CompletedProcess:
    """`databank run` (or the command given). Output to files, not pipes, in a session of its own:
    after a SIGKILL, a helper process Dagster started for log capture may still hold inherited
    pipes; the group is ended too."""
    out_path, err_path = home.parent / f"{home.name}.out", home.parent / f"{home.name}.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [DATABANK, *(command or ("run",))], stdout=out, stderr=err, start_new_session=True,
            env={**os.environ, "DATABANK_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), **env},
        )
        try:
            returncode = process.wait(timeout=300)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return subprocess.CompletedProcess(
        process.args, returncode, out_path.read_text(encoding="utf-8"), err_path.read_text(encoding="utf-8")
    )


def published(home: Path) -> tuple[list, ...]:
    con = duckdb.connect(str(home / "publish" / "analyst.duckdb"), read_only=True)
    try:
        return tuple(con.execute(q).fetchall() for q in MART_QUERIES)
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one month processed and published, and three deliveries waiting."""
    root = tmp_path_factory.mktemp("crash")
    home = make_home(root / "template", k=1, retention="delete")
    write(home.landing, "de-boog", "2025-02", [trajectory(n) for n in range(1, 6)],
          [measurement(n, "start", "05-01-2025", "70") for n in range(1, 6)])
    assert databank_run(home.root).returncode == 0
    write(home.landing, "de-boog", "2025-03",
          [trajectory(n, einddatum="20-03-2025", reden_einde="1") for n in range(1, 6)] + [trajectory(9, geslacht="Q")],
          [measurement(n, "eind", "15-03-2025", "60") for n in range(1, 6)])
    write(home.landing, "de-boog", "2025-01", [trajectory(n) for n in range(1, 4)], [])
    write(home.landing, "horizon-jeugd", "2025-03",
          [trajectory(n, einddatum="20-03-2025", reden_einde="2") for n in range(1, 4)],
          [m for n in range(1, 4) for m in (measurement(n, "start", "05-01-2025", "66"),
                                            measurement(n, "eind", "15-03-2025", "50"))])
    return home.root


@pytest.fixture(scope="module")
def reference(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple, list[str]]:
    """The uninterrupted run: its published marts and the crash points it passes, in order."""
    home = tmp_path_factory.mktemp("reference") / "home"
    shutil.copytree(template, home)
    trace = home.parent / "trace"
    assert databank_run(home, DATABANK_CRASH_TRACE=str(trace)).returncode == 0
    return published(home), trace.read_text(encoding="utf-8").split()


def chosen_points(points: list[str]) -> list[int]:
    """Every distinct point once, then more occurrences up to at least 20 kills (1-based)."""
    first = [points.index(name) + 1 for name in dict.fromkeys(points)]
    rest = [i for i in range(1, len(points) + 1) if i not in first]
    return sorted(first + rest[: max(0, 20 - len(first))])


def test_crash_points_cover_every_stage(reference: tuple[tuple, list[str]]) -> None:
    _, points = reference
    stages = {name.split(":")[0] for name in points}
    assert stages >= {"run", "read", "intake", "stage", "build", "quality", "publish"}
    assert len(chosen_points(points)) >= 20


def test_sigkill_at_every_point_then_rerun_gives_the_uninterrupted_marts(
    template: Path, reference: tuple[tuple, list[str]], tmp_path: Path
) -> None:
    marts, points = reference
    before = published(template)

    def kill_and_recover(point: int) -> str | None:
        home = tmp_path / f"home-{point}"
        shutil.copytree(template, home)
        killed = databank_run(home, DATABANK_CRASH_AT=str(point))
        if killed.returncode != -signal.SIGKILL:
            return f"point {point} ({points[point - 1]}): not killed (rc {killed.returncode})"
        if "Traceback" in killed.stdout + killed.stderr:
            return f"point {point}: traceback before the kill"
        state = published(home)  # must open, and be the old build or the new one, whole
        if state not in (before, marts):
            return f"point {point} ({points[point - 1]}): published copy is neither build"
        rerun = databank_run(home)
        if rerun.returncode != 0:
            return f"point {point} ({points[point - 1]}): rerun failed: {rerun.stderr[-500:]}"
        if published(home) != marts:
            return f"point {point} ({points[point - 1]}): marts differ from the uninterrupted run"
        leftovers = [p.name for p in (home / "landing").rglob("*") if p.is_file()]
        if leftovers:
            return f"point {point} ({points[point - 1]}): landing files left: {leftovers}"
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for p in pool.map(kill_and_recover, chosen_points(points)) if p]
    assert problems == []


BSN = "725763863"


@pytest.fixture(scope="module")
def erasure_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one month processed and published; client 1 has a BSN."""
    home = make_home(tmp_path_factory.mktemp("erasure") / "template", k=1)
    write(home.landing, "de-boog", "2025-03",
          [trajectory(1, bsn=BSN), *(trajectory(n) for n in range(2, 5))],
          [measurement(n, "start", "05-01-2025", "70") for n in range(1, 5)])
    assert databank_run(home.root).returncode == 0
    return home.root


def test_sigkill_while_the_warehouse_is_rewritten_after_forget_keeps_the_last_good_state(
    erasure_template: Path, tmp_path: Path
) -> None:
    """Killed at each point of the rewrite (warehouse/rewrite.py), `forget` leaves a warehouse
    that opens and is either the file before the rewrite or the rewritten one, with the erasure
    committed; the next command finishes the owed rewrite, after which the file's bytes hold none
    of the client's pseudonyms and no temporary file or marker is left."""
    from pseudonymise.keys import load_key_ring
    from pseudonymise.pseudonyms import Pseudonymiser
    from tests.builders import string_cells

    forget = ("forget", "--provider", "de-boog", "--bsn", BSN)
    ring = load_key_ring(erasure_template / "secrets" / "pseudonym.key")
    p = Pseudonymiser(ring)
    client = {p.client("de-boog", "", BSN), p.local_client("de-boog", "C00001"), p.trajectory("de-boog", "T00001")}
    traced = tmp_path / "traced"
    shutil.copytree(erasure_template, traced)
    trace = tmp_path / "trace"
    assert databank_run(traced, *forget, DATABANK_CRASH_TRACE=str(trace)).returncode == 0
    points = trace.read_text(encoding="utf-8").split()
    rewrite_points = [i + 1 for i, name in enumerate(points) if name.startswith("rewrite:")]
    assert [points[i - 1] for i in rewrite_points] == ["rewrite:copied", "rewrite:synced", "rewrite:replaced"]

    def raw(home: Path) -> bytes:
        return b"".join(f.read_bytes() for f in (home / "warehouse").iterdir() if f.is_file())

    assert all(value.encode() in raw(erasure_template) for value in client)
    for point in rewrite_points:
        home = tmp_path / f"home-{point}"
        shutil.copytree(erasure_template, home)
        killed = databank_run(home, *forget, DATABANK_CRASH_AT=str(point))
        assert killed.returncode == -signal.SIGKILL, points[point - 1]
        warehouse = home / "warehouse" / "databank.duckdb"
        assert not client & set(string_cells(warehouse)), points[point - 1]  # the erasure committed
        assert (home / "warehouse" / "databank.duckdb.rewrite").exists(), points[point - 1]
        assert databank_run(home).returncode == 0, points[point - 1]
        assert not [v for v in client if v.encode() in raw(home)], points[point - 1]
        assert sorted(f.name for f in (home / "warehouse").iterdir()) == ["databank.duckdb", "databank.duckdb.lock"]
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM core.trajectories").fetchall() == [(3,)]
        finally:
            con.close()

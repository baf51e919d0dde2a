"""Permissions of the home end to end (issue 12, item 6): whatever the umask the command starts
with, the restricted parts are their owner's only and the published copy is readable by the
group and nobody else; a home from before is tightened by the next run; a key that others can
read or write stops every command that reads it, saying which `chmod` to run."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from assets.deliveries import pseudonymised_delivery
from assets.partitions import delivery_partition_key, provider_partitions
from assets.resources import HomeResource, KeyResource
from pipelines.cli import main
from tests.builders import DeliveryWriter, measurement, outcomes_only_extract_scope, trajectory
from tests.builders import database_rows as rows
from warehouse.home import DatabankHome

BSN = "725763863"
RESTRICTED = ("warehouse", "reports", "dagster", "secrets")


@pytest.fixture
def restore_umask() -> Iterator[None]:
    """Commands set the process umask; each test here sets its own and the suite gets its back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def modes_under(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder.parent)): mode(p) for p in [folder, *folder.rglob("*")]}


def wrong_modes(home: DatabankHome) -> list[str]:
    """Every file or folder whose mode breaks the rule, with its mode, for a readable failure."""
    wrong = []
    for part in RESTRICTED:
        for name, bits in modes_under(home.root / part).items():
            expected = 0o700 if (home.root / name).is_dir() else 0o600
            if bits != expected:
                wrong.append(f"{name} {bits:o} (want {expected:o})")
    for name, bits in modes_under(home.root / "publish").items():
        expected = 0o750 if (home.root / name).is_dir() else 0o640
        if bits != expected:
            wrong.append(f"{name} {bits:o} (want {expected:o})")
    return wrong


def deliver(home: DatabankHome, write_delivery: DeliveryWriter, month: str) -> None:
    write_delivery(
        home.landing, "de-boog", month,
        # six clients: an extract's k-anonymity gate (k = 5) needs at least five
        [trajectory(1, bsn=BSN), *(trajectory(n) for n in range(2, 7))],
        [measurement(n, "start", "05-01-2025", "70") for n in range(1, 7)],
    )


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_run_writes_restricted_parts_owner_only_and_the_publication_for_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_delivery: DeliveryWriter,
    restore_umask: None, umask: int,
) -> None:
    from tests.builders import make_home

    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    os.umask(umask)
    assert main(["keygen"]) == 0
    assert mode(tmp_path / "home") == 0o750
    assert mode(tmp_path / "home" / "secrets") == 0o700
    assert mode(tmp_path / "home" / "secrets" / "pseudonym.key") == 0o600
    home = make_home(tmp_path / "home", k=1, with_key=False)
    deliver(home, write_delivery, "2025-03")

    os.umask(umask)
    assert main(["run"]) == 0
    assert (home.root / "publish" / "analyst.duckdb").is_file()
    assert (home.root / "publish" / "dashboard" / "index.html").is_file()
    assert (home.root / "publish" / "data-dictionary.md").is_file()
    assert any((home.root / "dagster").rglob("*.db"))  # Dagster's own storage is covered too
    assert wrong_modes(home) == []
    assert mode(home.landing) == 0o700 and mode(home.root) == 0o750

    os.umask(umask)
    outcomes_only_extract_scope(home, "onderzoek-a")  # a small consortium
    assert main(["extract", "--scope", "onderzoek-a", "--out", str(tmp_path / "extract")]) == 0
    extract = [tmp_path / "extract", *(tmp_path / "extract").iterdir()]
    assert len(extract) > 2 and {mode(p) for p in extract} == {0o700, 0o600}


def test_the_next_run_tightens_a_home_written_under_an_open_umask(
    home: DatabankHome, write_delivery: DeliveryWriter, restore_umask: None
) -> None:
    """A home from before this rule: everything readable by all (0644 files, 0755 folders)."""
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    for part in ("warehouse", "reports", "dagster", "publish"):
        for path in [home.root / part, *(home.root / part).rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert len(wrong_modes(home)) > 10  # the check sees them
    # The consortium's own choices for the home folder, the drop-off and the configuration stay.
    home.root.chmod(0o755)
    home.landing.chmod(0o770)
    home.config_dir.chmod(0o750)
    deliver(home, write_delivery, "2025-04")
    os.umask(0o022)
    assert main(["run"]) == 0
    assert wrong_modes(home) == []
    assert (mode(home.root), mode(home.landing), mode(home.config_dir)) == (0o755, 0o770, 0o750)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_preparing_the_home_or_loading_the_definitions_makes_the_process_write_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_umask: None, umask: int
) -> None:
    """`databank dev` prepares the home before it starts `dagster dev`, whose daemon, webserver and
    run processes inherit the umask; a run the daemon starts also loads the definitions."""
    from pipelines.definitions import build_definitions

    os.umask(umask)
    DatabankHome(tmp_path / "home").prepare()
    assert os.umask(umask) == 0o077
    build_definitions(DatabankHome(tmp_path / "home"))
    assert os.umask(umask) == 0o077


COMMANDS = {
    "run": ["run"],
    "forget": ["forget", "--provider", "de-boog", "--bsn", BSN],
    "rotate-key": ["rotate-key"],
    "extract": ["extract", "--scope", "onderzoek-a", "--out", "{out}"],
}


@pytest.mark.parametrize(
    ("folder_mode", "file_mode", "advice"),
    [
        (0o777, 0o600, "chmod 700 {folder}"),
        (0o750, 0o600, "chmod 700 {folder}"),
        (0o700, 0o640, "chmod 600 {file}"),
        (0o755, 0o666, "chmod 700 {folder} && chmod 600 {file}"),
    ],
)
def test_every_command_that_reads_the_key_refuses_a_key_others_can_read_or_write(
    home: DatabankHome, write_delivery: DeliveryWriter, tmp_path: Path, capsys: pytest.CaptureFixture,
    folder_mode: int, file_mode: int, advice: str,
) -> None:
    deliver(home, write_delivery, "2025-03")
    assert main(["run"]) == 0
    count = rows(home.warehouse, "SELECT count(*) FROM core.trajectories")
    folder, key = home.key_file.parent, home.key_file
    folder.chmod(folder_mode)
    key.chmod(file_mode)
    expected = advice.format(folder=shlex.quote(str(folder)), file=shlex.quote(str(key)))
    capsys.readouterr()
    for name, argv in COMMANDS.items():
        assert main([a.format(out=tmp_path / "extract") for a in argv]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith(f"databank {name}: ") and f"`{expected}`" in err, err
        assert "refusing to use the key" in err
    assert not (tmp_path / "extract").exists()
    assert rows(home.warehouse, "SELECT count(*) FROM core.trajectories") == count
    assert rows(home.warehouse, "SELECT count(*) FROM privacy.erasures") == [(0,)]

    # Following the advice is enough.
    folder.chmod(0o700)
    key.chmod(0o600)
    assert main(["run"]) == 0


def test_the_daemons_read_step_refuses_a_key_folder_others_can_enter(
    home: DatabankHome, write_delivery: DeliveryWriter
) -> None:
    deliver(home, write_delivery, "2025-03")
    home.key_file.parent.chmod(0o777)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(provider_partitions.name, ["de-boog"])
        result = dg.materialize(
            [pseudonymised_delivery],
            partition_key=str(delivery_partition_key("de-boog", "2025-03")),
            resources={"home": HomeResource(root=str(home.root)), "key": KeyResource(key_file=str(home.key_file))},
            instance=instance,
            raise_on_error=False,
            tags={"databank/today": dt.date(2026, 11, 25).isoformat()},
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert f"chmod 700 {shlex.quote(str(home.key_file.parent))}" in failure.step_failure_data.error.to_string()
    assert rows(home.warehouse, "SELECT count(*) FROM staging.deliveries") == [(0,)]

"""The `databank` command line: exit statuses and messages of interfaces.md, never a traceback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from schemas.config import install_default_config
from tests.builders import COMMAND_DAY, DeliveryWriter, trajectory
from warehouse.home import DatabankHome

DATABANK = str(Path(sys.executable).with_name("databank"))


def test_keygen_writes_owner_only_key_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    assert main(["keygen"]) == 0
    key_file = tmp_path / "h" / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    before = key_file.read_bytes()
    capsys.readouterr()
    assert main(["keygen"]) != 0
    assert "refusing to overwrite" in capsys.readouterr().err
    assert key_file.read_bytes() == before


def test_keygen_honours_databank_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("DATABANK_KEY_FILE", str(tmp_path / "elsewhere" / "consortium.key"))
    assert main(["keygen"]) == 0
    assert (tmp_path / "elsewhere" / "consortium.key").is_file()
    assert not (tmp_path / "h" / "secrets").exists()


def test_check_exit_statuses_accepted_rejected_cannot_run(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    good = write_delivery(home.landing, "de-boog", "2025-03", [trajectory(n) for n in range(1, 5)])
    assert main(["check", str(good)]) == 0
    assert "GEACCEPTEERD" in capsys.readouterr().out
    bad = write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1)])
    (bad / "metingen.csv").unlink()
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "AFGEWEZEN" in out and "FILE_TABLE_MISSING" in out
    assert main(["check", str(home.landing / "de-boog" / "2099-01-missing")]) == 2
    assert main(["check", str(good), "--config", str(home.root / "no-such-config")]) == 2
    assert "consortium.toml" in capsys.readouterr().err


def test_check_needs_no_key_and_loads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_delivery: DeliveryWriter,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.setenv("DATABANK_HOME", str(tmp_path / "steward"))
    monkeypatch.delenv("DATABANK_KEY_FILE", raising=False)
    folder = write_delivery(tmp_path / "export", "de-boog", "2025-03", [trajectory(1)])
    assert main(["check", str(folder), "--report", str(tmp_path / "rapport")]) == 0
    assert "shipped default configuration" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "rapport").iterdir()) == [
        "bevindingen.csv", "kwaliteit.html", "kwaliteit.json", "rapport.html", "rapport.txt"
    ]
    assert not (tmp_path / "steward").exists()


def test_malformed_configuration_names_file_and_line(
    home: DatabankHome, capsys: pytest.CaptureFixture
) -> None:
    (home.config_dir / "instruments.csv").write_text(
        "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\nCBCL,totaal,24,100,misschien,10,0.94,64\n",
        encoding="utf-8",
    )
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "instruments.csv, line 2" in err and "higher_is_worse" in err
    assert "Traceback" not in err


def test_console_script_runs_without_traceback(home: DatabankHome) -> None:
    result = subprocess.run(
        [DATABANK, "check", str(home.root / "nowhere")],
        capture_output=True, text=True, env={**os.environ, "DATABANK_HOME": str(home.root)}, timeout=120,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_status_on_a_warehouse_from_an_older_version_says_how_to_upgrade(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    import duckdb

    from pipelines.runner import run_pipeline

    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    run_pipeline(home, COMMAND_DAY)
    con = duckdb.connect(str(home.warehouse))
    con.execute("DROP TABLE staging.builds").fetchall()  # as a warehouse made before builds existed
    con.close()
    home.publication.unlink()
    capsys.readouterr()
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "older version" in err and "databank run" in err and "Traceback" not in err
    assert main(["run"]) == 0  # the run upgrades the warehouse in place
    assert main(["status"]) == 0


def test_check_with_a_config_folder_of_only_some_files_uses_shipped_defaults_for_the_rest(
    home: DatabankHome, tmp_path: Path, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    given = tmp_path / "given-config"
    given.mkdir()
    for name in ("consortium.toml", "instruments.csv"):
        (given / name).write_bytes((home.config_dir / name).read_bytes())
    good = write_delivery(tmp_path / "export", "de-boog", "2025-03", [trajectory(n) for n in range(1, 5)])
    assert main(["check", str(good), "--config", str(given)]) == 0
    out = capsys.readouterr().out
    assert "GEACCEPTEERD" in out
    notes = [line for line in out.splitlines() if "shipped defaults" in line]
    assert len(notes) == 1 and "quality.toml not in" in notes[0] and str(given) in notes[0]
    assert sorted(p.name for p in given.iterdir()) == ["consortium.toml", "instruments.csv"]
    assert main(["check", str(good)]) == 0  # the home's complete folder: nothing to say
    assert "shipped defaults" not in capsys.readouterr().out


def test_run_on_a_home_lacking_config_files_uses_shipped_defaults_and_says_so_once(
    home: DatabankHome, write_delivery: DeliveryWriter, capsys: pytest.CaptureFixture
) -> None:
    """As a home made by an earlier version, before quality.toml and instruments.csv shipped."""
    for name in ("quality.toml", "instruments.csv"):
        (home.config_dir / name).unlink()
    write_delivery(home.landing, "de-boog", "2025-03", [trajectory(1)])
    bad = write_delivery(home.landing, "de-boog", "2025-04", [trajectory(1)])
    (bad / "metingen.csv").unlink()
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if "shipped defaults" in line]
    assert len(notes) == 1 and "instruments.csv, quality.toml not in" in notes[0], out
    assert "de-boog 2025-03: accepted" in out and "de-boog 2025-04: rejected" in out, out
    assert not (home.config_dir / "quality.toml").exists()  # the consortium's folder is left alone
    # The shipped files copied in unchanged are the same configuration: the rejected delivery is
    # not judged again, and nothing is said about defaults any more.
    install_default_config(home.config_dir)
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "1 unchanged, 1 rejected before, waiting for a configuration change" in out, out
    assert ": accepted" not in out and ": rejected" not in out and "shipped defaults" not in out, out

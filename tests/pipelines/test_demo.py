"""The demo's deliveries are irregular as real consortia's are (issue 11): checked on the files,
without running the pipeline (the differential test does that)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from pipelines.demo import consortium_toml, make_irregular
from pipelines.synthetic import DEFAULT_INTERVENTIONS, DEFAULT_PROVIDERS, write_synthetic_consortium
from schemas.config import load_config

MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08")


def test_make_irregular_leaves_out_holds_back_and_converts(tmp_path: Path) -> None:
    landing, held_back = tmp_path / "landing", tmp_path / "held-back"
    consortium = write_synthetic_consortium(landing, months=MONTHS, trajectories_per_provider=30)
    codes = list(consortium.providers)
    irregular = make_irregular(landing, held_back, consortium)

    assert irregular.never == ((codes[3], "2025-03"), (codes[3], "2025-04"), (codes[2], "2025-06"))
    assert irregular.late == ((codes[1], "2025-06"),)
    assert irregular.workbooks == ((codes[1], "2025-07"),)
    present = {(p.parent.name, p.name) for p in landing.glob("*/*")}
    grid = {(c, m) for c in codes for m in MONTHS}
    assert present == grid - set(irregular.never) - set(irregular.late)
    assert (held_back / codes[1] / "2025-06" / "trajecten.csv").is_file()
    workbook_folder = landing / codes[1] / "2025-07"
    assert sorted(p.name for p in workbook_folder.iterdir()) == ["export.xlsx"]
    book = load_workbook(workbook_folder / "export.xlsx", read_only=True)
    assert book.sheetnames == ["trajecten", "metingen"]
    [delivery] = [d for d in consortium.deliveries if (d.provider, d.month) == (codes[1], "2025-07")]
    assert book["trajecten"].max_row == delivery.n_trajecten + 1
    assert book["metingen"].max_row == delivery.n_metingen + 1


def test_the_demo_configuration_registers_the_teams_but_one(tmp_path: Path) -> None:
    consortium = write_synthetic_consortium(tmp_path / "landing", months=MONTHS[:2], trajectories_per_provider=20)
    (tmp_path / "consortium.toml").write_text(
        consortium_toml(DEFAULT_PROVIDERS, DEFAULT_INTERVENTIONS, consortium.teams), encoding="utf-8"
    )
    config = load_config(tmp_path)  # instruments.csv and the rest: the shipped defaults
    assert {p: r.names for p, r in config.teams.items()} == consortium.teams
    provider, team = consortium.unregistered_team
    assert config.teams[provider].code_for(team) is None

"""Header spelling variants and the per-provider column mapping (consortium.toml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pseudonymise.keys import throwaway_key
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read_step import inspect_delivery
from schemas.config import ConfigError, load_config
from schemas.delivery import canonical_header, resolve_header
from tests.builders import METINGEN_HEADER, TRAJECTEN_HEADER, measurement, render_csv, trajectory

CONSORTIUM = """
[providers]
de-boog = "De Boog"
horizon-jeugd = "Horizon"

[interventions]
MST = "Multisysteemtherapie"

[column_mapping.de-boog]
"Cliëntnr" = "clientnummer"
"Geboortedat." = "geboortedatum"
"""


def config_dir(tmp_path: Path, consortium: str = CONSORTIUM) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "consortium.toml").write_text(consortium, encoding="utf-8")
    (folder / "instruments.csv").write_text(
        Path("schemas/defaults/instruments.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize(
    ("header", "column"),
    [(" Clientnummer ", "clientnummer"), ("Cliënt nummer", "clientnummer"), ("TRAJECT-ID", "traject_id"),
     ("Traject ID", "traject_id"), ("geboorte datum", "geboortedatum"), ("\ufeffBSN", "bsn"),
     ("Reden einde", "reden_einde"), ("Start-datum", "startdatum"), ("dossierhouder", "dossierhouder")],
)
def test_header_spelling_variants_resolve_to_spec_columns(header: str, column: str) -> None:
    assert resolve_header(canonical_header(header)) == column


def test_provider_mapping_renames_columns_only_for_that_provider(tmp_path: Path) -> None:
    config = load_config(config_dir(tmp_path))
    header = ["Cliëntnr" if h == "clientnummer" else "Geboortedat." if h == "geboortedatum" else h
              for h in TRAJECTEN_HEADER]
    rows = [{("Cliëntnr" if k == "clientnummer" else "Geboortedat." if k == "geboortedatum" else k): v
             for k, v in trajectory(n).items()} for n in (1, 2)]
    verdicts = {}
    for provider in ("de-boog", "horizon-jeugd"):
        folder = tmp_path / "landing" / provider / "2025-03"
        folder.mkdir(parents=True)
        (folder / "trajecten.csv").write_text(render_csv(header, rows), encoding="utf-8")
        (folder / "metingen.csv").write_text(
            render_csv(METINGEN_HEADER, [measurement(1, "start", "05-01-2025", "66")]), encoding="utf-8"
        )
        verdicts[provider] = inspect_delivery(
            folder, provider, "2025-03", config, Pseudonymiser(throwaway_key()), dt.date(2026, 11, 25)
        )
    mapped = verdicts["de-boog"]
    assert mapped.verdict.status.value == "accepted" and len(mapped.trajectories) == 2
    assert mapped.trajectories["birth_year"].tolist() == [2012, 2012]
    unmapped = verdicts["horizon-jeugd"].verdict
    assert unmapped.status.value == "rejected"
    # "Cliëntnr" is a known alias everywhere; "Geboortedat." needs the provider's mapping.
    assert [f.column for f in unmapped.faults if f.code == "FILE_REQUIRED_COLUMN_MISSING"] == [
        "geboortedatum"
    ]


@pytest.mark.parametrize(
    ("mapping", "line", "problem"),
    [
        ('[column_mapping.de-boog]\n"Cliëntnr" = "klantnummer"\n', 10, "must map to a column"),
        ('[column_mapping.onbekend]\n"Cliëntnr" = "clientnummer"\n', 9, "not in [providers]"),
    ],
)
def test_column_mapping_errors_name_file_and_line(
    tmp_path: Path, mapping: str, line: int, problem: str
) -> None:
    consortium = CONSORTIUM.split("[column_mapping")[0] + mapping
    with pytest.raises(ConfigError) as error:
        load_config(config_dir(tmp_path, consortium))
    assert error.value.line == line and problem in str(error.value)
    assert "consortium.toml" in str(error.value)


def test_consortium_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    broken = CONSORTIUM.replace('MST = "Multisysteemtherapie"', 'MST = "Multisysteemtherapie')
    with pytest.raises(ConfigError) as error:
        load_config(config_dir(tmp_path, broken))
    assert error.value.line == 7 and "not valid TOML" in str(error.value)

"""Codes are matched without regard to case and stored in the configured spelling."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pseudonymise.keys import throwaway_key
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read_step import inspect_delivery
from schemas.config import load_config
from tests.builders import METINGEN_HEADER, TRAJECTEN_HEADER, measurement, render_csv, trajectory


def test_instrument_and_schaal_match_the_registry_without_regard_to_case(tmp_path: Path) -> None:
    folder = tmp_path / "de-boog" / "2025-03"
    folder.mkdir(parents=True)
    (folder / "trajecten.csv").write_text(render_csv(TRAJECTEN_HEADER, [trajectory(1)]), encoding="utf-8")
    metingen = [
        measurement(1, "start", "05-01-2025", "20", instrument="sdq", schaal="Totaal", informant="Ouder"),
        measurement(1, "Eind", "05-03-2025", "66", instrument="Cbcl", schaal="TOTAAL"),
    ]
    (folder / "metingen.csv").write_text(render_csv(METINGEN_HEADER, metingen), encoding="utf-8")
    validated = inspect_delivery(
        folder, "de-boog", "2025-03", load_config(Path("schemas/defaults")),
        Pseudonymiser(throwaway_key()), dt.date(2026, 11, 25),
    )
    assert validated.verdict.status.value == "accepted"
    stored = validated.measurements[["instrument", "schaal", "informant", "meetmoment"]].values.tolist()
    assert stored == [["SDQ", "totaal", "ouder", "start"], ["CBCL", "totaal", "ouder", "eind"]]

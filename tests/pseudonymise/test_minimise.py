"""Data minimisation in the read step (pseudonymise/minimise.py, pseudonymise/clock.py): what is
stored of a validated delivery keeps every difference between a trajectory's dates and its end
year, but no calendar day, no postcode and no birth year unless privacy.toml asks for them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pseudonymise.clock import EPOCH, TrajectoryClock
from pseudonymise.keys import key_from_material, new_key
from pseudonymise.minimise import (
    STORED_MEASUREMENT_FIELDS,
    STORED_TRAJECTORY_FIELDS,
    minimise_measurements,
    minimise_trajectories,
)
from schemas.anonymity import AnonymityConfig

CLOCK = TrajectoryClock(key_from_material(bytes(32)))


def trajectories(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    """Validated trajectory rows (trajectory id, startdatum, einddatum) as the read step types them."""
    return pd.DataFrame({
        "row_number": range(2, 2 + len(rows)),
        "trajectory_id": [r[0] for r in rows],
        "client_id": [f"CL-{r[0]}" for r in rows],
        "local_client_id": [f"LC-{r[0]}" for r in rows],
        "birth_year": pd.Series([2012] * len(rows), dtype="Int64"),
        "age_at_start": pd.Series([12] * len(rows), dtype="Int64"),
        "geslacht": ["V"] * len(rows),
        "pc4": ["3511"] * len(rows),
        "team": ["Noord"] * len(rows),
        "interventie": ["MST"] * len(rows),
        "hulpvorm": ["ambulant"] * len(rows),
        "startdatum": pd.to_datetime([r[1] for r in rows]),
        "einddatum": pd.to_datetime([r[2] for r in rows]),
        "reden_einde": pd.Series([1 if r[2] else None for r in rows], dtype="Int64"),
        "doelrealisatie": pd.Series([None] * len(rows), dtype="Int64"),
        "tevredenheid": pd.Series([None] * len(rows), dtype="float64"),
    })


def measurements(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "row_number": range(2, 2 + len(rows)), "trajectory_id": [r[0] for r in rows],
        "local_client_id": [f"LC-{r[0]}" for r in rows], "instrument": "CBCL", "schaal": "totaal",
        "informant": "ouder", "meetmoment": "start", "datum": pd.to_datetime([r[1] for r in rows]), "score": 70.0,
    })


def test_clock_keeps_differences_and_hides_the_calendar() -> None:
    start, later = dt.date(2025, 3, 15), dt.date(2025, 6, 2)
    assert CLOCK.day("TR1-a", later) - CLOCK.day("TR1-a", start) == (later - start).days
    # each trajectory has its own offset, so equal day numbers do not mean equal dates
    assert CLOCK.offset("TR1-a") != CLOCK.offset("TR1-b")
    assert CLOCK.day("TR1-a", start) != (start - EPOCH).days
    # keyed: another key gives another clock; the same key the same one
    assert TrajectoryClock(new_key()).offset("TR1-a") != CLOCK.offset("TR1-a")
    assert TrajectoryClock(key_from_material(bytes(32))).offset("TR1-a") == CLOCK.offset("TR1-a")


def test_stored_trajectory_has_months_and_clock_days_only() -> None:
    stored = minimise_trajectories(
        trajectories(("TR1-a", "2025-03-15", "2025-06-02"), ("TR1-b", "2024-12-31", None)), AnonymityConfig(), CLOCK
    )

    assert list(stored.columns) == STORED_TRAJECTORY_FIELDS
    assert not {"startdatum", "einddatum"} & set(stored.columns)
    assert list(stored["start_month"]) == [pd.Timestamp("2025-03-01"), pd.Timestamp("2024-12-01")]
    assert stored.loc[0, "end_month"] == pd.Timestamp("2025-06-01") and pd.isna(stored.loc[1, "end_month"])
    assert stored.loc[0, "end_day"] - stored.loc[0, "start_day"] == 79  # 15 March to 2 June
    assert pd.isna(stored.loc[1, "end_day"])
    # by default neither the postcode digits nor the birth year are stored; age and sex are
    assert stored["pc4"].isna().all() and stored["birth_year"].isna().all()
    assert list(stored["age_at_start"]) == [12, 12] and list(stored["geslacht"]) == ["V", "V"]


@pytest.mark.parametrize(("config", "pc4", "birth_year", "start_month"), [
    (AnonymityConfig(pc4="pc2", uses=(("pc4", "x"),)), "35", None, "2025-03-01"),
    (AnonymityConfig(pc4="pc4", uses=(("pc4", "x"),)), "3511", None, "2025-03-01"),
    (AnonymityConfig(birth_year="year", uses=(("birth_year", "x"),)), None, 2012, "2025-03-01"),
    (AnonymityConfig(dates="year"), None, None, "2025-01-01"),
])
def test_stored_trajectory_keeps_optional_fields_as_configured(
    config: AnonymityConfig, pc4: str | None, birth_year: int | None, start_month: str
) -> None:
    stored = minimise_trajectories(trajectories(("TR1-a", "2025-03-15", "2025-06-02")), config, CLOCK)

    stored_pc4, stored_year = stored.loc[0, "pc4"], stored.loc[0, "birth_year"]
    assert (None if pd.isna(stored_pc4) else stored_pc4) == pc4
    assert (None if pd.isna(stored_year) else stored_year) == birth_year
    assert stored.loc[0, "start_month"] == pd.Timestamp(start_month)
    assert stored.loc[0, "end_day"] - stored.loc[0, "start_day"] == 79  # days stay exact at any level


def test_stored_measurement_is_days_since_start_on_its_trajectory_clock() -> None:
    stored_t = minimise_trajectories(trajectories(("TR1-a", "2025-03-15", None)), AnonymityConfig(), CLOCK)
    stored_m = minimise_measurements(measurements(("TR1-a", "2025-03-01"), ("TR1-a", "2025-09-30")), CLOCK)

    assert list(stored_m.columns) == STORED_MEASUREMENT_FIELDS
    assert [d - stored_t.loc[0, "start_day"] for d in stored_m["measured_day"]] == [-14, 199]


def test_a_corrected_start_date_leaves_stored_measurements_where_they_were() -> None:
    """Why a clock and not "days since the start": a steward corrects the start from 15 to 18
    March. The measurement delivered in March (only then) and the same one delivered again after
    the correction are one measurement (outcome-metrics §1), and it lies 3 days after the new start."""
    march = minimise_measurements(measurements(("TR1-a", "2025-03-21")), CLOCK)
    april = minimise_measurements(measurements(("TR1-a", "2025-03-21")), CLOCK)
    corrected = minimise_trajectories(trajectories(("TR1-a", "2025-03-18", None)), AnonymityConfig(), CLOCK)

    assert march.loc[0, "measured_day"] == april.loc[0, "measured_day"]
    assert march.loc[0, "measured_day"] - corrected.loc[0, "start_day"] == 3


def test_minimising_a_rejected_delivery_stores_nothing() -> None:
    """A rejected delivery's frames are empty and untyped (schemas/check.py `rejected`)."""
    from schemas.records import MEASUREMENT_FIELDS, TRAJECTORY_FIELDS

    assert minimise_trajectories(pd.DataFrame(columns=TRAJECTORY_FIELDS), AnonymityConfig(), CLOCK).empty
    assert minimise_measurements(pd.DataFrame(columns=MEASUREMENT_FIELDS), CLOCK).empty

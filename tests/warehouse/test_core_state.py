"""Which state of a trajectory and which measurement counts (outcome-metrics.md §1), checked on
small hand-made staging data: monthly deliveries overlap, the newest month wins, a trajectory
missing from a later month keeps its last known state, and measurements are de-duplicated.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from schemas.config import InstrumentRegistry, parse_instrument_registry
from tests.warehouse.staging import CBCL_JEUGDIGE, Staging, approx, calendar, fetch
from warehouse.sql import execute

# delivery-format §7, the CBCL totaal row
REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
SIX_MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


@pytest.fixture
def registry() -> InstrumentRegistry:
    """What `wh.build()` uses here (the shared `wh` fixture asks for it)."""
    return REGISTRY


@pytest.fixture
def startdatum() -> str:
    """The start date every trajectory in these cases was written with."""
    return "2025-01-02"


def core_trajectories(wh: Staging) -> dict[tuple[str, str], dict]:
    """Core's rows, each with its end read back from the trajectory's clock as `einddatum`."""
    rows = fetch(wh.con, "SELECT * FROM core.trajectories")
    for r in rows:
        r["einddatum"] = calendar(r["trajectory_id"], r["end_day"])
    by_key = {(r["provider"], r["trajectory_id"]): r for r in rows}
    assert len(by_key) == len(rows), "a trajectory occurs twice in core.trajectories"
    return by_key


def consortium(wh: Staging, table: str) -> dict:
    (row,) = fetch(wh.con, f"SELECT * FROM {table} WHERE level = 'consortium' AND period = 'all'")
    return row


# --- trajectories ------------------------------------------------------------------------------


def test_core_trajectory_in_six_deliveries_counts_once_with_newest_state(wh: Staging) -> None:
    # March is delivered again (a correction) after June arrived: the reporting month decides,
    # not the moment of receipt
    wh.delivery("2025-03", received_at=datetime(2025, 7, 15, 9, 0))
    for month in reversed(SIX_MONTHS):  # and staged newest first, so insertion order cannot help
        team = "A" if month <= "2025-03" else "B"
        if month == "2025-06":
            wh.trajectory("t1", month=month, team=team, einddatum="2025-06-20", reden_einde=1,
                          doelrealisatie=2, tevredenheid=8)
        else:
            wh.trajectory("t1", month=month, team=team)
    counts = wh.build()

    state = core_trajectories(wh)
    assert list(state) == [("p1", "t1")]
    t1 = state[("p1", "t1")]
    assert (t1["team"], t1["einddatum"], t1["reden_einde"]) == ("B", date(2025, 6, 20), 1)
    assert (t1["doelrealisatie"], t1["tevredenheid"]) == (2, approx(8))
    assert (t1["month"], t1["delivery_id"]) == ("2025-06", "p1:2025-06")
    assert counts.core_trajectories == 1

    indicators = consortium(wh, "mart.trajectory_indicators")
    assert indicators["n_ended"] == 1  # once, not six times
    assert indicators["pct_planned_end"] == approx(1 / 1)
    assert indicators["mean_satisfaction"] == approx(8)
    assert fetch(wh.con, "SELECT DISTINCT team FROM mart.trajectory_indicators "
                         "WHERE level = 'team'") == [{"team": "B"}]


def test_core_trajectory_newest_month_wins_even_without_einddatum(wh: Staging) -> None:
    # ended in the May delivery, running again in June's: June's state is the one in force
    wh.trajectory("t1", month="2025-05", einddatum="2025-05-10", reden_einde=2)
    wh.trajectory("t1", month="2025-06", einddatum=None)
    wh.trajectory("t2", month="2025-06", einddatum="2025-06-10", reden_einde=1)
    wh.build()

    state = core_trajectories(wh)
    assert state[("p1", "t1")]["einddatum"] is None
    assert state[("p1", "t1")]["month"] == "2025-06"
    indicators = consortium(wh, "mart.trajectory_indicators")
    assert indicators["n_ended"] == 1  # t2 only
    assert indicators["pct_planned_end"] == approx(1 / 1)


def test_core_trajectory_absent_from_later_month_keeps_last_known_state(wh: Staging) -> None:
    wh.trajectory("t1", month="2025-01")  # running in January
    wh.trajectory("t1", month="2025-02", einddatum="2025-02-10", reden_einde=2)  # ended in February
    wh.trajectory("t3", month="2025-01")  # running in January, never delivered again
    for month in ("2025-03", "2025-04"):  # later months no longer hold t1 or t3
        wh.trajectory("t9", month=month)
    # the same pseudonym at two providers is two trajectories
    wh.trajectory("shared", month="2025-04", provider="p1")
    wh.trajectory("shared", month="2025-04", provider="p2", einddatum="2025-04-01", reden_einde=1)
    counts = wh.build()

    state = core_trajectories(wh)
    assert set(state) == {("p1", "t1"), ("p1", "t3"), ("p1", "t9"), ("p1", "shared"),
                          ("p2", "shared")}
    assert counts.core_trajectories == 5
    t1 = state[("p1", "t1")]
    assert (t1["einddatum"], t1["reden_einde"], t1["month"]) == (date(2025, 2, 10), 2, "2025-02")
    t3 = state[("p1", "t3")]
    assert (t3["einddatum"], t3["month"]) == (None, "2025-01")
    assert state[("p1", "shared")]["einddatum"] is None
    assert state[("p2", "shared")]["einddatum"] == date(2025, 4, 1)

    indicators = consortium(wh, "mart.trajectory_indicators")
    assert indicators["n_ended"] == 2  # p1 t1 and p2 shared
    assert indicators["pct_planned_end"] == approx(1 / 2)  # reden 1 of (2, 1)


# --- measurements ------------------------------------------------------------------------------


def test_core_measurement_newest_delivery_score_wins(wh: Staging) -> None:
    for month in ("2025-01", "2025-02", "2025-03"):
        wh.trajectory("t1", month=month, einddatum="2025-03-20" if month == "2025-03" else None,
                      reden_einde=1 if month == "2025-03" else None)
    # one key (t1, CBCL, totaal, ouder, start, 2025-01-10), corrected in each later delivery
    wh.measurement("t1", "start", "2025-01-10", 70, month="2025-01")
    wh.measurement("t1", "start", "2025-01-10", 72, month="2025-02")
    wh.measurement("t1", "start", "2025-01-10", 74, month="2025-03")  # newest: this one counts
    # other keys: another informant, another meetmoment, another datum
    wh.measurement("t1", "start", "2025-01-10", 50, measure=CBCL_JEUGDIGE, month="2025-01")
    wh.measurement("t1", "start", "2025-01-20", 90, month="2025-01")
    wh.measurement("t1", "eind", "2025-03-05", 60, month="2025-03")
    counts = wh.build()

    rows = [
        {"informant": r["informant"], "meetmoment": r["meetmoment"],
         "datum": calendar(r["trajectory_id"], r["measured_day"]), "score": r["score"], "month": r["month"]}
        for r in fetch(wh.con, "SELECT trajectory_id, informant, meetmoment, measured_day, score, month "
                               "FROM core.measurements ORDER BY informant, meetmoment, measured_day")
    ]
    assert rows == [
        {"informant": "jeugdige", "meetmoment": "start", "datum": date(2025, 1, 10),
         "score": 50, "month": "2025-01"},
        {"informant": "ouder", "meetmoment": "eind", "datum": date(2025, 3, 5),
         "score": 60, "month": "2025-03"},
        {"informant": "ouder", "meetmoment": "start", "datum": date(2025, 1, 10),
         "score": 74, "month": "2025-03"},
        {"informant": "ouder", "meetmoment": "start", "datum": date(2025, 1, 20),
         "score": 90, "month": "2025-01"},
    ]
    assert counts.core_measurements == 4

    (scores,) = fetch(wh.con, "SELECT * FROM mart.outcome_scores WHERE level = 'consortium' "
                              "AND period = 'all' AND informant = 'ouder'")
    assert scores["mean_start"] == approx(74)  # the corrected score of the earliest start
    assert scores["mean_improvement"] == approx(74 - 60)


def test_core_measurement_repeated_in_six_deliveries_counts_once(wh: Staging) -> None:
    for month in SIX_MONTHS:
        ended = month == "2025-06"
        wh.trajectory("t1", month=month, einddatum="2025-06-20" if ended else None,
                      reden_einde=1 if ended else None)
        wh.measurement("t1", "start", "2025-01-10", 70, month=month)  # every delivery repeats it
        if month >= "2025-03":
            wh.measurement("t1", "tussen", "2025-03-10", 65, month=month)
    wh.measurement("t1", "eind", "2025-06-10", 60, month="2025-06")
    counts = wh.build()

    assert counts.core_measurements == 3  # start, tussen, eind: once each
    assert execute(wh.con, "SELECT meetmoment, count(*) FROM core.measurements "
                           "GROUP BY meetmoment ORDER BY meetmoment") == [
        ("eind", 1), ("start", 1), ("tussen", 1)]
    scores = consortium(wh, "mart.outcome_scores")
    assert (scores["n_ended"], scores["n_paired"]) == (1, 1)
    assert scores["response_rate"] == approx(1 / 1)
    assert scores["mean_start"] == approx(70)
    assert scores["mean_end"] == approx(60)


def test_core_measurement_cumulative_and_only_new_deliveries_are_equivalent(
    wh: Staging,
) -> None:
    # delivery-format §9.2: p1 resends every measurement to date, p2 sends only the new ones
    for provider in ("p1", "p2"):
        for month in ("2025-01", "2025-02", "2025-03"):
            ended = month == "2025-03"
            wh.trajectory("t1", month=month, provider=provider,
                          einddatum="2025-03-20" if ended else None,
                          reden_einde=1 if ended else None)
    for month in ("2025-01", "2025-02", "2025-03"):
        wh.measurement("t1", "start", "2025-01-10", 71, provider="p1", month=month)
    wh.measurement("t1", "eind", "2025-03-05", 61, provider="p1", month="2025-03")
    wh.measurement("t1", "start", "2025-01-10", 71, provider="p2", month="2025-01")
    wh.measurement("t1", "eind", "2025-03-05", 61, provider="p2", month="2025-03")
    counts = wh.build()

    assert counts.core_measurements == 4  # start and eind, for each provider's t1
    rows = fetch(wh.con, "SELECT organisation, n_paired, mean_start, mean_end "
                         "FROM mart.outcome_scores WHERE level = 'organisation' "
                         "AND period = 'all' ORDER BY organisation")
    assert rows == [
        {"organisation": "p1", "n_paired": 1, "mean_start": 71, "mean_end": 61},
        {"organisation": "p2", "n_paired": 1, "mean_start": 71, "mean_end": 61},
    ]

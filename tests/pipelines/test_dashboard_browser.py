"""The dashboard end to end (issue 7): a small consortium goes through `databank run`, and the pages
under publish/dashboard/ are opened from disk in a real headless Chromium (the system's, driven
by Playwright): no network, no console errors, charts drawn, small groups as "< k", team names
with HTML shown as text, and every figure on a page equal to the mart row it came from.

Full-page screenshots are written to tests/artifacts/dashboard/ (ignored by git) on every run.
One consortium and one browser serve the whole module."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from assets.dashboard import dashboard_settings
from pipelines.runner import run_pipeline
from tests.builders import (
    METINGEN_HEADER,
    TRAJECTEN_HEADER,
    make_home,
    measurement,
    render_csv,
    trajectory,
)
from warehouse.dashboard import build_dashboard
from warehouse.dictionary import drift, published_columns
from warehouse.home import DatabankHome

TODAY = dt.date(2026, 11, 25)
K = 5
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IMG_TEAM = "<img src=x onerror=window.__pwned=1>"  # large enough to be shown
SCRIPT_TEAM = "<script>alert(1)</script>"  # 2 trajectories: suppressed ("< 5")
TEAMS = (  # provider, team, ended trajectories with a start and an end score
    ("de-boog", "Team Noord", 8),
    ("de-boog", IMG_TEAM, 7),
    ("de-boog", SCRIPT_TEAM, 2),
    # a second small team: no third team needs hiding, since the two small ones together hold
    # k (with release protection, what the hidden cells of a relation leave unknown is ≥ k)
    ("de-boog", "Team Klein", 3),
    ("horizon-jeugd", "Team Oost", 12),
    ("horizon-jeugd", "Team West", 6),
)
SCORE_KEYS = ("level", "organisation", "team", "intervention", "period", "instrument", "schaal", "informant")
INDICATOR_KEYS = SCORE_KEYS[:5]


def write_consortium(home: DatabankHome) -> None:
    """Two providers, one month each; CBCL for everyone, SDQ for Team Noord only."""
    number = 0
    rows: dict[str, tuple[list, list]] = {}
    for provider, team, count in TEAMS:
        trajecten, metingen = rows.setdefault(provider, ([], []))
        for i in range(count):
            number += 1
            trajecten.append(trajectory(
                number, team=team, interventie="MST" if i % 2 else "FFT", einddatum="20-03-2025",
                reden_einde=str(1 + (i % 3 == 2)), doelrealisatie=str(1 + i % 3),
                tevredenheid=str(6 + i % 4),
            ))
            metingen += [measurement(number, "start", "05-01-2025", str(60 + i)),
                         measurement(number, "eind", "10-03-2025", str(50 + (i * 7) % 13))]
            if team == "Team Noord":
                metingen += [
                    measurement(number, "start", "05-01-2025", str(18 + i % 5), instrument="SDQ"),
                    measurement(number, "eind", "10-03-2025", str(12 + i % 3), instrument="SDQ"),
                ]
        # one ended trajectory without scores: the response rate is below 1
        trajecten.append(trajectory(900 + number, team=team, einddatum="25-03-2025", reden_einde="1"))
    for provider, (trajecten, metingen) in rows.items():
        folder = home.landing / provider / "2025-03"
        folder.mkdir(parents=True)
        for name, header, data in (("trajecten.csv", TRAJECTEN_HEADER, trajecten),
                                   ("metingen.csv", METINGEN_HEADER, metingen)):
            (folder / name).write_bytes(render_csv(header, data).encode("cp1252"))
            os.utime(folder / name, (1_700_000_000, 1_700_000_000))


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabankHome]:
    root = tmp_path_factory.mktemp("dashboard") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABANK_HOME", str(root))
        patch.delenv("DATABANK_KEY_FILE", raising=False)
        patch.setenv("DAGSTER_HOME", str(root / "dagster"))
        registered: dict[str, list[str]] = {}
        for provider, team, _ in TEAMS:  # a consortium may register any name; the page escapes it
            registered.setdefault(provider, []).append(team)
        home = make_home(root, k=K, teams=registered)
        write_consortium(home)
        summary = run_pipeline(home, today=TODAY)
        assert [status for _, _, status in summary.judged] == ["accepted", "accepted"]
        yield home


def test_a_run_with_nothing_new_keeps_the_dashboard_and_a_build_replaces_it_whole(
    consortium: DatabankHome,
) -> None:
    """First in the module: it runs Dagster in-process, before the browser's event loop starts."""
    before = {p.name: p.stat().st_mtime_ns for p in consortium.dashboard.iterdir()}
    run_pipeline(consortium, today=TODAY)
    assert {p.name: p.stat().st_mtime_ns for p in consortium.dashboard.iterdir()} == before
    # A rebuild writes beside and swaps: no leftovers, the same pages.
    settings = dashboard_settings(consortium)
    build_dashboard(consortium.publication, consortium.dashboard, settings)
    assert sorted(p.name for p in consortium.dashboard.parent.iterdir()) == [
        "analyst.duckdb", "dashboard", "data-dictionary.html", "data-dictionary.md"]
    assert sorted(before) == sorted(p.name for p in consortium.dashboard.iterdir())


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: the dashboard is checked in the system's Chromium. "
                    "Install it with `make browser` (apt-get install chromium); `make test` does.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def pages_of(home: DatabankHome) -> list[Path]:
    marker = json.loads((home.dashboard / "dashboard.json").read_text(encoding="utf-8"))
    return [home.dashboard / name for name in marker["pages"]]


@pytest.fixture(scope="module")
def opened(consortium: DatabankHome, browser: object) -> Iterator[dict[str, dict]]:
    """Every page opened once: its cells, what went wrong while loading, and the page itself."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    result: dict[str, dict] = {}
    try:
        for path in pages_of(consortium):
            page = context.new_page()
            seen: dict[str, list] = {"requests": [], "errors": [], "dialogs": []}

            def route(route: object, seen: dict = seen) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    seen["requests"].append(route.request.url)
                    route.abort()

            page.route("**/*", route)
            page.on("console", lambda m, seen=seen: m.type == "error" and seen["errors"].append(m.text))
            page.on("pageerror", lambda e, seen=seen: seen["errors"].append(str(e)))
            page.on("dialog", lambda d, seen=seen: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            page.screenshot(path=str(ARTIFACTS / f"{path.stem}.png"), full_page=True)
            cells = page.eval_on_selector_all(
                "td[data-table]",
                "cells => cells.map(c => ({attrs: Object.fromEntries([...c.attributes].map(a => [a.name, a.value])),"
                " text: c.textContent}))",
            )
            result[path.name] = {"page": page, "cells": cells, **seen}
        yield result
    finally:
        context.close()


def test_every_page_loads_offline_without_errors_and_draws_its_charts(
    consortium: DatabankHome, opened: dict[str, dict]
) -> None:
    assert set(opened) == {"index.html", "organisatie-de-boog.html", "organisatie-horizon-jeugd.html"}
    for name, seen in opened.items():
        assert seen["requests"] == [], f"{name} asked the network for {seen['requests']}"
        assert seen["errors"] == [] and seen["dialogs"] == [], name
        page = seen["page"]
        sections = page.locator("main section").count()
        charts = page.locator("main section figure.chart > svg")
        assert sections >= 2 and charts.count() == sections, name
        for index in range(charts.count()):
            box = charts.nth(index).bounding_box()
            assert box and box["width"] > 100 and box["height"] > 50, (name, index)
            assert charts.nth(index).locator("path, line, rect, use").count() > 10, (name, index)
        # each section closes with the four questions for the conversation
        assert page.locator("main section dl.questions dt").all_text_contents() == \
            ["Herkennen", "Verklaren", "Waarderen", "Verbeteren"] * sections
        assert (ARTIFACTS / f"{Path(name).stem}.png").stat().st_size > 10_000


def mart_rows(home: DatabankHome) -> dict[tuple, dict]:
    """(table, keys...) -> row, for period 'all' of the four tables the dashboard reads."""
    con = duckdb.connect(str(home.publication), read_only=True)
    rows: dict[tuple, dict] = {}
    try:
        for table, keys in (("outcome_scores", SCORE_KEYS), ("outcome_scores_rest", SCORE_KEYS),
                            ("trajectory_indicators", INDICATOR_KEYS),
                            ("trajectory_indicators_rest", INDICATOR_KEYS)):
            cursor = con.execute(f"SELECT * FROM mart.{table} WHERE period = 'all'")
            names = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                rows[(table, *(row[k] for k in keys))] = row
    finally:
        con.close()
    return rows


def source_key(attrs: dict[str, str]) -> tuple:
    table = attrs["data-table"]
    keys = SCORE_KEYS if table.startswith("outcome_scores") else INDICATOR_KEYS
    return (table, *(attrs.get(f"data-{key}") for key in keys))


def dutch(value: float, metric: str) -> str:
    """The visible form, written independently of the page code."""
    if metric.startswith("n_"):
        return str(value)
    if metric.startswith("pct_") or metric == "response_rate":
        return f"{round(value * 100)}%"
    return f"{value:.1f}".replace(".", ",").replace("-", "−")


def test_every_figure_on_every_page_equals_its_mart_row(
    consortium: DatabankHome, opened: dict[str, dict]
) -> None:
    marts = mart_rows(consortium)
    compared = 0
    for name, seen in opened.items():
        shown_rows = set()
        for cell in seen["cells"]:
            attrs, text = cell["attrs"], cell["text"]
            row = marts[source_key(attrs)]
            shown_rows.add(source_key(attrs))
            if attrs.get("data-suppressed") == "true":
                assert row["suppressed"] is True
                assert text == (f"< {K}" if row["suppression_reason"] == "primary" else "afgeschermd")
                assert not any(a.startswith("data-value") or a.startswith("data-metric") for a in attrs)
                continue
            assert row["suppressed"] is False
            for metric_attr, value_attr in (("data-metric", "data-value"), ("data-metric2", "data-value2")):
                if metric_attr not in attrs:
                    continue
                metric = attrs[metric_attr]
                if attrs.get("data-null") == "true":
                    assert row[metric] is None, (name, metric)
                    assert text == "–"
                    continue
                # no more precision than the page shows: at most two decimals (a share's whole
                # percentage), and the mart's figure rounded
                shown = attrs[value_attr]
                assert len(shown.partition(".")[2]) <= 2, (name, attrs)
                assert abs(float(shown) - row[metric]) <= 0.05 + 1e-9, (name, attrs)
                compared += 1
                if metric not in ("ci_low", "ci_high"):  # the interval cell shows both bounds
                    assert text == dutch(row[metric], metric), (name, metric, text)
            if attrs.get("data-metric") == "ci_low" and attrs.get("data-null") != "true":
                assert text == f"[{dutch(row['ci_low'], 'ci')}; {dutch(row['ci_high'], 'ci')}]"
        seen["rows"] = shown_rows
    assert compared > 200
    # Completeness: an organisation's page shows every row of its own, its rest and the consortium.
    own = opened["organisatie-de-boog.html"]["rows"]
    expected = {key for key, row in marts.items()
                if row["organisation"] == "de-boog" and row["level"] != "consortium"}
    expected |= {key for key, row in marts.items() if row["level"] == "consortium"}
    assert own == expected


def test_small_team_shows_less_than_k_and_no_figure(consortium: DatabankHome, opened: dict[str, dict]) -> None:
    page = opened["organisatie-de-boog.html"]["page"]
    rows = page.locator("tr.team", has_text=SCRIPT_TEAM)
    assert rows.count() == 2  # CBCL and the trajectory indicators (no SDQ scores in that team)
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        assert cells.nth(1).text_content() == f"< {K}"
        assert cells.nth(1).get_attribute("data-value") is None
    svg_text = " ".join(page.locator("svg text").all_text_contents())
    assert f"< {K}" in svg_text
    marts = mart_rows(consortium)
    assert all(row["suppressed"] and row["suppression_reason"] == "primary"
               for row in marts.values() if row["team"] == SCRIPT_TEAM)


def test_html_in_team_names_is_shown_as_text_never_run(opened: dict[str, dict]) -> None:
    seen = opened["organisatie-de-boog.html"]
    page = seen["page"]
    for team in (IMG_TEAM, SCRIPT_TEAM):
        assert page.get_by_text(f"Team: {team}", exact=True).count() >= 2  # a table row per section
        assert page.locator("svg text", has_text=f"Team: {team}").count() >= 2  # chart labels
    shown = page.locator("tr.team", has_text=IMG_TEAM).first.locator("td[data-value]")
    assert shown.count() > 5  # the team with HTML in its name is shown with its figures
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert seen["dialogs"] == []


def test_other_organisations_are_not_named_unless_configured(
    consortium: DatabankHome, opened: dict[str, dict], tmp_path: Path
) -> None:
    for name, other in (("organisatie-de-boog.html", "horizon"), ("organisatie-horizon-jeugd.html", "boog")):
        text = (consortium.dashboard / name).read_text(encoding="utf-8").lower()
        assert other not in text and "rest van het consortium" in text
    index = (consortium.dashboard / "index.html").read_text(encoding="utf-8").lower()
    assert "boog" not in index and "horizon" not in index
    assert "organisatie-" not in index  # no links that would name them either

    settings = dashboard_settings(consortium)
    named = tmp_path / "named"
    build_dashboard(consortium.publication, named, replace(settings, show_organisation_names=True))
    index = (named / "index.html").read_text(encoding="utf-8")
    assert "De Boog Jeugdhulp" in index and "Horizon Jeugdzorg" in index
    assert 'data-level="organisation" data-organisation="horizon-jeugd"' in index


def test_data_dictionary_is_published_beside_the_analysts_copy(consortium: DatabankHome) -> None:
    folder = consortium.publication.parent
    assert (folder / "data-dictionary.md").is_file() and (folder / "data-dictionary.html").is_file()
    assert drift(published_columns(consortium.publication)) == []

"""The dashboard's pages from a hand-made published copy (no browser here: the browser test is
tests/pipelines/test_dashboard_browser.py): Dutch numbers, hidden groups without figures, stable
bytes, names that are text and nothing else, and the [dashboard] setting's validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.config import (
    ConfigError,
    InstrumentRegistry,
    _load_consortium,
    parse_instrument_registry,
)
from tests.warehouse.staging import Staging
from warehouse.dashboard import DashboardSettings, build_dashboard
from warehouse.dashboard.build import dutch_number, dutch_percentage
from warehouse.marts import build_marts
from warehouse.publish import publish_analyst_copy

REGISTRY = parse_instrument_registry(
    "instrument,schaal,min,max,higher_is_worse,sd_ref,r,cutoff\n"
    "CBCL,totaal,24,100,true,10,0.94,64\n"
)
ODD_TEAM = "Team $x^2$ & <b>vet</b> \\n"  # mathtext, an ampersand, markup and a backslash
SETTINGS = DashboardSettings(k=3, providers={"p1": "Eén & Ander", "p2": "Twee"},
                             interventions={"I1": "Interventie één"})


@pytest.fixture
def registry() -> InstrumentRegistry:
    return REGISTRY


@pytest.fixture
def publication(wh: Staging, tmp_path: Path) -> Path:
    """p1: team A (4 pairs), the odd team (3), team B (1: primary) -> another team secondary;
    p2: 5 pairs."""
    number = 0
    for provider, team, count in (("p1", "A", 4), ("p1", ODD_TEAM, 3), ("p1", "B", 1), ("p2", "C", 5)):
        for i in range(count):
            number += 1
            wh.pair(f"t{number}", 70 + i, 58 - i, provider=provider, team=team, tevredenheid=7)
    build_marts(wh.con, wh.registry, 3, secondary=True, reason_codes=True)
    target = tmp_path / "publish" / "analyst.duckdb"
    publish_analyst_copy(wh.con, target)
    return target


def test_numbers_are_written_the_dutch_way() -> None:
    assert dutch_number(12.345) == "12,3"
    assert dutch_number(-0.46) == "−0,5"
    assert dutch_number(3.0) == "3,0"
    assert dutch_percentage(0.456) == "46%"
    assert dutch_percentage(1.0) == "100%"


def test_hidden_groups_show_k_or_afgeschermd_and_no_figure(publication: Path, tmp_path: Path) -> None:
    result = build_dashboard(publication, tmp_path / "dashboard", SETTINGS)
    assert (result.pages, result.organisation_pages) == (3, 2)
    page = (tmp_path / "dashboard" / "organisatie-p1.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr class=\"team\">.*?</tr>", page)
    hidden = [row for row in rows if 'data-suppressed="true"' in row]
    assert hidden and all("data-value" not in row and "data-metric" not in row for row in hidden)
    texts = {re.sub(r"<[^>]+>", "|", row).split("|")[-3] for row in hidden}
    assert texts == {"&lt; 3", "afgeschermd"}  # team B below k, and the team hidden to protect it
    for row in hidden:  # nothing numeric but k, in text or attributes
        assert re.findall(r"\d+", re.sub(r'(data-team|data-organisation|colspan)="[^"]*"|Team: [^<]*', "", row)) in ([], ["3"])


def test_same_publication_gives_the_same_bytes(publication: Path, tmp_path: Path) -> None:
    build_dashboard(publication, tmp_path / "one", SETTINGS)
    build_dashboard(publication, tmp_path / "two", SETTINGS)
    for page in (tmp_path / "one").iterdir():
        assert page.read_bytes() == (tmp_path / "two" / page.name).read_bytes(), page.name


def test_names_with_markup_and_dollars_stay_text(publication: Path, tmp_path: Path) -> None:
    build_dashboard(publication, tmp_path / "dashboard", SETTINGS)
    page = (tmp_path / "dashboard" / "organisatie-p1.html").read_text(encoding="utf-8")
    escaped = "Team: Team $x^2$ &amp; &lt;b&gt;vet&lt;/b&gt; \\n"
    assert page.count(escaped) >= 4  # table rows and chart labels of both sections
    assert "<b>" not in page and "Eén &amp; Ander" in page
    assert "<script" not in page and "<img" not in page


def test_an_organisation_page_names_no_other_organisation(publication: Path, tmp_path: Path) -> None:
    build_dashboard(publication, tmp_path / "dashboard", SETTINGS)
    own = (tmp_path / "dashboard" / "organisatie-p1.html").read_text(encoding="utf-8")
    assert "Twee" not in own and not re.search(r"\bp2\b", own) and "Rest van het consortium" in own
    index = (tmp_path / "dashboard" / "index.html").read_text(encoding="utf-8")
    assert "Twee" not in index and "Eén" not in index


def test_a_publication_without_rows_still_gives_pages(wh: Staging, tmp_path: Path) -> None:
    build_marts(wh.con, wh.registry, 3, reason_codes=True)
    target = tmp_path / "analyst.duckdb"
    publish_analyst_copy(wh.con, target)
    result = build_dashboard(target, tmp_path / "dashboard", SETTINGS)
    assert result.pages == 3
    assert "Trajectindicatoren" in (tmp_path / "dashboard" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("setting", "problem"), [
    ("show_organisation_names = \"ja\"", "show_organisation_names must be true or false"),
    ("show_names = true", "[dashboard] has no setting 'show_names'"),
])
def test_dashboard_setting_errors_name_the_line(tmp_path: Path, setting: str, problem: str) -> None:
    path = tmp_path / "consortium.toml"
    path.write_text('[providers]\np1 = "Een"\n\n[interventions]\nI1 = "X"\n\n[dashboard]\n'
                    f"{setting}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        _load_consortium(path)
    assert error.value.line == 8 and problem in error.value.problem
    path.write_text(path.read_text(encoding="utf-8").replace(setting, "show_organisation_names = true"),
                    encoding="utf-8")
    assert _load_consortium(path)["show_organisation_names"] is True


def test_every_metric_kind_has_a_shown_precision() -> None:
    """A kind without a precision broke every build's dashboard (KeyError 'score')."""
    from warehouse.dashboard.build import (
        DECIMALS_SHOWN,
        INDICATOR_METRICS,
        SCORE_METRICS,
        _as_shown,
        _display,
    )

    for _, _, kind in SCORE_METRICS + INDICATOR_METRICS:
        assert kind in DECIMALS_SHOWN, kind
    assert _as_shown("score", 52.349) == "52.3"
    assert _display("score", 52.349) == "52,3"


def _published_as(publication: Path, target: Path, build_id: str) -> Path:
    """A copy of the published file as a later build with the same figures."""
    import shutil

    import duckdb

    shutil.copy(publication, target)
    con = duckdb.connect(str(target))
    try:
        con.execute("DELETE FROM mart.build_info")
        con.execute("INSERT INTO mart.build_info (build_id) VALUES (?)", [build_id])
    finally:
        con.close()
    return target


def test_an_unchanged_page_is_taken_over_with_the_new_build_id_as_if_drawn_anew(
    publication: Path, tmp_path: Path
) -> None:
    """A later build with the same figures draws no page, yet every page is byte for byte what
    a fresh build gives (the build id it prints included)."""
    target = tmp_path / "dashboard"
    assert build_dashboard(publication, target, SETTINGS).pages_drawn == 3
    later = _published_as(publication, tmp_path / "later.duckdb", "b2b2b2b2b2b2")
    assert build_dashboard(later, target, SETTINGS).pages_drawn == 0
    fresh = tmp_path / "fresh"
    assert build_dashboard(later, fresh, SETTINGS).pages_drawn == 3
    for page in fresh.glob("*.html"):
        assert (target / page.name).read_bytes() == page.read_bytes(), page.name
        assert 'content="b2b2b2b2b2b2"' in page.read_text(encoding="utf-8")


def test_only_pages_whose_inputs_changed_are_drawn(publication: Path, tmp_path: Path) -> None:
    """Renaming one organisation changes its own page only; a page edited on disk is not taken
    over (its hash no longer matches) but drawn again; k changes every page."""
    target = tmp_path / "dashboard"
    build_dashboard(publication, target, SETTINGS)
    renamed = DashboardSettings(k=3, providers={"p1": "Eén & Ander", "p2": "Twee Anders"},
                                interventions={"I1": "Interventie één"})
    before = {p.name: p.read_bytes() for p in target.glob("*.html")}
    assert build_dashboard(publication, target, renamed).pages_drawn == 1
    after = {p.name: p.read_bytes() for p in target.glob("*.html")}
    assert [name for name in before if before[name] != after[name]] == ["organisatie-p2.html"]
    assert b"Twee Anders" in after["organisatie-p2.html"]

    page = target / "organisatie-p1.html"
    page.write_text(page.read_text(encoding="utf-8").replace("Rest van het consortium", "X"), encoding="utf-8")
    assert build_dashboard(publication, target, renamed).pages_drawn == 1
    assert page.read_bytes() == after["organisatie-p1.html"]

    other_k = DashboardSettings(k=2, providers=renamed.providers, interventions=renamed.interventions)
    assert build_dashboard(publication, target, other_k).pages_drawn == 3


def test_a_page_digest_covers_the_renderer_and_the_figures(publication: Path, tmp_path: Path) -> None:
    """A dashboard.json from before digests (or from another renderer) redraws every page."""
    import json

    target = tmp_path / "dashboard"
    build_dashboard(publication, target, SETTINGS)
    marker = json.loads((target / "dashboard.json").read_text(encoding="utf-8"))
    for entry in marker["digests"].values():
        entry["digest"] = "from another renderer"
    (target / "dashboard.json").write_text(json.dumps(marker), encoding="utf-8")
    assert build_dashboard(publication, target, SETTINGS).pages_drawn == 3

"""Release protection end to end (issue 12, item 1): monthly `databank run`s on the real graph,
a correction and a `databank forget` in between, every `publish/analyst.duckdb` and every
`publish/dashboard/` kept as a reader would keep them.

Three providers deliver month by month (deliveries landed and run one month at a time, with the
day injected); one month brings only one more client ending care in a team of ten; a month is
delivered again with a score and a team changed; one client is erased with `databank forget`
(which rebuilds and publishes on its own). The attacker (tests/warehouse/release_attack.py) reads
the kept analysts' copies; the truth is this module's own model of what was in force after each
step. With `[publication] release_protection = false` it recovers the issue's client; with the
default it recovers nothing. The dashboard pages of the default home carry no number more
precise than the text they show: not in an attribute, not in a chart."""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.runner import run_pipeline
from tests.builders import (
    METINGEN_HEADER,
    TRAJECTEN_HEADER,
    make_home,
    measurement,
    render_csv,
    trajectory,
)
from tests.warehouse.release_attack import attack
from tests.warehouse.release_truth import Trajectory, Truth, trajectory_values
from warehouse.dashboard.build import DashboardSettings, build_dashboard
from warehouse.home import DatabankHome

pytestmark = pytest.mark.slow  # about two minutes: fourteen runs of the Dagster graph

K = 10
TODAY = dt.date(2025, 12, 1)
CBCL = ("CBCL", "totaal", "ouder")
REGISTRY = {("CBCL", "totaal"): (True, 10, 0.94, 64)}  # the shipped defaults, delivery-format §7
TEAMS = {
    "de-boog": ("Team Tien", "Team Noord"),
    "horizon-jeugd": ("Team Oost", "Team West"),
    "lindenhof": ("Team Zuid",),
}
CONSORTIUM = """
[providers]
de-boog = "De Boog Jeugdhulp"
horizon-jeugd = "Horizon Jeugdzorg"
lindenhof = "Lindenhof"

[interventions]
MST = "Multisysteemtherapie"
FFT = "Functional Family Therapy"

[teams.de-boog]
"Team Tien" = "Team Tien"
"Team Noord" = "Team Noord"

[teams.horizon-jeugd]
"Team Oost" = "Team Oost"
"Team West" = "Team West"

[teams.lindenhof]
"Team Zuid" = "Team Zuid"

[suppression]
k = {k}

[validation]
reject_share = 0.10
"""


@dataclass
class Row:
    """One delivered trajectory (ended in its delivery month) with its CBCL pair."""

    number: int
    team: str
    intervention: str
    end: dt.date
    reden: int
    doel: int
    satisfaction: int
    scores: tuple[int, int]

    def trajecten(self) -> dict[str, str]:
        start = self.end - dt.timedelta(days=120)
        return trajectory(
            self.number, team=self.team, interventie=self.intervention,
            startdatum=start.strftime("%d-%m-%Y"), einddatum=self.end.strftime("%d-%m-%Y"),
            reden_einde=str(self.reden), doelrealisatie=str(self.doel),
            tevredenheid=str(self.satisfaction),
        )  # fmt: skip

    def metingen(self) -> list[dict[str, str]]:
        start = self.end - dt.timedelta(days=115)
        return [measurement(self.number, "start", start.strftime("%d-%m-%Y"), str(self.scores[0])),
                measurement(self.number, "eind", (self.end - dt.timedelta(days=5)).strftime("%d-%m-%Y"),
                            str(self.scores[1]))]  # fmt: skip


@dataclass
class Schedule:
    """The deliveries in force, and the steps that change them (one release each)."""

    rng: random.Random = field(default_factory=lambda: random.Random(12))
    in_force: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def rows(self, provider: str, month: str, count: int, team: str | None = None) -> list[Row]:
        year, number = (int(part) for part in month.split("-"))
        made = []
        for _ in range(count):
            self.numbers[provider] = self.numbers.get(provider, 0) + 1
            start = self.rng.randint(50, 85)
            made.append(Row(
                self.numbers[provider],
                team or self.rng.choice([t for t in TEAMS[provider] if t != "Team Tien"]),
                self.rng.choice(("MST", "FFT")), dt.date(year, number, self.rng.randint(1, 28)),
                self.rng.choice((1, 1, 2, 3)), self.rng.randint(1, 3), self.rng.randint(4, 10),
                (start, max(30, start - self.rng.randint(-6, 18))),
            ))  # fmt: skip
        return made

    def truth(self) -> dict[tuple[str, int], Trajectory]:
        return {
            (provider, row.number): Trajectory(
                (provider, row.team, row.intervention, str(row.end.year)),
                trajectory_values(REGISTRY, row.reden, row.doel, row.satisfaction, {CBCL: row.scores}),
            )
            for (provider, _), rows in self.in_force.items() for row in rows
        }


def land(home: DatabankHome, provider: str, month: str, rows: list[Row]) -> None:
    """trajecten.csv and metingen.csv of one delivery, as tests/conftest.py's write_delivery."""
    folder = home.landing / provider / month
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, records in (
        ("trajecten.csv", TRAJECTEN_HEADER, [r.trajecten() for r in rows]),
        ("metingen.csv", METINGEN_HEADER, [m for r in rows for m in r.metingen()]),
    ):
        path = folder / name
        path.write_bytes(render_csv(header, records).encode("cp1252"))
        os.utime(path, (1_700_000_000, 1_700_000_000))


@dataclass
class Kept:
    releases: list[Path]
    dashboards: list[Path]
    truth: Truth
    issue_release: int
    issue_scores: tuple[int, int]
    home: DatabankHome


def _keep(home: DatabankHome, keep: Path, kept: Kept, schedule: Schedule) -> None:
    number = len(kept.releases)
    release = keep / f"analyst-{number:02d}.duckdb"
    shutil.copyfile(home.publication, release)
    dashboard = keep / f"dashboard-{number:02d}"
    shutil.copytree(home.dashboard, dashboard)
    con = duckdb.connect(str(release), read_only=True)
    try:
        (build_id,) = con.execute("SELECT build_id FROM mart.build_info").fetchone()
    finally:
        con.close()
    kept.truth.record(build_id, schedule.truth())
    kept.releases.append(release)
    kept.dashboards.append(dashboard)


def run_year(root: Path, protection: bool | None) -> Kept:
    """Seven releases of one home; `protection` None leaves the setting out (the default)."""
    home = make_home(root / "home", k=K)
    config = CONSORTIUM.format(k=K)
    if protection is not None:
        config += f"\n[publication]\nrelease_protection = {'true' if protection else 'false'}\n"
    (home.config_dir / "consortium.toml").write_text(config, encoding="utf-8")
    keep = root / "kept"
    keep.mkdir()
    schedule = Schedule()
    kept = Kept([], [], Truth(), -1, (0, 0), home)

    def deliver(provider: str, month: str, rows: list[Row]) -> None:
        schedule.in_force.setdefault((provider, month), []).extend(rows)
        land(home, provider, month, schedule.in_force[(provider, month)])

    def publish() -> None:
        run_pipeline(home, today=TODAY)
        _keep(home, keep, kept, schedule)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABANK_HOME", str(home.root))
        patch.delenv("DATABANK_KEY_FILE", raising=False)
        patch.setenv("DAGSTER_HOME", str(home.dagster_home))
        for month in ("2025-01", "2025-02"):  # the start: ten in Team Tien among the rest
            deliver("de-boog", month, schedule.rows("de-boog", month, 5, "Team Tien")
                    + schedule.rows("de-boog", month, 5))
            deliver("horizon-jeugd", month, schedule.rows("horizon-jeugd", month, 7))
            deliver("lindenhof", month, schedule.rows("lindenhof", month, 6))
        publish()
        for provider, count in (("de-boog", 3), ("horizon-jeugd", 4), ("lindenhof", 2)):
            deliver(provider, "2025-03", schedule.rows(provider, "2025-03", count))
        publish()
        # The issue's month: one more client ends care in the team of ten, nothing else.
        (issue,) = schedule.rows("de-boog", "2025-04", 1, "Team Tien")
        deliver("de-boog", "2025-04", [issue])
        publish()
        kept.issue_release, kept.issue_scores = len(kept.releases) - 1, issue.scores
        # A correction: March delivered again, one end score and one team changed.
        corrected = copy.deepcopy(schedule.in_force[("horizon-jeugd", "2025-03")])
        corrected[0].scores = (corrected[0].scores[0], corrected[0].scores[1] + 3)
        corrected[1].team = "Team West" if corrected[1].team == "Team Oost" else "Team Oost"
        schedule.in_force[("horizon-jeugd", "2025-03")] = corrected
        land(home, "horizon-jeugd", "2025-03", corrected)
        publish()
        # An erasure: `databank forget` rebuilds and publishes by itself.
        gone = schedule.in_force[("de-boog", "2025-02")].pop(-1)
        assert main(["forget", "--provider", "de-boog", "--clientnummer", f"C{gone.number:05d}"]) == 0
        _keep(home, keep, kept, schedule)
        for provider in ("horizon-jeugd", "lindenhof"):  # April late, with May
            deliver(provider, "2025-04", schedule.rows(provider, "2025-04", 2))
        for month in ("2025-05", "2025-06"):
            for provider, count in (("de-boog", 2), ("horizon-jeugd", 3), ("lindenhof", 1)):
                deliver(provider, month, schedule.rows(provider, month, count))
            publish()
    return kept


@pytest.fixture(scope="module")
def by_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kept]:
    root = tmp_path_factory.mktemp("protected")
    yield run_year(root, None)
    shutil.rmtree(root, ignore_errors=True)


def test_attacker_recovers_the_issue_client_with_protection_off(tmp_path: Path) -> None:
    kept = run_year(tmp_path, False)
    judgement = kept.truth.judge_all(attack(kept.releases, K), K)
    recovered = judgement.recovered()
    start, end = kept.issue_scores
    assert any(v.claim.table == CBCL and v.support == 1
               and dict(v.claim.figures).get("sum_start") == start
               and dict(v.claim.figures).get("sum_end") == end for v in recovered), (
        f"the client who ended care in the team of ten ({start}→{end}) was not recovered from "
        f"releases {kept.issue_release - 1} and {kept.issue_release}; {judgement.summary()}")
    assert all(v.outcome != "wrong" for vs in judgement.verdicts.values() for v in vs), judgement.summary()


def test_attacker_recovers_nothing_by_default(by_default: Kept) -> None:
    judgement = by_default.truth.judge_all(attack(by_default.releases, K), K)
    recovered = judgement.recovered()
    assert not recovered, (
        f"{len(recovered)} figures of fewer than {K} trajectories recovered from "
        f"{len(by_default.releases)} releases; {judgement.summary()}\n  {judgement.examples(8)}")


# --- the dashboard: no more precision than it shows ---------------------------------------------------


class _Cells(HTMLParser):
    """Every element with a data-value: its attributes and the text inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[dict[str, str], str]] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if any(name.startswith("data-value") for name in attributes):
            self._open.append((tag, attributes, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, attributes, text = self._open.pop()
            self.cells.append((attributes, "".join(text).strip()))


def _dutch(text: str) -> float:
    return float(text.replace("−", "-").replace(",", ".").rstrip("%"))


NUMBER = re.compile(r"[−-]?\d+(?:,\d+)?%?")


def _shown(text: str) -> list[tuple[float, int]]:
    """The numbers a cell shows, each with its decimals; a percentage as a share."""
    shown = []
    for part in NUMBER.findall(text):
        decimals = len(part.split(",")[1].rstrip("%")) if "," in part else 0
        value = _dutch(part)
        shown.append((value / 100, decimals + 2) if part.endswith("%") else (value, decimals))
    return shown


def test_dashboard_numbers_carry_no_more_precision_than_shown(by_default: Kept) -> None:
    """Every data-value attribute equals the number its cell shows, to the shown decimals. (Pages
    without such attributes pass here; the next test holds them to the same standard whole.)"""
    problems = []
    for number, dashboard in enumerate(by_default.dashboards):
        for page in sorted(dashboard.glob("*.html")):
            parser = _Cells()
            parser.feed(page.read_text(encoding="utf-8"))
            for attributes, text in parser.cells:
                values = [attributes[n] for n in ("data-value", "data-value2") if n in attributes]
                shown = _shown(text)
                for value, (seen, decimals) in zip(values, shown, strict=False):
                    if abs(float(value) - seen) > 0.5 * 10 ** -(decimals + 6):
                        problems.append(f"release {number} {page.name}: {attributes.get('data-metric')}"
                                        f" shows {text!r}, data-value {value}")
    assert not problems, f"{len(problems)} attributes more precise than their text:\n" + "\n".join(problems[:10])


def _rounded_copy(release: Path, target: Path) -> None:
    """The analysts' copy with every figure rounded as the dashboard shows it (a share to a
    whole percent, a score or mean to one decimal); rounding in Python, as the pages format."""
    shutil.copyfile(release, target)
    con = duckdb.connect(str(target))
    try:
        for table in ("outcome_scores", "outcome_scores_rest", "trajectory_indicators",
                      "trajectory_indicators_rest"):
            columns = {name: kind for name, kind in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'mart' AND table_name = ?", [table]).fetchall()}
            for column, kind in columns.items():
                if kind != "DOUBLE":
                    continue
                share = column.startswith("pct_") or column == "response_rate"
                values = [v for (v,) in con.execute(
                    f"SELECT DISTINCT {column} FROM mart.{table} WHERE {column} IS NOT NULL").fetchall()]
                for value in values:
                    shown = float(f"{value * 100:.0f}") / 100 if share else float(f"{value:.1f}")
                    con.execute(f"UPDATE mart.{table} SET {column} = ? WHERE {column} = ?", [shown, value])
    finally:
        con.close()


def test_dashboard_pages_depend_only_on_what_they_show(by_default: Kept, tmp_path: Path) -> None:
    """The pages drawn from a copy whose figures are rounded as the pages show them are the same
    pages, charts included: no chart coordinate or attribute holds a digit more than the text."""
    config = by_default.home.config()
    settings = DashboardSettings(
        k=config.k, providers=config.providers, interventions=config.interventions,
        show_organisation_names=config.show_organisation_names,
        higher_is_worse={(i.instrument, i.schaal): i.higher_is_worse for i in config.registry.instruments},
    )
    for number in (by_default.issue_release - 1, by_default.issue_release, len(by_default.releases) - 1):
        rounded = tmp_path / f"rounded-{number}.duckdb"
        _rounded_copy(by_default.releases[number], rounded)
        redrawn = tmp_path / f"redrawn-{number}"
        build_dashboard(rounded, redrawn, settings)
        original = by_default.dashboards[number]
        pages = sorted(p.name for p in original.glob("*.html"))
        assert pages == sorted(p.name for p in redrawn.glob("*.html"))
        different = [name for name in pages
                     if (original / name).read_bytes() != (redrawn / name).read_bytes()]
        assert not different, (
            f"release {number}: pages {different} change when the figures are rounded to what the "
            "pages show: they carry more precision than they show (in an attribute or a chart)")

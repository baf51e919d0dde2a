"""`databank demo`: a synthetic consortium (several providers, overlapping monthly deliveries,
Dutch names, valid BSNs, a few faulty rows) delivered irregularly, as real consortia deliver (a
provider that joins late, a skipped month, a month delivered late, a workbook, a correction),
through the whole pipeline in two runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.synthetic import (
    DEFAULT_INTERVENTIONS,
    DEFAULT_PROVIDERS,
    SyntheticConsortium,
    convert_to_workbook,
    write_correction,
    write_synthetic_consortium,
)
from pseudonymise.keys import generate_key_file
from warehouse.home import DatabankHome

DEMO_MONTHS = 8
DEMO_TRAJECTORIES_PER_PROVIDER = 160


class DemoRefused(Exception):
    pass


def demo_months(today: dt.date, count: int = DEMO_MONTHS) -> list[str]:
    """The `count` months before the current one, oldest first."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year:04d}-{month:02d}")
    return sorted(months)


def settle(landing: Path) -> None:
    """The demo (or the benchmark) wrote these files itself and knows they are complete: date
    them a minute back, so the pipeline's still-being-written guard does not wait for them."""
    moment = time.time() - 60
    for path in landing.rglob("*"):
        if path.is_file():
            os.utime(path, (moment, moment))


def consortium_toml(
    providers: dict[str, str],
    interventions: dict[str, str],
    teams: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """A consortium.toml for these providers, interventions and team registers (provider ->
    code -> display name; a provider without one has no registered team)."""
    lines = ["# Written by `databank demo`.", "", "[providers]"]
    lines += [f'{code} = "{name}"' for code, name in providers.items()]
    lines += ["", "[interventions]"]
    lines += [f'"{code}" = "{name}"' for code, name in interventions.items()]
    for provider, register in (teams or {}).items():
        lines += ["", f"[teams.{provider}]"]
        lines += [f"{_toml_string(code)} = {_toml_string(name)}" for code, name in register.items()]
    lines += ["", "[suppression]", "k = 10", "", "[validation]", "reject_share = 0.10", ""]
    return "\n".join(lines)


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escaping is valid TOML."""
    return json.dumps(text, ensure_ascii=False)


def run_demo(home: DatabankHome, run: Callable[[DatabankHome], int], today: dt.date) -> int:
    """`today` places the synthetic months (the ones before it); `run` judges them on its own day,
    which the command line reads from the same clock."""
    if (home.landing.exists() and any(home.landing.iterdir())) or home.warehouse.exists():
        raise DemoRefused(
            f"{home.root} is not empty; the demo needs an empty home "
            "(set DATABANK_HOME to a new folder, or use `make demo`, which starts afresh)"
        )
    home.prepare()
    # The demo corrects a month it delivered before, so it keeps landing files (the shipped
    # default deletes them once processed: config/privacy.toml [retention]).
    privacy = home.config_dir / "privacy.toml"
    privacy.write_text(
        privacy.read_text(encoding="utf-8").replace(
            'landing_after_processing = "delete"', 'landing_after_processing = "keep"'
        ),
        encoding="utf-8",
    )
    if not home.key_file.exists():
        key = generate_key_file(home.key_file)
        print(f"Created a demo key at {home.key_file} (key id {key.key_id}).")
    months = demo_months(today)
    consortium = write_synthetic_consortium(
        home.landing, months=months, trajectories_per_provider=DEMO_TRAJECTORIES_PER_PROVIDER
    )
    # The register has every team the stewards deliver but one (consortium.unregistered_team):
    # its rows are loaded under that provider's unregistered team and its reports warn.
    (home.config_dir / "consortium.toml").write_text(
        consortium_toml(DEFAULT_PROVIDERS, DEFAULT_INTERVENTIONS, consortium.teams), encoding="utf-8"
    )
    held_back = home.root / "demo-held-back"
    irregular = make_irregular(home.landing, held_back, consortium)
    settle(home.landing)
    delivered = len(consortium.deliveries) - len(irregular.never) - len(irregular.late)
    print(
        f"Wrote {delivered} synthetic deliveries: {len(consortium.providers)} providers "
        f"x {len(months)} months ({months[0]} to {months[-1]}), irregular as real ones are:"
    )
    for line in irregular.lines():
        print(f"  {line}")
    if consortium.unregistered_team is not None:
        provider, team = consortium.unregistered_team
        print(f"  a team the consortium has not registered: {provider} delivers '{team}' "
              "(loaded under its 'Niet-geregistreerd team'; the reports warn)")
    status = run(home)
    if status != 0:
        return status
    corrected_provider, corrected_month = next(iter(consortium.providers)), months[-2]
    write_correction(home.landing, corrected_provider, corrected_month)
    for provider, month in irregular.late:
        (home.landing / provider).mkdir(parents=True, exist_ok=True)
        (held_back / provider / month).rename(home.landing / provider / month)
    shutil.rmtree(held_back, ignore_errors=True)  # only empty folders left
    settle(home.landing)
    late = ", ".join(f"{p} {m}" for p, m in irregular.late)
    print(f"\nA steward corrects {corrected_provider} {corrected_month}, and {late} arrives late; running again:")
    status = run(home)
    if status != 0:
        return status
    print_published_summary(home)
    print(
        "\nWhere to look:\n"
        f"  analysts' copy:   {home.publication}\n"
        f"  data dictionary:  {home.publication.with_name('data-dictionary.html')}\n"
        f"  dashboard:        {home.dashboard / 'index.html'} (open in a browser, no server)\n"
        f"  steward reports:  {home.reports}/<provider>/<YYYY-MM>/rapport.html\n"
        f"  warehouse:        {home.warehouse} (pipeline only)\n"
        "  Dagster UI:       make dev  (then http://127.0.0.1:3000)\n"
        "Query it yourself:\n"
        f"  {sys.executable} -c \"import duckdb; duckdb.connect('{home.publication}', read_only=True)"
        ".sql('select * from mart.outcome_scores where level = \\'intervention\\' and period = \\'all\\'')"
        ".show()\""
    )
    return 0


@dataclass(frozen=True)
class Irregularities:
    """How the demo's deliveries depart from a grid (every provider, every month, at once)."""

    never: tuple[tuple[str, str], ...]  # (provider, month) never delivered
    late: tuple[tuple[str, str], ...]  # held back until the second run
    workbooks: tuple[tuple[str, str], ...]  # delivered as export.xlsx

    def lines(self) -> list[str]:
        def named(pairs: tuple[tuple[str, str], ...]) -> str:
            return ", ".join(f"{p} {m}" for p, m in pairs) or "none"

        return [
            f"not delivered (a late joiner, a skipped month): {named(self.never)}",
            f"delivered late, with the second run: {named(self.late)}",
            f"delivered as a workbook (export.xlsx): {named(self.workbooks)}",
        ]


def make_irregular(landing: Path, held_back: Path, consortium: SyntheticConsortium) -> Irregularities:
    """Turn the written grid into what consortia really deliver: the last provider joins in the
    third month (its first two months never come), the third skips a month, the second delivers
    one month late (kept in `held_back` until the next run) and exports one month as a workbook.
    Why: a grid hides the orchestration bugs that irregular deliveries expose (issue 11)."""
    codes, months = list(consortium.providers), list(consortium.months)
    never: list[tuple[str, str]] = []
    late: list[tuple[str, str]] = []
    workbooks: list[tuple[str, str]] = []
    if len(codes) >= 2 and len(months) >= 4:
        never += [(codes[-1], month) for month in months[:2]]
    if len(codes) >= 3 and len(months) >= 5:
        never.append((codes[2], months[len(months) // 2]))
    if len(codes) >= 2 and len(months) >= 3:
        late.append((codes[1], months[-3]))
        workbooks.append((codes[1], months[-2]))
    for provider, month in never:
        shutil.rmtree(landing / provider / month)
    for provider, month in late:
        (held_back / provider).mkdir(parents=True, exist_ok=True)
        (landing / provider / month).rename(held_back / provider / month)
    for provider, month in workbooks:
        convert_to_workbook(landing / provider / month)
    return Irregularities(tuple(never), tuple(late), tuple(workbooks))


def print_published_summary(home: DatabankHome) -> None:
    """What an analyst would look at first: per organisation, the main parent-reported measure."""
    con = duckdb.connect(str(home.publication), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT organisation, n_paired, mean_start, mean_end, effect_size, pct_improved,
                   pct_recovered, suppressed
            FROM mart.outcome_scores
            WHERE level = 'organisation' AND period = 'all'
              AND instrument = 'CBCL' AND schaal = 'totaal' AND informant = 'ouder'
            ORDER BY organisation
            """
        ).fetchall()
    finally:
        con.close()
    print("\nCBCL totaal (ouder), per organisation, all periods:")
    print(f"  {'organisation':<18}{'n':>5}{'start':>8}{'end':>8}{'ES':>7}{'improved':>10}{'recovered':>11}")
    for organisation, n, start, end, es, improved, recovered, suppressed in rows:
        if suppressed:
            print(f"  {organisation:<18}{'(suppressed: too few to show)':>30}")
            continue
        print(
            f"  {organisation:<18}{n:>5}{start:>8.1f}{end:>8.1f}"
            f"{es if es is None else round(es, 2)!s:>7}{improved:>10.0%}"
            f"{'-' if recovered is None else format(recovered, '.0%'):>11}"
        )

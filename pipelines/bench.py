"""`make bench`: the pipeline against a national-scale synthetic consortium (issue 6).

Why this exists: the targets (first load within 3x of DuckDB just reading the files, a nightly
with one new month per provider within 10 % of that, nothing new within 5 s, peak memory within
1 GB, analyst queries under 50 ms) are only meaningful side by side, on one machine, in one run.
The benchmark measures and reports; it asserts nothing (timing is not part of the test suite).

Each stage runs as its own process, so wall time and peak memory (max RSS, from `os.wait4`)
are those of that stage alone:

1. floor       DuckDB alone reading every CSV delivery of the first load into one table per kind
               (cp1252 transcoded to UTF-8 in Python first: DuckDB has no Windows-1252); the one
               workbook is not read (DuckDB has no xlsx reader here), so `rows_read_by_duckdb`
               falls short of the stage's rows by that month;
2. first_load  `databank run` on the empty warehouse, every month but the last, delivered
               irregularly as real consortia deliver (pipelines/demo.py `make_irregular`): the
               last provider joins in the third month, the third skips a month, the second
               holds one old month back and exports another as a workbook (`export.xlsx`);
3. new_month   the last month of every provider on top (the steady-state nightly), with the
               second provider's late old month. It was generated together with the others and
               held back: the generator models each trajectory over the whole period, so a
               second call for one more month would produce different trajectories, not the
               continuation of the same ones;
4. correction  one old month of the first provider resent with a few changes (`write_correction`);
5. nothing_new `databank run` with nothing new in landing;
6. queries     ten typical analyst queries on `publish/analyst.duckdb`, median of repetitions
               (in this process: a query's latency, not a process's);
7. yardstick   `python -m pipelines.yardstick` (a straightforward pandas script computing the
               same marts under the same contract, issue 13) on exactly the first load's files,
               run between the floor and the first load; the target is the first load at least
               5x faster. Not run by the growth series.

Options come from the command line or the environment (BENCH_PROVIDERS, BENCH_MONTHS,
BENCH_TRAJECTORIES_PER_PROVIDER, BENCH_OUT, BENCH_WORKDIR, BENCH_SEED, BENCH_PROFILE_DIR).
The home is created outside the checkout (a temporary folder unless --workdir), with its own key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warehouse.home import DatabankHome

# The scale: >= 150,000 trajectories and >= 1,000,000 measurement rows across the
# deliveries. Measured with this generator (24 months): ~8 measurement rows and ~4.8 trajectory
# rows per trajectory over the period, so 15,000 trajectories x 10 providers gives ~1.2 M
# measurement rows and ~0.7 M trajectory rows. The default scales linearly from that.
TARGET_TRAJECTORIES = 150_000
# Dutch youth care: about 2.5 M trajectories in five years (issue 13, the one-off national size)
NATIONAL_TRAJECTORIES = 2_500_000
DEFAULT_PROVIDERS_N = 10
DEFAULT_MONTHS = 24
DEFAULT_OUT = Path("bench-out") / "bench.json"

TARGETS = {
    "first_load_vs_floor": 3.0,  # first load <= 3x the floor
    "new_month_vs_first_load": 0.10,  # one new month per provider <= 10 % of the first load
    "nothing_new_seconds": 5.0,
    "peak_memory_mb": 1024.0,  # during the first load
    "query_median_ms": 50.0,
    "yardstick_vs_first_load": 5.0,  # the pandas yardstick takes >= 5x the first load (issue 13)
}

# Ten questions an analyst asks first (README "For analysts").
ANALYST_QUERIES: dict[str, str] = {
    "consortium_scores_all": (
        "SELECT * FROM mart.outcome_scores WHERE level = 'consortium' AND period = 'all'"
    ),
    "intervention_scores_all": (
        "SELECT * FROM mart.outcome_scores WHERE level = 'intervention' AND period = 'all'"
    ),
    "organisation_cbcl_parent": (
        "SELECT organisation, n_paired, mean_start, mean_end, effect_size, pct_improved "
        "FROM mart.outcome_scores WHERE level = 'organisation' AND period = 'all' "
        "AND instrument = 'CBCL' AND schaal = 'totaal' AND informant = 'ouder' ORDER BY organisation"
    ),
    "effect_size_by_year": (
        "SELECT period, instrument, avg(effect_size) AS es FROM mart.outcome_scores "
        "WHERE level = 'intervention' AND NOT suppressed GROUP BY ALL ORDER BY ALL"
    ),
    "team_scores": (
        "SELECT * FROM mart.outcome_scores WHERE level = 'team' AND period = 'all' "
        "ORDER BY organisation, team"
    ),
    "org_intervention_scores": (
        "SELECT * FROM mart.outcome_scores WHERE level = 'organisation_intervention' "
        "AND period <> 'all' ORDER BY ALL"
    ),
    "indicators_by_organisation": (
        "SELECT * FROM mart.trajectory_indicators WHERE level = 'organisation' AND period = 'all'"
    ),
    "indicators_by_intervention_year": (
        "SELECT * FROM mart.trajectory_indicators WHERE level = 'intervention' ORDER BY ALL"
    ),
    "suppression_share": (
        "SELECT level, count(*) AS n, avg(suppressed::INT) AS share_suppressed "
        "FROM mart.outcome_scores GROUP BY level ORDER BY level"
    ),
    "lineage_one_row": (
        "SELECT d.organisation, d.month, d.delivery_id, d.received_at, d.status "
        "FROM mart.outcome_scores AS r JOIN mart.deliveries AS d "
        "ON r.level IN ('consortium', 'intervention') OR d.organisation = r.organisation "
        "WHERE r.level = 'organisation' AND r.period = 'all' AND r.instrument = 'CBCL' "
        "AND r.schaal = 'totaal' AND r.informant = 'ouder' ORDER BY d.organisation, d.month"
    ),
}

STAGES = ("floor", "yardstick", "first_load", "new_month", "correction", "nothing_new")
STAGE_LABELS = {"yardstick": "pandas yardstick"}


def default_trajectories(providers: int) -> int:
    return math.ceil(TARGET_TRAJECTORIES / max(1, providers))


def bench_providers(count: int) -> dict[str, str]:
    return {f"bench-{i:02d}": f"Benchmark Jeugdhulp {i:02d}" for i in range(1, count + 1)}


# ----------------------------------------------------------------------------------------
# The floor: DuckDB alone reading the files (run in its own process: `--floor LANDING`).


def _floor(landing: Path) -> int:
    import duckdb

    from pipelines.synthetic import EXTRA_COLUMN, METINGEN_COLUMNS, TRAJECTEN_COLUMNS

    columns = {
        "trajecten": [*TRAJECTEN_COLUMNS, EXTRA_COLUMN],
        "metingen": list(METINGEN_COLUMNS),
    }
    con = duckdb.connect(":memory:")
    for kind, names in columns.items():
        con.execute(f"CREATE TABLE {kind} ({', '.join(f'{n} VARCHAR' for n in names)})")
    scratch = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    rows = 0
    try:
        for path in sorted(landing.glob("*/*/*.csv")):
            kind = path.stem
            data = path.read_bytes()
            try:
                text = data.decode("utf-8-sig")
                source = path
            except UnicodeDecodeError:
                text = data.decode("cp1252")
                source = scratch / f"{path.parent.parent.name}-{path.parent.name}-{path.name}"
                source.write_text(text, encoding="utf-8")
            first_line = text.split("\n", 1)[0]
            delimiter = ";" if ";" in first_line else ","
            header = [h.strip().strip('"').lower() for h in first_line.rstrip("\r").split(delimiter)]
            before = con.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
            con.execute(
                f"INSERT INTO {kind} BY NAME SELECT * FROM read_csv(?, header = true, "
                "all_varchar = true, delim = ?, quote = '\"', escape = '\"', names = ?)",
                [str(source), delimiter, header],
            )
            rows += con.execute(f"SELECT count(*) FROM {kind}").fetchone()[0] - before
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        con.close()
    print(json.dumps({"rows": rows}))
    return 0


# ----------------------------------------------------------------------------------------
# Stages as separate processes.


def _measure(command: list[str], env: dict[str, str], log: Path) -> dict[str, float | int]:
    """Run one stage to completion; its wall time, max RSS and exit status."""
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_seconds": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "user_seconds": round(usage.ru_utime, 2),
        "system_seconds": round(usage.ru_stime, 2),
        "exit_status": process.returncode,
    }


def _run_command(profile_dir: Path | None, stage: str) -> list[str]:
    run = "from pipelines.cli import main; raise SystemExit(main(['run']))"
    if profile_dir is None:
        return [sys.executable, "-c", run]
    profile_dir.mkdir(parents=True, exist_ok=True)
    return [
        sys.executable, "-m", "cProfile", "-o", str(profile_dir / f"{stage}.prof"),
        "-m", "pipelines.cli", "run",
    ]  # fmt: skip


def _yardstick_command(home: DatabankHome, out: Path, today: dt.date) -> list[str]:
    """The pandas yardstick on the home's landing folder, with the consortium's configuration and
    key, judging months against the same day as the pipeline."""
    return [
        sys.executable, "-m", "pipelines.yardstick", str(home.landing), str(out),
        "--consortium", str(home.config_dir / "consortium.toml"), "--key-file", str(home.key_file),
        "--today", today.isoformat(),
    ]  # fmt: skip


def _yardstick_summary(log: Path) -> dict[str, int]:
    """What the yardstick says it read and wrote (its last output line, JSON)."""
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    try:
        summary = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {}
    return {
        "rows_read_by_yardstick": summary["rows_read"],
        "yardstick_mart_rows": summary["outcome_scores"] + summary["trajectory_indicators"],
    }


def _query_latencies(publication: Path, repetitions: int) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(publication), read_only=True)
    medians = {}
    try:
        for name, sql in ANALYST_QUERIES.items():
            times = []
            for _ in range(repetitions):
                start = time.perf_counter()
                con.execute(sql).fetchall()
                times.append((time.perf_counter() - start) * 1000)
            medians[name] = round(statistics.median(times), 2)
    finally:
        con.close()
    return medians


def run_bench(
    *,
    providers: int,
    months: int,
    trajectories_per_provider: int,
    out: Path,
    workdir: Path,
    seed: int = 20261125,
    repetitions: int = 5,
    profile_dir: Path | None = None,
    today: dt.date | None = None,
    first_load_only: bool = False,
) -> dict:
    """Every stage, or with `first_load_only` the floor and the first load alone (the growth
    series runs those at several sizes)."""
    from pipelines.demo import consortium_toml, demo_months, make_irregular, settle
    from pipelines.synthetic import (
        DEFAULT_INTERVENTIONS,
        write_correction,
        write_synthetic_consortium,
    )
    from pseudonymise.keys import generate_key_file
    from warehouse.home import DatabankHome

    if months < 2:
        raise ValueError("the benchmark needs at least 2 months (the last is the new month)")
    today = today or dt.date.today()
    workdir.mkdir(parents=True, exist_ok=True)
    home = DatabankHome(workdir / "home")
    home.prepare()
    if any(home.landing.iterdir()) or home.warehouse.exists():
        raise SystemExit(f"{home.root} is not empty; give the benchmark a fresh --workdir")
    codes = bench_providers(providers)
    privacy = home.config_dir / "privacy.toml"  # keep landing files: the correction needs them
    privacy.write_text(
        privacy.read_text(encoding="utf-8")
        .replace('landing_after_processing = "delete"', 'landing_after_processing = "keep"'),
        encoding="utf-8",
    )
    generate_key_file(home.key_file)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    month_list = demo_months(today, months)
    staging = workdir / "staging"
    started = time.perf_counter()
    consortium = write_synthetic_consortium(
        staging, months=month_list, providers=codes,
        trajectories_per_provider=trajectories_per_provider, seed=seed,
    )  # fmt: skip
    generate_seconds = time.perf_counter() - started
    (home.config_dir / "consortium.toml").write_text(
        consortium_toml(codes, DEFAULT_INTERVENTIONS, consortium.teams), encoding="utf-8"
    )
    held_back = month_list[-1]
    # The months before the last, delivered irregularly; the late month waits in `late_dir`.
    first_load_dir, late_dir = workdir / "first-load", workdir / "late"
    for delivery in consortium.deliveries:
        if delivery.month != held_back:
            shutil.copytree(delivery.folder, first_load_dir / delivery.provider / delivery.month)
    irregular = make_irregular(first_load_dir, late_dir, consortium)
    shutil.copytree(first_load_dir, home.landing, dirs_exist_ok=True)
    shutil.rmtree(first_load_dir)
    settle(home.landing)
    never, late = set(irregular.never), set(irregular.late)

    def rows_of(chosen_filter) -> dict[str, int]:  # noqa: ANN001
        chosen = [d for d in consortium.deliveries if chosen_filter((d.provider, d.month))]
        return {
            "deliveries": len(chosen),
            "trajecten": sum(d.n_trajecten for d in chosen),
            "metingen": sum(d.n_metingen for d in chosen),
        }

    def in_first_load(key: tuple[str, str]) -> bool:
        return key[1] != held_back and key not in never and key not in late

    def in_new_month(key: tuple[str, str]) -> bool:
        return (key[1] == held_back and key not in never) or key in late

    env = {k: v for k, v in os.environ.items() if k not in ("DATABANK_KEY_FILE",)}
    env["DATABANK_HOME"] = str(home.root)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent), *filter(None, [env.get("PYTHONPATH")])]
    )
    stages: dict[str, dict] = {}

    def stage(name: str, command: list[str], read: dict[str, int]) -> None:
        print(f"... {name}", flush=True)
        result = _measure(command, env, logs / f"{name}.log")
        if result["exit_status"] != 0:
            tail = (logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            print(f"    {name} exited with {result['exit_status']}:\n{tail}", file=sys.stderr)
        stages[name] = {**read, **result}

    stage(
        "floor",
        [sys.executable, "-m", "pipelines.bench", "--floor", str(home.landing)],
        rows_of(in_first_load),
    )
    if not first_load_only:
        stage("yardstick", _yardstick_command(home, workdir / "yardstick-out", today), rows_of(in_first_load))
        stages["yardstick"].update(_yardstick_summary(logs / "yardstick.log"))
    stage("first_load", _run_command(profile_dir, "first_load"), rows_of(in_first_load))
    if first_load_only:
        return _first_load_result(stages, logs)

    for delivery in consortium.deliveries:
        if delivery.month == held_back:
            shutil.copytree(delivery.folder, home.landing / delivery.provider / delivery.month)
    for provider, month in irregular.late:
        shutil.copytree(late_dir / provider / month, home.landing / provider / month)
    settle(home.landing)
    stage("new_month", _run_command(profile_dir, "new_month"), rows_of(in_new_month))

    old_month = month_list[len(month_list) // 2 - 1] if len(month_list) > 2 else month_list[0]
    corrected = write_correction(home.landing, next(iter(codes)), old_month)
    settle(home.landing)
    stage(
        "correction",
        _run_command(profile_dir, "correction"),
        {"deliveries": 1, "trajecten": corrected.n_trajecten, "metingen": corrected.n_metingen},
    )
    stage(
        "nothing_new",
        _run_command(profile_dir, "nothing_new"),
        {"deliveries": 0, "trajecten": 0, "metingen": 0},
    )

    floor_log = (logs / "floor.log").read_text(encoding="utf-8", errors="replace").strip()
    if stages["floor"]["exit_status"] == 0 and floor_log:
        stages["floor"]["rows_read_by_duckdb"] = json.loads(floor_log.splitlines()[-1])["rows"]
    floor_wall = stages["floor"]["wall_seconds"]
    for result in stages.values():
        rows = result["trajecten"] + result["metingen"]
        result["rows"] = rows
        result["rows_per_second"] = round(rows / result["wall_seconds"]) if result["wall_seconds"] else 0
        result["ratio_to_floor"] = round(result["wall_seconds"] / floor_wall, 2) if floor_wall else None

    queries: dict[str, float] | None = None
    if home.publication.exists():
        queries = _query_latencies(home.publication, repetitions)
    query_median = round(statistics.median(queries.values()), 2) if queries else None

    first = stages["first_load"]
    targets = {
        "first_load_vs_floor": _target(first["ratio_to_floor"], TARGETS["first_load_vs_floor"]),
        "new_month_vs_first_load": _target(
            round(stages["new_month"]["wall_seconds"] / first["wall_seconds"], 3)
            if first["wall_seconds"] else None,
            TARGETS["new_month_vs_first_load"],
        ),
        "nothing_new_seconds": _target(
            stages["nothing_new"]["wall_seconds"], TARGETS["nothing_new_seconds"]
        ),
        "peak_memory_mb": _target(first["peak_rss_mb"], TARGETS["peak_memory_mb"]),
        "query_median_ms": _target(query_median, TARGETS["query_median_ms"], strict=True),
        "yardstick_vs_first_load": _target(
            round(stages["yardstick"]["wall_seconds"] / first["wall_seconds"], 2)
            if first["wall_seconds"] and stages["yardstick"]["exit_status"] == 0 else None,
            TARGETS["yardstick_vs_first_load"], at_least=True,
        ),
    }
    result = {
        "taken_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "scale": {
            "providers": providers,
            "months": months,
            "trajectories_per_provider": trajectories_per_provider,
            "seed": seed,
            "deliveries": len(consortium.deliveries),
            "trajecten_rows": sum(d.n_trajecten for d in consortium.deliveries),
            "metingen_rows": sum(d.n_metingen for d in consortium.deliveries),
            "landing_mb": round(
                sum(p.stat().st_size for p in staging.rglob("*.csv")) / 1e6, 1
            ),
            "generate_seconds": round(generate_seconds, 2),
            "held_back_month": held_back,
            "corrected": f"{next(iter(codes))}/{old_month}",
            "irregular": irregular.lines(),
        },
        "stages": stages,
        "queries": {
            "repetitions": repetitions,
            "median_ms": query_median,
            "per_query_median_ms": queries,
        },
        "targets": targets,
        "workdir": str(workdir),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _first_load_result(stages: dict[str, dict], logs: Path) -> dict:
    """Rows and wall time of the floor and the first load, as run_bench reports them."""
    for result in stages.values():
        rows = result["trajecten"] + result["metingen"]
        result["rows"] = rows
        result["rows_per_second"] = round(rows / result["wall_seconds"]) if result["wall_seconds"] else 0
    return {"stages": stages, "logs": str(logs)}


GROWTH_FACTORS = (1, 2, 4)


def run_growth(
    *, providers: int, months: int, base_trajectories: int, factors: Sequence[int], workdir: Path,
    seed: int, today: dt.date | None = None,
) -> dict:
    """The first load at several sizes of one consortium (issue 13, "growth shown"): the cost
    per million rows must stay flat as the data grow, or the pipeline does not scale linearly.
    Each size is its own home, generated with the same irregularities."""
    sizes = []
    for factor in factors:
        print(f"... growth {factor}x ({base_trajectories * factor} trajectories per provider)", flush=True)
        result = run_bench(
            providers=providers, months=months, trajectories_per_provider=base_trajectories * factor,
            out=workdir / f"growth-{factor}x.json", workdir=workdir / f"growth-{factor}x", seed=seed,
            repetitions=1, today=today, first_load_only=True,
        )  # fmt: skip
        first, floor = result["stages"]["first_load"], result["stages"]["floor"]
        sizes.append({
            "factor": factor,
            "trajectories_per_provider": base_trajectories * factor,
            "rows": first["rows"],
            "first_load_seconds": first["wall_seconds"],
            "floor_seconds": floor["wall_seconds"],
            "seconds_per_million_rows": round(first["wall_seconds"] / first["rows"] * 1e6, 2)
            if first["rows"] else None,
            "peak_rss_mb": first["peak_rss_mb"],
            "exit_status": first["exit_status"],
        })  # fmt: skip
    per_million = [s["seconds_per_million_rows"] for s in sizes]
    ratio = (round(per_million[-1] / per_million[0], 2)
             if len(sizes) > 1 and per_million[0] and per_million[-1] else None)
    return {"sizes": sizes, "largest_vs_smallest_per_million": _target(ratio, GROWTH_LIMIT)}


GROWTH_LIMIT = 1.2  # time per million rows at the largest size within 1.2x of the smallest


def print_growth(growth: dict) -> None:
    print("Growth of the first load (same consortium, more trajectories per provider):")
    print(f"  {'size':<6}{'traj./prov.':>12}{'rows':>12}{'wall s':>9}{'s / M rows':>12}{'peak MB':>9}")
    for s in growth["sizes"]:
        print(f"  {str(s['factor']) + 'x':<6}{s['trajectories_per_provider']:>12,}{s['rows']:>12,}"
              f"{s['first_load_seconds']:>9.2f}{s['seconds_per_million_rows'] or 0:>12.2f}"
              f"{s['peak_rss_mb']:>9.0f}" + ("" if s["exit_status"] == 0 else f"  (exit {s['exit_status']})"))
    target = growth["largest_vs_smallest_per_million"]
    verdict = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
    print(f"  time per million rows, largest / smallest <= {target['limit']}: {target['value']}  {verdict}")


def _target(value: float | None, limit: float, strict: bool = False, at_least: bool = False) -> dict:
    """`at_least`: the value must reach the limit (a speed-up), else stay within it."""
    if value is None:
        met = None
    elif at_least:
        met = value >= limit
    else:
        met = value < limit if strict else value <= limit
    return {"value": value, "limit": limit, "met": met}


def print_table(result: dict) -> None:
    scale = result["scale"]
    print(
        f"\nBenchmark {result['taken_at']} on {result['machine']['cpus']} CPUs: "
        f"{scale['providers']} providers x {scale['months']} months, "
        f"{scale['trajectories_per_provider']} trajectories per provider, "
        f"{scale['trajecten_rows']:,} trajecten + {scale['metingen_rows']:,} metingen rows "
        f"({scale['landing_mb']} MB), generated in {scale['generate_seconds']} s"
    )
    print(f"  {'stage':<17}{'deliv.':>7}{'rows':>11}{'wall s':>9}{'x floor':>9}{'rows/s':>11}{'peak MB':>9}")
    for name, s in result["stages"].items():
        ratio = "-" if s["ratio_to_floor"] is None else f"{s['ratio_to_floor']:.2f}"
        print(
            f"  {STAGE_LABELS.get(name, name):<17}{s['deliveries']:>7}{s['rows']:>11,}{s['wall_seconds']:>9.2f}"
            f"{ratio:>9}{s['rows_per_second']:>11,}{s['peak_rss_mb']:>9.0f}"
            + ("" if s["exit_status"] == 0 else f"  (exit {s['exit_status']})")
        )
    queries = result["queries"]
    if queries["per_query_median_ms"]:
        print(f"  analyst queries: median {queries['median_ms']} ms over {len(queries['per_query_median_ms'])} "
              f"queries (slowest {max(queries['per_query_median_ms'].values())} ms)")
    print("Targets (issues 6 and 13):")
    labels = {
        "first_load_vs_floor": "first load <= 3x floor",
        "new_month_vs_first_load": "new month <= 10 % of first load",
        "nothing_new_seconds": "nothing new <= 5 s",
        "peak_memory_mb": "peak memory (first load) <= 1024 MB",
        "query_median_ms": "query median < 50 ms",
        "yardstick_vs_first_load": "first load >= 5x faster than pandas yardstick",
    }
    for key, target in result["targets"].items():
        verdict = {True: "met", False: "NOT met", None: "not measured"}[target["met"]]
        print(f"  {labels[key]:<47}{target['value']!s:>10}  {verdict}")


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.bench", description="Benchmark the pipeline (issue 6)."
    )
    parser.add_argument("--providers", type=int, default=int(env("BENCH_PROVIDERS", DEFAULT_PROVIDERS_N)))
    parser.add_argument("--months", type=int, default=int(env("BENCH_MONTHS", DEFAULT_MONTHS)))
    parser.add_argument(
        "--trajectories-per-provider", type=int,
        default=int(env("BENCH_TRAJECTORIES_PER_PROVIDER", "0")) or None,
        help=f"default: {TARGET_TRAJECTORIES:,} / providers",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path(env("BENCH_OUT", str(DEFAULT_OUT))))
    parser.add_argument(
        "--workdir", type=Path, default=Path(env("BENCH_WORKDIR")) if env("BENCH_WORKDIR") else None,
        help="keep the home here (must be new); default a temporary folder, removed afterwards",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=int(env("BENCH_SEED", "20261125")))
    parser.add_argument("--repetitions", type=int, default=5, help="per analyst query")
    parser.add_argument(
        "--profile-dir", type=Path,
        default=Path(env("BENCH_PROFILE_DIR")) if env("BENCH_PROFILE_DIR") else None,
        help="run each `databank run` stage under cProfile, writing <stage>.prof here",
    )  # fmt: skip
    parser.add_argument(
        "--growth-factors", default=env("BENCH_GROWTH_FACTORS", ",".join(map(str, GROWTH_FACTORS))),
        help="sizes of the growth series, as multiples of --growth-base ('' skips it)",
    )  # fmt: skip
    parser.add_argument(
        "--growth-base", type=int, default=int(env("BENCH_GROWTH_BASE", "0")) or None,
        help="trajectories per provider at 1x (default: a quarter of the main run's)",
    )  # fmt: skip
    parser.add_argument(
        "--national", action="store_true",
        help="one first load at national size (2.5 M trajectories: Dutch youth care in five years)",
    )  # fmt: skip
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)  # the floor stage itself
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.floor:
        return _floor(args.floor)
    trajectories = args.trajectories_per_provider or default_trajectories(args.providers)
    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="databank-bench-")) if temporary else args.workdir.resolve()
    factors = [int(f) for f in args.growth_factors.split(",") if f.strip()]
    try:
        if args.national:
            national = run_bench(
                providers=args.providers, months=args.months,
                trajectories_per_provider=math.ceil(NATIONAL_TRAJECTORIES / args.providers),
                out=args.out, workdir=workdir / "national", seed=args.seed, first_load_only=True,
            )  # fmt: skip
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(national, indent=2) + "\n", encoding="utf-8")
            first = national["stages"]["first_load"]
            print(f"national first load: {first['rows']:,} rows in {first['wall_seconds']} s, "
                  f"peak {first['peak_rss_mb']} MB (floor {national['stages']['floor']['wall_seconds']} s)")
            return 0 if first["exit_status"] == 0 else 1
        result = run_bench(
            providers=args.providers, months=args.months,
            trajectories_per_provider=trajectories, out=args.out, workdir=workdir / "main",
            seed=args.seed, repetitions=args.repetitions, profile_dir=args.profile_dir,
        )  # fmt: skip
        if factors:
            result["growth"] = run_growth(
                providers=args.providers, months=args.months,
                base_trajectories=args.growth_base or max(1, trajectories // 4), factors=factors,
                workdir=workdir, seed=args.seed,
            )  # fmt: skip
            args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(result)
    if "growth" in result:
        print_growth(result["growth"])
    print(f"\nWritten {args.out}")
    failed = [name for name, s in result["stages"].items() if s["exit_status"] != 0]
    failed += [f"growth {s['factor']}x" for s in result.get("growth", {}).get("sizes", []) if s["exit_status"]]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

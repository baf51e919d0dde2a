"""`databank`: keygen, check, run, demo, dev (interfaces.md). Every failure a person can cause
ends in a plain message and an exit status, never a traceback."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_CANNOT_RUN = 2


def _quiet_libraries() -> None:
    """Library warnings (beta flags, deprecations) are for developers, not stewards."""
    warnings.filterwarnings("ignore")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def cmd_keygen(_: argparse.Namespace) -> int:
    from pseudonymise.keys import KeyFileError, generate_key_file
    from warehouse.home import resolve_home

    path = resolve_home().key_file
    try:
        key = generate_key_file(path)
    except KeyFileError as error:
        print(f"databank keygen: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except OSError as error:
        print(f"databank keygen: cannot write {path}: {error.strerror}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print(f"New pseudonymisation key written to {path} (key id {key.key_id}, readable by you only).")
    print("Keep a copy in the consortium's secret store: without it, pseudonyms cannot be renewed.")
    return EXIT_OK


def _check_config(explicit: str | None):  # noqa: ANN202
    """A steward's machine has the consortium's configuration if they were given it; otherwise
    the shipped defaults apply and the output says so."""
    from schemas.config import install_default_config, load_config
    from schemas.quality import load_delivery_quality_config
    from warehouse.home import resolve_home

    def both(folder: Path) -> tuple:
        return load_config(folder), load_delivery_quality_config(folder)

    if explicit:
        return (*both(Path(explicit)), explicit)
    home_config = resolve_home().config_dir
    if (home_config / "consortium.toml").is_file():
        return (*both(home_config), str(home_config))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        install_default_config(Path(tmp))
        return (*both(Path(tmp)), "the shipped default configuration")


def cmd_check(args: argparse.Namespace) -> int:
    from pseudonymise.keys import throwaway_key
    from pseudonymise.pseudonyms import Pseudonymiser
    from schemas.check import inspect_delivery
    from schemas.config import ConfigError
    from schemas.quality import delivery_quality, write_quality_report
    from schemas.report import verdict_summary, write_report

    target = Path(args.path).expanduser()
    if not target.exists():
        print(f"databank check: {target} does not exist", file=sys.stderr)
        return EXIT_CANNOT_RUN
    folder = target.parent if target.is_file() else target
    if target.is_file() and target.name.lower() != "export.xlsx":
        print("databank check: give a month folder (…/<provider>/<YYYY-MM>) or its export.xlsx", file=sys.stderr)
        return EXIT_CANNOT_RUN
    provider, month = folder.resolve().parent.name, folder.resolve().name
    try:
        config, quality, source = _check_config(args.config)
    except ConfigError as error:
        print(f"databank check: configuration problem: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    validated = inspect_delivery(
        folder, provider, month, config, Pseudonymiser(throwaway_key()), dt.date.today()
    )
    print(verdict_summary(validated.verdict), end="")
    quality_report = delivery_quality(validated, quality)
    failed = quality_report.failed()
    print(
        f"Datakwaliteit: {len(quality_report.results) - len(failed)} van {len(quality_report.results)} "
        "controles binnen de drempel"
        + ("" if not failed else "; niet: " + ", ".join(r.check_id for r in failed))
    )
    print(f"(gecontroleerd met {source})")
    if args.report:
        paths = write_report(validated.verdict, Path(args.report))
        paths += write_quality_report(quality_report, Path(args.report))
        print("Volledig rapport: " + ", ".join(str(p) for p in paths))
    return EXIT_OK if validated.verdict.accepted else EXIT_REJECTED


def _run(home) -> int:  # noqa: ANN001
    from pipelines.runner import PipelineFailed, run_pipeline
    from pseudonymise.keys import KeyFileError
    from schemas.config import ConfigError

    try:
        summary = run_pipeline(home, progress=lambda line: print(f"... {line}"))
    except KeyFileError as error:
        print(f"databank run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except ConfigError as error:
        print(f"databank run: configuration problem: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except PipelineFailed as error:
        print(f"databank run: the pipeline failed: {error}", file=sys.stderr)
        return EXIT_REJECTED
    print("Deliveries:")
    print("\n".join(summary.lines(home)))
    print(
        f"Published {home.publication} "
        f"({summary.mart_rows.get('outcome_scores', 0)} outcome-score rows, "
        f"{summary.mart_rows.get('trajectory_indicators', 0)} trajectory-indicator rows)."
    )
    return EXIT_OK


def cmd_run(_: argparse.Namespace) -> int:
    from warehouse.home import resolve_home

    return _run(resolve_home())


def cmd_demo(_: argparse.Namespace) -> int:
    from pipelines.demo import DemoRefused, run_demo
    from warehouse.home import resolve_home

    try:
        return run_demo(resolve_home(), _run)
    except DemoRefused as error:
        print(f"databank demo: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on this home, from the project root, with the home's Dagster instance."""
    from warehouse.home import PROJECT_ROOT, resolve_home

    home = resolve_home()
    home.prepare()
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    os.environ["DATABANK_HOME"] = str(home.root)
    os.chdir(PROJECT_ROOT)
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster), [str(dagster), "dev", "--port", str(args.port)])
    return EXIT_CANNOT_RUN  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="databank",
        description="Lerende Databank Jeugd: pseudonymise, validate and publish youth-care outcomes.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("keygen", help="write a new pseudonymisation key (never overwrites)").set_defaults(func=cmd_keygen)
    check = commands.add_parser("check", help="validate one delivery without loading it")
    check.add_argument("path", help="a month folder <provider>/<YYYY-MM> or its export.xlsx")
    check.add_argument("--config", help="the consortium's config folder (default: the home's, else shipped defaults)")
    check.add_argument("--report", help="also write the full report (text, HTML, CSV) to this folder")
    check.set_defaults(func=cmd_check)
    commands.add_parser("run", help="process new deliveries, rebuild the marts, republish").set_defaults(func=cmd_run)
    commands.add_parser("demo", help="synthetic deliveries through the whole pipeline on an empty home").set_defaults(func=cmd_demo)
    dev = commands.add_parser("dev", help="start the Dagster UI and daemon on this home")
    dev.add_argument("--port", type=int, default=3000, help="port of the UI on 127.0.0.1 (default 3000)")
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("databank: interrupted", file=sys.stderr)
        return EXIT_CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main())

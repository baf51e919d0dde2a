"""`databank`: keygen, check, run, demo, dev (interfaces.md). Every failure a person can cause
ends in a plain message and an exit status, never a traceback."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_CANNOT_RUN = 2
# status and explain only read; the tables they read are added by the next `databank run`.
OLDER_HOME = (
    "this home's warehouse was made by an older version of the pipeline and lacks tables this "
    "command reads; run `databank run` once (it upgrades the warehouse in place), then try again"
)


def today() -> dt.date:
    """The one place the command line reads the calendar: commands pass this day down to the
    decisions that depend on it (month in the future, overdue providers), and tests replace it."""
    return dt.date.today()


def _quiet_libraries() -> None:
    """Library warnings (beta flags, deprecations) are for developers, not stewards."""
    warnings.filterwarnings("ignore")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def cmd_keygen(_: argparse.Namespace) -> int:
    from pseudonymise.keys import KeyFileError, generate_key_file
    from warehouse.home import resolve_home

    home = resolve_home()
    path = home.key_file
    try:
        if path.is_relative_to(home.root):
            home.create_root()  # 0750, so the analysts' group can later reach publish/
        key = generate_key_file(path)  # its folder 0700, the file 0600
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
    """A steward's machine has the consortium's configuration if they were given it (--config,
    else the home's); otherwise the shipped defaults apply. Returns the configuration, the
    quality thresholds, what was used and, when a given folder lacks files check reads, the one
    line that says which came from the shipped defaults."""
    from schemas.config import (
        CONSORTIUM_FILE,
        INSTRUMENTS_FILE,
        QUALITY_FILE,
        SHIPPED_DEFAULTS,
        defaults_note,
        load_config,
    )
    from schemas.quality import load_delivery_quality_config
    from warehouse.home import resolve_home

    home_config = resolve_home().config_dir
    if explicit:
        folder, source = Path(explicit), explicit
    elif (home_config / CONSORTIUM_FILE).is_file():
        folder, source = home_config, str(home_config)
    else:
        folder, source = SHIPPED_DEFAULTS, "the shipped default configuration"
    note = defaults_note(folder, (INSTRUMENTS_FILE, QUALITY_FILE))  # check reads no privacy.toml
    return load_config(folder), load_delivery_quality_config(folder), source, note


def cmd_check(args: argparse.Namespace) -> int:
    from pseudonymise.keys import throwaway_key
    from pseudonymise.pseudonyms import Pseudonymiser
    from pseudonymise.read_step import inspect_delivery
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
        config, quality, source, note = _check_config(args.config)
    except ConfigError as error:
        print(f"databank check: configuration problem: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    validated = inspect_delivery(
        folder, provider, month, config, Pseudonymiser(throwaway_key()), today()
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
    if note:
        print(f"({note})")
    if args.report:
        paths = write_report(validated.verdict, Path(args.report))
        paths += write_quality_report(quality_report, Path(args.report))
        print("Volledig rapport: " + ", ".join(str(p) for p in paths))
    return EXIT_OK if validated.verdict.accepted else EXIT_REJECTED


def _stopped(command: str, error: Exception, failed: str) -> int:
    """The message and exit status for a problem a person can cause or must know about: a key,
    the configuration, a bad argument, or the pipeline itself (`failed` names what failed)."""
    from pipelines.runner import PipelineFailed
    from schemas.config import ConfigError

    if isinstance(error, ConfigError):
        print(f"databank {command}: configuration problem: {error}", file=sys.stderr)
    elif isinstance(error, PipelineFailed):
        print(f"databank {command}: {failed}: {error}", file=sys.stderr)
        return EXIT_REJECTED
    else:  # KeyFileError or ValueError: their messages say what to do
        print(f"databank {command}: {error}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def _run(home) -> int:  # noqa: ANN001
    from pipelines.runner import DeliveriesNotJudged, PipelineFailed, run_pipeline
    from pseudonymise.keys import KeyFileError
    from schemas.config import ConfigError

    try:
        summary = run_pipeline(home, today(), progress=lambda line: print(f"... {line}"))
    except DeliveriesNotJudged as unfinished:
        print("Deliveries:")
        print("\n".join(unfinished.summary.lines(home)))
        return _stopped("run", unfinished, "the run is incomplete")
    except (KeyFileError, ConfigError, PipelineFailed) as error:
        return _stopped("run", error, "the pipeline failed")
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
        return run_demo(resolve_home(), _run, today())
    except DemoRefused as error:
        print(f"databank demo: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN


def _identifier_argument(value: str) -> str:
    """`-` reads the identifier from standard input, so it stays out of shell history."""
    return sys.stdin.readline().strip() if value == "-" else value.strip()


class ErasureIncomplete(Exception):
    """An erasure removed what it could find but could not show that nothing of the client is
    left: the report still goes to stdout, the problem to stderr, and the status is non-zero."""

    def __init__(self, report: str, problem: str) -> None:
        super().__init__(problem)
        self.report = report


def _privacy_command(name: str, action) -> int:  # noqa: ANN001 - (home) -> str
    """Common guard: clear messages for key, configuration and pipeline problems."""
    from pipelines.runner import PipelineFailed
    from pseudonymise.keys import KeyFileError
    from schemas.config import ConfigError
    from warehouse.connection import writer_lock
    from warehouse.extracts import ExtractRefused
    from warehouse.home import resolve_home

    home = resolve_home()
    try:
        home.prepare()
        home.config()
        # The whole command holds the writers' lock: no run slips in between the change and the
        # rebuild it needs (a running `databank run` is waited for).
        with writer_lock(home.warehouse, on_wait=lambda note: print(f"... {note}")):
            print(action(home))
    except ErasureIncomplete as incomplete:
        print(incomplete.report)
        print(f"databank {name}: {incomplete}", file=sys.stderr)
        return EXIT_REJECTED
    except ExtractRefused as refused:  # the scope is too fine for its data: nothing was written
        print(f"databank {name}: {refused}", file=sys.stderr)
        return EXIT_REJECTED
    except (KeyFileError, ConfigError, PipelineFailed, ValueError) as error:
        return _stopped(name, error, "rebuilding failed")
    return EXIT_OK


def format_erasure(erasure, provider: str, by_bsn: bool = False) -> str:  # noqa: ANN001 - Erasure
    """Per table the rows removed, and the objection records replaced: counts only."""
    width = max(len(table) for table in erasure.removed)
    scope = "every provider that delivered the BSN" if by_bsn else provider
    lines = [f"Erasure of one client ({scope}, all months); rows removed per table:"]
    lines += [f"  {table.ljust(width)}  {count:>6}" for table, count in erasure.removed.items()]
    lines.append(f"  {'total'.ljust(width)}  {sum(erasure.removed.values()):>6}")
    if erasure.objections_replaced:
        lines.append(
            f"The client's {erasure.objections_replaced} objection records were replaced by erasure "
            "tokens, which keep the client out just as well."
        )
    lines.append(
        f"On the erasure list: {erasure.tokens} new tokens (keyed digests, no pseudonyms); no later "
        "delivery, correction or re-sent month brings the client back."
    )
    lines.append("Warehouse file rewritten: the erased values are gone from its bytes.")
    lines.append("Marts rebuilt and republished. The audit record holds counts only.")
    lines.append("Remember: the provider's landing files and its own systems are outside this erasure.")
    return "\n".join(lines)


def erasure_problem(erasure, provider: str) -> str:  # noqa: ANN001 - Erasure
    """Why an erasure is not complete, and what a person must do: counts and key ids only."""
    lines = ["the erasure is NOT complete."]
    for table, count in erasure.left.items():
        lines.append(f"  {count} rows of this client are still in {table}.")
    missing: set[str] = set()
    for table, per_key in erasure.unverifiable.items():
        for (row_provider, key_id), count in per_key.items():
            missing.add(key_id)
            lines.append(
                f"  {count} rows of {row_provider} in {table} carry pseudonyms of key {key_id}, which "
                "the key file lacks: this client may be among them, and they can be neither "
                "searched nor removed with this key file."
            )
    lines.append("The rows counted as removed are gone and the marts were rebuilt without them.")
    if missing:
        lines.append(
            f"Put the key(s) {', '.join(sorted(missing))} back in the key file from the "
            "consortium's backup and run `databank forget` again; if no such key exists any "
            "more, those rows cannot be attributed to anyone by this databank and need a "
            "decision by the consortium (e.g. erasing them whole)."
        )
    else:
        lines.append("Report this as a defect: the erasure SQL missed a table.")
    return "\n".join(lines)


def cmd_forget(args: argparse.Namespace) -> int:
    def forget(home) -> str:  # noqa: ANN001
        from pipelines.runner import rebuild_and_publish
        from pseudonymise.intake import normalise_bsn
        from pseudonymise.keys import load_key_ring
        from schemas.config import PROVIDER_CODE
        from warehouse.connection import open_warehouse, rewrite_now
        from warehouse.privacy import client_pseudonyms, forget_client
        from warehouse.pseudonym_keys import ensure_key_ring_covers_warehouse
        from warehouse.rewrite import owe_rewrite

        if not PROVIDER_CODE.match(args.provider):
            raise ValueError("--provider must be a provider code ([a-z0-9-]{2,40})")
        held = load_key_ring(home.key_file)
        bsn = number = None
        if args.bsn is not None:
            bsn = normalise_bsn(_identifier_argument(args.bsn))
            if bsn is None:
                raise ValueError("the BSN given is not a valid BSN (9 digits, elfproef)")
        else:
            number = _identifier_argument(args.clientnummer)
            if not number:
                raise ValueError("the clientnummer given is empty")
        with open_warehouse(home.warehouse) as con:
            ring = ensure_key_ring_covers_warehouse(con, held, home.key_file)
            client_ids, local_ids = client_pseudonyms(held, ring, args.provider, bsn, number)
            owe_rewrite(home.warehouse)  # before the erasure commits: a crash after it still rewrites
            erasure = forget_client(
                con, args.provider, "bsn" if bsn else "clientnummer", client_ids, local_ids,
                held.key_ids, ring,
            )
        rewrite_now(home.warehouse)  # the erased values leave the file's bytes
        rebuild_and_publish(home)
        report = format_erasure(erasure, args.provider, by_bsn=bsn is not None)
        if not erasure.complete:
            raise ErasureIncomplete(report, erasure_problem(erasure, args.provider))
        if not any(erasure.removed.values()) and not erasure.objections_replaced:
            # a typo or the wrong --provider must not read as a done erasure (found in review)
            where = "any provider" if bsn is not None else args.provider
            raise ErasureIncomplete(report, (
                f"no row of this client was found at {where}: check the provider code and the "
                "identifier. The identifier is on the erasure list all the same, so a later "
                "delivery of it is left out; if it was mistyped, run forget again with the right one."
            ))
        return report

    return _privacy_command("forget", forget)


def cmd_rotate_key(_: argparse.Namespace) -> int:
    def rotate(home) -> str:  # noqa: ANN001
        from pipelines.runner import rebuild_and_publish
        from pseudonymise.keys import load_key_ring, new_key, pending_ring_path, write_key_ring
        from warehouse.connection import open_warehouse, rewrite_now
        from warehouse.privacy import rekey_warehouse
        from warehouse.pseudonym_keys import ensure_key_ring_covers_warehouse, recorded_key_ids
        from warehouse.rewrite import owe_rewrite

        key_file, pending = home.key_file, pending_ring_path(home.key_file)
        with open_warehouse(home.warehouse) as con:
            if pending.exists():  # an earlier rotation stopped half-way: finish or undo it
                extended = load_key_ring(pending, allow_pending=True)
                # The warehouse's key record says whether the re-keying committed.
                if extended.key_id in recorded_key_ids(con):
                    os.replace(pending, key_file)
                    outcome = f"Finished an interrupted rotation to key {extended.key_id}."
                else:
                    pending.unlink()
                    outcome = "Undid an interrupted rotation that had not re-keyed the warehouse."
                ensure_key_ring_covers_warehouse(con, load_key_ring(key_file), key_file)
                rebuild_and_publish(home)
                return outcome + " Run `databank rotate-key` again for a new rotation if wanted."
            held = load_key_ring(key_file)
            ring = ensure_key_ring_covers_warehouse(con, held, key_file)
            _convert_old_rows(con, ring, home)  # so the rotation moves days that exist
            key = new_key()
            # The key exists on disk before it is used; no key of the file is ever dropped.
            write_key_ring(pending, held.with_key(key))
            owe_rewrite(home.warehouse)  # the old pseudonyms must leave the file's bytes
            count = rekey_warehouse(con, ring, key)
            os.replace(pending, key_file)
        rewrite_now(home.warehouse)
        rebuild_and_publish(home)
        return (
            f"Rotated from key {ring.key_id} to {key.key_id}: {count} stored pseudonyms keyed again; "
            "new deliveries get the new key's layer; the warehouse file was rewritten, so the old "
            "pseudonyms are gone from its bytes; marts rebuilt and republished. Store the new "
            f"key file {key_file} in the consortium's secret store."
        )

    return _privacy_command("rotate-key", rotate)


def _convert_old_rows(con, ring, home) -> None:  # noqa: ANN001 - connection, KeyRing, home
    """A warehouse from before data minimisation is converted once, where the key is at hand."""
    from pseudonymise.clock import TrajectoryClock
    from schemas.anonymity import load_anonymity_config
    from warehouse.minimise import convert_old_rows

    convert_old_rows(con, TrajectoryClock(ring.current), load_anonymity_config(home.config_dir))


def format_extract(manifest: dict) -> str:
    """What was written, how many clients stand out and how linkable it is: counts only."""
    anonymity, linkage = manifest["anonymity"], manifest["linkage"]
    tables = ", ".join(f"{name}: {t['rows']} rows" for name, t in manifest["tables"].items())
    share = anonymity["share_at_least_k"]
    return "\n".join([
        f"Extract for scope {manifest['scope']} written ({tables}; see manifest.json).",
        f"  columns from {manifest['columns_from']}",
        f"  k-anonymity: {'-' if share is None else f'{share:.1%}'} of {anonymity['clients']} clients share "
        f"their {', '.join(anonymity['quasi_identifiers']) or '(no quasi-identifiers)'} with at least "
        f"{anonymity['k'] - 1} others (required: {anonymity['required_share']:.0%})",
        f"  linkable: at most {linkage['unique_on_values']} of {linkage['trajectories']} trajectories "
        f"({linkage['share']:.1%}) are unique on their values and could be found in another extract "
        "or the warehouse",
    ])


def cmd_extract(args: argparse.Namespace) -> int:
    def extract(home) -> str:  # noqa: ANN001
        from pseudonymise.keys import load_key_ring
        from schemas.anonymity import load_anonymity_config
        from warehouse.connection import open_warehouse
        from warehouse.extracts import write_extract
        from warehouse.pseudonym_keys import ensure_key_ring_covers_warehouse

        held = load_key_ring(home.key_file)
        config = load_anonymity_config(home.config_dir)
        with open_warehouse(home.warehouse) as con:
            ring = ensure_key_ring_covers_warehouse(con, held, home.key_file)
            _convert_old_rows(con, ring, home)
            manifest = write_extract(con, ring, config, args.scope, Path(args.out))
        return format_extract(manifest) + f"\n  folder: {args.out}"

    return _privacy_command("extract", extract)


STATUS_WORDS = {
    "accepted": "accepted",
    "accepted_with_quarantine": "accepted with quarantine",
    "rejected": "rejected",
}


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def month_list(months: Sequence[str]) -> str:
    """Months in order, a run of three or more consecutive ones as 'first to last (n months)':
    a provider that stopped delivering two years ago gets one line, not 24 months."""
    from warehouse.status import next_month

    parts: list[str] = []
    start = 0
    while start < len(months):
        end = start
        while end + 1 < len(months) and next_month(months[end]) == months[end + 1]:
            end += 1
        if end - start >= 2:
            parts.append(f"{months[start]} to {months[end]} ({end - start + 1} months)")
        else:
            parts.extend(months[start:end + 1])
        start = end + 1
    return ", ".join(parts)


LANDING_WORDS = {  # the ledger's states, as `databank status` says them
    "pending": "pending (the next `databank run` or sensor tick reads them)",
    "being_written": "still being written",
    "unpartitionable": "rejected: the folder cannot name a delivery",
    "waiting_for_configuration": "rejected before; judged again when the configuration changes",
    "unchanged": "unchanged since they were judged",
}


def format_landing(landing) -> list[str]:  # noqa: ANN001 - tuple[LedgerEntry, ...] | None
    """The landing folder as the ledger sees it: what `databank run` would do next."""
    if landing is None:
        return ["Landing: not classified while a run holds the warehouse"]
    if not landing:
        return ["Landing: no delivery folders"]
    lines = ["Landing (every folder under landing/, as `databank run` and the sensor see it):"]
    for state, words in LANDING_WORDS.items():
        entries = [e for e in landing if e.state == state]
        if not entries:
            continue
        named = "" if state == "unchanged" else ": " + ", ".join(e.name for e in entries[:20]) + (
            f" and {len(entries) - 20} more" if len(entries) > 20 else ""
        )
        lines.append(f"  {len(entries)} {words}{named}")
    return lines


def format_status(report, home) -> str:  # noqa: ANN001 - (StatusReport, DatabankHome)
    """The terminal's version of the Dagster UI overview: deliveries, build, freshness."""
    if report.source == "warehouse":
        source = f"Source: the warehouse {home.warehouse} (read-only)."
    elif report.source == "publication":
        source = (
            f"NOTE: {report.note}: {home.publication}. It lists the deliveries in force only "
            "(no rejected attempts, no objection counts); run `databank status` again after the "
            "run for the full picture."
        )
    else:
        source = f"NOTE: {report.note}."
    lines = [f"Databank status of {home.root} on {report.today:%Y-%m-%d}", source, ""]

    lines.append("Deliveries (newest attempt per provider and month; counts are rows):")
    if report.deliveries:
        header = ("provider", "month", "status", "trajecten", "metingen", "quarantined",
                  "excluded", "loaded", "received", "report")
        rows = [
            (d.provider, d.month, STATUS_WORDS.get(d.status, d.status), str(d.rows_trajecten),
             str(d.rows_metingen), str(d.quarantined), _count(d.excluded_by_objection),
             _count(d.loaded), _when(d.received_at), str(d.report_dir))
            for d in report.deliveries
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        numeric = range(3, 8)

        def line(cells: tuple[str, ...]) -> str:
            return "  " + "  ".join(
                c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        lines.append(line(header))
        for delivery, row in zip(report.deliveries, rows, strict=True):
            lines.append(line(row))
            if delivery.earlier_version_in_force:
                lines.append(
                    f"    the version received {_when(delivery.in_force_received_at)} stays in force"
                )
        lines.append(
            "  trajecten/metingen: rows read; quarantined, excluded (by objection or erasure) and loaded: "
            "rows of both tables; loaded = read - quarantined - excluded, the rows staged"
        )
    else:
        lines.append("  none yet")
    lines.append("")
    lines.extend(format_landing(report.landing))
    lines.append("")

    build = report.build
    lines.append("Build:")
    if build.latest_built_at is None:
        lines.append("  no build yet")
    else:
        counted = " as published" if build.builds is None else f", {build.builds} builds in all"
        lines.append(f"  latest build {_when(build.latest_built_at)} (build {build.latest_build_id}{counted})")
    published = build.published
    if published is None:
        lines.append("  nothing published yet")
    else:
        lines.append(
            f"  published {home.publication}: build {published.build_id or '?'} of {_when(published.built_at)}"
            + ("" if build.published_is_latest or build.latest_built_at is None
               else " — NOT the latest build (its publication did not complete; see the last run)")
        )
        lines.append(
            f"    mart.outcome_scores: {published.outcome_scores} rows, "
            f"{published.outcome_scores_suppressed} suppressed"
        )
        lines.append(
            f"    mart.trajectory_indicators: {published.trajectory_indicators} rows, "
            f"{published.trajectory_indicators_suppressed} suppressed"
        )
    lines.append("")

    lines.append(
        "Freshness (every month from a provider's first delivery up to "
        f"{report.last_due_month} needs an accepted delivery; a month is due "
        f"{report.days_after_month_end} days after its end, so {report.expected_month} by "
        f"{report.due_by:%Y-%m-%d}):"
    )
    width = max((len(f.provider) for f in report.freshness), default=0)
    for fresh in report.freshness:
        newest = f"newest month delivered {fresh.newest_month}"
        if fresh.newest_accepted_month != fresh.newest_month:
            newest += f" (newest accepted: {fresh.newest_accepted_month or 'none'})"
        if fresh.overdue:
            verdict = f"OVERDUE: no accepted delivery for {month_list(fresh.missing_months)}"
        elif fresh.expected_accepted:
            verdict = "up to date"
        else:
            verdict = f"{report.expected_month} not yet accepted, not overdue"
        lines.append(f"  {fresh.provider.ljust(width)}  {newest}; {verdict}")
    if not report.freshness:
        lines.append("  no registered provider has delivered yet")
    if report.never_delivered:
        lines.append("  never delivered (not checked): " + ", ".join(report.never_delivered))
    if report.overdue:
        lines.append(f"  {len(report.overdue)} overdue: " + ", ".join(report.overdue))
    return "\n".join(lines)


def cmd_status(_: argparse.Namespace) -> int:
    import duckdb

    from schemas.config import ConfigError
    from warehouse.home import resolve_home
    from warehouse.status import databank_status

    home = resolve_home()
    try:
        report = databank_status(home, today(), now=time.time())
    except ConfigError as error:
        print(f"databank status: configuration problem: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except duckdb.CatalogException:
        print(f"databank status: {OLDER_HOME}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except duckdb.Error as error:
        print(f"databank status: cannot read the warehouse or the published copy: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print(format_status(report, home))
    return EXIT_OK


def format_explanation(explanation) -> str:  # noqa: ANN001 - Explanation
    """Which deliveries and privacy actions lie between the last two builds."""
    if not explanation.comparable:
        if explanation.latest is None:
            return "There is no build yet: nothing to compare (`databank run` makes the first)."
        return (
            f"There is only one build ({explanation.latest.build_id} of "
            f"{_when(explanation.latest.built_at)}): nothing to compare it with yet."
        )
    latest, previous = explanation.latest, explanation.previous
    lines = [
        f"What changed from build {previous.build_id} ({_when(previous.built_at)}) "
        f"to build {latest.build_id} ({_when(latest.built_at)}):"
    ]
    if explanation.organisation:
        lines.append(
            f"(limited to {explanation.organisation}; rows of consortium and intervention level "
            "are affected by every provider: run without --organisation for those)"
        )
    lines.append("")
    lines.append("Deliveries:")

    def described(ref) -> str:  # noqa: ANN001 - DeliveryRef
        return f"{STATUS_WORDS.get(ref.status, ref.status)}, received {_when(ref.received_at)}"

    for change in explanation.changes:
        where = f"{change.provider} {change.month}"
        if change.change == "added":
            lines.append(f"  added     {where} (new month): {described(change.latest)}")
        elif change.change == "replaced":
            lines.append(
                f"  replaced  {where} (correction): {described(change.latest)}; "
                f"replaces the delivery received {_when(change.previous.received_at)}"
            )
        else:
            lines.append(
                f"  removed   {where}: the delivery received {_when(change.previous.received_at)} "
                "is no longer in force"
            )
    if not explanation.changes:
        lines.append("  none differ")
    lines.append("")
    lines.append(
        "Privacy actions between the two builds (counts only): "
        f"{explanation.erasures} erasures, {explanation.key_rotations} key rotations, "
        f"{explanation.objections} objections recorded."
    )
    if not explanation.changes and not explanation.privacy_actions:
        if explanation.organisation:
            lines.append(
                f"Nothing of {explanation.organisation} differs: its own rows changed only if the "
                "configuration (config/: k, suppression, instruments) or the code did; consortium "
                "and intervention rows may have changed through other providers."
            )
        else:
            lines.append(
                "Neither deliveries nor privacy actions differ: the change comes from the "
                "configuration (config/: k, suppression, instruments) or from the code."
            )
    return "\n".join(lines)


def cmd_explain(args: argparse.Namespace) -> int:
    import duckdb

    from schemas.config import PROVIDER_CODE
    from warehouse.home import resolve_home
    from warehouse.status import WarehouseInUse, explain_last_build

    if args.organisation is not None and not PROVIDER_CODE.match(args.organisation):
        print("databank explain: --organisation must be a provider code ([a-z0-9-]{2,40})", file=sys.stderr)
        return EXIT_CANNOT_RUN
    try:
        explanation = explain_last_build(resolve_home(), args.organisation)
    except WarehouseInUse as busy:
        print(f"databank explain: {busy}: a run is in progress, try again when it finishes", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except duckdb.CatalogException:
        print(f"databank explain: {OLDER_HOME}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except duckdb.Error as error:
        print(f"databank explain: cannot read the warehouse: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print(format_explanation(explanation))
    return EXIT_OK


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on this home, from the project root, supervised (pipelines/dev.py)."""
    from pipelines.dev import serve
    from warehouse.home import resolve_home

    return serve(resolve_home(), args.port)


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
    forget = commands.add_parser("forget", help="erase one client of one provider everywhere (AVG)")
    forget.add_argument("--provider", required=True, help="the provider code")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--clientnummer", help="the provider's client number ('-': read from stdin)")
    who.add_argument("--bsn", help="the client's BSN ('-': read from stdin)")
    forget.set_defaults(func=cmd_forget)
    commands.add_parser(
        "rotate-key", help="move the warehouse to a new key without the original identifiers"
    ).set_defaults(func=cmd_rotate_key)
    extract = commands.add_parser("extract", help="pseudonymised microdata for one recipient scope")
    extract.add_argument("--scope", required=True, help="the recipient scope, e.g. 'onderzoek-2026': its "
                         "columns come from [extracts.<scope>] in config/privacy.toml, else [extracts.default]")
    extract.add_argument("--out", required=True, help="folder for the Parquet files and manifest.json")
    extract.set_defaults(func=cmd_extract)
    commands.add_parser(
        "status", help="deliveries, the latest build and published marts, overdue providers"
    ).set_defaults(func=cmd_status)
    explain = commands.add_parser(
        "explain", help="which deliveries and privacy actions changed the figures since the previous build"
    )
    explain.add_argument("--organisation", help="only the deliveries and actions of this provider code")
    explain.set_defaults(func=cmd_explain)
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

"""`databank dev`: `dagster dev` (webserver, daemon, code servers) on a home, supervised so that
Ctrl-C or a service manager's SIGTERM ends every one of its processes within seconds.

Why a supervisor and not `exec`: started from a script, `dagster dev` inherits an ignored SIGINT
and kept running with its children after SIGTERM and SIGINT (issue 11). Here it runs in a session
of its own; on a signal the whole session gets SIGINT (dagster's own orderly shutdown), and
whatever is still alive after the grace period gets SIGKILL."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from warehouse.home import PROJECT_ROOT, DatabankHome

GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def session_members(session: int) -> list[int]:
    """Every process in the session, found in /proc: children that outlive their parent are
    reparented and drop out of a parent-child walk, but never leave their session."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if len(fields) > 3 and int(fields[3]) == session and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def stop_session(session: int, grace: float = GRACE_SECONDS) -> None:
    for signal_number, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 5.0)):
        for pid in session_members(session):
            try:
                os.kill(pid, signal_number)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while session_members(session) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not session_members(session):
            return


def _prepare_child() -> None:
    """Default signal dispositions even if ours were inherited as ignored, and (Linux) a SIGINT
    to dagster dev should this supervisor itself be killed outright, so nothing is orphaned."""
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl-C and SIGTERM still stop the session through serve()


def serve(home: DatabankHome, port: int) -> int:
    home.prepare()
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(home.dagster_home), "DATABANK_HOME": str(home.root)}
    stopping: list[int] = []

    def stop(signal_number: int, _: FrameType | None) -> None:
        stopping.append(signal_number)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        child = subprocess.Popen(
            [str(dagster), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, start_new_session=True,
            preexec_fn=_prepare_child,
        )
        while child.poll() is None and not stopping:
            time.sleep(0.2)
        if stopping:
            print("databank dev: stopping the Dagster webserver, daemon and code servers", file=sys.stderr)
        stop_session(child.pid)
        child.wait()
    finally:
        for signal_number, handler in previous.items():
            signal.signal(signal_number, handler)
    return 130 if stopping and stopping[0] == signal.SIGINT else (0 if stopping else child.returncode)

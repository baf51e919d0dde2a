"""Named points where a crash must leave the last good state: the crash-safety test kills the
real process at each of them (fault injection). Without DATABANK_CRASH_AT nothing happens."""

from __future__ import annotations

import os
import signal

_reached: list[str] = []


def crash_point(name: str) -> None:
    """DATABANK_CRASH_AT=N sends SIGKILL to this process at the N-th point reached (1-based);
    DATABANK_CRASH_TRACE=FILE appends each point's name, to enumerate them."""
    _reached.append(name)
    trace = os.environ.get("DATABANK_CRASH_TRACE")
    if trace:
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(name + "\n")
    target = os.environ.get("DATABANK_CRASH_AT")
    if target and target.isdigit() and len(_reached) == int(target):
        os.kill(os.getpid(), signal.SIGKILL)

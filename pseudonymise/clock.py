"""Each trajectory's own clock: how the warehouse keeps the dates it needs without keeping dates.

The marts need the order of a trajectory's measurements and whether an end score comes after
its start score (outcome-metrics §2); the quality checks need days between a measurement and the
start, and a trajectory's length. None of that needs a calendar date. So a stored date is a day
number on the trajectory's own clock: days since 2000-01-01 plus an offset drawn, per trajectory,
from a keyed HMAC of its pseudonym. Differences within one trajectory are exact; without the key
a day number says nothing about the calendar (the start and end are stored as months besides).

Why not "days since the start" as delivered: a steward may correct a start date, and a month
whose measurements were delivered once ("only the new ones", delivery-format §9.2) would then
stay counted from the old start, so the de-duplication of outcome-metrics §1 and the pairing
would compare days counted from two different starts. A clock that does not depend on any
delivered date has no such drift. The offset follows the pseudonym: `databank rotate-key` moves
every stored day number by the difference between the old and the new offset."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable

from pseudonymise.keys import PseudonymKey

PURPOSE = "trajectory-clock"
EPOCH = dt.date(2000, 1, 1)
# A million days (about 2,700 years): wide enough that a day number is no date, small enough
# for a 32-bit INTEGER column together with any date the read step accepts (1900-2200).
SPAN = 1_000_000


class TrajectoryClock:
    """Day numbers on each trajectory's keyed clock (see the module docstring)."""

    def __init__(self, key: PseudonymKey) -> None:
        self._context = hmac.new(key.subkey(PURPOSE), digestmod=hashlib.sha256)
        self._cache: dict[str, int] = {}

    def offset(self, trajectory_id: str) -> int:
        cached = self._cache.get(trajectory_id)
        if cached is None:
            keyed = self._context.copy()
            keyed.update(trajectory_id.encode("utf-8"))
            cached = int.from_bytes(keyed.digest()[:8], "big") % SPAN
            if len(self._cache) > 250_000:  # one run may read years of every provider
                self._cache.clear()
            self._cache[trajectory_id] = cached
        return cached

    def offsets(self, trajectory_ids: Iterable[str]) -> list[int]:
        return [self.offset(t) for t in trajectory_ids]

    def day(self, trajectory_id: str, date: dt.date) -> int:
        return (date - EPOCH).days + self.offset(trajectory_id)

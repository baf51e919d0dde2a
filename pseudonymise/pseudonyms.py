"""Keyed pseudonyms (HMAC-SHA256 under an HKDF purpose subkey). Each carries a label naming its
type, version and key, as in the Dutch public pseudonymisation method, so a key can be rotated
and a stored pseudonym always says which key made it."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from hashlib import sha256

from pseudonymise.clock import TrajectoryClock
from pseudonymise.keys import KeyRing, PseudonymKey

VERSION = "1"
DIGEST_HEX = 32  # 128 bits: collisions are negligible at national scale
SEPARATOR = "\x1f"  # a unit separator never occurs in steward text, so inputs cannot collide

CLIENT = "client"
LOCAL_CLIENT = "local-client"  # the provider's own client number, for requests by clientnummer
TRAJECTORY = "trajectory"
_TYPE_LABEL = {CLIENT: "CL", LOCAL_CLIENT: "LC", TRAJECTORY: "TR"}


def layer(context: hmac.HMAC, purpose: str, key_id: str, value: str) -> str:
    """One keyed layer: the label names type, version and the key that made it."""
    keyed = context.copy()
    keyed.update(value.encode("utf-8"))
    return f"{_TYPE_LABEL[purpose]}{VERSION}-{key_id}-{keyed.hexdigest()[:DIGEST_HEX]}"


def rekey(key: PseudonymKey, purpose: str, pseudonym: str) -> str:
    """The pseudonym one more key layer would give: rotation without raw identifiers."""
    return layer(hmac.new(key.subkey(purpose), digestmod=sha256), purpose, key.key_id, pseudonym)


def purpose_of(pseudonym: str) -> str:
    label = pseudonym[:2]
    return next(p for p, t in _TYPE_LABEL.items() if t == label)


# About 300 bytes an entry: a bound of ~75 MB. A provider's clients recur month after month, so
# a cache that holds one provider's identifiers keeps nearly all of the benefit.
MAX_CACHED = 250_000


class Pseudonymiser:
    """Hashes each distinct identifier once and caches it, as deliveries repeat every client
    in every month."""

    def __init__(self, key: PseudonymKey | KeyRing) -> None:
        ring = key if isinstance(key, KeyRing) else KeyRing((key,))
        self.key_id = ring.key_id
        # Stored dates are day numbers on each trajectory's clock, keyed by the newest key like
        # the pseudonyms it follows (pseudonymise/clock.py).
        self.clock = TrajectoryClock(ring.current)
        # One keyed context per key of the ring and purpose, copied per value (cheap).
        self._layers = [
            (k.key_id, {p: hmac.new(k.subkey(p), digestmod=sha256) for p in _TYPE_LABEL})
            for k in ring.keys
        ]
        self._cache: dict[tuple[str, str], str] = {}

    def _pseudonym(self, purpose: str, message: str) -> str:
        cached = self._cache.get((purpose, message))
        if cached is not None:
            return cached
        if len(self._cache) >= MAX_CACHED:  # one run may read every provider's years of months
            self._cache.clear()
        value = message
        for key_id, contexts in self._layers:  # the oldest key first: see KeyRing
            value = layer(contexts[purpose], purpose, key_id, value)
        self._cache[(purpose, message)] = value
        return value

    def local_client(self, provider: str, clientnummer: str) -> str:
        """Always from the provider's own number, so a client can be found by it (erasure,
        objection) even when their trajectories are linked by BSN."""
        return self._pseudonym(LOCAL_CLIENT, SEPARATOR.join(("provider", provider, clientnummer)))

    def client(self, provider: str, clientnummer: str, bsn: str | None) -> str:
        """The BSN links one client across providers; without one the provider's own number
        is scoped to that provider."""
        if bsn:
            return self._pseudonym(CLIENT, SEPARATOR.join(("bsn", bsn)))
        return self._pseudonym(CLIENT, SEPARATOR.join(("provider", provider, clientnummer)))

    def trajectory(self, provider: str, traject_id: str) -> str:
        return self._pseudonym(TRAJECTORY, SEPARATOR.join((provider, traject_id)))

    def trajectories(self, provider: str, traject_ids: Iterable[str | None]) -> list[str | None]:
        """Empty ids stay empty: the row is reported as missing its required traject_id."""
        return [self.trajectory(provider, t) if t is not None else None for t in traject_ids]

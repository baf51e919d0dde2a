"""Keyed pseudonyms (HMAC-SHA256 under an HKDF purpose subkey). Each carries a label naming its
type, version and key, as in the Dutch public pseudonymisation method, so a key can be rotated
and a stored pseudonym always says which key made it."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from hashlib import sha256

from pseudonymise.keys import PseudonymKey

VERSION = "1"
DIGEST_HEX = 32  # 128 bits: collisions are negligible at national scale
SEPARATOR = "\x1f"  # a unit separator never occurs in steward text, so inputs cannot collide

CLIENT = "client"
TRAJECTORY = "trajectory"
_TYPE_LABEL = {CLIENT: "CL", TRAJECTORY: "TR"}


class Pseudonymiser:
    """Hashes each distinct identifier once and caches it, as deliveries repeat every client
    in every month."""

    def __init__(self, key: PseudonymKey) -> None:
        self.key_id = key.key_id
        self._contexts = {
            purpose: hmac.new(key.subkey(purpose), digestmod=sha256) for purpose in _TYPE_LABEL
        }
        self._cache: dict[tuple[str, str], str] = {}

    def _pseudonym(self, purpose: str, message: str) -> str:
        cached = self._cache.get((purpose, message))
        if cached is not None:
            return cached
        context = self._contexts[purpose].copy()
        context.update(message.encode("utf-8"))
        value = f"{_TYPE_LABEL[purpose]}{VERSION}-{self.key_id}-{context.hexdigest()[:DIGEST_HEX]}"
        self._cache[(purpose, message)] = value
        return value

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

"""Keyed pseudonyms (HMAC-SHA256 under an HKDF purpose subkey). Each carries a label naming its
type, version and key, as in the Dutch public pseudonymisation method, so a key can be rotated
and a stored pseudonym always says which key made it.

Erasure tokens (the suppression list of `databank forget`, PRIVACY.md §4) are made here too: a
one-way keyed digest of a pseudonym under a purpose subkey of its own, so the list recognises a
re-delivered client without holding any pseudonym the warehouse ever stored."""

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
ERASURE = "erasure"  # the subkey purpose of erasure tokens; never used for a pseudonym
ERASURE_LABEL = "ER"


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


def key_id_of_label(value: str) -> str:
    """The key id in a label `<type>1-<key id>-<digest>` (a pseudonym's outermost key, an erasure
    token's root key)."""
    return value.split("-")[1]


def _erasure_digest(context: hmac.HMAC, value: str) -> str:
    keyed = context.copy()
    keyed.update(value.encode("utf-8"))
    return keyed.hexdigest()[:DIGEST_HEX]


def erasure_context(key: PseudonymKey) -> hmac.HMAC:
    return hmac.new(key.subkey(ERASURE), digestmod=sha256)


def rewrap_erasure_token(key: PseudonymKey, token: str) -> str:
    """The token one more key gives: rotation wraps every erasure token in the new key, as it
    keys every pseudonym again, so an old key alone no longer tests a client against the list.
    The label keeps the root key: the layer of the chain the token was made from."""
    label, root, digest = token.split("-")
    return f"{label}-{root}-{_erasure_digest(erasure_context(key), digest)}"


# About 300 bytes an entry: a bound of ~75 MB. A provider's clients recur month after month, so
# a cache that holds one provider's identifiers keeps nearly all of the benefit.
MAX_CACHED = 250_000


class Pseudonymiser:
    """Hashes each distinct identifier once and caches it, as deliveries repeat every client
    in every month.

    `erasure_tokens` (token, provider or None for every provider) is the warehouse's suppression
    list: `is_erased` says whether a row's client, client number or trajectory was erased. A
    token is rooted at one layer of the key chain, the pseudonym as it was stored when the
    client was erased (`erasure_token`), and wrapped in every later key by rotation; a delivery
    read under a longer chain computes that same layer on its way, so tokens never need the
    original pseudonyms again."""

    def __init__(
        self, key: PseudonymKey | KeyRing, erasure_tokens: Iterable[tuple[str, str | None]] = ()
    ) -> None:
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
        self._erasure_contexts = [erasure_context(k) for k in ring.keys]
        self._cache: dict[tuple[str, str], str] = {}
        self._erased: dict[str, set[str | None]] = {}
        for token, provider in erasure_tokens:
            self._erased.setdefault(token, set()).add(provider)
        roots = {key_id_of_label(token) for token in self._erased}
        self._erased_layers = [i for i, (key_id, _) in enumerate(self._layers) if key_id in roots]
        self._erased_cache: dict[tuple[str, str], frozenset[str | None]] = {}

    def _chain(self, purpose: str, message: str) -> list[str]:
        """The pseudonym after each key of the ring, oldest first; the last is the stored one."""
        values = []
        value = message
        for key_id, contexts in self._layers:  # the oldest key first: see KeyRing
            value = layer(contexts[purpose], purpose, key_id, value)
            values.append(value)
        return values

    def _pseudonym(self, purpose: str, message: str) -> str:
        cached = self._cache.get((purpose, message))
        if cached is not None:
            return cached
        if len(self._cache) >= MAX_CACHED:  # one run may read every provider's years of months
            self._cache.clear()
        value = self._chain(purpose, message)[-1]
        self._cache[(purpose, message)] = value
        return value

    def _token_at(self, position: int, pseudonym: str) -> str:
        """The erasure token of a pseudonym made by the ring's first `position + 1` keys."""
        digest = _erasure_digest(self._erasure_contexts[position], pseudonym)
        for context in self._erasure_contexts[position + 1:]:
            digest = _erasure_digest(context, digest)
        return f"{ERASURE_LABEL}{VERSION}-{self._layers[position][0]}-{digest}"

    def erasure_token(self, pseudonym: str) -> str | None:
        """The token that suppresses a stored pseudonym from now on (`databank forget`); None
        when its key is not in this ring (nothing this ring reads could match it)."""
        key_ids = [key_id for key_id, _ in self._layers]
        key_id = key_id_of_label(pseudonym)
        if key_id not in key_ids:
            return None
        return self._token_at(key_ids.index(key_id), pseudonym)

    def _erased_for(self, purpose: str, message: str) -> frozenset[str | None]:
        """The provider scopes of every token matching this identifier (None: every provider)."""
        cached = self._erased_cache.get((purpose, message))
        if cached is not None:
            return cached
        if len(self._erased_cache) >= MAX_CACHED:
            self._erased_cache.clear()
        chain = self._chain(purpose, message)
        scopes: set[str | None] = set()
        for position in self._erased_layers:
            scopes |= self._erased.get(self._token_at(position, chain[position]), set())
        self._erased_cache[(purpose, message)] = result = frozenset(scopes)
        return result

    def _is_erased(self, provider: str, purpose: str, message: str) -> bool:
        scopes = self._erased_for(purpose, message)
        return None in scopes or provider in scopes

    def is_erased(
        self, provider: str, clientnummer: str | None, bsn: str | None, traject_id: str | None
    ) -> bool:
        """Whether a delivered row belongs to an erased client: by their client pseudonym (the
        BSN's reaches every provider), the provider's client number or the trajectory."""
        if not self._erased:
            return False
        if clientnummer is not None and (
            self._is_erased(provider, LOCAL_CLIENT, _local_message(provider, clientnummer))
        ):
            return True
        if (bsn or clientnummer is not None) and self._is_erased(
            provider, CLIENT, _client_message(provider, clientnummer or "", bsn)
        ):
            return True
        return traject_id is not None and self._is_erased(
            provider, TRAJECTORY, _trajectory_message(provider, traject_id)
        )

    @property
    def erases(self) -> bool:
        """Whether there is any erasure token to check rows against."""
        return bool(self._erased)

    def local_client(self, provider: str, clientnummer: str) -> str:
        """Always from the provider's own number, so a client can be found by it (erasure,
        objection) even when their trajectories are linked by BSN."""
        return self._pseudonym(LOCAL_CLIENT, _local_message(provider, clientnummer))

    def client(self, provider: str, clientnummer: str, bsn: str | None) -> str:
        """The BSN links one client across providers; without one the provider's own number
        is scoped to that provider."""
        return self._pseudonym(CLIENT, _client_message(provider, clientnummer, bsn))

    def trajectory(self, provider: str, traject_id: str) -> str:
        return self._pseudonym(TRAJECTORY, _trajectory_message(provider, traject_id))

    def trajectories(self, provider: str, traject_ids: Iterable[str | None]) -> list[str | None]:
        """Empty ids stay empty: the row is reported as missing its required traject_id."""
        return [self.trajectory(provider, t) if t is not None else None for t in traject_ids]


def _local_message(provider: str, clientnummer: str) -> str:
    return SEPARATOR.join(("provider", provider, clientnummer))


def _client_message(provider: str, clientnummer: str, bsn: str | None) -> str:
    if bsn:
        return SEPARATOR.join(("bsn", bsn))
    return SEPARATOR.join(("provider", provider, clientnummer))


def _trajectory_message(provider: str, traject_id: str) -> str:
    return SEPARATOR.join((provider, traject_id))

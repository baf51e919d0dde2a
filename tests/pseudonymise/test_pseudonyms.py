"""Keyed pseudonyms (delivery-format.md §3, §5): stable under one key, unlinkable across keys and
purposes, not a plain hash, labelled with type, version and key, and scoped as the spec says."""

from __future__ import annotations

import hashlib
import re

from pseudonymise.keys import KEY_BYTES, key_from_material
from pseudonymise.pseudonyms import Pseudonymiser

KEY_A = key_from_material(b"A" * KEY_BYTES)
KEY_B = key_from_material(b"B" * KEY_BYTES)
BSN = "111222333"
CLIENTNUMMER = "K-40711"
PROVIDER = "de-boog"
OTHER_PROVIDER = "horizon-jeugd"
LABEL = re.compile(r"^(CL|TR)1-([0-9a-f]{8})-([0-9a-f]{32})$")


def digest_of(pseudonym: str) -> str:
    match = LABEL.match(pseudonym)
    assert match, pseudonym
    return match.group(3)


def plain_hashes(text: str) -> set[str]:
    data = text.encode("utf-8")
    return {
        getattr(hashlib, name)(data).hexdigest() for name in ("sha256", "md5", "sha1")
    }


def test_client_pseudonym_is_stable_for_one_key() -> None:
    first = Pseudonymiser(KEY_A).client(PROVIDER, CLIENTNUMMER, BSN)
    second = Pseudonymiser(key_from_material(b"A" * KEY_BYTES)).client(PROVIDER, CLIENTNUMMER, BSN)
    assert first == second
    assert Pseudonymiser(KEY_A).trajectory(PROVIDER, "T1") == Pseudonymiser(KEY_A).trajectory(
        PROVIDER, "T1"
    )


def test_client_pseudonym_differs_across_keys() -> None:
    a = Pseudonymiser(KEY_A)
    b = Pseudonymiser(KEY_B)
    assert a.client(PROVIDER, CLIENTNUMMER, BSN) != b.client(PROVIDER, CLIENTNUMMER, BSN)
    assert digest_of(a.client(PROVIDER, CLIENTNUMMER, None)) != digest_of(
        b.client(PROVIDER, CLIENTNUMMER, None)
    )
    assert digest_of(a.trajectory(PROVIDER, "T1")) != digest_of(b.trajectory(PROVIDER, "T1"))


def test_pseudonym_differs_across_purposes_for_the_same_text() -> None:
    p = Pseudonymiser(KEY_A)
    # Both purposes hash exactly the same message here; only the purpose subkey differs.
    same_as_local_client = p.trajectory("provider", f"{PROVIDER}\x1f{CLIENTNUMMER}")
    same_as_bsn_client = p.trajectory("bsn", BSN)
    assert digest_of(p.client(PROVIDER, CLIENTNUMMER, None)) != digest_of(same_as_local_client)
    assert digest_of(p.client(PROVIDER, CLIENTNUMMER, BSN)) != digest_of(same_as_bsn_client)
    assert digest_of(p.client(PROVIDER, "T1", None)) != digest_of(p.trajectory(PROVIDER, "T1"))


def test_pseudonym_is_not_a_plain_hash_of_the_identifier() -> None:
    p = Pseudonymiser(KEY_A)
    bsn_digest = digest_of(p.client(PROVIDER, CLIENTNUMMER, BSN))
    local_digest = digest_of(p.client(PROVIDER, CLIENTNUMMER, None))
    trajectory_digest = digest_of(p.trajectory(PROVIDER, "T1"))
    candidates: set[str] = set()
    for text in (
        BSN, CLIENTNUMMER, PROVIDER + CLIENTNUMMER, f"{PROVIDER}:{CLIENTNUMMER}",
        f"{PROVIDER}\x1f{CLIENTNUMMER}", f"provider\x1f{PROVIDER}\x1f{CLIENTNUMMER}",
        f"bsn\x1f{BSN}", "T1", PROVIDER + "T1", f"{PROVIDER}\x1fT1",
    ):
        candidates |= plain_hashes(text)
    prefixes = {c[:32] for c in candidates}
    for digest in (bsn_digest, local_digest, trajectory_digest):
        assert digest not in candidates
        assert digest not in prefixes
        assert not any(digest in c for c in candidates)


def test_pseudonym_label_format() -> None:
    p = Pseudonymiser(KEY_A)
    client = p.client(PROVIDER, CLIENTNUMMER, BSN)
    local = p.client(PROVIDER, CLIENTNUMMER, None)
    trajectory = p.trajectory(PROVIDER, "T1")
    for value, label in ((client, "CL"), (local, "CL"), (trajectory, "TR")):
        match = LABEL.match(value)
        assert match, value
        assert match.group(1) == label
        assert match.group(2) == KEY_A.key_id
    assert p.key_id == KEY_A.key_id
    assert LABEL.match(Pseudonymiser(KEY_B).client(PROVIDER, CLIENTNUMMER, BSN)).group(2) == (
        KEY_B.key_id
    )


def test_client_bsn_links_the_same_client_across_providers() -> None:
    p = Pseudonymiser(KEY_A)
    here = p.client(PROVIDER, CLIENTNUMMER, BSN)
    there = p.client(OTHER_PROVIDER, "totally-different-42", BSN)
    assert here == there
    assert p.client(PROVIDER, CLIENTNUMMER, "222333444") != here


def test_client_without_bsn_is_scoped_to_the_provider() -> None:
    p = Pseudonymiser(KEY_A)
    here = p.client(PROVIDER, CLIENTNUMMER, None)
    there = p.client(OTHER_PROVIDER, CLIENTNUMMER, None)
    assert here != there
    assert here == p.client(PROVIDER, CLIENTNUMMER, None)
    # a BSN-linked pseudonym is a different client from the provider-local one
    assert p.client(PROVIDER, CLIENTNUMMER, BSN) != here
    # an empty BSN is the same as none
    assert p.client(PROVIDER, CLIENTNUMMER, "") == here


def test_client_without_bsn_does_not_collide_on_joined_text() -> None:
    p = Pseudonymiser(KEY_A)
    assert p.client("ab", "c", None) != p.client("a", "bc", None)
    assert p.client("a-b", "c", None) != p.client("a", "b-c", None)


def test_trajectory_is_scoped_to_the_provider() -> None:
    p = Pseudonymiser(KEY_A)
    assert p.trajectory(PROVIDER, "T1") != p.trajectory(OTHER_PROVIDER, "T1")
    assert p.trajectory(PROVIDER, "T1") != p.trajectory(PROVIDER, "T2")
    assert p.trajectories(PROVIDER, ["T1", "T2", "T1"]) == [
        p.trajectory(PROVIDER, "T1"), p.trajectory(PROVIDER, "T2"), p.trajectory(PROVIDER, "T1"),
    ]


class _CountingContext:
    """Wraps an HMAC context and counts how often a message is hashed with it."""

    def __init__(self, inner: object, counter: list[int]) -> None:
        self._inner = inner
        self._counter = counter

    def copy(self) -> object:
        self._counter[0] += 1
        return self._inner.copy()


def test_pseudonymiser_hashes_each_distinct_identifier_once() -> None:
    p = Pseudonymiser(KEY_A)
    counter = [0]
    p._layers = [
        (key_id, {k: _CountingContext(v, counter) for k, v in contexts.items()})
        for key_id, contexts in p._layers
    ]
    expected_first = {}
    for round_ in range(50):
        for i in range(10):
            value = p.client(PROVIDER, f"C{i}", None)
            expected_first.setdefault(("c", i), value)
            assert value == expected_first[("c", i)]
            p.trajectory(PROVIDER, f"T{i}")
            p.client(OTHER_PROVIDER, "x", BSN)
        assert counter[0] == 21, round_
    assert len(p._cache) == 21
    # the cached results equal a fresh computation
    fresh = Pseudonymiser(KEY_A)
    assert fresh.client(PROVIDER, "C3", None) == expected_first[("c", 3)]


def test_the_cache_is_bounded_and_clearing_it_changes_no_pseudonym(monkeypatch) -> None:  # noqa: ANN001
    import pseudonymise.pseudonyms as pseudonyms

    ids = [f"T{n}" for n in range(35)]
    expected = Pseudonymiser(KEY_A).trajectories("de-boog", ids * 2)
    monkeypatch.setattr(pseudonyms, "MAX_CACHED", 10)
    bounded = Pseudonymiser(KEY_A)
    assert bounded.trajectories("de-boog", ids * 2) == expected
    assert 0 < len(bounded._cache) <= 10


# --- erasure tokens (the suppression list of `databank forget`) ---------------------------------


def test_an_erasure_token_is_not_the_pseudonym_and_cannot_be_made_without_the_key() -> None:
    from pseudonymise.keys import KeyRing

    p = Pseudonymiser(KEY_A)
    pseudonym = p.client(PROVIDER, CLIENTNUMMER, BSN)
    token = p.erasure_token(pseudonym)
    assert token is not None and re.match(r"^ER1-[0-9a-f]{8}-[0-9a-f]{32}$", token)
    assert digest_of(pseudonym) not in token and token != pseudonym
    assert token == Pseudonymiser(KEY_A).erasure_token(pseudonym)  # stable under one key
    assert Pseudonymiser(KeyRing((KEY_B,))).erasure_token(pseudonym) is None  # not its key
    assert token.split("-")[2] not in plain_hashes(pseudonym)


def test_a_row_matches_the_tokens_of_its_client_number_trajectory_or_bsn() -> None:
    p = Pseudonymiser(KEY_A)
    by_bsn = [(p.erasure_token(p.client(PROVIDER, CLIENTNUMMER, BSN)), None)]
    by_number = [(p.erasure_token(p.local_client(PROVIDER, CLIENTNUMMER)), None)]
    by_trajectory = [(p.erasure_token(p.trajectory(PROVIDER, "T1")), None)]

    bsn = Pseudonymiser(KEY_A, erasure_tokens=by_bsn)
    assert bsn.is_erased(OTHER_PROVIDER, "other-number", BSN, "T9")  # a BSN: every provider
    assert not bsn.is_erased(PROVIDER, CLIENTNUMMER, None, "T1")

    number = Pseudonymiser(KEY_A, erasure_tokens=by_number)
    assert number.is_erased(PROVIDER, CLIENTNUMMER, None, None)
    assert not number.is_erased(OTHER_PROVIDER, CLIENTNUMMER, None, None)  # another provider's number

    trajectory = Pseudonymiser(KEY_A, erasure_tokens=by_trajectory)
    assert trajectory.is_erased(PROVIDER, "x", None, "T1")
    assert not trajectory.is_erased(PROVIDER, "x", None, "T2")

    scoped = Pseudonymiser(KEY_A, erasure_tokens=[(by_bsn[0][0], PROVIDER)])  # an objection's scope
    assert scoped.is_erased(PROVIDER, "x", BSN, None)
    assert not scoped.is_erased(OTHER_PROVIDER, "x", BSN, None)
    assert not Pseudonymiser(KEY_A).is_erased(PROVIDER, CLIENTNUMMER, BSN, "T1")


def test_erasure_tokens_keep_matching_after_rotation_once_rewrapped() -> None:
    """A token made before a rotation is wrapped by the rotation; a delivery read under the
    longer ring matches it, and the unwrapped token no longer does."""
    from pseudonymise.keys import KeyRing
    from pseudonymise.pseudonyms import rewrap_erasure_token

    before = Pseudonymiser(KEY_A)
    token = before.erasure_token(before.local_client(PROVIDER, CLIENTNUMMER))
    assert token is not None
    rotated = KeyRing((KEY_A, KEY_B))
    rewrapped = rewrap_erasure_token(KEY_B, token)
    assert rewrapped != token and rewrapped.split("-")[1] == token.split("-")[1]
    assert Pseudonymiser(rotated, erasure_tokens=[(rewrapped, None)]).is_erased(PROVIDER, CLIENTNUMMER, None, None)
    assert not Pseudonymiser(rotated, erasure_tokens=[(token, None)]).is_erased(PROVIDER, CLIENTNUMMER, None, None)
    # Made after the rotation from the stored (two-layer) pseudonym, it matches as well.
    after = Pseudonymiser(rotated)
    fresh = after.erasure_token(after.local_client(PROVIDER, CLIENTNUMMER))
    assert Pseudonymiser(rotated, erasure_tokens=[(fresh, None)]).is_erased(PROVIDER, CLIENTNUMMER, None, None)

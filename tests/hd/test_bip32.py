"""BIP-32: test vectors 1-5 (valid chains and the 16 invalid keys), paths, round trips."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.errors import DerivationError, ExtendedKeyError
from seedguard.hd import bip32
from seedguard.hd.slip132 import VERSIONS
from tests.conftest import load_vectors

# The vector file names each invalid key's defect; each must be rejected with a message that
# names the same defect.
REASON_WORDS = {
    "pubkey version / prvkey mismatch": "public key version",
    "prvkey version / pubkey mismatch": "private key version",
    "invalid pubkey prefix 04": "starting 04",
    "invalid prvkey prefix 04": "starting 04",
    "invalid pubkey prefix 01": "starting 01",
    "invalid prvkey prefix 01": "starting 01",
    "zero depth with non-zero parent fingerprint": "non-zero parent fingerprint",
    "zero depth with non-zero index": "non-zero child index",
    "unknown extended key version": "Unknown extended key version",
    "private key 0 not in 1..n-1": "not in 1..n-1",
    "private key n not in 1..n-1": "not in 1..n-1",
    "invalid pubkey 020000000000000000000000000000000000000000000000000000000000000007": (
        "not on the curve"
    ),
    "invalid checksum": "checksum",
}


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = load_vectors("bip32-vectors.json")
    return data


def test_valid_chains(vectors: dict[str, Any]) -> None:
    checked = 0
    for case in vectors["valid"]:
        master = bip32.master_key(bytes.fromhex(case["seed"]))
        for chain in case["chains"]:
            key = bip32.derive(master, chain["path"])
            assert key.serialize() == chain["xprv"], chain["path"]
            assert key.neuter().serialize() == chain["xpub"], chain["path"]
            assert bip32.parse(chain["xprv"]) == key
            assert bip32.parse(chain["xpub"]) == key.neuter()
            # CKDpub of the parent's public key agrees wherever the step is not hardened
            indices = bip32.parse_path(chain["path"])
            if indices and indices[-1] < bip32.HARDENED:
                parent = bip32.derive(master, indices[:-1]).neuter()
                assert bip32.ckd_pub(parent, indices[-1]) == key.neuter()
            checked += 1
    assert len(vectors["valid"]) == 4  # vectors 1-4; vector 5 is the invalid keys
    assert checked == 17


def test_every_invalid_key_is_rejected_with_its_reason(vectors: dict[str, Any]) -> None:
    invalid = vectors["invalid"]
    assert len(invalid) == 16
    for case in invalid:
        with pytest.raises(ExtendedKeyError) as info:
            bip32.parse(case["key"])
        assert REASON_WORDS[case["reason"]] in str(info.value), case["reason"]


def test_hardened_child_of_public_key_is_refused(vectors: dict[str, Any]) -> None:
    xpub = bip32.parse(vectors["valid"][0]["chains"][0]["xpub"])
    with pytest.raises(DerivationError, match="hardened"):
        bip32.derive(xpub, "m/0'")


@pytest.mark.parametrize(
    ("path", "indices"),
    [
        ("m", []),
        ("m/0'/1", [bip32.HARDENED, 1]),
        ("m/84h/0H/0'/0/7", [84 | bip32.HARDENED, bip32.HARDENED, bip32.HARDENED, 0, 7]),
        ("44'/60'", [44 | bip32.HARDENED, 60 | bip32.HARDENED]),
    ],
)
def test_paths(path: str, indices: list[int]) -> None:
    assert bip32.parse_path(path) == indices


@pytest.mark.parametrize("path", ["m/", "m/x", "m/-1", "m/2147483648", "m/1''", "n/1"])
def test_bad_paths(path: str) -> None:
    with pytest.raises(DerivationError, match="Bad derivation path"):
        bip32.parse_path(path)


def test_private_repr_does_not_leak() -> None:
    key = bip32.master_key(bytes(32))
    assert key.key.hex() not in repr(key)
    assert key.chain_code.hex() not in repr(key)


@given(st.binary(min_size=16, max_size=64), st.sampled_from(VERSIONS))
@settings(max_examples=100, deadline=None)
def test_serialize_parse_roundtrip(seed: bytes, version: Any) -> None:
    key = bip32.derive(bip32.master_key(seed, version), "m/1'/2")
    assert bip32.parse(key.serialize()) == key
    assert bip32.parse(key.neuter().serialize()) == key.neuter()


@given(st.text(max_size=120))
@settings(max_examples=300, deadline=None)
def test_parse_fails_only_with_extended_key_errors(text: str) -> None:
    with contextlib.suppress(ExtendedKeyError):
        bip32.parse(text)

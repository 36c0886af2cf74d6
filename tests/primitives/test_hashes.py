"""The hash wrappers against independent definitions."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from seedguard.primitives import hashes


@given(st.binary(max_size=200))
def test_hash160_and_tagged_hash(data: bytes) -> None:
    assert hashes.hash160(data) == hashes._ripemd160_pycryptodome(hashlib.sha256(data).digest())
    tag = hashlib.sha256(b"TapTweak").digest()
    assert hashes.tagged_hash("TapTweak", data) == hashlib.sha256(tag + tag + data).digest()


def test_keccak256_is_not_sha3() -> None:
    # Keccak-256("") as used by Ethereum, which differs from NIST SHA3-256("").
    empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert hashes.keccak256(b"").hex() == empty
    assert hashlib.sha3_256(b"").hexdigest() != empty

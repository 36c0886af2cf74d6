"""SeedQR: the nine published vectors, round trips, and malformed payloads."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.errors import SeedQRError
from seedguard.mnemonic import bip39, seedqr
from tests.conftest import load_vectors

VECTORS = "seedqr-vectors.json"


def _vectors() -> list[dict[str, str]]:
    data: list[dict[str, str]] = load_vectors(VECTORS)
    assert len(data) == 9
    return data


def test_every_published_vector() -> None:
    for vector in _vectors():
        mnemonic = vector["mnemonic"]
        assert seedqr.encode_standard(mnemonic) == vector["standard_digits"]
        assert seedqr.encode_compact(mnemonic).hex() == vector["compact_hex"]
        bits = vector["compact_bits"]
        assert seedqr.encode_compact(mnemonic) == int(bits, 2).to_bytes(len(bits) // 8, "big")
        assert seedqr.decode_standard(vector["standard_digits"]) == mnemonic
        assert seedqr.decode_compact_hex(vector["compact_hex"]) == mnemonic


def test_qr_versions_are_the_specified_sizes() -> None:
    for vector in _vectors():
        words = len(vector["mnemonic"].split())
        standard = seedqr.qr_code(vector["mnemonic"])
        compact = seedqr.qr_code(vector["mnemonic"], compact=True)
        assert standard.symbol_size(border=0)[0] == {12: 25, 24: 29}[words]
        assert compact.symbol_size(border=0)[0] == {12: 21, 24: 25}[words]
        assert (standard.mode, compact.mode) == ("numeric", "byte")
        assert standard.error == compact.error == "L"


@given(st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
@settings(max_examples=200, deadline=None)
def test_roundtrips(entropy: bytes) -> None:
    phrase = bip39.entropy_to_mnemonic(entropy)
    assert seedqr.decode_standard(seedqr.encode_standard(phrase)) == phrase
    assert seedqr.decode_compact(seedqr.encode_compact(phrase)) == phrase


@given(st.text(max_size=120))
@settings(max_examples=300, deadline=None)
def test_decoders_fail_only_with_seedqr_errors(text: str) -> None:
    for decode in (seedqr.decode_standard, seedqr.decode_compact_hex):
        with contextlib.suppress(SeedQRError):
            decode(text)


def test_malformed_payloads() -> None:
    with pytest.raises(SeedQRError, match="48 digits"):
        seedqr.decode_standard("0000" * 11)
    with pytest.raises(SeedQRError, match="past 2047"):
        seedqr.decode_standard("2048" + "0000" * 11)
    with pytest.raises(SeedQRError, match="checksum"):
        seedqr.decode_standard("0000" * 12)
    with pytest.raises(SeedQRError, match="16 bytes"):
        seedqr.decode_compact(bytes(20))
    with pytest.raises(SeedQRError, match="English"):
        seedqr.encode_standard(bip39.entropy_to_mnemonic(bytes(16), "french"))
    with pytest.raises(SeedQRError, match="12- or 24-word"):
        seedqr.encode_compact(bip39.entropy_to_mnemonic(bytes(20)))

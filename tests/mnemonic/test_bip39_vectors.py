"""Every BIP-39 vector of trezor/python-mnemonic: 12 languages × 24, passphrase TREZOR."""

from __future__ import annotations

import pytest

from seedguard.hd import bip32
from seedguard.mnemonic import bip39
from tests.conftest import load_vectors


def _cases() -> list[tuple[str, int]]:
    return [(language, i) for language in bip39.LANGUAGES for i in range(24)]


@pytest.fixture(scope="module")
def vectors() -> dict[str, list[list[str]]]:
    data: dict[str, list[list[str]]] = load_vectors("bip39-trezor-vectors.json")
    assert sum(len(v) for v in data.values()) == 288
    assert set(data) == set(bip39.LANGUAGES)
    return data


@pytest.mark.parametrize(("language", "i"), _cases())
def test_vector(vectors: dict[str, list[list[str]]], language: str, i: int) -> None:
    entropy_hex, mnemonic, seed_hex, xprv = vectors[language][i]
    entropy = bytes.fromhex(entropy_hex)
    # The vectors hold the Russian and Turkish phrases in NFKD, the wordlists in NFC: the
    # same text to BIP-39, which normalizes before use.
    assert bip39.nfkd(bip39.entropy_to_mnemonic(entropy, language)) == bip39.nfkd(mnemonic)
    result = bip39.check(mnemonic)
    assert result.valid, result.problems
    assert result.entropy == entropy
    assert bip39.check(mnemonic, language).valid
    assert bip39.to_seed(mnemonic, "TREZOR").hex() == seed_hex
    assert bip39.to_seed(result.mnemonic, "TREZOR").hex() == seed_hex
    assert bip32.master_key(bytes.fromhex(seed_hex)).serialize() == xprv


def test_japanese_output_uses_ideographic_space(vectors: dict[str, list[list[str]]]) -> None:
    entropy_hex, mnemonic, _, _ = vectors["japanese"][0]
    out = bip39.entropy_to_mnemonic(bytes.fromhex(entropy_hex), "japanese")
    assert out == mnemonic
    assert "\u3000" in out
    assert " " not in out

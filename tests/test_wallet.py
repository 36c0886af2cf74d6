"""The seed-phrase capability: create, fingerprint, prove."""

from __future__ import annotations

import pytest

from seedguard import wallet
from seedguard.errors import MnemonicError, UsageError
from seedguard.hd import bip32
from seedguard.mnemonic import bip39
from tests.conftest import load_vectors


def test_fingerprint_is_the_master_key_fingerprint_of_every_vector() -> None:
    for language, cases in load_vectors("bip39-trezor-vectors.json").items():
        for _, mnemonic, _, xprv in cases[:4]:
            expected = bip32.parse(xprv).fingerprint.hex()
            assert wallet.fingerprint(mnemonic, "TREZOR") == expected, language


def test_create_from_entropy_is_deterministic() -> None:
    created = wallet.create(12, "english", bytes(16))
    assert created.mnemonic == "abandon " * 11 + "about"
    assert created.fingerprint == "73c5da0a"
    with pytest.raises(UsageError, match="do not make 24 words"):
        wallet.create(24, "english", bytes(16))
    with pytest.raises(UsageError):
        wallet.create(11)


def test_prove_derives_from_full_words_not_prefixes() -> None:
    phrase = bip39.generate(18, "portuguese")
    typed = " ".join(w[:4] for w in phrase.split())
    assert wallet.prove(typed, "x", count=2) == wallet.prove(phrase, "x", count=2)


def test_prove_ranges() -> None:
    phrase = bip39.generate()
    with pytest.raises(UsageError, match="--count"):
        wallet.prove(phrase, count=1001)
    with pytest.raises(UsageError, match="--account"):
        wallet.prove(phrase, account=2**31)
    with pytest.raises(MnemonicError):
        wallet.prove("abandon " * 12)
    proof = wallet.prove(phrase, count=0, change=False)
    assert all(a.receive == () == a.change for a in proof.accounts.values())

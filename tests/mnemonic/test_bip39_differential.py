"""Differential tests against python-mnemonic (trezor's reference) on random inputs."""

from __future__ import annotations

import random
import secrets

import pytest
from mnemonic import Mnemonic

from seedguard.mnemonic import bip39

CASES = 600
# python-mnemonic's `check` and `to_entropy` compare NFKD input against the Russian and
# Turkish wordlists as published (NFC), so they reject valid phrases with composed letters;
# its other functions agree.
CHECK_SKIPS = {"russian", "turkish"}


def _random_passphrase(rng: random.Random) -> str:
    alphabet = "abcXYZ 0123 é ü ñ ß Å ℌ ﬁ ① ｶ が 한 漢 😀 \u3000 \u0301"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 24)))


@pytest.fixture(scope="module")
def references() -> dict[str, Mnemonic]:
    return {language: Mnemonic(language) for language in bip39.LANGUAGES}


def test_random_phrases_and_seeds_agree(references: dict[str, Mnemonic]) -> None:
    rng = random.Random(secrets.randbits(64))
    for _ in range(CASES):
        language = rng.choice(bip39.LANGUAGES)
        words = rng.choice(bip39.WORD_COUNTS)
        entropy = rng.randbytes(words * 4 // 3)
        passphrase = _random_passphrase(rng)
        ref = references[language]
        phrase = bip39.entropy_to_mnemonic(entropy, language)
        assert phrase == ref.to_mnemonic(entropy)
        assert bip39.to_seed(phrase, passphrase) == Mnemonic.to_seed(phrase, passphrase)
        assert bip39.check(phrase, language).entropy == entropy
        if language not in CHECK_SKIPS:
            assert bytes(ref.to_entropy(phrase.split())) == entropy


def test_random_corruptions_get_the_same_verdict(references: dict[str, Mnemonic]) -> None:
    rng = random.Random(secrets.randbits(64))
    for _ in range(CASES):
        language = rng.choice([lang for lang in bip39.LANGUAGES if lang not in CHECK_SKIPS])
        wl = bip39.wordlist(language)
        words = bip39.generate(rng.choice(bip39.WORD_COUNTS), language).split()
        words[rng.randrange(len(words))] = rng.choice(wl.words)  # often breaks the checksum
        if rng.random() < 0.2:
            words.pop()
        phrase = " ".join(words)
        assert bip39.check(phrase, language).valid == references[language].check(phrase)

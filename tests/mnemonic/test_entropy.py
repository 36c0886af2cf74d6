"""User entropy: the documented arithmetic, checked by hand-reproducible computations."""

from __future__ import annotations

import hashlib

import pytest

from seedguard.errors import EntropyError
from seedguard.mnemonic import bip39, entropy

RANDOMISH_DICE = "3164251625341526354162534615263415263452163542615326451632546125364152"


@pytest.mark.parametrize(("words", "rolls"), [(12, 50), (15, 62), (18, 75), (21, 87), (24, 100)])
def test_dice_rolls_needed_carry_enough_bits(words: int, rolls: int) -> None:
    assert entropy.dice_rolls_needed(words) == rolls
    import math

    assert rolls * math.log2(6) >= words * 32 / 3 > (rolls - 1) * math.log2(6)


def test_dice_entropy_is_sha256_of_the_digits() -> None:
    rolls = RANDOMISH_DICE[:50]
    expected = hashlib.sha256(rolls.encode()).digest()[:16]
    assert entropy.from_dice(rolls, 12) == expected
    # separators are ignored: the same rolls typed with spaces give the same entropy
    assert entropy.from_dice(" ".join(rolls), 12) == expected
    assert (
        entropy.from_dice(RANDOMISH_DICE * 2, 24)
        == hashlib.sha256((RANDOMISH_DICE * 2).encode()).digest()
    )


def test_too_few_dice_rolls() -> None:
    with pytest.raises(EntropyError, match="at least 50 dice rolls; you gave 49"):
        entropy.from_dice(RANDOMISH_DICE[:49], 12)


@pytest.mark.parametrize("bad", ["1234567", "12a4", "0123"])
def test_dice_reject_non_faces(bad: str) -> None:
    with pytest.raises(EntropyError, match="digits 1 to 6"):
        entropy.from_dice(bad * 20, 12)


def test_dice_refuse_a_stuck_die() -> None:
    with pytest.raises(EntropyError, match="not random"):
        entropy.from_dice("6" * 40 + "12345" * 2, 12)


def test_coin_flips_are_the_bits() -> None:
    flips = ("HT" * 64)[:128]
    raw = entropy.from_coins(flips, 12)
    assert raw == bytes([0b10101010] * 16)
    # word 1 is the first 11 flips read as binary: HTHTHTHTHTH = 0b10101010101 = 1365
    assert bip39.entropy_to_mnemonic(raw).split()[0] == bip39.wordlist("english").words[1365]
    assert entropy.from_coins(flips.replace("H", "1").replace("T", "0"), 12) == raw


def test_coin_flips_exact_count() -> None:
    with pytest.raises(EntropyError, match="exactly 128 coin flips; you gave 127"):
        entropy.from_coins("HT" * 63 + "H", 12)
    with pytest.raises(EntropyError, match="exactly 256"):
        entropy.from_coins("HT" * 64, 24)
    with pytest.raises(EntropyError, match="H or T"):
        entropy.from_coins("HX" * 64, 12)
    with pytest.raises(EntropyError, match="not random"):
        entropy.from_coins("H" * 120 + "T" * 8, 12)


def test_hex_entropy() -> None:
    assert entropy.from_hex("00" * 16) == bytes(16)
    assert entropy.from_hex("0x" + "ab" * 32, 24) == bytes([0xAB] * 32)
    assert entropy.from_hex("7f7f 7f7f " * 4) == bytes([0x7F] * 16)
    with pytest.raises(EntropyError, match="Give 32 hex digits"):
        entropy.from_hex("00" * 32, 12)
    with pytest.raises(EntropyError, match="32, 40, 48, 56 or 64"):
        entropy.from_hex("00" * 15)
    with pytest.raises(EntropyError, match="hex digits"):
        entropy.from_hex("zz" * 16)

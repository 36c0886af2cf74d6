"""The batch PBKDF2-HMAC-SHA512 agrees with hashlib on random inputs of every length
(keys longer than SHA-512's block are hashed first, RFC 2104), Unicode passphrases, batches
that do not fill the lanes; the generated kernel module is what its generator writes."""

from __future__ import annotations

import hashlib
import random
import secrets
import unicodedata

import pytest

from seedguard.repair import _generate, pbkdf2

pytestmark = pytest.mark.skipif(not pbkdf2.available(), reason="numba is not installed")


def test_the_generated_module_is_current() -> None:
    assert _generate.TARGET.read_text() == _generate.source()


def test_the_constants_are_fips_180_4s() -> None:
    # SHA-512 of "abc" through the kernel's own constants: one compression, checked by
    # hashlib; any wrong constant changes it.
    assert pbkdf2.pbkdf2_sha512([b"k"], [b"abc"], 1) == [
        hashlib.pbkdf2_hmac("sha512", b"k", b"abc", 1)
    ]


def test_batches_agree_with_hashlib_on_random_inputs() -> None:
    rng = random.Random(secrets.randbits(64))
    passwords = [rng.randbytes(n % 300) for n in range(1500)]
    salts = [rng.randbytes(rng.randrange(0, 200)) for _ in passwords]
    got = pbkdf2.pbkdf2_sha512(passwords, salts, 64)
    assert got == [
        hashlib.pbkdf2_hmac("sha512", p, s, 64) for p, s in zip(passwords, salts, strict=False)
    ]


def test_bip39_sized_inputs_at_2048_rounds_with_unicode_passphrases() -> None:
    rng = random.Random(secrets.randbits(64))
    alphabet = "abcdefghijklmnopqrstuvwxyzäöüßéèçñ漢字かなЖж😀 "
    passwords, salts = [], []
    for n in range(1, 140):  # not a multiple of the lanes: the padding lanes are dropped
        words = " ".join(
            "".join(rng.choices(alphabet, k=rng.randrange(3, 9))) for _ in range(n % 25)
        )
        passwords.append(unicodedata.normalize("NFKD", words).encode())
        phrase = "".join(rng.choices(alphabet, k=rng.randrange(0, 40)))
        salts.append(b"mnemonic" + unicodedata.normalize("NFKD", phrase).encode())
    got = pbkdf2.pbkdf2_sha512(passwords, salts)
    assert got == [
        hashlib.pbkdf2_hmac("sha512", p, s, 2048) for p, s in zip(passwords, salts, strict=False)
    ]


@pytest.mark.parametrize("extra", [1, pbkdf2.HASHLIB_TAIL, pbkdf2.HASHLIB_TAIL + 1])
def test_a_short_tail_past_the_last_row_of_lanes_agrees_too(extra: int) -> None:
    # A tail of up to HASHLIB_TAIL goes to hashlib, a longer one to a padded row: each
    # result stays at its own password's place.
    rng = random.Random(secrets.randbits(64))
    count = 2 * pbkdf2.lanes() + extra
    passwords = [rng.randbytes(rng.randrange(0, 150)) for _ in range(count)]
    salts = [rng.randbytes(rng.randrange(0, 40)) for _ in passwords]
    assert pbkdf2.pbkdf2_sha512(passwords, salts, 16) == [
        hashlib.pbkdf2_hmac("sha512", p, s, 16) for p, s in zip(passwords, salts, strict=True)
    ]


def test_bad_calls() -> None:
    with pytest.raises(ValueError, match="one salt"):
        pbkdf2.pbkdf2_sha512([b"a"], [], 2)
    with pytest.raises(ValueError, match="round"):
        pbkdf2.pbkdf2_sha512([b"a"], [b"b"], 0)
    assert pbkdf2.pbkdf2_sha512([], [], 2) == []

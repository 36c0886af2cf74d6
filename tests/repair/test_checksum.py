"""The compiled BIP-39 checksum filter passes exactly the candidates hashlib passes: every
phrase length, the varying word at the first, a middle and the checksum-carrying last
position, whole rows and part rows; and a search with it finds what one without it finds."""

from __future__ import annotations

import hashlib
import random
import secrets

import pytest

from seedguard.mnemonic.bip39 import WORD_COUNTS
from seedguard.repair import checksum, space

pytestmark = pytest.mark.skipif(not checksum.available(), reason="numba is not installed")


def _hashlib_passing(base: int, values: list[int], length: int, lo: int, hi: int) -> list[int]:
    cs = length // 3
    nbytes = (length * 11 - cs) // 8
    out = []
    for k in range(lo, hi):
        value = base | values[k]
        digest = hashlib.sha256((value >> cs).to_bytes(nbytes, "big")).digest()
        if digest[0] >> (8 - cs) == value & ((1 << cs) - 1):
            out.append(k)
    return out


@pytest.mark.parametrize("length", WORD_COUNTS)
def test_rows_agree_with_hashlib(length: int) -> None:
    rng = random.Random(secrets.randbits(64))
    for position in (0, length // 2, length - 1):
        shift = 11 * (length - 1 - position)
        words = rng.sample(range(2048), rng.randrange(64, 2049))
        values = [w << shift for w in words]
        row = checksum.Row(values, length)
        for _ in range(4):
            base = rng.getrandbits(11 * length) & ~(2047 << shift)
            lo = rng.randrange(0, len(values))
            hi = rng.randrange(lo, len(values) + 1)
            assert row.passing(base, 0, len(values)).tolist() == _hashlib_passing(
                base, values, length, 0, len(values)
            )
            assert row.passing(base, lo, hi).tolist() == _hashlib_passing(
                base, values, length, lo, hi
            )


def test_a_search_with_the_filter_lists_what_one_without_it_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from seedguard.mnemonic import bip39
    from seedguard.repair import grammar

    words = bip39.generate(12).split()
    words[2] = words[11] = "?"
    slots, wl = grammar.parse(" ".join(words))
    built = space.build(slots, wl, space.Damage())
    lo = secrets.randbelow(built.count - 50_000)
    compiled = list(built.valid(lo, lo + 50_000))
    monkeypatch.setattr(space, "ROW_MIN", 10**9)  # every position through hashlib
    assert list(built.valid(lo, lo + 50_000)) == compiled
    assert len(compiled) > 50_000 // 16 // 2

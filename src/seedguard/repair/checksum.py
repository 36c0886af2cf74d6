"""The BIP-39 checksum filter for many candidates at once, compiled.

A phrase search tests every candidate's checksum (the first bits of SHA-256 of its entropy)
before any key stretching; only 1 in 16 (12 words) to 1 in 256 (24 words) survive. hashlib
costs about 0.4 µs a call from Python, a few percent of a search; this hashes a whole row of
candidates (one position's choices, the rest fixed) in one compiled call. Written here
because no library hashes a batch of short messages without a Python call for each; it is
a filter, not a key: tests check it against hashlib on random rows of every length, and a
candidate it passes is still stretched and matched in full. Without numba the caller uses
hashlib (seedguard[repair] brings numba).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

# FIPS 180-4 § 4.2.2 and § 5.3.3.
_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip
_IV = (
    0x6A09E667,
    0xBB67AE85,
    0x3C6EF372,
    0xA54FF53A,
    0x510E527F,
    0x9B05688C,
    0x1F83D9AB,
    0x5BE0CD19,
)


@cache
def _kernel() -> Any | None:
    try:
        import numba as nb
        import numpy as np
    except ImportError:
        return None
    k_table = np.array(_K, dtype=np.uint32)
    iv = np.array(_IV, dtype=np.uint32)

    @nb.njit(inline="always")
    def rotr(x: Any, n: int) -> Any:
        return np.uint32((x >> np.uint32(n)) | (x << np.uint32(32 - n)))

    @nb.njit(cache=True)
    def passing(base: Any, rows: Any, expect: Any, top: int, lo: int, hi: int, out: Any) -> int:
        """Into out, the k in [lo, hi) whose entropy base | rows[k] has the checksum
        expect[k] (SHA-256's first byte >> top); returns how many."""
        nbytes = base.shape[0]
        w = np.empty(64, np.uint32)
        found = 0
        for k in range(lo, hi):
            for i in range(16):
                w[i] = 0
            for i in range(nbytes):
                byte = np.uint32(base[i] | rows[k, i])
                w[i >> 2] |= byte << np.uint32(24 - 8 * (i & 3))
            w[nbytes >> 2] |= np.uint32(0x80) << np.uint32(24 - 8 * (nbytes & 3))
            w[15] = np.uint32(nbytes * 8)
            for i in range(16, 64):
                x, y = w[i - 15], w[i - 2]
                s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> np.uint32(3))
                s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >> np.uint32(10))
                w[i] = np.uint32(w[i - 16] + s0 + w[i - 7] + s1)
            a, b, c, d, e, f, g, h = iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], iv[6], iv[7]
            for i in range(64):
                t1 = np.uint32(
                    h
                    + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25))
                    + ((e & f) ^ (~e & g))
                    + k_table[i]
                    + w[i]
                )
                t2 = np.uint32(
                    (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))
                )
                h, g, f, e = g, f, e, np.uint32(d + t1)
                d, c, b, a = c, b, a, np.uint32(t1 + t2)
            first = np.uint32(a + iv[0]) >> np.uint32(24)
            if (first >> np.uint32(top)) == expect[k]:
                out[found] = k
                found += 1
        return found

    return passing


def available() -> bool:
    """Whether the compiled filter can run here (numba installed)."""
    return _kernel() is not None


class Row:
    """One position's choices, laid out once: the entropy bytes and checksum bits each choice
    contributes, for a phrase of `length` words."""

    def __init__(self, values: Sequence[int], length: int) -> None:
        import numpy as np

        self.cs = length // 3
        self.nbytes = (length * 11 - self.cs) // 8
        self.top = 8 - self.cs
        mask = (1 << self.cs) - 1
        self.rows = np.frombuffer(
            b"".join((v >> self.cs).to_bytes(self.nbytes, "big") for v in values), np.uint8
        ).reshape(len(values), self.nbytes)
        self.checks = np.array([v & mask for v in values], dtype=np.uint32)
        self._out = np.empty(len(values), dtype=np.int64)
        self._np = np

    def passing(self, base: int, lo: int, hi: int) -> Any:
        """The k in [lo, hi) for which base | values[k] passes the checksum, in order."""
        np = self._np
        kernel = _kernel()
        assert kernel is not None
        entropy = np.frombuffer((base >> self.cs).to_bytes(self.nbytes, "big"), np.uint8)
        expect = self.checks | np.uint32(base & ((1 << self.cs) - 1))
        n = kernel(entropy, self.rows, expect, self.top, lo, hi, self._out)
        return self._out[:n]


def warm() -> None:
    """Compile (or load from numba's cache) the filter now, not inside the first chunk."""
    if available():
        Row([0], 12).passing(0, 0, 1)

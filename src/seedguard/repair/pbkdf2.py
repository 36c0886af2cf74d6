"""PBKDF2-HMAC-SHA512 for many passwords at once: the hot loop of a phrase or passphrase search.

hashlib's `pbkdf2_hmac` (OpenSSL) hashes one password at a time with scalar instructions;
this hashes LANES candidates side by side, each of SHA-512's 64-bit words in a row of lanes,
so that the CPU's vector units (AVX-512: eight words per instruction, AVX2: four) do the work
(numba compiles it; `_sha512_lanes.py` holds the unrolled compression). One block of output
(64 bytes), which is all BIP-39 needs. Without numba it falls back to hashlib, so the results
are the same either way; tests compare the two on thousands of random inputs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import cache
from typing import Any

HMAC_BLOCK = 128  # SHA-512's block size: longer keys are hashed first (RFC 2104)
# A row of lanes costs as much as 8 to 11 hashlib calls (measured here: the kernel is 5.6 to
# 7.5 times hashlib per password): a few passwords past the last full row go to hashlib.
HASHLIB_TAIL = 6


@cache
def _kernel() -> Any | None:
    """The compiled batch kernel, or None where numba is not installed."""
    try:
        import numba as nb
        import numpy as np
    except ImportError:  # the core install: seedguard[repair] brings numba
        return None
    from seedguard.repair import _sha512_lanes as lanes

    width = lanes.LANES
    ipad_word = np.uint64(0x3636363636363636)
    opad_word = np.uint64(0x5C5C5C5C5C5C5C5C)
    pad_word = np.uint64(0x8000000000000000)
    length = np.uint64((HMAC_BLOCK + 64) * 8)  # the inner and outer messages: key block + 64

    @nb.njit(cache=True)
    def run(keys: Any, u1: Any, rounds: int, out: Any) -> None:
        compress = lanes.compress
        iv = np.empty(8 * width, np.uint64)
        for j in range(8):
            for i in range(width):
                iv[j * width + i] = lanes.IV[j]
        ipad = np.empty(16 * width, np.uint64)
        opad = np.empty(16 * width, np.uint64)
        istate = np.empty(8 * width, np.uint64)
        ostate = np.empty(8 * width, np.uint64)
        u_block = np.zeros(16 * width, np.uint64)  # U_i, then SHA-512's padding
        inner = np.zeros(16 * width, np.uint64)  # the inner hash, then the padding
        acc = np.empty(8 * width, np.uint64)
        for i in range(width):
            u_block[8 * width + i] = pad_word
            u_block[15 * width + i] = length
            inner[8 * width + i] = pad_word
            inner[15 * width + i] = length
        for start in range(0, keys.shape[0], width):
            for j in range(16):
                for i in range(width):
                    word = keys[start + i, j]
                    ipad[j * width + i] = word ^ ipad_word
                    opad[j * width + i] = word ^ opad_word
            compress(iv, ipad, istate)
            compress(iv, opad, ostate)
            for j in range(8):
                for i in range(width):
                    u_block[j * width + i] = u1[start + i, j]
                    acc[j * width + i] = u1[start + i, j]
            for _ in range(rounds - 1):
                compress(istate, u_block, inner)
                compress(ostate, inner, u_block)
                for k in range(8 * width):
                    acc[k] ^= u_block[k]
            for j in range(8):
                for i in range(width):
                    out[start + i, j] = acc[j * width + i]

    return run


def available() -> bool:
    """Whether the batch kernel can run here (numba installed)."""
    return _kernel() is not None


def lanes() -> int:
    from seedguard.repair import _sha512_lanes

    return int(_sha512_lanes.LANES)


def warm() -> None:
    """Compile (or load from numba's cache) the kernel now, not inside the first batch."""
    pbkdf2_sha512([b""], [b""], 2)


def pbkdf2_sha512(
    passwords: Sequence[bytes], salts: Sequence[bytes], rounds: int = 2048
) -> list[bytes]:
    """PBKDF2-HMAC-SHA512(password, salt, rounds), 64 bytes, for each pair: the same bytes as
    `hashlib.pbkdf2_hmac("sha512", password, salt, rounds)`."""
    if len(passwords) != len(salts):
        raise ValueError("one salt per password")
    if rounds < 1:
        raise ValueError("at least one round")
    run = _kernel()
    if run is None or not passwords:
        return [
            hashlib.pbkdf2_hmac("sha512", p, s, rounds)
            for p, s in zip(passwords, salts, strict=False)
        ]
    width = lanes()
    count = len(passwords)
    tail = count % width
    if count > width and 0 < tail <= HASHLIB_TAIL:
        cut = count - tail
        return pbkdf2_sha512(passwords[:cut], salts[:cut], rounds) + [
            hashlib.pbkdf2_hmac("sha512", p, s, rounds)
            for p, s in zip(passwords[cut:], salts[cut:], strict=True)
        ]
    import numpy as np

    padded = -(-count // width) * width
    keys = bytearray(padded * HMAC_BLOCK)
    firsts = bytearray(padded * 64)
    for n, (password, salt) in enumerate(zip(passwords, salts, strict=False)):
        key = hashlib.sha512(password).digest() if len(password) > HMAC_BLOCK else password
        keys[n * HMAC_BLOCK : n * HMAC_BLOCK + len(key)] = key
        firsts[n * 64 : n * 64 + 64] = hmac.digest(password, salt + b"\0\0\0\1", "sha512")
    key_words = np.frombuffer(keys, ">u8").astype(np.uint64).reshape(padded, 16)
    u1 = np.frombuffer(firsts, ">u8").astype(np.uint64).reshape(padded, 8)
    out = np.empty((padded, 8), np.uint64)
    run(key_words, u1, rounds, out)
    raw = out.astype(">u8").tobytes()
    return [raw[n * 64 : n * 64 + 64] for n in range(count)]

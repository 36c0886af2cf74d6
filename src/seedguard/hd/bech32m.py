"""BIP-173 bech32 and BIP-350 bech32m encoding of SegWit addresses.

Written here because the PyPI `bech32` package (1.2.0, the last release) predates BIP-350 and
encodes Taproot addresses with the wrong checksum; this follows the BIPs' reference code.
"""

from __future__ import annotations

from collections.abc import Sequence

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def polymod(values: Sequence[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return chk


def hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def create_checksum(hrp: str, data: Sequence[int], const: int) -> list[int]:
    mod = polymod([*hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ const
    return [(mod >> 5 * (5 - i)) & 31 for i in range(6)]


def convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    """Regroup 8-bit bytes into 5-bit groups, zero-padding the last (BIP-173)."""
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = acc << frombits | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def encode_segwit(hrp: str, witver: int, program: bytes) -> str:
    """A SegWit address: bech32 for witness version 0, bech32m for 1 to 16 (BIP-350)."""
    if not 0 <= witver <= 16 or not 2 <= len(program) <= 40:
        raise ValueError("invalid witness version or program length")
    if witver == 0 and len(program) not in (20, 32):
        raise ValueError("a v0 witness program is 20 or 32 bytes")
    data = [witver, *convertbits(program, 8, 5)]
    const = BECH32_CONST if witver == 0 else BECH32M_CONST
    return hrp + "1" + "".join(CHARSET[d] for d in data + create_checksum(hrp, data, const))

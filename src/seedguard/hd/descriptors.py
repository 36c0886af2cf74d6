"""BIP-380 output script descriptors: the checksum, so an exported descriptor imports as is."""

from __future__ import annotations

INPUT_CHARSET = (
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    'ijklmnopqrstuvwxyzABCDEFGH`#"\\ '
)
CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)


def _polymod(symbols: list[int]) -> int:
    chk = 1
    for value in symbols:
        top = chk >> 35
        chk = (chk & 0x7FFFFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return chk


def _expand(descriptor: str) -> list[int]:
    groups: list[int] = []
    symbols: list[int] = []
    for ch in descriptor:
        v = INPUT_CHARSET.find(ch)
        if v < 0:
            raise ValueError(f"{ch!r} cannot appear in a descriptor")
        symbols.append(v & 31)
        groups.append(v >> 5)
        if len(groups) == 3:
            symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
            groups = []
    if len(groups) == 1:
        symbols.append(groups[0])
    elif len(groups) == 2:
        symbols.append(groups[0] * 3 + groups[1])
    return symbols


def checksum(descriptor: str) -> str:
    """The 8-character BIP-380 checksum of a descriptor (without its '#')."""
    c = _polymod([*_expand(descriptor), 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1
    return "".join(CHECKSUM_CHARSET[(c >> (5 * (7 - i))) & 31] for i in range(8))


def with_checksum(descriptor: str) -> str:
    return f"{descriptor}#{checksum(descriptor)}"

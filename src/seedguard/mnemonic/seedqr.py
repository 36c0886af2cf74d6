"""SeedQR (SeedSigner's specification, docs/seed_qr/README.md in SeedSigner/seedsigner).

Standard SeedQR: each word's wordlist index as four decimal digits, concatenated, in a
numeric-mode QR code (48 digits in a 25×25 code for 12 words, 96 digits in 29×29 for 24).
Compact SeedQR: the words' 11-bit indices concatenated with the checksum bits dropped, that is
the entropy itself, in a byte-mode QR code (16 bytes in 21×21, 32 bytes in 25×25).
Both use error correction level L and English words only.
"""

from __future__ import annotations

import re

import segno

from seedguard.errors import SeedQRError
from seedguard.mnemonic import bip39

SEEDQR_WORDS = (12, 24)
# (words, compact) -> the QR version the specification fixes
QR_VERSIONS = {(12, False): 2, (24, False): 3, (12, True): 1, (24, True): 2}


def _english(mnemonic: str) -> bip39.CheckResult:
    """The validated phrase, refused unless English with 12 or 24 words."""
    result = bip39.validate(mnemonic)
    if result.language != "english":
        raise SeedQRError("SeedQR encodes English phrases only.")
    if result.words not in SEEDQR_WORDS:
        raise SeedQRError(f"SeedQR encodes 12- or 24-word phrases, not {result.words} words.")
    return result


def _digits(indices: tuple[int, ...]) -> str:
    return "".join(f"{i:04d}" for i in indices)


def encode_standard(mnemonic: str) -> str:
    """The digit stream of a Standard SeedQR."""
    return _digits(_english(mnemonic).indices)


def encode_compact(mnemonic: str) -> bytes:
    """The payload of a Compact SeedQR: the phrase's entropy (16 or 32 bytes)."""
    return _english(mnemonic).entropy


def decode_standard(digits: str) -> str:
    """The phrase in a Standard SeedQR digit stream (48 or 96 digits)."""
    digits = re.sub(r"\s+", "", digits)
    if not digits.isascii() or not digits.isdigit():
        raise SeedQRError("A Standard SeedQR holds decimal digits only.")
    if len(digits) not in (48, 96):
        raise SeedQRError(
            f"A Standard SeedQR holds 48 digits (12 words) or 96 (24 words), not {len(digits)}."
        )
    indices = [int(digits[i : i + 4]) for i in range(0, len(digits), 4)]
    for position, index in enumerate(indices, start=1):
        if index > 2047:
            raise SeedQRError(f"Word {position} of the SeedQR is {index:04d}, past 2047.")
    if not bip39.indices_valid(indices):
        raise SeedQRError("The SeedQR's words fail the BIP-39 checksum: rescan the code.")
    return bip39.wordlist("english").join(indices)


def decode_compact(payload: bytes) -> str:
    """The phrase in a Compact SeedQR payload (16 or 32 bytes of entropy)."""
    if len(payload) not in (16, 32):
        raise SeedQRError(
            f"A Compact SeedQR holds 16 bytes (12 words) or 32 (24 words), not {len(payload)}."
        )
    return bip39.entropy_to_mnemonic(payload, "english")


def decode_compact_hex(text: str) -> str:
    digits = re.sub(r"\s+", "", text).lower()
    if not re.fullmatch(r"[0-9a-f]*", digits) or len(digits) % 2:
        raise SeedQRError("Compact SeedQR bytes are given as an even number of hex digits.")
    return decode_compact(bytes.fromhex(digits))


def qr_code(mnemonic: str, compact: bool = False) -> segno.QRCode:
    """The QR symbol, at the version and error level the specification fixes."""
    result = _english(mnemonic)
    content: str | bytes = result.entropy if compact else _digits(result.indices)
    return segno.make_qr(
        content,
        error="L",
        version=QR_VERSIONS[(result.words, compact)],
        mode="byte" if compact else "numeric",
        boost_error=False,
    )

"""secp256k1 through libsecp256k1 (coincurve): the few operations BIP-32 and BIP-341 need.

Keys are plain bytes: private keys 32 bytes big-endian, public keys 33-byte compressed SEC1.
"""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey
from coincurve.keys import PublicKeyXOnly

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def is_valid_private_key(secret: bytes) -> bool:
    return len(secret) == 32 and 0 < int.from_bytes(secret, "big") < CURVE_ORDER


def public_key(secret: bytes) -> bytes:
    """Compressed public key of a valid private key."""
    return PrivateKey(secret).public_key.format(compressed=True)


def is_valid_public_key(point: bytes) -> bool:
    """True when `point` is a compressed SEC1 encoding of a point on the curve."""
    if len(point) != 33 or point[0] not in (2, 3):
        return False
    try:
        PublicKey(point)
    except ValueError:
        return False
    return True


def private_add(secret: bytes, tweak: bytes) -> bytes | None:
    """(secret + tweak) mod n, or None when tweak >= n or the sum is zero."""
    try:
        return PrivateKey(secret).add(tweak).secret
    except ValueError:
        return None


def public_add(point: bytes, tweak: bytes) -> bytes | None:
    """point + tweak·G (compressed), or None when tweak >= n or the sum is infinity."""
    try:
        return PublicKey(point).add(tweak).format(compressed=True)
    except ValueError:
        return None


def uncompressed(point: bytes) -> bytes:
    """The 65-byte uncompressed encoding (0x04 || x || y) of a compressed public key."""
    return PublicKey(point).format(compressed=False)


def xonly_tweak_add(xonly: bytes, tweak: bytes) -> bytes:
    """x(lift_x(xonly) + tweak·G): the BIP-341 output key from an internal key and a tweak."""
    key = PublicKeyXOnly(xonly)
    key.tweak_add(tweak)
    return bytes(key.format())

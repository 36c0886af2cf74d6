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


# --- Group elements for threshold protocols (BIP-445, ChillDKG) -------------------------------
#
# libsecp256k1 has no value for the point at infinity, which FROST and ChillDKG need (an
# aggregate nonce or a VSS coefficient may be infinity). A `Point` is a coincurve `PublicKey`, or
# `None` for infinity; scalars are Python ints reduced mod CURVE_ORDER. Every multiplication and
# addition still runs in libsecp256k1.

GE = PublicKey  # a point that is not infinity (libsecp256k1's public key object)
Point = GE | None
_INFINITY_BYTES = bytes(33)


def scalar_bytes(k: int) -> bytes:
    """The 32-byte big-endian encoding of a scalar (reduced mod n)."""
    return (k % CURVE_ORDER).to_bytes(32, "big")


def point_from_cbytes(data: bytes) -> PublicKey:
    """cpoint: a 33-byte compressed point; ValueError when it is not one."""
    if len(data) != 33 or data[0] not in (2, 3):
        raise ValueError("not a compressed point")
    return PublicKey(data)


def point_from_cbytes_ext(data: bytes) -> Point:
    """cpoint_ext: like `point_from_cbytes`, but 33 zero bytes are the point at infinity."""
    if data == _INFINITY_BYTES:
        return None
    return point_from_cbytes(data)


def lift_x(x: bytes) -> PublicKey:
    """The point with x-coordinate `x` and an even y; ValueError when there is none."""
    if len(x) != 32:
        raise ValueError("not a 32-byte x-coordinate")
    return PublicKey(b"\x02" + x)


def cbytes(point: PublicKey) -> bytes:
    return bytes(point.format(compressed=True))


def cbytes_ext(point: Point) -> bytes:
    return _INFINITY_BYTES if point is None else cbytes(point)


def xbytes(point: PublicKey) -> bytes:
    return cbytes(point)[1:]


def has_even_y(point: PublicKey) -> bool:
    return cbytes(point)[0] == 2


def point_negate(point: Point) -> Point:
    if point is None:
        return None
    data = cbytes(point)
    return PublicKey(bytes([5 - data[0]]) + data[1:])


def with_even_y(point: PublicKey) -> PublicKey:
    return point if has_even_y(point) else PublicKey(b"\x02" + xbytes(point))


def point_add(*points: Point) -> Point:
    """The sum of the points, None when it is the point at infinity."""
    keys = [p for p in points if p is not None]
    if not keys:
        return None
    if len(keys) == 1:
        return keys[0]
    try:
        return PublicKey.combine_keys(keys)
    except ValueError:  # libsecp256k1 refuses a sum that is the point at infinity
        return None


def point_mul(point: Point, k: int) -> Point:
    """k·point (None for infinity)."""
    k %= CURVE_ORDER
    if point is None or k == 0:
        return None
    return point.multiply(k.to_bytes(32, "big"))


def base_mul(k: int) -> Point:
    """k·G (None when k ≡ 0)."""
    k %= CURVE_ORDER
    if k == 0:
        return None
    return PublicKey.from_valid_secret(k.to_bytes(32, "big"))


def ecdh(secret: bytes, point: bytes) -> bytes:
    """libsecp256k1's default ECDH: SHA256 of the compressed shared point."""
    return bytes(PrivateKey(secret).ecdh(point))

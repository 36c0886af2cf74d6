"""BIP-340 Schnorr signatures over libsecp256k1 (coincurve).

`sign`/`verify` are BIP-340 exactly. ChillDKG also signs its proofs of possession with BIP-340
under another tag prefix ("BIP DKG/pop message" instead of "BIP0340"); libsecp256k1 fixes the
tags, so that variant is written here from the BIP-340 algorithm over libsecp256k1's point
arithmetic (`tag_prefix` other than "BIP0340").
"""

from __future__ import annotations

from coincurve import PrivateKey
from coincurve.keys import PublicKeyXOnly

from seedguard.primitives.hashes import tagged_hash, xor_bytes
from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    base_mul,
    has_even_y,
    lift_x,
    point_add,
    point_mul,
    point_negate,
    xbytes,
)

BIP340 = "BIP0340"
_FIELD_SIZE = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F


def xonly_public_key(secret: bytes) -> bytes:
    """The 32-byte x-only public key of a private key."""
    return xbytes(PrivateKey(secret).public_key)


def sign(msg: bytes, secret: bytes, aux_rand: bytes, tag_prefix: str = BIP340) -> bytes:
    """A 64-byte BIP-340 signature on a message of any length."""
    d0 = int.from_bytes(secret, "big")
    if len(secret) != 32 or not 0 < d0 < CURVE_ORDER:
        raise ValueError("The secret key must be an integer in the range 1..n-1.")
    if len(aux_rand) != 32:
        raise ValueError("aux_rand must be 32 bytes.")
    if tag_prefix == BIP340 and len(msg) == 32:
        return bytes(PrivateKey(secret).sign_schnorr(msg, aux_rand))
    return _sign_tagged(msg, d0, aux_rand, tag_prefix)


def _sign_tagged(msg: bytes, d0: int, aux_rand: bytes, tag_prefix: str) -> bytes:
    P = base_mul(d0)
    assert P is not None
    d = d0 if has_even_y(P) else CURVE_ORDER - d0
    t = xor_bytes(d.to_bytes(32, "big"), tagged_hash(f"{tag_prefix}/aux", aux_rand))
    k0 = (
        int.from_bytes(tagged_hash(f"{tag_prefix}/nonce", t + xbytes(P) + msg), "big") % CURVE_ORDER
    )
    if k0 == 0:
        raise RuntimeError("BIP-340 nonce is zero (negligible probability)")
    R = base_mul(k0)
    assert R is not None
    k = k0 if has_even_y(R) else CURVE_ORDER - k0
    e = _challenge(tag_prefix, xbytes(R), xbytes(P), msg)
    sig = xbytes(R) + ((k + e * d) % CURVE_ORDER).to_bytes(32, "big")
    if not _verify_tagged(msg, xbytes(P), sig, tag_prefix):
        raise RuntimeError("a BIP-340 signature failed its own verification")
    return sig


def verify(msg: bytes, pubkey: bytes, sig: bytes, tag_prefix: str = BIP340) -> bool:
    """BIP-340 verification of `sig` on `msg` under the x-only `pubkey`."""
    if len(pubkey) != 32 or len(sig) != 64:
        return False
    if tag_prefix == BIP340:
        try:
            return bool(PublicKeyXOnly(pubkey).verify(sig, msg))
        except ValueError:
            return False
    return _verify_tagged(msg, pubkey, sig, tag_prefix)


def _verify_tagged(msg: bytes, pubkey: bytes, sig: bytes, tag_prefix: str) -> bool:
    try:
        P = lift_x(pubkey)
    except ValueError:
        return False
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if r >= _FIELD_SIZE or s >= CURVE_ORDER:
        return False
    e = _challenge(tag_prefix, sig[:32], pubkey, msg)
    R = point_add(base_mul(s), point_negate(point_mul(P, e)))
    return R is not None and has_even_y(R) and xbytes(R) == sig[:32]


def _challenge(tag_prefix: str, r: bytes, p: bytes, msg: bytes) -> int:
    return int.from_bytes(tagged_hash(f"{tag_prefix}/challenge", r + p + msg), "big") % CURVE_ORDER

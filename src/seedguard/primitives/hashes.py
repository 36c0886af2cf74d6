"""Hash functions used by BIP-32, BIP-39, BIP-340/341 and Ethereum addresses."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from Crypto.Hash import RIPEMD160, keccak


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha512(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha512")


def pbkdf2_hmac_sha512(password: bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password, salt, iterations)


def _ripemd160_hashlib(data: bytes) -> bytes:
    return hashlib.new("ripemd160", data).digest()


def _ripemd160_pycryptodome(data: bytes) -> bytes:
    return RIPEMD160.new(data).digest()


def _pick_ripemd160() -> Callable[[bytes], bytes]:
    # OpenSSL 3 moved RIPEMD-160 to its legacy provider, so hashlib may lack it; pycryptodome
    # always has it. Prefer OpenSSL's where present: it is faster.
    try:
        hashlib.new("ripemd160", b"")
    except ValueError:
        return _ripemd160_pycryptodome
    return _ripemd160_hashlib


ripemd160 = _pick_ripemd160()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256, as in Bitcoin addresses and BIP-32 fingerprints."""
    return ripemd160(hashlib.sha256(data).digest())


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the original padding, not NIST SHA3-256)."""
    return bytes(keccak.new(digest_bits=256, data=data).digest())


_TAG_CACHE: dict[str, bytes] = {}


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data)."""
    prefix = _TAG_CACHE.get(tag)
    if prefix is None:
        digest = hashlib.sha256(tag.encode()).digest()
        prefix = _TAG_CACHE[tag] = digest + digest
    return hashlib.sha256(prefix + data).digest()


def xor_bytes(a: bytes, b: bytes) -> bytes:
    """Byte-wise XOR of two equally long byte strings."""
    if len(a) != len(b):
        raise ValueError("xor_bytes needs equally long inputs")
    return bytes(x ^ y for x, y in zip(a, b, strict=True))

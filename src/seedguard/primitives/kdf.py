"""Key derivation: Argon2id (argon2-cffi, the reference C code) and HKDF-SHA256 (pyca).

Hazmat: no bounds are applied here; `seedguard.envelope` bounds parameters read from a file
before it calls `argon2id`.
"""

from __future__ import annotations

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def argon2id(
    password: bytes, salt: bytes, *, memory_kib: int, iterations: int, parallelism: int
) -> bytes:
    """A 32-byte Argon2id (version 0x13) output, RFC 9106."""
    return hash_secret_raw(
        password,
        salt,
        time_cost=iterations,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        type=Type.ID,
    )


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)

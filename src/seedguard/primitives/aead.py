"""XChaCha20-Poly1305 (IETF) from libsodium, through PyNaCl.

Hazmat: callers own nonce uniqueness. The 192-bit nonce is drawn at random for every message,
which is safe for any number of messages under one key (libsodium's own recommendation).
"""

from __future__ import annotations

import os

from nacl import bindings
from nacl.exceptions import CryptoError

KEY_BYTES = 32
NONCE_BYTES = 24
TAG_BYTES = 16


class AuthenticationFailed(Exception):
    """The key, the nonce, the associated data or the ciphertext is not the one sealed."""


def random_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Ciphertext with its 16-byte tag appended."""
    _check(key, nonce)
    return bytes(bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key))


def open_(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """The plaintext, or AuthenticationFailed; nothing is released before the tag checks."""
    _check(key, nonce)
    if len(ciphertext) < TAG_BYTES:
        raise AuthenticationFailed
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
        )
    except CryptoError:
        raise AuthenticationFailed from None


def _check(key: bytes, nonce: bytes) -> None:
    if len(key) != KEY_BYTES or len(nonce) != NONCE_BYTES:
        raise ValueError("XChaCha20-Poly1305 takes a 32-byte key and a 24-byte nonce")

"""RFC 9497 OPRF, mode 0 (OPRF), suite ristretto255-SHA512; group operations from libsodium.

Names follow the RFC: `blind` (§3.3.1), `blind_evaluate` and `finalize`, `derive_key_pair`
(§3.2.1). The client's blind is a `Blind` object that refuses a second `finalize`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pysodium  # type: ignore[import-untyped]

IDENTIFIER = b"ristretto255-SHA512"
MODE_OPRF = 0
CONTEXT = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + IDENTIFIER
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
OUTPUT_BYTES = 64
MAX_INPUT_BYTES = 0xFFFF


class OprfError(ValueError):
    """An input, element or scalar the protocol refuses (RFC 9497 §3.3 errors)."""


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512. Neither libsodium nor pyca exposes it, so it is here."""
    if len(dst) > 255 or length > 255 * 64 or length > 0xFFFF:
        raise OprfError("expand_message_xmd: DST or length out of range")
    ell = -(-length // 64)
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha512(bytes(128) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + bytes([i]) + dst_prime).digest())
    return b"".join(blocks)[:length]


def hash_to_group(data: bytes) -> bytes:
    """hash_to_ristretto255 (RFC 9380 App. B) with the suite's HashToGroup DST."""
    uniform = expand_message_xmd(data, b"HashToGroup-" + CONTEXT, 64)
    return bytes(pysodium.crypto_core_ristretto255_from_hash(uniform))


def hash_to_scalar(data: bytes, dst: bytes | None = None) -> bytes:
    uniform = expand_message_xmd(data, dst or b"HashToScalar-" + CONTEXT, 64)
    return bytes(pysodium.crypto_core_ristretto255_scalar_reduce(uniform))


def _is_zero(scalar: bytes) -> bool:
    return not any(scalar)


def random_scalar() -> bytes:
    """A uniform non-zero scalar (libsodium draws it from the OS's CSPRNG)."""
    while True:
        scalar = bytes(pysodium.crypto_core_ristretto255_scalar_random())
        if not _is_zero(scalar):
            return scalar


def derive_key_pair(seed: bytes, info: bytes) -> bytes:
    """§3.2.1 DeriveKeyPair; returns skS (the OPRF mode has no use for pkS)."""
    if len(seed) != 32 or len(info) > 0xFFFF:
        raise OprfError("DeriveKeyPair takes a 32-byte seed and at most 65535 bytes of info")
    derive_input = seed + len(info).to_bytes(2, "big") + info
    for counter in range(256):
        sk = hash_to_scalar(derive_input + bytes([counter]), b"DeriveKeyPair" + CONTEXT)
        if not _is_zero(sk):
            return sk
    raise OprfError("DeriveKeyPairError")


def generate_key() -> bytes:
    """A fresh random server key skS."""
    return random_scalar()


def check_element(element: bytes) -> None:
    """DeserializeElement's checks (§4.1): a canonical ristretto255 encoding, not the identity."""
    if len(element) != ELEMENT_BYTES or not pysodium.crypto_core_ristretto255_is_valid_point(
        element
    ):
        raise OprfError("not a ristretto255 element")
    if _is_zero(element):  # the identity's encoding
        raise OprfError("the element is the identity")


def _mult(scalar: bytes, element: bytes, checked: bool = False) -> bytes:
    if len(scalar) != SCALAR_BYTES or _is_zero(scalar):
        raise OprfError("the scalar is malformed or zero")
    if not checked:
        check_element(element)
    try:
        return bytes(pysodium.crypto_scalarmult_ristretto255(scalar, element))
    except ValueError:  # libsodium refuses an identity result
        raise OprfError("the element is the identity") from None


@dataclass(eq=False, repr=False)
class Blind:
    """The client's state between `blind` and `finalize`: usable once."""

    input: bytes
    scalar: bytes
    blinded_element: bytes
    _used: bool = field(default=False)

    def __repr__(self) -> str:
        return "Blind(***)"


def blind(data: bytes, scalar: bytes | None = None) -> Blind:
    """§3.3.1 Blind: the input hashed to the group and multiplied by a random scalar.
    `scalar` is for the published test vectors only."""
    if len(data) > MAX_INPUT_BYTES:
        raise OprfError("the OPRF input is longer than 65535 bytes")
    r = scalar if scalar is not None else random_scalar()
    element = hash_to_group(data)
    # An identity input element is the RFC's InvalidInputError; _mult refuses it.
    return Blind(data, r, _mult(r, element))


def blind_evaluate(sk: bytes, blinded_element: bytes, checked: bool = False) -> bytes:
    """§3.3.1 BlindEvaluate on the server; refuses a malformed or identity element.
    `checked`: the caller already ran `check_element` on it (the hot route does, before it
    counts an attempt), so it is not checked twice; libsodium still refuses an identity
    result."""
    return _mult(sk, blinded_element, checked)


def finalize(state: Blind, evaluated_element: bytes) -> bytes:
    """§3.3.1 Finalize: unblind and hash to the 64-byte PRF output."""
    if state._used:
        raise OprfError("this blind was already finalized: blind the input again")
    state._used = True
    inverse = bytes(pysodium.crypto_core_ristretto255_scalar_invert(state.scalar))
    unblinded = _mult(inverse, evaluated_element)
    hash_input = (
        len(state.input).to_bytes(2, "big")
        + state.input
        + len(unblinded).to_bytes(2, "big")
        + unblinded
        + b"Finalize"
    )
    return hashlib.sha512(hash_input).digest()


def evaluate(sk: bytes, data: bytes) -> bytes:
    """The PRF computed directly by the key holder (§3.3.1 Evaluate, for tests and audits)."""
    element = hash_to_group(data)
    issued = _mult(sk, element)
    hash_input = (
        len(data).to_bytes(2, "big") + data + len(issued).to_bytes(2, "big") + issued + b"Finalize"
    )
    return hashlib.sha512(hash_input).digest()

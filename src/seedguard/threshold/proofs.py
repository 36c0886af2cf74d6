"""Proofs that a requester holds an MPC share, and the checks that make a repair contribution
verifiable (docs/mpc.md, "Who can obtain what").

A share proof is a BIP-340 Schnorr signature made with the secret share itself, verified
against that share's public share (x-only): knowledge of the share (up to sign, which BIP-340
fixes), bound by its message to the wallet, the epoch, the participant, a one-use challenge
the server issued to this session for this wallet, the purpose, and a digest of the request.
A proof is therefore useless for any other request, session, epoch or wallet. (A signature is
the standard non-interactive Schnorr proof of knowledge; ChillDKG's proofs of possession are
the same construction.)

Repair contributions are checked as in verifiable repair: a helper publishes the commitment
to the delta it keeps, and the deltas it splits its λ·s into must sum, in the exponent, to
λ·P of its public share, so a requester cannot pick a delta that cancels the server's mask.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from seedguard.primitives import kdf, schnorr
from seedguard.primitives.hashes import tagged_hash
from seedguard.primitives.secp256k1 import (
    base_mul,
    cbytes_ext,
    point_add,
    point_from_cbytes,
    point_from_cbytes_ext,
    point_mul,
    xbytes,
)
from seedguard.threshold.repairable import lagrange_at

PROOF_TAG = "seedguard/mpc/share-proof/v1"
PURPOSES = ("repair", "refresh", "cloud")


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def request_digest(*parts: bytes) -> bytes:
    """SHA-256 over length-prefixed request fields: what the proof commits the request to."""
    return hashlib.sha256(b"".join(_field(p) for p in parts)).digest()


def proof_message(
    wallet_id: str, epoch: int, participant: int, challenge: bytes, purpose: str, digest: bytes
) -> bytes:
    if purpose not in PURPOSES or len(challenge) != 32 or len(digest) != 32:
        raise ValueError("a share proof needs a known purpose, a 32-byte challenge and digest")
    body = b"".join(
        (
            _field(wallet_id.encode()),
            epoch.to_bytes(4, "big"),
            bytes([participant]),
            _field(challenge),
            _field(purpose.encode()),
            _field(digest),
        )
    )
    return tagged_hash(PROOF_TAG, body)


def prove_share(
    secshare: bytes,
    wallet_id: str,
    epoch: int,
    participant: int,
    challenge: bytes,
    purpose: str,
    digest: bytes,
) -> bytes:
    """A 64-byte proof that the caller holds `secshare`, for this one request."""
    message = proof_message(wallet_id, epoch, participant, challenge, purpose, digest)
    return schnorr.sign(message, secshare, secrets.token_bytes(32))


def verify_share_proof(
    proof: bytes,
    pubshare: bytes,
    wallet_id: str,
    epoch: int,
    participant: int,
    challenge: bytes,
    purpose: str,
    digest: bytes,
) -> bool:
    message = proof_message(wallet_id, epoch, participant, challenge, purpose, digest)
    try:
        xonly = xbytes(point_from_cbytes(pubshare))
    except ValueError:
        return False
    return schnorr.verify(message, xonly, proof)


def commit(scalar: int) -> bytes:
    """scalar·G, compressed (33 zero bytes for the point at infinity)."""
    return cbytes_ext(base_mul(scalar))


def contribution_ok(
    helpers: list[int], helper: int, target: int, pubshare: bytes, committed: Iterable[bytes]
) -> bool:
    """The commitments to a helper's deltas sum to λ·P_helper: the deltas split its share."""
    try:
        total = point_add(*(point_from_cbytes_ext(c) for c in committed))
        expected = point_mul(point_from_cbytes(pubshare), lagrange_at(helpers, helper, target))
    except ValueError:
        return False
    return cbytes_ext(total) == cbytes_ext(expected)


def sigma_ok(sigma: int, kept: bytes, delta_received: int) -> bool:
    """A helper's sigma is the delta it kept (committed as `kept`) plus the one it received."""
    try:
        total = point_add(point_from_cbytes_ext(kept), base_mul(delta_received))
    except ValueError:
        return False
    return cbytes_ext(total) == commit(sigma)


RECOVERY_INFO = b"seedguard mpc cloud repair v1"


def recovery_proof(recovery_key: bytes, wallet_id: str) -> bytes:
    """What proves the cloud envelope's recovery key to the server (HKDF-SHA256 of it, salted
    with the wallet id); the server keeps SHA-256 of this, never the key."""
    return kdf.hkdf_sha256(recovery_key, salt=wallet_id.encode(), info=RECOVERY_INFO)


def recovery_verifier(recovery_key: bytes, wallet_id: str) -> bytes:
    return hashlib.sha256(recovery_proof(recovery_key, wallet_id)).digest()

"""A 2-of-3 FROST wallet's public key material, its Taproot output, and the whole signing
session run in one process (for tests, benchmarks and the local device + cloud signer).

Participants (0-based identifiers, as in BIP-445 and ChillDKG): 0 the device, 1 the seedguard
server, 2 the cloud backup. The threshold key from ChillDKG is already committed to an
unspendable script path; the wallet's output key adds the BIP-341 tweak for a key with no
script tree, Q = P + int(hash_TapTweak(P))·G, so addresses are ordinary `bc1p` ones and every
signature is a BIP-340 signature for Q.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from seedguard.errors import InputError
from seedguard.primitives import schnorr
from seedguard.primitives.hashes import tagged_hash
from seedguard.primitives.secp256k1 import CURVE_ORDER, base_mul, cbytes, scalar_bytes
from seedguard.threshold import frost
from seedguard.threshold.derivation import Child

DEVICE, SERVER, CLOUD = 0, 1, 2
NAMES = {DEVICE: "the device", SERVER: "the server", CLOUD: "the cloud backup"}
T, N = 2, 3


@dataclass(frozen=True)
class GroupKey:
    """The threshold public key (33-byte compressed) and the three public shares."""

    thresh_pk: bytes
    pubshares: tuple[bytes, ...]

    @property
    def public_key(self) -> bytes:
        """The x-only threshold (internal) key."""
        return self.thresh_pk[1:]

    # Cached: every nonce and signing session needs them, and the output key costs two
    # multiplications. (A frozen dataclass lets cached_property write its own __dict__.)
    @functools.cached_property
    def taptweak(self) -> bytes:
        return tagged_hash("TapTweak", self.public_key)

    @functools.cached_property
    def output_key(self) -> bytes:
        ctx = frost.apply_tweak(frost.tweak_ctx_init(self.thresh_pk), self.taptweak, True)
        return frost.get_xonly_pubkey(ctx)

    def tweaks(self, child: Child | None = None) -> tuple[tuple[bytes, ...], tuple[bool, ...]]:
        """The session's tweaks: a derived child's (plain tweaks, then its TapTweak), or for
        the index-free address of wallets made before addresses were derived, the TapTweak
        of the threshold key itself."""
        if child is None:
            return (self.taptweak,), (True,)
        return child.tweaks, child.is_xonly

    def output_key_of(self, child: Child | None = None) -> bytes:
        return self.output_key if child is None else child.output_key

    def signers(self, ids: Sequence[int]) -> frost.SignersContext:
        return frost.SignersContext(
            N, T, tuple(ids), tuple(self.pubshares[i] for i in ids), self.thresh_pk
        )

    def session(
        self, ids: Sequence[int], aggnonce: bytes, message: bytes, child: Child | None = None
    ) -> frost.SessionContext:
        tweaks, is_xonly = self.tweaks(child)
        return frost.SessionContext(self.signers(ids), aggnonce, tweaks, is_xonly, message)

    def check(self) -> None:
        """Refuse key material whose shares do not reproduce the threshold key."""
        for pair in ((DEVICE, SERVER), (DEVICE, CLOUD), (SERVER, CLOUD)):
            frost.validate_signers_ctx(self.signers(pair))


def verify(signature: bytes, message: bytes, output_key: bytes) -> bool:
    """BIP-340 verification by libsecp256k1."""
    return schnorr.verify(message, output_key, signature)


def check_message(message: bytes) -> None:
    if len(message) != 32:
        raise InputError(
            f"The message must be a 32-byte sighash (64 hex digits), not {len(message)} bytes."
        )


def sign_locally(
    key: GroupKey, shares: Mapping[int, bytes], message: bytes, child: Child | None = None
) -> bytes:
    """A complete two-round FROST session among the given share holders, in this process:
    every partial signature is verified (a bad one names its signer) and the result is checked
    with libsecp256k1 before it is returned."""
    check_message(message)
    ids = sorted(shares)
    if len(ids) < T:
        raise InputError("Two shares are needed to sign; one share alone cannot.")
    output_key = key.output_key_of(child)
    nonces = {i: frost.nonce_gen(shares[i], key.pubshares[i], output_key, message) for i in ids}
    pubnonces = [nonces[i][1] for i in ids]
    session = key.session(ids, frost.nonce_agg(pubnonces), message, child)
    psigs = [frost.sign(nonces[i][0], shares[i], i, session, verify=False) for i in ids]
    return aggregate(key, ids, pubnonces, psigs, message, child)


def aggregate(
    key: GroupKey,
    ids: Sequence[int],
    pubnonces: Sequence[bytes],
    psigs: Sequence[bytes],
    message: bytes,
    child: Child | None = None,
) -> bytes:
    """Aggregate and verify the result once (BIP-340, libsecp256k1); only when it fails is
    each partial signature verified, to name the signer that broke it (identifiable abort),
    as ZF frost does: a valid signature implies nothing more to check."""
    session = key.session(ids, frost.nonce_agg(pubnonces), message, child)
    try:
        signature = frost.partial_sig_agg(psigs, session)
    except frost.InvalidContributionError as exc:
        if exc.signer_index is not None:
            raise CulpritError(ids[exc.signer_index]) from None
        raise
    if verify(signature, message, key.output_key_of(child)):
        return signature
    signers = key.signers(ids)
    tweaks, is_xonly = key.tweaks(child)
    for index, participant in enumerate(ids):
        if not frost.partial_sig_verify(
            psigs[index], pubnonces, signers, tweaks, is_xonly, message, index
        ):
            raise CulpritError(participant)
    raise InputError("The aggregated signature does not verify; nothing was signed.")


class CulpritError(InputError):
    """A participant's partial signature is invalid: the session aborted, naming it."""

    def __init__(self, participant: int) -> None:
        super().__init__(
            f"The partial signature from {NAMES.get(participant, participant)} is invalid: "
            "signing aborted. Its share does not match the wallet (stale or tampered)."
        )
        self.participant = participant


def interpolate_secret(key: GroupKey, shares: Mapping[int, bytes]) -> bytes:
    """The threshold secret key from two shares (Lagrange at 0), checked against the key.
    Only for the emergency exit: the key then exists whole in this process."""
    ids = sorted(shares)
    if len(ids) < T:
        raise InputError("Two shares are needed to rebuild the key.")
    secret = 0
    for i in ids:
        secret += frost.derive_interpolating_value(ids, i) * int.from_bytes(shares[i], "big")
    secret %= CURVE_ORDER
    point = base_mul(secret)
    if point is None or cbytes(point) != key.thresh_pk:
        raise InputError("These shares do not rebuild this wallet's key (a stale or wrong share).")
    return scalar_bytes(secret)

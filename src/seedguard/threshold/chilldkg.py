"""ChillDKG: distributed key generation for FROST (BlockstreamResearch/bip-frost-dkg).

EncPedPop plus the CertEq equality check: every participant signs the session transcript with
its host key, and the `n` signatures form a success certificate. The transcript and certificate
are the *recovery data*, public, from which any participant's output is recovered with its host
secret key. The threshold key comes out already committed to an unspendable Taproot script path.

The public API mirrors the reference's: `hostpubkey_gen`, `params_hash`, `participant_step1`,
`participant_step2`, `participant_finalize`, `participant_investigate`, `coordinator_step1`,
`coordinator_finalize`, `coordinator_investigate`, `participant_recover`, `coordinator_recover`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from seedguard.primitives import schnorr
from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    point_from_cbytes,
    public_key,
    scalar_bytes,
)
from seedguard.threshold import encpedpop
from seedguard.threshold.dkg_errors import (
    DkgValueError,
    DuplicateHostPubkeyError,
    FaultyCoordinatorError,
    FaultyParticipantError,
    HostSeckeyError,
    InvalidHostPubkeyError,
    MsgParseError,
    RandomnessError,
    RecoveryDataError,
    SessionParamsError,
    ThresholdOrCountError,
    UnknownFaultyParticipantOrCoordinatorError,
)
from seedguard.threshold.simplpedpop import DKGOutput, dkg_output
from seedguard.threshold.vss import (
    BIP_TAG,
    VSSCommitment,
    scalar_from_bytes_checked,
    tagged_hash_bip_dkg,
    verify_secshare,
)

__all__ = [
    "DKGOutput",
    "SessionParams",
    "coordinator_finalize",
    "coordinator_investigate",
    "coordinator_recover",
    "coordinator_step1",
    "hostpubkey_gen",
    "params_hash",
    "participant_finalize",
    "participant_investigate",
    "participant_recover",
    "participant_step1",
    "participant_step2",
]


# --- CertEq ------------------------------------------------------------------------------------


def certeq_message(x: bytes, participant_id: int) -> bytes:
    prefix = (BIP_TAG + "certeq message").encode().ljust(33, b"\x00")
    return prefix + participant_id.to_bytes(4, "big") + x


def certeq_participant_step(hostseckey: bytes, participant_id: int, x: bytes, aux: bytes) -> bytes:
    return schnorr.sign(certeq_message(x, participant_id), hostseckey, aux)


def certeq_verify(hostpubkeys: Sequence[bytes], x: bytes, cert: bytes) -> int | None:
    """None when every signature is valid, else the first participant whose one is not."""
    if len(cert) != 64 * len(hostpubkeys):
        raise DkgValueError("certificate of the wrong length")
    for i, hostpubkey in enumerate(hostpubkeys):
        # The x-only key is enough: the message commits to every full host key and the id.
        if not schnorr.verify(certeq_message(x, i), hostpubkey[1:33], cert[64 * i : 64 * i + 64]):
            return i
    return None


# --- Host keys and parameters ------------------------------------------------------------------


def hostpubkey_gen(hostseckey: bytes) -> bytes:
    """The 33-byte host public key (the participant's long-term identity)."""
    if len(hostseckey) != 32:
        raise DkgValueError("the host secret key must be 32 bytes")
    if not 0 < int.from_bytes(hostseckey, "big") < CURVE_ORDER:
        raise HostSeckeyError()
    return public_key(hostseckey)


@dataclass(frozen=True)
class SessionParams:
    """The ordered host public keys of all participants and the threshold t."""

    hostpubkeys: tuple[bytes, ...]
    t: int


def params_validate(params: SessionParams) -> None:
    if not 1 <= params.t <= len(params.hostpubkeys) <= 2**32 - 1:
        raise ThresholdOrCountError()
    for i, hostpubkey in enumerate(params.hostpubkeys):
        try:
            point_from_cbytes(hostpubkey)
        except ValueError:
            raise InvalidHostPubkeyError(i) from None
    seen: dict[bytes, int] = {}
    for i, hostpubkey in enumerate(params.hostpubkeys):
        if hostpubkey in seen:
            raise DuplicateHostPubkeyError(seen[hostpubkey], i)
        seen[hostpubkey] = i


def params_hash(params: SessionParams) -> bytes:
    """A hash of the session parameters, for comparing them out of band."""
    params_validate(params)
    return tagged_hash_bip_dkg(
        "params_hash", params.t.to_bytes(4, "big") + b"".join(params.hostpubkeys)
    )


# --- Messages ----------------------------------------------------------------------------------


def _parse_cmsg1(data: bytes, t: int, n: int) -> tuple[encpedpop.CoordinatorMsg, list[int]]:
    size = encpedpop.CoordinatorMsg.len_bytes(t, n)
    if len(data) != size + 32 * n:
        raise DkgValueError("coordinator message 1 of the wrong length")
    enc_cmsg = encpedpop.CoordinatorMsg.from_bytes(data[:size], t, n)
    return enc_cmsg, encpedpop.parse_scalars(data[size:], n, "encrypted secret shares")


def deserialize_recovery_data(
    data: bytes,
) -> tuple[int, VSSCommitment, list[bytes], list[bytes], list[int], bytes]:
    if len(data) < 4:
        raise DkgValueError("recovery data too short")
    t, rest = int.from_bytes(data[:4], "big"), data[4:]
    if len(rest) < 33 * t:
        raise DkgValueError("recovery data too short")
    sum_coms, rest = VSSCommitment.from_bytes(rest[: 33 * t], t), rest[33 * t :]
    n, remainder = divmod(len(rest), 33 + 33 + 32 + 64)
    if remainder:
        raise DkgValueError("recovery data of the wrong length")
    hostpubkeys = [rest[i : i + 33] for i in range(0, 33 * n, 33)]
    rest = rest[33 * n :]
    pubnonces = [rest[i : i + 33] for i in range(0, 33 * n, 33)]
    rest = rest[33 * n :]
    enc_secshares = [scalar_from_bytes_checked(rest[i : i + 32]) for i in range(0, 32 * n, 32)]
    cert = rest[32 * n :]
    return t, sum_coms, hostpubkeys, pubnonces, enc_secshares, cert


# --- Participant -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantState1:
    params: SessionParams
    participant_id: int
    enc_state: encpedpop.ParticipantState


@dataclass(frozen=True)
class ParticipantState2:
    params: SessionParams
    eq_input: bytes
    dkg_output: DKGOutput


def participant_step1(
    hostseckey: bytes, params: SessionParams, random: bytes
) -> tuple[ParticipantState1, bytes]:
    """A participant's first step: its state and the first message to the coordinator."""
    hostpubkey = hostpubkey_gen(hostseckey)
    params_validate(params)
    try:
        participant_id = params.hostpubkeys.index(hostpubkey)
    except ValueError:
        raise HostSeckeyError("Host secret key does not match any host public key") from None
    if len(random) != 32:
        raise DkgValueError("the randomness must be 32 bytes")
    if random == bytes(32):
        raise RandomnessError()
    enc_state, pmsg1 = encpedpop.participant_step1(
        seed=hostseckey,
        deckey=hostseckey,
        enckeys=params.hostpubkeys,
        t=params.t,
        participant_id=participant_id,
        random=random,
    )
    return ParticipantState1(params, participant_id, enc_state), pmsg1


def participant_step2(
    hostseckey: bytes, state1: ParticipantState1, cmsg1: bytes, aux_rand: bytes
) -> tuple[ParticipantState2, bytes]:
    """A participant's second step: checks the coordinator's message, decrypts its share and
    signs the transcript (its CertEq signature, the second message)."""
    hostpubkey = hostpubkey_gen(hostseckey)
    if len(aux_rand) != 32:
        raise DkgValueError("aux_rand must be 32 bytes")
    params, pid = state1.params, state1.participant_id
    if hostpubkey != params.hostpubkeys[pid]:
        raise HostSeckeyError("Host secret key does not match the one used in participant_step1")
    t = state1.enc_state.simpl_state.t
    try:
        enc_cmsg, enc_secshares = _parse_cmsg1(cmsg1, t, len(params.hostpubkeys))
    except MsgParseError as e:
        raise FaultyCoordinatorError(str(e)) from e
    output, eq_input = encpedpop.participant_step2(
        state1.enc_state, hostseckey, enc_cmsg.to_bytes(), enc_secshares[pid]
    )
    # The encrypted shares join the transcript, so all agree on the recovery data too.
    eq_input += b"".join(scalar_bytes(s) for s in enc_secshares)
    sig = certeq_participant_step(hostseckey, pid, eq_input, aux_rand)
    return ParticipantState2(params, eq_input, output), sig


def participant_finalize(state2: ParticipantState2, cmsg2: bytes) -> tuple[DKGOutput, bytes]:
    """A participant's final step: checks the certificate; (DKG output, recovery data)."""
    if len(cmsg2) != 64 * len(state2.params.hostpubkeys):
        raise DkgValueError("coordinator message 2 of the wrong length")
    if certeq_verify(state2.params.hostpubkeys, state2.eq_input, cmsg2) is not None:
        raise FaultyCoordinatorError(
            "Coordinator has provided a certificate with an invalid signature"
        )
    return state2.dkg_output, state2.eq_input + cmsg2


def participant_investigate(
    error: UnknownFaultyParticipantOrCoordinatorError, cinv: bytes
) -> NoReturn:
    """Narrow an `UnknownFaultyParticipantOrCoordinatorError` down to one faulty party."""
    n = error.inv_data.simpl_bstate.n
    if len(cinv) != encpedpop.CoordinatorInvestigationMsg.len_bytes(n):
        raise DkgValueError("investigation message of the wrong length")
    encpedpop.participant_investigate(error, cinv)
    raise AssertionError("unreachable")


# --- Coordinator -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoordinatorState:
    params: SessionParams
    eq_input: bytes
    dkg_output: DKGOutput


def coordinator_step1(
    pmsgs1: Sequence[bytes], params: SessionParams
) -> tuple[CoordinatorState, bytes]:
    """The coordinator's first step: aggregates the first messages into one broadcast."""
    params_validate(params)
    n, t = len(params.hostpubkeys), params.t
    if len(pmsgs1) != n:
        raise DkgValueError("one first message per participant")
    for i, pmsg1 in enumerate(pmsgs1):
        try:
            encpedpop.ParticipantMsg.from_bytes(pmsg1, t, n)
        except MsgParseError as e:
            raise FaultyParticipantError(i, str(e)) from e
    enc_cmsg, output, eq_input, enc_secshares = encpedpop.coordinator_step(
        pmsgs1, t, params.hostpubkeys
    )
    eq_input += b"".join(scalar_bytes(s) for s in enc_secshares)
    cmsg1 = enc_cmsg + b"".join(scalar_bytes(s) for s in enc_secshares)
    return CoordinatorState(params, eq_input, output), cmsg1


def coordinator_finalize(
    state: CoordinatorState, pmsgs2: Sequence[bytes]
) -> tuple[bytes, DKGOutput, bytes]:
    """The coordinator's final step: the certificate (second broadcast), the DKG output
    without a secret share, and the recovery data."""
    if len(pmsgs2) != len(state.params.hostpubkeys):
        raise DkgValueError("one second message per participant")
    if any(len(pmsg2) != 64 for pmsg2 in pmsgs2):
        raise DkgValueError("a second message must be a 64-byte signature")
    cert = b"".join(pmsgs2)
    culprit = certeq_verify(state.params.hostpubkeys, state.eq_input, cert)
    if culprit is not None:
        raise FaultyParticipantError(
            culprit, "Participant has provided an invalid signature for the certificate"
        )
    return cert, state.dkg_output, state.eq_input + cert


def coordinator_investigate(pmsgs: Sequence[bytes], params: SessionParams) -> list[bytes]:
    """One investigation message per participant (public; may be broadcast)."""
    n = len(pmsgs)
    for i, pmsg in enumerate(pmsgs):
        try:
            encpedpop.ParticipantMsg.from_bytes(pmsg, params.t, n)
        except MsgParseError as e:
            raise FaultyParticipantError(i, str(e)) from e
    return encpedpop.coordinator_investigate(pmsgs, params.t)


# --- Recovery ----------------------------------------------------------------------------------


def _recover(hostseckey: bytes | None, recovery_data: bytes) -> tuple[DKGOutput, SessionParams]:
    try:
        t, sum_coms, hostpubkeys, pubnonces, enc_secshares, cert = deserialize_recovery_data(
            recovery_data
        )
    except Exception as e:
        raise RecoveryDataError("Failed to deserialize recovery data") from e
    n = len(hostpubkeys)
    params = SessionParams(tuple(hostpubkeys), t)
    try:
        params_validate(params)
    except SessionParamsError as e:
        raise RecoveryDataError("Invalid session parameters in recovery data") from e
    eq_input = recovery_data[: -len(cert)]
    if certeq_verify(hostpubkeys, eq_input, cert) is not None:
        raise RecoveryDataError("Invalid certificate in recovery data")
    tweaked, tweak, _ = sum_coms.invalid_taproot_commit()
    pubshares = [tweaked.pubshare(i) for i in range(n)]
    secshare: bytes | None = None
    if hostseckey is not None:
        hostpubkey = hostpubkey_gen(hostseckey)
        try:
            pid = hostpubkeys.index(hostpubkey)
        except ValueError:
            raise HostSeckeyError(
                "Host secret key does not match any host public key in the recovery data"
            ) from None
        share = encpedpop.decrypt_sum(
            hostseckey,
            hostpubkeys[pid],
            pubnonces,
            encpedpop.serialize_enc_context(t, hostpubkeys),
            pid,
            enc_secshares[pid],
        )
        share_tweaked = (share + tweak) % CURVE_ORDER
        # A sanity check: our own signature in the certificate already vouched for this.
        if not verify_secshare(share_tweaked, pubshares[pid]):
            raise RecoveryDataError("The recovered secret share does not match its public share")
        secshare = scalar_bytes(share_tweaked)
    output = dkg_output(sum_coms, n, secshare)
    return output, params


def participant_recover(hostseckey: bytes, recovery_data: bytes) -> tuple[DKGOutput, SessionParams]:
    """A participant's DKG output again, from its host secret key and the recovery data."""
    return _recover(hostseckey, recovery_data)


def coordinator_recover(recovery_data: bytes) -> tuple[DKGOutput, SessionParams]:
    """The coordinator's DKG output (no secret share) from the recovery data."""
    return _recover(None, recovery_data)

"""EncPedPop (bip-frost-dkg `encpedpop.py`): SimplPedPop with the secret shares encrypted to
each recipient's host key by pairwise ECDH pads ("hashed ElGamal" multi-recipient KEM), so the
coordinator relays and sums them without reading them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    Point,
    cbytes_ext,
    ecdh,
    point_from_cbytes_ext,
    public_key,
    scalar_bytes,
)
from seedguard.threshold import simplpedpop
from seedguard.threshold.dkg_errors import (
    DkgValueError,
    FaultyCoordinatorError,
    FaultyParticipantError,
    FaultyParticipantOrCoordinatorError,
    MsgParseError,
    UnknownFaultyParticipantOrCoordinatorError,
)
from seedguard.threshold.vss import scalar_from_bytes_checked, tagged_hash_bip_dkg


def _wrap(data: bytes) -> int:
    return int.from_bytes(data, "big") % CURVE_ORDER


def ecdh_pad(
    seckey: bytes, my_pubkey: bytes, their_pubkey: bytes, context: bytes, sending: bool
) -> int:
    data = ecdh(seckey, their_pubkey)
    data += my_pubkey + their_pubkey if sending else their_pubkey + my_pubkey
    return _wrap(tagged_hash_bip_dkg("encpedpop ecdh", data + context))


def self_pad(symkey: bytes, nonce: bytes, context: bytes) -> int:
    return _wrap(tagged_hash_bip_dkg("encaps_multi self_pad", symkey + nonce + context))


def encaps_multi(
    secnonce: bytes,
    pubnonce: bytes,
    deckey: bytes,
    enckeys: Sequence[bytes],
    context: bytes,
    participant_id: int,
) -> list[int]:
    pads = []
    for i, enckey in enumerate(enckeys):
        context_ = i.to_bytes(4, "big") + context
        if i == participant_id:
            pads.append(self_pad(deckey, pubnonce, context_))
        else:
            pads.append(ecdh_pad(secnonce, pubnonce, enckey, context_, sending=True))
    return pads


def decaps_multi(
    deckey: bytes,
    enckey: bytes,
    pubnonces: Sequence[bytes],
    context: bytes,
    participant_id: int,
) -> list[int]:
    context_ = participant_id.to_bytes(4, "big") + context
    pads = []
    for sender_id, pubnonce in enumerate(pubnonces):
        if sender_id == participant_id:
            pads.append(self_pad(deckey, pubnonce, context_))
            continue
        try:
            pads.append(ecdh_pad(deckey, enckey, pubnonce, context_, sending=False))
        except ValueError as e:
            raise FaultyParticipantOrCoordinatorError(sender_id, "invalid public nonce") from e
    return pads


def decrypt_sum(
    deckey: bytes,
    enckey: bytes,
    pubnonces: Sequence[bytes],
    context: bytes,
    participant_id: int,
    sum_ciphertexts: int,
) -> int:
    if participant_id >= len(pubnonces):
        raise IndexError("participant id out of range")
    pads = decaps_multi(deckey, enckey, pubnonces, context, participant_id)
    return (sum_ciphertexts - sum(pads)) % CURVE_ORDER


def serialize_enc_context(t: int, enckeys: Sequence[bytes]) -> bytes:
    return t.to_bytes(4, "big") + b"".join(enckeys)


def parse_scalars(data: bytes, count: int, what: str) -> list[int]:
    try:
        return [scalar_from_bytes_checked(data[i : i + 32]) for i in range(0, 32 * count, 32)]
    except ValueError as e:
        raise MsgParseError(f"invalid {what}") from e


# --- Messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantMsg:
    simpl_pmsg: simplpedpop.ParticipantMsg
    pubnonce: bytes
    enc_shares: tuple[int, ...]

    @staticmethod
    def len_bytes(t: int, n: int) -> int:
        return simplpedpop.ParticipantMsg.len_bytes(t) + 33 + 32 * n

    @staticmethod
    def from_bytes(data: bytes, t: int, n: int) -> ParticipantMsg:
        if len(data) != ParticipantMsg.len_bytes(t, n):
            raise DkgValueError("EncPedPop participant message of the wrong length")
        size = simplpedpop.ParticipantMsg.len_bytes(t)
        simpl = simplpedpop.ParticipantMsg.from_bytes(data[:size], t)
        rest = data[size:]
        shares = parse_scalars(rest[33:], n, "encrypted secret share")
        return ParticipantMsg(simpl, rest[:33], tuple(shares))

    def to_bytes(self) -> bytes:
        return (
            self.simpl_pmsg.to_bytes()
            + self.pubnonce
            + b"".join(scalar_bytes(s) for s in self.enc_shares)
        )


@dataclass(frozen=True)
class CoordinatorMsg:
    simpl_cmsg: simplpedpop.CoordinatorMsg
    pubnonces: tuple[bytes, ...]

    @staticmethod
    def len_bytes(t: int, n: int) -> int:
        return simplpedpop.CoordinatorMsg.len_bytes(t, n) + 33 * n

    @staticmethod
    def from_bytes(data: bytes, t: int, n: int) -> CoordinatorMsg:
        if len(data) != CoordinatorMsg.len_bytes(t, n):
            raise DkgValueError("EncPedPop coordinator message of the wrong length")
        size = simplpedpop.CoordinatorMsg.len_bytes(t, n)
        simpl = simplpedpop.CoordinatorMsg.from_bytes(data[:size], t, n)
        rest = data[size:]
        return CoordinatorMsg(simpl, tuple(rest[i : i + 33] for i in range(0, 33 * n, 33)))

    def to_bytes(self) -> bytes:
        return self.simpl_cmsg.to_bytes() + b"".join(self.pubnonces)


@dataclass(frozen=True)
class CoordinatorInvestigationMsg:
    enc_partial_secshares: tuple[int, ...]
    partial_pubshares: tuple[Point, ...]

    @staticmethod
    def len_bytes(n: int) -> int:
        return 65 * n

    @staticmethod
    def from_bytes(data: bytes, n: int) -> CoordinatorInvestigationMsg:
        if len(data) != CoordinatorInvestigationMsg.len_bytes(n):
            raise DkgValueError("investigation message of the wrong length")
        shares = parse_scalars(data, n, "encrypted partial secshare")
        rest = data[32 * n :]
        try:
            points = tuple(point_from_cbytes_ext(rest[i : i + 33]) for i in range(0, 33 * n, 33))
        except ValueError as e:
            raise MsgParseError("invalid partial pubshare") from e
        return CoordinatorInvestigationMsg(tuple(shares), points)

    def to_bytes(self) -> bytes:
        return b"".join(scalar_bytes(s) for s in self.enc_partial_secshares) + b"".join(
            cbytes_ext(p) for p in self.partial_pubshares
        )


# --- Participant -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantState:
    simpl_state: simplpedpop.ParticipantState
    pubnonce: bytes
    enckeys: tuple[bytes, ...]
    participant_id: int


@dataclass(frozen=True)
class ParticipantInvestigationData:
    simpl_bstate: simplpedpop.ParticipantInvestigationData
    enc_secshare: int
    pads: tuple[int, ...]


def participant_step1(
    seed: bytes,
    deckey: bytes,
    enckeys: Sequence[bytes],
    t: int,
    participant_id: int,
    random: bytes,
) -> tuple[ParticipantState, bytes]:
    if t >= 2**32 or len(random) != 32:
        raise DkgValueError("threshold or randomness out of range")
    n = len(enckeys)
    enc_context = serialize_enc_context(t, enckeys)
    # Everything that goes into the SimplPedPop seed also goes into the encryption nonce, so
    # different shares are never encrypted under the same pads.
    simpl_seed = tagged_hash_bip_dkg("encpedpop seed", seed + random + enc_context)
    simpl_aux_rand = tagged_hash_bip_dkg("simplpedpop aux", simpl_seed)
    secnonce = tagged_hash_bip_dkg("encpedpop secnonce", simpl_seed)
    pubnonce = public_key(secnonce)
    simpl_state, simpl_pmsg, shares = simplpedpop.participant_step1(
        simpl_seed, t, n, participant_id, simpl_aux_rand
    )
    pads = encaps_multi(secnonce, pubnonce, deckey, enckeys, enc_context, participant_id)
    enc_shares = tuple((share + pad) % CURVE_ORDER for share, pad in zip(shares, pads, strict=True))
    pmsg = ParticipantMsg(
        simplpedpop.ParticipantMsg.from_bytes(simpl_pmsg, t), pubnonce, enc_shares
    ).to_bytes()
    return ParticipantState(simpl_state, pubnonce, tuple(enckeys), participant_id), pmsg


def participant_step2(
    state: ParticipantState, deckey: bytes, cmsg: bytes, enc_secshare: int
) -> tuple[simplpedpop.DKGOutput, bytes]:
    t = state.simpl_state.t
    pid = state.participant_id
    try:
        parsed = CoordinatorMsg.from_bytes(cmsg, t, len(state.enckeys))
    except MsgParseError as e:
        raise FaultyCoordinatorError(str(e)) from e
    if parsed.pubnonces[pid] != state.pubnonce:
        raise FaultyCoordinatorError("Coordinator replied with wrong pubnonce")
    enc_context = serialize_enc_context(t, state.enckeys)
    pads = decaps_multi(deckey, state.enckeys[pid], parsed.pubnonces, enc_context, pid)
    secshare = (enc_secshare - sum(pads)) % CURVE_ORDER
    try:
        output, eq_input = simplpedpop.participant_step2(
            state.simpl_state, parsed.simpl_cmsg.to_bytes(), secshare
        )
    except UnknownFaultyParticipantOrCoordinatorError as e:
        inv = ParticipantInvestigationData(e.inv_data, enc_secshare, tuple(pads))
        raise UnknownFaultyParticipantOrCoordinatorError(inv, e.reason) from e
    eq_input += b"".join(state.enckeys) + b"".join(parsed.pubnonces)
    return output, eq_input


def participant_investigate(
    error: UnknownFaultyParticipantOrCoordinatorError, cinv: bytes
) -> NoReturn:
    data: ParticipantInvestigationData = error.inv_data
    try:
        parsed = CoordinatorInvestigationMsg.from_bytes(cinv, data.simpl_bstate.n)
    except MsgParseError as e:
        raise FaultyCoordinatorError(str(e)) from e
    partial_secshares = [
        (enc - pad) % CURVE_ORDER
        for enc, pad in zip(parsed.enc_partial_secshares, data.pads, strict=True)
    ]
    simpl_cinv = simplpedpop.CoordinatorInvestigationMsg(parsed.partial_pubshares)
    try:
        simplpedpop.participant_investigate(
            UnknownFaultyParticipantOrCoordinatorError(data.simpl_bstate, error.reason),
            simpl_cinv.to_bytes(),
            partial_secshares,
        )
    except simplpedpop.SecshareSumError as e:
        # The encryption is additively homomorphic: only the coordinator can have summed the
        # encrypted partial shares wrongly.
        raise FaultyCoordinatorError(
            "Sum of encrypted partial secshares not equal to encrypted secshare"
        ) from e


# --- Coordinator -------------------------------------------------------------------------------


def coordinator_step(
    pmsgs: Sequence[bytes], t: int, enckeys: Sequence[bytes]
) -> tuple[bytes, simplpedpop.DKGOutput, bytes, list[int]]:
    n = len(enckeys)
    if len(pmsgs) != n:
        raise DkgValueError("one message per participant")
    parsed: list[ParticipantMsg] = []
    for i, pmsg in enumerate(pmsgs):
        try:
            parsed.append(ParticipantMsg.from_bytes(pmsg, t, n))
        except MsgParseError as e:
            raise FaultyParticipantError(i, str(e)) from e
    simpl_cmsg, output, eq_input = simplpedpop.coordinator_step(
        [p.simpl_pmsg.to_bytes() for p in parsed], t, n
    )
    pubnonces = tuple(p.pubnonce for p in parsed)
    enc_secshares = [sum(p.enc_shares[i] for p in parsed) % CURVE_ORDER for i in range(n)]
    eq_input += b"".join(enckeys) + b"".join(pubnonces)
    cmsg = CoordinatorMsg(
        simplpedpop.CoordinatorMsg.from_bytes(simpl_cmsg, t, n), pubnonces
    ).to_bytes()
    return cmsg, output, eq_input, enc_secshares


def coordinator_investigate(pmsgs: Sequence[bytes], t: int) -> list[bytes]:
    n = len(pmsgs)
    parsed = [ParticipantMsg.from_bytes(pmsg, t, n) for pmsg in pmsgs]
    simpl_cinvs = simplpedpop.coordinator_investigate([p.simpl_pmsg.to_bytes() for p in parsed], t)
    return [
        CoordinatorInvestigationMsg(
            tuple(p.enc_shares[i] for p in parsed),
            simplpedpop.CoordinatorInvestigationMsg.from_bytes(simpl_cinvs[i], n).partial_pubshares,
        ).to_bytes()
        for i in range(n)
    ]

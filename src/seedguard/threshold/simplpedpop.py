"""SimplPedPop, the core of ChillDKG (bip-frost-dkg `simplpedpop.py`): Pedersen DKG with
proofs of possession, over an untrusted coordinator, without secure channels or an equality
check (EncPedPop and ChillDKG add those)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from seedguard.primitives import schnorr
from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    Point,
    cbytes,
    cbytes_ext,
    point_add,
    point_from_cbytes_ext,
    point_negate,
    scalar_bytes,
    xbytes,
)
from seedguard.threshold.dkg_errors import (
    DkgValueError,
    FaultyCoordinatorError,
    FaultyParticipantError,
    FaultyParticipantOrCoordinatorError,
    MsgParseError,
    UnknownFaultyParticipantOrCoordinatorError,
)
from seedguard.threshold.vss import BIP_TAG, VSS, VSSCommitment, verify_secshare

POP_MSG_TAG = BIP_TAG + "pop message"


class SecshareSumError(ValueError):
    pass


def pop_prove(seckey: bytes, participant_id: int, aux_rand: bytes) -> bytes:
    return schnorr.sign(participant_id.to_bytes(4, "big"), seckey, aux_rand, POP_MSG_TAG)


def pop_verify(pop: bytes, pubkey: bytes, participant_id: int) -> bool:
    return schnorr.verify(participant_id.to_bytes(4, "big"), pubkey, pop, POP_MSG_TAG)


# --- Messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantMsg:
    com: VSSCommitment
    pop: bytes

    @staticmethod
    def len_bytes(t: int) -> int:
        return 33 * t + 64

    @staticmethod
    def from_bytes(data: bytes, t: int) -> ParticipantMsg:
        if len(data) != ParticipantMsg.len_bytes(t):
            raise DkgValueError("SimplPedPop participant message of the wrong length")
        try:
            com = VSSCommitment.from_bytes(data[: 33 * t], t)
        except ValueError as e:
            raise MsgParseError("invalid VSS commitment") from e
        return ParticipantMsg(com, data[33 * t :])

    def to_bytes(self) -> bytes:
        return self.com.to_bytes() + self.pop


@dataclass(frozen=True)
class CoordinatorMsg:
    coms_to_secrets: tuple[Point, ...]
    sum_coms_to_nonconst_terms: tuple[Point, ...]
    pops: tuple[bytes, ...]

    @staticmethod
    def len_bytes(t: int, n: int) -> int:
        return 97 * n + 33 * (t - 1)

    @staticmethod
    def from_bytes(data: bytes, t: int, n: int) -> CoordinatorMsg:
        if len(data) != CoordinatorMsg.len_bytes(t, n):
            raise DkgValueError("SimplPedPop coordinator message of the wrong length")
        try:
            coms = tuple(point_from_cbytes_ext(data[i : i + 33]) for i in range(0, 33 * n, 33))
        except ValueError as e:
            raise MsgParseError("invalid commitment to secret") from e
        rest = data[33 * n :]
        try:
            sums = tuple(
                point_from_cbytes_ext(rest[i : i + 33]) for i in range(0, 33 * (t - 1), 33)
            )
        except ValueError as e:
            raise MsgParseError("invalid sum commitment to non-constant term") from e
        rest = rest[33 * (t - 1) :]
        pops = tuple(rest[i : i + 64] for i in range(0, 64 * n, 64))
        return CoordinatorMsg(coms, sums, pops)

    def to_bytes(self) -> bytes:
        points = self.coms_to_secrets + self.sum_coms_to_nonconst_terms
        return b"".join(cbytes_ext(p) for p in points) + b"".join(self.pops)


@dataclass(frozen=True)
class CoordinatorInvestigationMsg:
    partial_pubshares: tuple[Point, ...]

    @staticmethod
    def from_bytes(data: bytes, n: int) -> CoordinatorInvestigationMsg:
        if len(data) != 33 * n:
            raise DkgValueError("investigation message of the wrong length")
        try:
            return CoordinatorInvestigationMsg(
                tuple(point_from_cbytes_ext(data[i : i + 33]) for i in range(0, 33 * n, 33))
            )
        except ValueError as e:
            raise MsgParseError("invalid partial pubshare") from e

    def to_bytes(self) -> bytes:
        return b"".join(cbytes_ext(p) for p in self.partial_pubshares)


@dataclass(frozen=True)
class DKGOutput:
    """A participant's secret share (None for the coordinator), the threshold public key and
    every participant's public share (33-byte compressed points)."""

    secshare: bytes | None
    thresh_pk: bytes
    pubshares: tuple[bytes, ...]


def assemble_sum_coms(
    coms_to_secrets: Sequence[Point], sum_coms_to_nonconst_terms: Sequence[Point]
) -> VSSCommitment:
    return VSSCommitment((point_add(*coms_to_secrets), *sum_coms_to_nonconst_terms))


# --- Participant -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantState:
    t: int
    n: int
    participant_id: int
    com_to_secret: Point


@dataclass(frozen=True)
class ParticipantInvestigationData:
    n: int
    participant_id: int
    secshare: int
    pubshare: Point


def participant_step1(
    seed: bytes, t: int, n: int, participant_id: int, aux_rand: bytes
) -> tuple[ParticipantState, bytes, list[int]]:
    if t > n:
        raise DkgValueError("threshold above the number of participants")
    if participant_id >= n:
        raise IndexError("participant id out of range")
    if len(seed) != 32 or len(aux_rand) != 32:
        raise DkgValueError("seed and aux_rand must be 32 bytes")
    vss = VSS.generate(seed, t)
    partial_secshares = vss.secshares(n)
    pop = pop_prove(scalar_bytes(vss.secret()), participant_id, aux_rand)
    com = vss.commit()
    msg = ParticipantMsg(com, pop).to_bytes()
    return (
        ParticipantState(t, n, participant_id, com.commitment_to_secret()),
        msg,
        partial_secshares,
    )


def participant_step2(
    state: ParticipantState, cmsg: bytes, secshare: int
) -> tuple[DKGOutput, bytes]:
    t, n, participant_id = state.t, state.n, state.participant_id
    try:
        parsed = CoordinatorMsg.from_bytes(cmsg, t, n)
    except MsgParseError as e:
        raise FaultyCoordinatorError(str(e)) from e
    if not _same(parsed.coms_to_secrets[participant_id], state.com_to_secret):
        raise FaultyCoordinatorError(
            "Coordinator sent unexpected first group element for local participant id"
        )
    for i in range(n):
        if i == participant_id:
            continue
        com = parsed.coms_to_secrets[i]
        if com is None:
            raise FaultyParticipantOrCoordinatorError(i, "Participant sent invalid commitment")
        if not pop_verify(parsed.pops[i], xbytes(com), i):
            raise FaultyParticipantOrCoordinatorError(
                i, "Participant sent invalid proof-of-knowledge"
            )
    sum_coms = assemble_sum_coms(parsed.coms_to_secrets, parsed.sum_coms_to_nonconst_terms)
    sum_coms_tweaked, tweak, pubtweak = sum_coms.invalid_taproot_commit()
    pubshare_tweaked = sum_coms_tweaked.pubshare(participant_id)
    secshare_tweaked = (secshare + tweak) % CURVE_ORDER
    if not verify_secshare(secshare_tweaked, pubshare_tweaked):
        pubshare = point_add(pubshare_tweaked, point_negate(pubtweak))
        raise UnknownFaultyParticipantOrCoordinatorError(
            ParticipantInvestigationData(n, participant_id, secshare, pubshare),
            "Received invalid secshare; consider using participant_investigate() to determine "
            "a faulty party",
        )
    return dkg_output(sum_coms, n, scalar_bytes(secshare_tweaked)), _eq_input(t, sum_coms)


def participant_investigate(
    error: UnknownFaultyParticipantOrCoordinatorError, cinv: bytes, partial_secshares: list[int]
) -> NoReturn:
    data: ParticipantInvestigationData = error.inv_data
    if len(partial_secshares) != data.n:
        raise DkgValueError("one partial secret share per participant")
    try:
        parsed = CoordinatorInvestigationMsg.from_bytes(cinv, data.n)
    except MsgParseError as e:
        raise FaultyCoordinatorError(str(e)) from e
    if not _same(point_add(*parsed.partial_pubshares), data.pubshare):
        raise FaultyCoordinatorError("Sum of partial pubshares not equal to pubshare")
    if sum(partial_secshares) % CURVE_ORDER != data.secshare:
        raise SecshareSumError("Sum of partial secshares not equal to secshare")
    for i in range(data.n):
        if not verify_secshare(partial_secshares[i], parsed.partial_pubshares[i]):
            if i != data.participant_id:
                raise FaultyParticipantOrCoordinatorError(
                    i, "Participant sent invalid partial secshare"
                )
            raise FaultyCoordinatorError("Coordinator fiddled with the share from me to myself")
    raise RuntimeError("participant_investigate() was called, but all inputs are consistent.")


# --- Coordinator -------------------------------------------------------------------------------


def coordinator_step(pmsgs: Sequence[bytes], t: int, n: int) -> tuple[bytes, DKGOutput, bytes]:
    if len(pmsgs) != n:
        raise DkgValueError("one message per participant")
    parsed: list[ParticipantMsg] = []
    for i, pmsg in enumerate(pmsgs):
        try:
            parsed.append(ParticipantMsg.from_bytes(pmsg, t))
        except MsgParseError as e:
            raise FaultyParticipantError(i, str(e)) from e
    coms_to_secrets = tuple(p.com.commitment_to_secret() for p in parsed)
    sum_coms_to_nonconst_terms = tuple(
        point_add(*(p.com.commitment_to_nonconst_terms()[j] for p in parsed)) for j in range(t - 1)
    )
    cmsg = CoordinatorMsg(
        coms_to_secrets, sum_coms_to_nonconst_terms, tuple(p.pop for p in parsed)
    ).to_bytes()
    sum_coms = assemble_sum_coms(coms_to_secrets, sum_coms_to_nonconst_terms)
    return cmsg, dkg_output(sum_coms, n, None), _eq_input(t, sum_coms)


def coordinator_investigate(pmsgs: Sequence[bytes], t: int) -> list[bytes]:
    n = len(pmsgs)
    parsed = [ParticipantMsg.from_bytes(pmsg, t) for pmsg in pmsgs]
    return [
        CoordinatorInvestigationMsg(tuple(p.com.pubshare(i) for p in parsed)).to_bytes()
        for i in range(n)
    ]


def dkg_output(sum_coms: VSSCommitment, n: int, secshare: bytes | None) -> DKGOutput:
    """The outputs every party derives from the summed commitment (tweaked, as ChillDKG
    commits the threshold key to an unspendable script path)."""
    tweaked, _, _ = sum_coms.invalid_taproot_commit()
    thresh_pk = tweaked.commitment_to_secret()
    assert thresh_pk is not None
    pubshares = (tweaked.pubshare(i) for i in range(n))
    return DKGOutput(secshare, cbytes(thresh_pk), tuple(cbytes_ext(p) for p in pubshares))


def _eq_input(t: int, sum_coms: VSSCommitment) -> bytes:
    return t.to_bytes(4, "big") + sum_coms.to_bytes()


def _same(a: Point, b: Point) -> bool:
    if a is None or b is None:
        return a is b
    return cbytes(a) == cbytes(b)

"""BIP-445: the FROST signing protocol for BIP-340 signatures.

Read beside bitcoin/bips `bip-0445.md`: the functions carry the specification's names
(`nonce_gen`, `nonce_agg`, `get_session_values`, `sign`, `partial_sig_verify`,
`partial_sig_agg`, `deterministic_sign`, `apply_tweak`, ...) and its variable names. Participant
identifiers are 0-based, as in the BIP. Scalars are ints mod n; points are libsecp256k1 keys
(`None` is the point at infinity).

Two things go beyond the pseudo-code, as the BIP allows:
- A secret nonce is a `SecNonce` object that can be read once; `sign` takes it and a second
  `sign` with it fails, so a nonce can never sign twice by accident.
- Session values are cached per (immutable) session context, so the coordinator that verifies
  every partial signature does not recompute them.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from seedguard.errors import InputError
from seedguard.primitives.hashes import tagged_hash, xor_bytes
from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    GE,
    Point,
    base_mul,
    cbytes,
    cbytes_ext,
    has_even_y,
    point_add,
    point_from_cbytes,
    point_from_cbytes_ext,
    point_mul,
    point_negate,
    scalar_bytes,
    xbytes,
)

n = CURVE_ORDER


class FrostError(InputError, ValueError):
    """A FROST input is invalid; the message is the specification's own sentence."""


class InvalidContributionError(InputError):
    """A participant (by its position in the input list) or the coordinator (`signer_index`
    None) sent a contribution that is invalid: identifiable abort."""

    def __init__(self, signer_index: int | None, contrib: str) -> None:
        who = "the coordinator" if signer_index is None else f"signer at position {signer_index}"
        super().__init__(f"FROST signing aborted: {who} sent an invalid {contrib}.")
        self.signer_index = signer_index
        self.contrib = contrib


class NonceReuseError(InputError):
    """A secret nonce was offered to `sign` a second time."""


# --- Key material ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignersContext:
    """The public data of the signing participants (BIP-445 "Signers Context")."""

    n: int
    t: int
    ids: tuple[int, ...]
    pubshares: tuple[bytes, ...]
    thresh_pk: bytes

    @property
    def u(self) -> int:
        return len(self.ids)


def validate_signers_ctx(signers_ctx: SignersContext) -> None:
    _validate_signers_ctx(signers_ctx)


@functools.lru_cache(maxsize=256)
def _validate_signers_ctx(ctx: SignersContext) -> None:
    if not 1 <= ctx.t <= ctx.n:
        raise FrostError("The threshold must be between 1 and n.")
    if not ctx.t <= ctx.u <= ctx.n:
        raise FrostError("The number of signers must be between t and n.")
    if len(ctx.pubshares) != ctx.u:
        raise FrostError("The pubshares and ids arrays must have the same length.")
    points = []
    for i in range(ctx.u):
        if not 0 <= ctx.ids[i] <= ctx.n - 1:
            raise FrostError(f"The participant identifier at index {i} is out of range.")
        try:
            points.append(point_from_cbytes(ctx.pubshares[i]))
        except ValueError:
            raise FrostError(f"Invalid pubshare at index {i}.") from None
    if len(set(ctx.ids)) != ctx.u:
        raise FrostError("The participant identifier list contains duplicate elements.")
    if derive_thresh_pubkey(ctx.ids, points) != ctx.thresh_pk:
        raise FrostError("The provided key material is incorrect.")


def derive_thresh_pubkey(ids: Sequence[int], points: Sequence[Point]) -> bytes:
    Q = point_add(
        *(
            point_mul(P, derive_interpolating_value(ids, my_id))
            for my_id, P in zip(ids, points, strict=False)
        )
    )
    if Q is None:
        raise FrostError("The provided key material is incorrect.")
    return cbytes(Q)


def derive_interpolating_value(ids: Sequence[int], my_id: int) -> int:
    """λ for `my_id` over the signer set `ids` (identifiers shifted by one, as in the BIP)."""
    if my_id not in ids:
        raise FrostError("The signer's id must be present in the participant identifier list.")
    if len(set(ids)) != len(ids):
        raise FrostError("The participant identifier list contains duplicate elements.")
    num, deno = 1, 1
    for id_i in ids:
        if id_i != my_id:
            num = num * (id_i + 1) % n
            deno = deno * (id_i - my_id) % n
    return num * pow(deno, -1, n) % n


# --- Tweaking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TweakContext:
    Q: GE
    gacc: int
    tacc: int


def tweak_ctx_init(thresh_pk: bytes) -> TweakContext:
    try:
        Q = point_from_cbytes(thresh_pk)
    except ValueError:
        raise FrostError("The threshold public key is invalid.") from None
    return TweakContext(Q, 1, 0)


def get_xonly_pubkey(tweak_ctx: TweakContext) -> bytes:
    return xbytes(tweak_ctx.Q)


def get_plain_pubkey(tweak_ctx: TweakContext) -> bytes:
    return cbytes(tweak_ctx.Q)


def apply_tweak(tweak_ctx: TweakContext, tweak: bytes, is_xonly_t: bool) -> TweakContext:
    if len(tweak) != 32:
        raise FrostError("The tweak must be a 32-byte array.")
    Q, gacc, tacc = tweak_ctx.Q, tweak_ctx.gacc, tweak_ctx.tacc
    g = n - 1 if is_xonly_t and not has_even_y(Q) else 1
    t = int.from_bytes(tweak, "big")
    if t >= n:
        raise FrostError("The tweak value is out of range.")
    Q_ = point_add(point_mul(Q, g), base_mul(t))
    if Q_ is None:
        raise FrostError("The result of tweaking cannot be infinity.")
    return TweakContext(Q_, g * gacc % n, (t + g * tacc) % n)


@functools.lru_cache(maxsize=256)
def _tweak_chain(
    thresh_pk: bytes, tweaks: tuple[bytes, ...], is_xonly: tuple[bool, ...]
) -> TweakContext:
    """The tweak context of a key and its tweaks, cached: a wallet signs under the same key
    and tweaks every time (two multiplications saved per session)."""
    if len(tweaks) != len(is_xonly):
        raise FrostError("The tweaks and is_xonly arrays must have the same length.")
    ctx = tweak_ctx_init(thresh_pk)
    for tweak, xonly in zip(tweaks, is_xonly, strict=False):
        ctx = apply_tweak(ctx, tweak, xonly)
    return ctx


# --- Nonces ------------------------------------------------------------------------------------


class SecNonce:
    """A secret nonce (k1, k2): readable once. `sign` consumes it; a second use fails."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if len(value) != 64:
            raise FrostError("The secret nonce must be a 64-byte array.")
        self._value: bytes | None = value

    @property
    def used(self) -> bool:
        return self._value is None

    def take(self) -> bytes:
        value = self._value
        if value is None:
            raise NonceReuseError(
                "This FROST nonce has already signed once; a second signature with it would "
                "reveal the secret share. Start a new signing session."
            )
        self._value = None
        return value

    def __repr__(self) -> str:
        return f"SecNonce(used={self.used})"


def nonce_gen_internal(
    rand_: bytes,
    secshare: bytes | None,
    pubshare: bytes | None,
    thresh_pk: bytes | None,
    m: bytes | None,
    extra_in: bytes | None,
) -> tuple[bytes, bytes]:
    """NonceGen with the random draw `rand_` given: (secnonce bytes, pubnonce)."""
    rand = xor_bytes(secshare, tagged_hash("BIP0445/aux", rand_)) if secshare is not None else rand_
    pubshare = pubshare or b""
    thresh_pk = thresh_pk or b""
    m_prefixed = b"\x00" if m is None else b"\x01" + len(m).to_bytes(8, "big") + m
    extra_in = extra_in or b""
    prefix = (
        rand
        + bytes([len(pubshare)])
        + pubshare
        + bytes([len(thresh_pk)])
        + thresh_pk
        + m_prefixed
        + len(extra_in).to_bytes(4, "big")
        + extra_in
    )
    k1, k2 = (
        int.from_bytes(tagged_hash("BIP0445/nonce", prefix + bytes([i])), "big") % n for i in (0, 1)
    )
    if k1 == 0 or k2 == 0:
        raise RuntimeError("FROST nonce is zero (negligible probability)")
    R1, R2 = base_mul(k1), base_mul(k2)
    assert R1 is not None
    assert R2 is not None
    return scalar_bytes(k1) + scalar_bytes(k2), cbytes(R1) + cbytes(R2)


def nonce_gen(
    secshare: bytes | None = None,
    pubshare: bytes | None = None,
    thresh_pk: bytes | None = None,
    m: bytes | None = None,
    extra_in: bytes | None = None,
) -> tuple[SecNonce, bytes]:
    """NonceGen: a fresh one-use secret nonce and its 66-byte public nonce."""
    secnonce, pubnonce = nonce_gen_internal(
        secrets.token_bytes(32), secshare, pubshare, thresh_pk, m, extra_in
    )
    return SecNonce(secnonce), pubnonce


def nonce_agg(pubnonces: Sequence[bytes]) -> bytes:
    """NonceAgg: the aggregate nonce; a malformed public nonce names its sender's position."""
    sums: list[Point] = []
    for j in (0, 1):
        points: list[Point] = []
        for i, pubnonce in enumerate(pubnonces):
            try:
                if len(pubnonce) != 66:
                    raise ValueError
                points.append(point_from_cbytes(pubnonce[33 * j : 33 * (j + 1)]))
            except ValueError:
                raise InvalidContributionError(i, "pubnonce") from None
        sums.append(point_add(*points))
    return cbytes_ext(sums[0]) + cbytes_ext(sums[1])


# --- Sessions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionContext:
    signers_ctx: SignersContext
    aggnonce: bytes
    tweaks: tuple[bytes, ...]
    is_xonly: tuple[bool, ...]
    m: bytes


@dataclass(frozen=True)
class SessionValues:
    Q: GE
    gacc: int
    tacc: int
    ids: tuple[int, ...]
    pubshares: tuple[bytes, ...]
    b: int
    R: GE
    e: int


def serialize_ids(ids: Sequence[int]) -> bytes:
    return b"".join(i.to_bytes(4, "big") for i in sorted(ids))


def get_session_values(session_ctx: SessionContext) -> SessionValues:
    return _session_values(session_ctx)


@functools.lru_cache(maxsize=256)
def _session_values(ctx: SessionContext) -> SessionValues:
    signers = ctx.signers_ctx
    validate_signers_ctx(signers)
    tweak_ctx = _tweak_chain(signers.thresh_pk, ctx.tweaks, ctx.is_xonly)
    Q = tweak_ctx.Q
    b = (
        int.from_bytes(
            tagged_hash(
                "BIP0445/noncecoef", serialize_ids(signers.ids) + ctx.aggnonce + xbytes(Q) + ctx.m
            ),
            "big",
        )
        % n
    )
    if b == 0:
        raise RuntimeError("FROST nonce coefficient is zero (negligible probability)")
    try:
        if len(ctx.aggnonce) != 66:
            raise ValueError
        R1 = point_from_cbytes_ext(ctx.aggnonce[:33])
        R2 = point_from_cbytes_ext(ctx.aggnonce[33:])
    except ValueError:
        raise InvalidContributionError(None, "aggnonce") from None
    R_ = point_add(R1, point_mul(R2, b))
    R = R_ if R_ is not None else base_mul(1)
    assert R is not None
    e = int.from_bytes(tagged_hash("BIP0340/challenge", xbytes(R) + xbytes(Q) + ctx.m), "big") % n
    if e == 0:
        raise RuntimeError("FROST challenge is zero (negligible probability)")
    return SessionValues(Q, tweak_ctx.gacc, tweak_ctx.tacc, signers.ids, signers.pubshares, b, R, e)


def sign(
    secnonce: SecNonce,
    secshare: bytes,
    my_id: int,
    session_ctx: SessionContext,
    verify: bool = True,
) -> bytes:
    """Sign: this participant's 32-byte partial signature. Consumes `secnonce`.

    `verify=False` skips the self-check the BIP marks optional, for a signer whose partial
    signature the same process aggregates and checks (keys.aggregate verifies the final
    signature, and every partial signature when that fails)."""
    secnonce_bytes = secnonce.take()
    v = get_session_values(session_ctx)
    k1_ = int.from_bytes(secnonce_bytes[:32], "big")
    if not 0 < k1_ < n:
        raise FrostError("first secnonce value is out of range.")
    k2_ = int.from_bytes(secnonce_bytes[32:], "big")
    if not 0 < k2_ < n:
        raise FrostError("second secnonce value is out of range.")
    k1, k2 = (k1_, k2_) if has_even_y(v.R) else (n - k1_, n - k2_)
    d_ = int.from_bytes(secshare, "big")
    if len(secshare) != 32 or not 0 < d_ < n:
        raise FrostError("The signer's secret share value is out of range.")
    P = base_mul(d_)
    assert P is not None
    pubshare = cbytes(P)
    if pubshare not in v.pubshares:
        raise FrostError("The signer's pubshare must be included in the list of pubshares.")
    if my_id not in v.ids:
        raise FrostError("The signer's id must be present in the participant identifier list.")
    lam = derive_interpolating_value(v.ids, my_id)
    g = 1 if has_even_y(v.Q) else n - 1
    d = g * v.gacc * d_ % n
    s = (k1 + v.b * k2 + v.e * lam * d) % n
    psig = scalar_bytes(s)
    if not verify:
        return psig
    R1, R2 = base_mul(k1_), base_mul(k2_)
    assert R1 is not None
    assert R2 is not None
    pubnonce = cbytes(R1) + cbytes(R2)
    if not partial_sig_verify_internal(psig, my_id, pubnonce, pubshare, session_ctx):
        raise RuntimeError("a FROST partial signature failed its own verification")
    return psig


def partial_sig_verify(
    psig: bytes,
    pubnonces: Sequence[bytes],
    signers_ctx: SignersContext,
    tweaks: Sequence[bytes],
    is_xonly: Sequence[bool],
    m: bytes,
    i: int,
) -> bool:
    """PartialSigVerify: whether signer at position `i` sent a valid partial signature."""
    validate_signers_ctx(signers_ctx)
    aggnonce = nonce_agg(pubnonces)
    session_ctx = SessionContext(signers_ctx, aggnonce, tuple(tweaks), tuple(is_xonly), m)
    return partial_sig_verify_internal(
        psig, signers_ctx.ids[i], pubnonces[i], signers_ctx.pubshares[i], session_ctx
    )


def partial_sig_verify_internal(
    psig: bytes, my_id: int, pubnonce: bytes, pubshare: bytes, session_ctx: SessionContext
) -> bool:
    v = get_session_values(session_ctx)
    s = int.from_bytes(psig, "big")
    if len(psig) != 32 or s >= n:
        return False
    if pubshare not in v.pubshares or my_id not in v.ids:
        return False
    try:
        R_1 = point_from_cbytes(pubnonce[:33])
        R_2 = point_from_cbytes(pubnonce[33:66])
        P = point_from_cbytes(pubshare)
    except ValueError:
        return False
    Re_ = point_add(R_1, point_mul(R_2, v.b))
    Re = Re_ if has_even_y(v.R) else point_negate(Re_)
    lam = derive_interpolating_value(v.ids, my_id)
    g = 1 if has_even_y(v.Q) else n - 1
    g_ = g * v.gacc % n
    # s·G = Re + e·λ·g'·P, checked as s·G - e·λ·g'·P == Re (one multiplication fewer)
    lhs = point_add(base_mul(s), point_negate(point_mul(P, v.e * lam * g_)))
    return _same(lhs, Re)


def partial_sig_agg(psigs: Sequence[bytes], session_ctx: SessionContext) -> bytes:
    """PartialSigAgg: the 64-byte BIP-340 signature from every signer's partial signature."""
    v = get_session_values(session_ctx)
    if len(psigs) != len(v.ids):
        raise FrostError("The psigs and ids arrays must have the same length.")
    total = 0
    for i, psig in enumerate(psigs):
        s_i = int.from_bytes(psig, "big")
        if len(psig) != 32 or s_i >= n:
            raise InvalidContributionError(i, "psig")
        total += s_i
    g = 1 if has_even_y(v.Q) else n - 1
    s = (total + v.e * g * v.tacc) % n
    return xbytes(v.R) + scalar_bytes(s)


def deterministic_sign(
    secshare: bytes,
    my_id: int,
    aggothernonce: bytes | None,
    signers_ctx: SignersContext,
    tweaks: Sequence[bytes],
    is_xonly: Sequence[bool],
    m: bytes,
    rand: bytes | None,
) -> tuple[bytes, bytes]:
    """DeterministicSign (stateless last signer): (pubnonce, psig)."""
    validate_signers_ctx(signers_ctx)
    if rand is not None:
        secshare_ = xor_bytes(secshare, tagged_hash("BIP0445/aux", rand))
    else:
        secshare_ = secshare
    aggothernonce_ = aggothernonce or b""
    tweaked_tpk = get_xonly_pubkey(
        _tweak_chain(signers_ctx.thresh_pk, tuple(tweaks), tuple(is_xonly))
    )
    prefix = (
        secshare_
        + my_id.to_bytes(4, "big")
        + signers_ctx.u.to_bytes(4, "big")
        + serialize_ids(signers_ctx.ids)
        + aggothernonce_
        + tweaked_tpk
        + len(m).to_bytes(8, "big")
        + m
    )
    k1, k2 = (
        int.from_bytes(tagged_hash("BIP0445/deterministic/nonce", prefix + bytes([i])), "big") % n
        for i in (0, 1)
    )
    if k1 == 0 or k2 == 0:
        raise RuntimeError("FROST nonce is zero (negligible probability)")
    R1, R2 = base_mul(k1), base_mul(k2)
    assert R1 is not None
    assert R2 is not None
    pubnonce = cbytes(R1) + cbytes(R2)
    if aggothernonce is not None:
        try:
            aggnonce = nonce_agg((pubnonce, aggothernonce))
        except InvalidContributionError:
            raise InvalidContributionError(None, "aggothernonce") from None
    else:
        aggnonce = pubnonce
    session_ctx = SessionContext(signers_ctx, aggnonce, tuple(tweaks), tuple(is_xonly), m)
    secnonce = SecNonce(scalar_bytes(k1) + scalar_bytes(k2))
    return pubnonce, sign(secnonce, secshare, my_id, session_ctx)


def _same(a: Point, b: Point) -> bool:
    if a is None or b is None:
        return a is b
    return cbytes(a) == cbytes(b)

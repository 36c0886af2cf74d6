"""The server's side of a 2-of-3 FROST wallet: participant 1 of ChillDKG, co-signer, helper in
a share repair, and dealer in a proactive refresh.

Its secret share, DKG state and signing nonces are stored sealed (XChaCha20-Poly1305) under the
operator's share key, bound to the wallet and epoch. A signing nonce is a row deleted by the
same transaction that signs with it (`DELETE ... RETURNING`): two requests naming one nonce,
to any number of processes, get one signature and one refusal.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.errors import InputError
from seedguard.mpc import psbt
from seedguard.primitives import aead
from seedguard.primitives.secp256k1 import base_mul, scalar_bytes
from seedguard.server import db, guard, hardening, policy, quotas, social
from seedguard.server.accounts import Session
from seedguard.server.refusals import Refused, not_found
from seedguard.server.settings import Settings
from seedguard.server.social import Event
from seedguard.threshold import chilldkg, derivation, frost, refresh, repairable
from seedguard.threshold import proofs as share_proofs
from seedguard.threshold.dkg_errors import DkgError
from seedguard.threshold.keys import CLOUD, DEVICE, NAMES, SERVER, GroupKey, T

MAX_OPEN_NONCES = 64  # unused nonces one wallet keeps (the oldest give way)
NONCE_TTL = 3600.0  # seconds an unused nonce lives


# --- Sealing -----------------------------------------------------------------------------------


def _aad(what: str, wallet_id: str, epoch: int) -> bytes:
    return f"seedguard mpc {what} {wallet_id} {epoch}".encode()


def _key(settings: Settings) -> bytes:
    if settings.share_key is None:
        raise Refused(503, "This server has no share key configured: MPC wallets are off.")
    return settings.share_key


def seal(settings: Settings, data: bytes, aad: bytes) -> bytes:
    nonce = aead.random_nonce()
    return nonce + aead.seal(_key(settings), nonce, data, aad)


def unseal(settings: Settings, sealed: bytes, aad: bytes) -> bytes:
    try:
        return aead.open_(
            _key(settings), sealed[: aead.NONCE_BYTES], sealed[aead.NONCE_BYTES :], aad
        )
    except aead.AuthenticationFailed:
        raise Refused(
            500, "A stored MPC secret does not open under this server's share key."
        ) from None


# --- Wallet rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wallet:
    id: str
    status: str
    epoch: int
    key: GroupKey | None
    share: bytes | None
    pending: tuple[GroupKey, bytes] | None


def _split(data: bytes) -> tuple[bytes, ...]:
    return tuple(data[i : i + 33] for i in range(0, len(data), 33))


_W = db.mpc_wallets
# Built once (the signing hot path runs it through db.first_row).
_LOAD = sa.select(
    _W.c.status,
    _W.c.epoch,
    _W.c.thresh_pk,
    _W.c.pubshares,
    _W.c.share,
    _W.c.pending_pubshares,
    _W.c.pending_share,
).where(_W.c.id == sa.bindparam("wallet_id"), _W.c.account_id == sa.bindparam("account_id"))


def load(conn: Connection, settings: Settings, session: Session, wallet_id: str) -> Wallet:
    row = db.first_row(conn, _LOAD, wallet_id=wallet_id, account_id=session.account_id)
    if row is None:
        raise not_found("The MPC wallet")
    status, epoch, thresh_pk, pubshares, sealed, pending_pubshares, pending_sealed = row
    key = share = pending = None
    if status == "active":
        key = _group_key(bytes(thresh_pk), bytes(pubshares))
        share = unseal(settings, bytes(sealed), _aad("share", wallet_id, epoch))
        if pending_sealed is not None:
            pending = (
                _group_key(key.thresh_pk, bytes(pending_pubshares)),
                unseal(settings, bytes(pending_sealed), _aad("share", wallet_id, epoch + 1)),
            )
    return Wallet(wallet_id, status, epoch, key, share, pending)


@functools.lru_cache(maxsize=1024)
def _group_key(thresh_pk: bytes, pubshares: bytes) -> GroupKey:
    # The same key object for the same bytes: the signing caches (keyed on it) stay warm.
    return GroupKey(thresh_pk, _split(pubshares))


def _active(wallet: Wallet) -> tuple[GroupKey, bytes]:
    if wallet.key is None or wallet.share is None:
        raise Refused(409, "This MPC wallet's key generation has not finished.")
    return wallet.key, wallet.share


def describe(wallet: Wallet) -> dict[str, object]:
    return {
        "wallet_id": wallet.id,
        "status": wallet.status,
        "epoch": wallet.epoch,
        "thresh_pk": None if wallet.key is None else wallet.key.thresh_pk,
        "pubshares": None if wallet.key is None else list(wallet.key.pubshares),
        "refresh_pending": wallet.pending is not None,
        "pending_pubshares": None if wallet.pending is None else list(wallet.pending[0].pubshares),
    }


def list_wallets(conn: Connection, session: Session) -> list[dict[str, object]]:
    w = db.mpc_wallets
    rows = conn.execute(
        sa.select(w.c.id, w.c.status, w.c.epoch, w.c.thresh_pk, w.c.created)
        .where(w.c.account_id == session.account_id)
        .order_by(w.c.created)
    ).all()
    return [
        {
            "wallet_id": r.id,
            "status": r.status,
            "epoch": r.epoch,
            "thresh_pk": None if r.thresh_pk is None else bytes(r.thresh_pk),
        }
        for r in rows
    ]


# --- Key generation (ChillDKG, participant 1) ---------------------------------------------------


def create(
    conn: Connection, settings: Settings, session: Session, raw_signing: bool = False
) -> tuple[str, bytes]:
    """A new wallet in key generation; returns (wallet id, the server's host public key).
    `raw_signing`: the owner's initial policy lets the server co-sign raw hashes (off unless
    asked for at creation; turning it on later waits for the delay).
    This account's key generations left unfinished for `limits.dkg_seconds` are removed
    first; then the wallet count is within `limits.wallets`."""
    w = db.mpc_wallets
    stale = settings.clock() - settings.limits.dkg_seconds
    conn.execute(
        sa.delete(w).where(
            w.c.account_id == session.account_id, w.c.status == "dkg", w.c.created < stale
        )
    )
    quotas.enforce(
        conn,
        quotas.count(w, w.c.account_id == session.account_id),
        settings.limits.wallets,
        "This account holds as many MPC wallets as it may",
        "wallets",
    )
    wallet_id = secrets.token_hex(16)
    hostseckey = secrets.token_bytes(32)
    state = hostseckey + secrets.token_bytes(32) + secrets.token_bytes(32)  # key, random, aux
    conn.execute(
        sa.insert(db.mpc_wallets).values(
            id=wallet_id,
            account_id=session.account_id,
            status="dkg",
            epoch=0,
            dkg_state=seal(settings, state, _aad("dkg", wallet_id, 0)),
            created=settings.clock(),
            raw_signing=raw_signing,
        )
    )
    return wallet_id, chilldkg.hostpubkey_gen(hostseckey)


def _dkg_row(conn: Connection, settings: Settings, session: Session, wallet_id: str) -> sa.Row[Any]:
    w = db.mpc_wallets
    row = conn.execute(
        sa.select(w).where(w.c.id == wallet_id, w.c.account_id == session.account_id)
    ).first()
    if row is None:
        raise not_found("The MPC wallet")
    if row.status != "dkg" or row.dkg_state is None:
        raise Refused(409, "This MPC wallet's key generation is already finished.")
    if float(row.created) < settings.clock() - settings.limits.dkg_seconds:
        raise Refused(410, "This key generation was left unfinished too long: start a new one.")
    return row


def _state(settings: Settings, row: sa.Row[Any]) -> tuple[bytes, bytes, bytes]:
    state = unseal(settings, bytes(row.dkg_state), _aad("dkg", row.id, 0))
    return state[:32], state[32:64], state[64:96]


def _params(hostpubkeys: bytes) -> chilldkg.SessionParams:
    return chilldkg.SessionParams(_split(hostpubkeys), T)


def _dkg_refusal(exc: DkgError) -> Refused:
    return Refused(400, f"Key generation aborted: {exc.message}")


def dkg_round1(
    conn: Connection, settings: Settings, session: Session, wallet_id: str, hostpubkeys: list[bytes]
) -> bytes:
    """Participant step 1 with the session's host keys (device, server, cloud); the server's
    must be its own at position 1. Returns the server's first message."""
    row = _dkg_row(conn, settings, session, wallet_id)
    hostseckey, random, _ = _state(settings, row)
    if len(hostpubkeys) != 3 or hostpubkeys[SERVER] != chilldkg.hostpubkey_gen(hostseckey):
        raise Refused(400, "hostpubkeys must list three host keys with this server's second.")
    joined = b"".join(hostpubkeys)
    try:
        _, pmsg1 = chilldkg.participant_step1(hostseckey, _params(joined), random)
    except DkgError as exc:
        raise _dkg_refusal(exc) from None
    conn.execute(
        sa.update(db.mpc_wallets)
        .where(db.mpc_wallets.c.id == wallet_id)
        .values(dkg_hostpubkeys=joined)
    )
    return pmsg1


def _replay(
    settings: Settings, row: sa.Row[Any]
) -> tuple[bytes, bytes, chilldkg.ParticipantState1]:
    """(host secret key, aux randomness, participant state 1)."""
    if row.dkg_hostpubkeys is None:
        raise Refused(409, "Run the first key-generation round first.")
    hostseckey, random, aux = _state(settings, row)
    # participant_step1 is deterministic in (host key, params, random): the state is rebuilt
    # rather than stored.
    state1, _ = chilldkg.participant_step1(hostseckey, _params(bytes(row.dkg_hostpubkeys)), random)
    return hostseckey, aux, state1


def dkg_round2(
    conn: Connection, settings: Settings, session: Session, wallet_id: str, cmsg1: bytes
) -> bytes:
    """Participant step 2 on the coordinator's first message: the server's CertEq signature."""
    row = _dkg_row(conn, settings, session, wallet_id)
    hostseckey, aux, state1 = _replay(settings, row)
    try:
        _, pmsg2 = chilldkg.participant_step2(hostseckey, state1, cmsg1, aux)
    except (DkgError, ValueError) as exc:
        raise Refused(400, f"Key generation aborted: {exc}") from None
    conn.execute(
        sa.update(db.mpc_wallets).where(db.mpc_wallets.c.id == wallet_id).values(dkg_cmsg1=cmsg1)
    )
    return pmsg2


def dkg_finalize(
    conn: Connection, settings: Settings, session: Session, wallet_id: str, cmsg2: bytes
) -> GroupKey:
    """Check the success certificate; store the server's share; forget the DKG state."""
    row = _dkg_row(conn, settings, session, wallet_id)
    if row.dkg_cmsg1 is None:
        raise Refused(409, "Run the second key-generation round first.")
    hostseckey, aux, state1 = _replay(settings, row)
    try:
        state2, _ = chilldkg.participant_step2(hostseckey, state1, bytes(row.dkg_cmsg1), aux)
        output, _ = chilldkg.participant_finalize(state2, cmsg2)
    except (DkgError, ValueError) as exc:
        raise Refused(400, f"Key generation aborted: {exc}") from None
    assert output.secshare is not None
    key = GroupKey(output.thresh_pk, output.pubshares)
    conn.execute(
        sa.update(db.mpc_wallets)
        .where(db.mpc_wallets.c.id == wallet_id)
        .values(
            status="active",
            thresh_pk=key.thresh_pk,
            pubshares=b"".join(key.pubshares),
            share=seal(settings, output.secshare, _aad("share", wallet_id, 0)),
            dkg_state=None,
            dkg_cmsg1=None,
        )
    )
    return key


# --- Signing (two rounds) ----------------------------------------------------------------------


def nonces(
    conn: Connection, settings: Settings, session: Session, wallet_id: str, count: int
) -> tuple[list[tuple[str, bytes]], int]:
    """Round 1: fresh nonces, stored sealed until one signature consumes each; and the
    wallet's epoch (a device with an older share learns it is stale)."""
    wallet = load(conn, settings, session, wallet_id)
    key, share = _active(wallet)
    now = settings.clock()
    n = db.mpc_nonces
    conn.execute(sa.delete(n).where(n.c.wallet_id == wallet_id, n.c.created < now - NONCE_TTL))
    # At most MAX_OPEN_NONCES unused: the oldest give way (a nonce is only ever consumed by
    # this server's own signature, so dropping an unused one is safe; refusing would lock a
    # device out after repeated failed sessions).
    excess = (
        conn.execute(
            sa.select(sa.func.count()).select_from(n).where(n.c.wallet_id == wallet_id)
        ).scalar_one()
        + count
        - MAX_OPEN_NONCES
    )
    if excess > 0:
        oldest = (
            sa.select(n.c.id)
            .where(n.c.wallet_id == wallet_id)
            .order_by(n.c.created, n.c.id)
            .limit(excess)
        )
        conn.execute(sa.delete(n).where(n.c.id.in_(oldest.scalar_subquery())))
    out, rows = [], []
    for _ in range(count):
        secnonce, pubnonce = frost.nonce_gen(share, key.pubshares[SERVER], key.output_key)
        nonce_id = secrets.token_hex(16)
        rows.append(
            {
                "id": nonce_id,
                "wallet_id": wallet_id,
                "epoch": wallet.epoch,
                "secnonce": seal(settings, secnonce.take(), _aad("nonce", nonce_id, wallet.epoch)),
                "pubnonce": pubnonce,
                "created": now,
            }
        )
        out.append((nonce_id, pubnonce))
    conn.execute(sa.insert(n), rows)  # one multi-row INSERT
    return out, wallet.epoch


_CONSUME = (
    sa.delete(db.mpc_nonces)
    .where(
        db.mpc_nonces.c.id == sa.bindparam("nonce_id"),
        db.mpc_nonces.c.wallet_id == sa.bindparam("wallet_id"),
    )
    .returning(
        db.mpc_nonces.c.secnonce,
        db.mpc_nonces.c.pubnonce,
        db.mpc_nonces.c.epoch,
        db.mpc_nonces.c.created,
    )
)


def sign(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet_id: str,
    nonce_id: str,
    message: bytes,
    device_pubnonce: bytes,
    path: tuple[int, int] | None = None,
) -> bytes:
    """Round 2 for a raw 32-byte hash (only where the wallet's policy allows raw signing):
    consume the nonce and return the server's partial signature for the session {device,
    server}, for the address at `path` (chain, index) or the index-free one. The nonce is read
    and deleted by one statement (DELETE ... RETURNING, atomic on its own in autocommit): of
    concurrent requests naming it, one gets it."""
    wallet = load(conn, settings, session, wallet_id)
    key, share = _active(wallet)
    if len(message) != 32:
        raise Refused(400, "message must be a 32-byte sighash.")
    if path is not None and path[0] not in (derivation.RECEIVE, derivation.CHANGE):
        raise Refused(400, "path's chain must be 0 (receive) or 1 (change).")
    if not policy.load(conn, wallet_id).raw_signing:
        raise Refused(
            403,
            "This wallet's policy does not let the server sign raw hashes, only transactions "
            "it can check: sign a PSBT (`seedguard mpc sign-psbt`), or allow raw signing "
            "(`seedguard mpc policy --allow-raw-signing`, after the delay).",
        )
    child = None if path is None else derivation.child(key.thresh_pk, path)
    return _consume_and_sign(
        conn, settings, wallet, key, share, nonce_id, message, device_pubnonce, child
    )


def _consume_and_sign(
    conn: Connection,
    settings: Settings,
    wallet: Wallet,
    key: GroupKey,
    share: bytes,
    nonce_id: str,
    message: bytes,
    device_pubnonce: bytes,
    child: derivation.Child | None,
) -> bytes:
    row = db.first_row(conn, _CONSUME, nonce_id=nonce_id, wallet_id=wallet.id)
    if row is None:
        raise Refused(409, "This nonce was already used (or never existed): start a new session.")
    sealed, server_pubnonce, epoch, created = row
    if created < settings.clock() - NONCE_TTL:  # consumed all the same: it never signs
        raise Refused(409, "This nonce expired (an hour unused): start a new session.")
    if epoch != wallet.epoch:
        raise Refused(409, "This nonce is from before a refresh: start a new session.")
    secnonce = frost.SecNonce(unseal(settings, bytes(sealed), _aad("nonce", nonce_id, epoch)))
    try:
        aggnonce = frost.nonce_agg([device_pubnonce, bytes(server_pubnonce)])
        session_ctx = key.session((DEVICE, SERVER), aggnonce, message, child)
        return frost.sign(secnonce, share, SERVER, session_ctx)
    except frost.InvalidContributionError:
        raise Refused(400, "The device's public nonce is not valid.") from None


def sign_psbt(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet_id: str,
    data: bytes,
    inputs: list[tuple[int, str, bytes]],
    events: list[Event],
    expected: dict[int, bytes] | None = None,
) -> list[tuple[int, bytes]]:
    """Co-sign the wallet's inputs of a PSBT, from the PSBT alone: the server finds its inputs
    by deriving their keys, recomputes each sighash (the device sends none), and counts what
    leaves the wallet against its policy (server/policy.py) in this transaction. `inputs`:
    (input index, nonce id, the device's public nonce) per input to sign."""
    wallet = load(conn, settings, session, wallet_id)
    key, share = _active(wallet)
    try:
        parsed = psbt.load(data)
        plan = psbt.plan(parsed, key, "mainnet")  # addresses unused here: scripts count
    except InputError as exc:
        raise Refused(400, exc.message) from None
    owned = {o.index: o for o in plan.owned}
    indices = [i for i, _, _ in inputs]
    if len(set(indices)) != len(indices):
        raise Refused(400, "An input is named twice.")
    for index in indices:
        if index not in owned:
            raise Refused(
                400, f"Input {index} is not this wallet's (its key is not one it derives)."
            )
    for index, digest in (expected or {}).items():
        if index in owned and not hmac.compare_digest(digest, owned[index].sighash):
            raise Refused(
                400,
                f"Input {index}'s sighash is not the one the device computed: the transaction "
                "changed after it was shown. Nothing was signed.",
            )
    current = policy.load(conn, wallet_id, lock=True)
    policy.admit_spend(
        conn,
        settings,
        session,
        wallet_id,
        psbt.txid(parsed),
        plan.outgoing(current.allowlist),
        events,
    )
    signed = []
    for index, nonce_id, pubnonce in inputs:
        item = owned[index]
        child = None if item.path is None else derivation.child(key.thresh_pk, item.path)
        psig = _consume_and_sign(
            conn, settings, wallet, key, share, nonce_id, item.sighash, pubnonce, child
        )
        signed.append((index, psig))
    return signed


# --- Repair and refresh ------------------------------------------------------------------------


CHALLENGE_TTL = 300.0  # seconds a share-proof challenge lives


def issue_challenge(
    conn: Connection, settings: Settings, session: Session, wallet_id: str
) -> tuple[bytes, int]:
    """A one-use challenge for this session's share proofs on this wallet, and the epoch the
    proofs are made at."""
    wallet = load(conn, settings, session, wallet_id)
    _active(wallet)
    now = settings.clock()
    c = db.mpc_challenges
    conn.execute(sa.delete(c).where(c.c.expires < now))
    challenge = secrets.token_bytes(32)
    conn.execute(
        sa.insert(c).values(
            challenge=challenge,
            wallet_id=wallet_id,
            device_id=session.device_id,
            expires=now + CHALLENGE_TTL,
        )
    )
    return challenge, wallet.epoch


def _check_proofs(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet: Wallet,
    challenge: bytes,
    purpose: str,
    digest: bytes,
    proofs: dict[int, bytes],
    needed: tuple[int, ...],
) -> None:
    """Consume the challenge (this session's, for this wallet) and check a share proof for
    every participant in `needed` against its public share."""
    key, _ = _active(wallet)
    c = db.mpc_challenges
    row = conn.execute(
        sa.delete(c)
        .where(c.c.challenge == challenge)
        .returning(c.c.wallet_id, c.c.device_id, c.c.expires)
    ).first()
    if (
        row is None
        or row.wallet_id != wallet.id
        or row.device_id != session.device_id
        or row.expires < settings.clock()
    ):
        raise Refused(
            403,
            "The proof challenge is unknown, used, expired or another session's: ask for a "
            "new one.",
        )
    for participant in needed:
        proof = proofs.get(participant)
        if proof is None or not share_proofs.verify_share_proof(
            proof,
            key.pubshares[participant],
            wallet.id,
            wallet.epoch,
            participant,
            challenge,
            purpose,
            digest,
        ):
            raise Refused(
                403,
                f"This request needs a proof that the caller holds {NAMES[participant]}'s "
                "share, and none valid was given.",
                participant=participant,
            )


@dataclass(frozen=True)
class CloudGate:
    """What a request to re-create the cloud share offers beyond the device share."""

    password_handle: bytes | None = None
    password_proof: bytes | None = None
    recovery_proof: bytes | None = None


def _gate_cloud_repair(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet_id: str,
    gate: CloudGate,
    events: list[social.Event],
) -> str:
    """The device share plus the server's would give the device two shares: it also needs
    the backup password (proven through the cloud envelope's OPRF key: the proof exists only
    after a counted evaluation with the right password), the recovery key, or the account's
    delay, announced and cancellable. Returns which."""
    w = db.mpc_wallets
    row = conn.execute(
        sa.select(w.c.cloud_key_id, w.c.recovery_verifier).where(w.c.id == wallet_id)
    ).one()
    if gate.password_handle is not None and gate.password_proof is not None:
        kid = hardening.key_id(gate.password_handle)
        if row.cloud_key_id is None or not hmac.compare_digest(str(row.cloud_key_id), kid):
            raise Refused(403, "That OPRF key is not this wallet's cloud backup key.")
        if hardening.prove(conn, settings, gate.password_handle, gate.password_proof) < 0:
            raise Refused(403, "The backup password proof does not match.")
        return "password"
    if gate.recovery_proof is not None:
        digest = hashlib.sha256(gate.recovery_proof).digest()
        if row.recovery_verifier is None or not hmac.compare_digest(
            bytes(row.recovery_verifier), digest
        ):
            raise Refused(403, "The recovery key proof does not match this wallet's.")
        return "recovery-key"
    guard.wait_or_proceed(conn, settings, session, "repair-cloud", wallet_id, None, events)
    return "delay"


def repair(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet_id: str,
    target: int,
    delta_in: int,
    commitment: bytes,
    challenge: bytes,
    proofs: dict[int, bytes],
    gate: CloudGate,
    events: list[social.Event],
) -> tuple[int, int, bytes, str | None]:
    """The server as one of two helpers re-creating participant `target`'s share.

    The requester plays the other helper: it proves it holds that helper's share (bound to
    this request), and commits to the delta it keeps, so the delta it sends for the server
    is checked to be its share of a proper split (δ·G + D = λ·P), not a value chosen to
    cancel the server's mask. Re-creating the cloud share also passes the cloud gate.
    Returns (the server's delta for the other helper, the server's sigma for the target,
    the commitment to the delta the server kept, how the cloud gate was passed)."""
    wallet = load(conn, settings, session, wallet_id)
    key, share = _active(wallet)
    if target not in (DEVICE, CLOUD):
        raise Refused(400, "target must be 0 (the device) or 2 (the cloud share).")
    other = CLOUD if target == DEVICE else DEVICE
    digest = share_proofs.request_digest(
        b"repair", bytes([target]), scalar_bytes(delta_in), commitment
    )
    _check_proofs(conn, settings, session, wallet, challenge, "repair", digest, proofs, (other,))
    helpers = sorted((SERVER, other))
    if not share_proofs.contribution_ok(
        helpers, other, target, key.pubshares[other], [share_proofs.commit(delta_in), commitment]
    ):
        raise Refused(400, "The repair delta is not a proper split of the helper's share.")
    passed = None
    if target == CLOUD:
        passed = _gate_cloud_repair(conn, settings, session, wallet_id, gate, events)
    deltas = repairable.repair_share_step_1(helpers, SERVER, int.from_bytes(share, "big"), target)
    sigma = repairable.repair_share_step_2([deltas[SERVER], delta_in])
    return deltas[other], sigma, share_proofs.commit(deltas[SERVER]), passed


def link_cloud(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet_id: str,
    challenge: bytes,
    proofs: dict[int, bytes],
    handle: bytes | None,
    recovery_verifier: bytes | None,
) -> None:
    """Record what gates a later re-creation of the cloud share: the cloud envelope's OPRF key
    (its handle) and a recovery-key verifier. Only the holder of the cloud share may say."""
    wallet = load(conn, settings, session, wallet_id)
    digest = share_proofs.request_digest(b"cloud", handle or b"", recovery_verifier or b"")
    _check_proofs(conn, settings, session, wallet, challenge, "cloud", digest, proofs, (CLOUD,))
    kid = None
    if handle is not None:
        kid = hardening.key_id(handle)
        owned = conn.execute(
            sa.select(db.oprf_keys.c.id).where(
                db.oprf_keys.c.id == kid, db.oprf_keys.c.account_id == session.account_id
            )
        ).first()
        if owned is None:
            raise not_found("That OPRF key")
    if recovery_verifier is not None and len(recovery_verifier) != 32:
        raise Refused(400, "recovery_verifier must be 32 bytes.")
    w = db.mpc_wallets
    conn.execute(
        sa.update(w)
        .where(w.c.id == wallet_id)
        .values(cloud_key_id=kid, recovery_verifier=recovery_verifier)
    )


def start_refresh(
    conn: Connection,
    settings: Settings,
    session: Session,
    wallet_id: str,
    device_commitment: list[bytes],
    share_for_server: int,
    challenge: bytes,
    proofs: dict[int, bytes],
) -> tuple[tuple[bytes, ...], dict[int, int], int]:
    """Deal the server's zero polynomial and add the device's: the server's next share is
    kept pending until `commit_refresh`. Only a requester proving both the device's and the
    cloud's shares (after a recovery, or holding both) may refresh: a thief with the device
    alone cannot re-key the cloud share away from its owner. Returns (commitment, shares
    for 0 and 2, next epoch)."""
    wallet = load(conn, settings, session, wallet_id)
    key, share = _active(wallet)
    if len(device_commitment) != T - 1:
        raise Refused(400, f"commitment must hold {T - 1} points.")
    digest = share_proofs.request_digest(
        b"refresh", *device_commitment, scalar_bytes(share_for_server)
    )
    _check_proofs(
        conn, settings, session, wallet, challenge, "refresh", digest, proofs, (DEVICE, CLOUD)
    )
    try:
        refresh.verify_share(share_for_server, device_commitment, SERVER, "the device")
    except refresh.RefreshError as exc:
        raise Refused(400, exc.message) from None
    mine = refresh.ZeroPolynomial.generate(T)
    commitments = [device_commitment, list(mine.commitment())]
    new_share = (int.from_bytes(share, "big") + share_for_server + mine.share_for(SERVER)) % frost.n
    pubshares = tuple(
        refresh.refreshed_pubshare(key.pubshares[i], commitments, i) for i in range(3)
    )
    new_key = GroupKey(key.thresh_pk, pubshares)
    if base_mul(new_share) is None:
        raise Refused(400, "The refresh gave a zero share; run it again.")
    new_key.check()
    next_epoch = wallet.epoch + 1
    conn.execute(
        sa.update(db.mpc_wallets)
        .where(db.mpc_wallets.c.id == wallet_id)
        .values(
            pending_pubshares=b"".join(pubshares),
            pending_share=seal(
                settings, scalar_bytes(new_share), _aad("share", wallet_id, next_epoch)
            ),
        )
    )
    return (
        mine.commitment(),
        {DEVICE: mine.share_for(DEVICE), CLOUD: mine.share_for(CLOUD)},
        next_epoch,
    )


def commit_refresh(
    conn: Connection, settings: Settings, session: Session, wallet_id: str, epoch: int
) -> int:
    """Switch to the pending share (once the device has its new shares safe); the old share
    and every nonce made for it are deleted."""
    wallet = load(conn, settings, session, wallet_id)
    if wallet.pending is None:
        if wallet.epoch == epoch:
            return epoch  # already committed (a retry)
        raise Refused(409, "No refresh is pending for this wallet.")
    if epoch != wallet.epoch + 1:
        raise Refused(409, f"The pending refresh is for epoch {wallet.epoch + 1}, not {epoch}.")
    key, share = wallet.pending
    w = db.mpc_wallets
    conn.execute(
        sa.update(w)
        .where(w.c.id == wallet_id)
        .values(
            epoch=epoch,
            pubshares=b"".join(key.pubshares),
            share=seal(settings, share, _aad("share", wallet_id, epoch)),
            pending_pubshares=None,
            pending_share=None,
        )
    )
    conn.execute(sa.delete(db.mpc_nonces).where(db.mpc_nonces.c.wallet_id == wallet_id))
    return epoch

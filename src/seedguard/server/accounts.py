"""Accounts and devices: a device proves its key by signing a one-use challenge and gets a
short-lived session token. Tokens and recovery credentials are stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from coincurve import PublicKey
from sqlalchemy.engine import Connection

from seedguard.server import db
from seedguard.server.refusals import Refused, not_found, unauthenticated
from seedguard.server.settings import Settings

AUTH_TAG = b"seedguard/auth/v1\x00"  # the signed message is AUTH_TAG || challenge


@dataclass(frozen=True)
class Session:
    account_id: str
    device_id: str


def _hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def device_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:32]


def _public_key(raw: bytes) -> bytes:
    try:
        return PublicKey(raw).format(compressed=True)
    except (ValueError, TypeError):
        raise Refused(400, "public_key is not a compressed secp256k1 public key.") from None


def issue_challenge(conn: Connection, settings: Settings, public_key: bytes) -> bytes:
    key = _public_key(public_key)
    now = settings.clock()
    conn.execute(sa.delete(db.challenges).where(db.challenges.c.expires < now))
    challenge = secrets.token_bytes(32)
    conn.execute(
        sa.insert(db.challenges).values(
            challenge=challenge, public_key=key, expires=now + settings.challenge_ttl
        )
    )
    return challenge


def _consume_challenge(
    conn: Connection, settings: Settings, public_key: bytes, challenge: bytes, signature: bytes
) -> None:
    # Deleted in the same transaction that uses it: a replay finds nothing.
    row = conn.execute(
        sa.delete(db.challenges)
        .where(db.challenges.c.challenge == challenge)
        .returning(db.challenges.c.public_key, db.challenges.c.expires)
    ).first()
    if row is None or row.public_key != public_key or row.expires < settings.clock():
        raise unauthenticated("The challenge is unknown, used or expired: ask for a new one.")
    try:
        valid = PublicKey(public_key).verify(signature, AUTH_TAG + challenge)
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise unauthenticated("The signature does not match the device key.")


def sign_in(
    conn: Connection,
    settings: Settings,
    public_key: bytes,
    challenge: bytes,
    signature: bytes,
    *,
    register: bool = False,
    enroll_account: str | None = None,
    credential: bytes | None = None,
    revoke_others: bool = False,
) -> tuple[bytes, Session]:
    """A session token for a device that signed its challenge; registers a new account, or
    enrolls the device in an account with a recovery credential, when asked."""
    key = _public_key(public_key)
    _consume_challenge(conn, settings, key, challenge, signature)
    now = settings.clock()
    row = conn.execute(sa.select(db.devices).where(db.devices.c.public_key == key)).first()
    if row is not None:
        if row.revoked is not None:
            raise Refused(403, "This device was revoked from its account.")
        session = Session(row.account_id, row.id)
    elif enroll_account is not None and credential is not None:
        rc = db.recovery_credentials
        found = conn.execute(
            sa.select(rc.c.account_id, rc.c.active_from).where(rc.c.verifier == _hash(credential))
        ).first()
        if found is None or not hmac.compare_digest(found.account_id, enroll_account):
            raise Refused(403, "The account recovery credential is not valid for that account.")
        if found.active_from is not None and found.active_from > now:
            raise Refused(
                403,
                "This backup's account recovery credential is not active yet (it was added "
                "while another existed, and waits for the account's delay): use an older "
                "backup, or try again later.",
                active_from=found.active_from,
            )
        session = Session(enroll_account, device_id(key))
        _add_device(conn, session, key, now)
        if revoke_others:
            revoke_all_but(conn, settings, session)
    elif register:
        session = Session(secrets.token_hex(16), device_id(key))
        conn.execute(sa.insert(db.accounts).values(id=session.account_id, created=now))
        _add_device(conn, session, key, now)
    else:
        raise Refused(403, "This device is not registered: register it or enroll it first.")
    token = secrets.token_bytes(32)
    conn.execute(sa.delete(db.tokens).where(db.tokens.c.expires < now))
    conn.execute(
        sa.insert(db.tokens).values(
            token_hash=_hash(token),
            device_id=session.device_id,
            account_id=session.account_id,
            expires=now + settings.token_ttl,
        )
    )
    return token, session


def _add_device(conn: Connection, session: Session, key: bytes, now: float) -> None:
    added = db.insert_new(
        conn,
        db.devices,
        id=session.device_id,
        account_id=session.account_id,
        public_key=key,
        created=now,
    )
    if not added:  # the same key signed in twice at once: the other request registered it
        raise Refused(409, "This device key was registered by a concurrent request: sign in again.")


# Built once: every authenticated request runs it, and building a statement costs more
# than executing it (SQLAlchemy then reuses the compiled form).
_SESSION = (
    sa.select(db.tokens.c.account_id, db.tokens.c.device_id, db.tokens.c.expires)
    .join(db.devices, db.devices.c.id == db.tokens.c.device_id)
    .where(db.tokens.c.token_hash == sa.bindparam("token_hash"), db.devices.c.revoked.is_(None))
)


def authenticate(conn: Connection, settings: Settings, token: bytes) -> Session:
    row = db.first_row(conn, _SESSION, token_hash=_hash(token))
    if row is None:
        raise unauthenticated("The session token is unknown or was revoked: sign in again.")
    account_id, device_id, expires = row
    if expires < settings.clock():
        raise unauthenticated("The session token expired: sign in again.")
    return Session(account_id, device_id)


def list_devices(conn: Connection, session: Session) -> list[dict[str, object]]:
    rows = conn.execute(
        sa.select(db.devices)
        .where(db.devices.c.account_id == session.account_id)
        .order_by(db.devices.c.created)
    ).all()
    return [
        {
            "id": r.id,
            "created": r.created,
            "revoked": r.revoked,
            "current": r.id == session.device_id,
        }
        for r in rows
    ]


def _active_devices(conn: Connection, account: str) -> list[str]:
    rows = conn.execute(
        sa.select(db.devices.c.id).where(
            db.devices.c.account_id == account, db.devices.c.revoked.is_(None)
        )
    ).all()
    return [r.id for r in rows]


def has_active_credential(conn: Connection, settings: Settings, account: str) -> bool:
    rc = db.recovery_credentials
    row = conn.execute(
        sa.select(rc.c.verifier)
        .where(
            rc.c.account_id == account,
            sa.or_(rc.c.active_from.is_(None), rc.c.active_from <= settings.clock()),
        )
        .limit(1)
    ).first()
    return row is not None


def revoke(
    conn: Connection,
    settings: Settings,
    session: Session,
    target: str,
    credential: bytes | None = None,
    events: list[dict[str, object]] | None = None,
) -> None:
    """Revoke a device of this account. This device itself: at once, unless it is the last
    one and no recovery credential exists (the account would be locked for good). Another
    device: at once with an active recovery credential as proof; otherwise after the
    account's delay, announced and cancellable (server/guard.py)."""
    from seedguard.server import guard

    found = conn.execute(
        sa.select(db.devices.c.revoked).where(
            db.devices.c.id == target, db.devices.c.account_id == session.account_id
        )
    ).first()
    if found is None:
        raise not_found(f"Device {target}")
    if found.revoked is not None:
        return
    if target == session.device_id:
        others = [d for d in _active_devices(conn, session.account_id) if d != target]
        if not others and not has_active_credential(conn, settings, session.account_id):
            raise Refused(
                409,
                "This is the account's last device and the account has no recovery "
                "credential: revoking it would lock the account for good. Make a backup "
                "first (it registers a credential), or enroll another device.",
            )
    elif not guard.has_credential_proof(conn, settings, session, credential):
        guard.wait_or_proceed(
            conn, settings, session, "revoke-device", target, None, [] if events is None else events
        )
    conn.execute(
        sa.update(db.devices)
        .where(db.devices.c.id == target, db.devices.c.account_id == session.account_id)
        .values(revoked=sa.func.coalesce(db.devices.c.revoked, settings.clock()))
    )
    conn.execute(sa.delete(db.tokens).where(db.tokens.c.device_id == target))
    guard.cancel_for_devices(conn, settings, sa.select(sa.literal(target)))


def revoke_all_but(conn: Connection, settings: Settings, session: Session) -> None:
    from seedguard.server import guard

    others = sa.select(db.devices.c.id).where(
        db.devices.c.account_id == session.account_id, db.devices.c.id != session.device_id
    )
    conn.execute(sa.delete(db.tokens).where(db.tokens.c.device_id.in_(others)))
    guard.cancel_for_devices(conn, settings, others)
    conn.execute(
        sa.update(db.devices)
        .where(
            db.devices.c.account_id == session.account_id,
            db.devices.c.id != session.device_id,
            db.devices.c.revoked.is_(None),
        )
        .values(revoked=settings.clock())
    )


def add_recovery_credential(
    conn: Connection,
    settings: Settings,
    session: Session,
    verifier: bytes,
    proof: bytes | None = None,
    events: list[dict[str, object]] | None = None,
) -> float | None:
    """Register SHA-256(credential); the credential itself stays in the user's backups.

    The account's first credential works at once, and so does one added with an active
    credential as proof. Otherwise (a device adding one while others exist: what a thief with
    the phone would do to keep a way back in) it works only after the account's delay,
    announced and cancellable; returns when it becomes active (None: now)."""
    from seedguard.server import guard

    if len(verifier) != 32:
        raise Refused(400, "verifier must be the 32-byte SHA-256 of the credential.")
    rc = db.recovery_credentials
    exists = conn.execute(
        sa.select(rc.c.account_id, rc.c.active_from).where(rc.c.verifier == verifier)
    ).first()
    if exists is not None:
        if exists.account_id != session.account_id:
            raise Refused(409, "That credential is already in use.")
        return None if exists.active_from is None else float(exists.active_from)
    held = has_active_credential(conn, settings, session.account_id) and not (
        guard.has_credential_proof(conn, settings, session, proof)
    )
    added = db.insert_new(
        conn,
        rc,
        verifier=verifier,
        account_id=session.account_id,
        created=settings.clock(),
        active_from=settings.clock() if held else None,
    )
    if not added:  # a concurrent request registered the same verifier first
        again = conn.execute(
            sa.select(rc.c.account_id, rc.c.active_from).where(rc.c.verifier == verifier)
        ).first()
        if again is None or again.account_id != session.account_id:
            raise Refused(409, "That credential is already in use.")
        return None if again.active_from is None else float(again.active_from)
    active_from = None
    if held:
        pending = guard.record(
            conn,
            settings,
            session,
            "add-credential",
            verifier.hex(),
            None,
            [] if events is None else events,
        )
        active_from = pending.release_at
        conn.execute(sa.update(rc).where(rc.c.verifier == verifier).values(active_from=active_from))
    return active_from

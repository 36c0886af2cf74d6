"""Guess-limited password hardening: one RFC 9497 OPRF key per hardened backup.

The client reaches a key through its handle (32 random bytes kept in the backup's header; the
server stores only its SHA-256). Every evaluation counts as a failed attempt until the client
proves it got the right output (the proof's SHA-256 was registered when the backup was made);
a proof resets the count. The evaluation that uses the last attempt is followed by the key's
destruction; at most `max_attempts` evaluations happen in a row without a proof, even with
concurrent requests to several processes, because the count is one conditional UPDATE.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.primitives import aead, oprf
from seedguard.server import db, quotas
from seedguard.server.accounts import Session
from seedguard.server.refusals import Refused, not_found
from seedguard.server.settings import Settings

HANDLE_BYTES = 32
oprf_key_bytes = 32  # a raw ristretto255 scalar; a wrapped key is longer


def key_id(handle: bytes) -> str:
    if len(handle) != HANDLE_BYTES:
        raise Refused(400, "handle must be 32 bytes.")
    return hashlib.sha256(handle).hexdigest()


def _evaluate(secret_key: bytes, blinded: bytes, checked: bool = False) -> bytes:
    try:
        return oprf.blind_evaluate(secret_key, blinded, checked)
    except oprf.OprfError as exc:
        raise Refused(400, f"blinded_element is not valid: {exc}.") from None


def gone(conn: Connection, kid: str) -> Refused:
    destroyed = conn.execute(
        sa.select(db.destroyed_keys.c.destroyed).where(db.destroyed_keys.c.id == kid)
    ).first()
    if destroyed is not None:
        return destroyed_refusal()
    return not_found("The hardening key")


def destroyed_refusal() -> Refused:
    return Refused(
        410,
        "The server destroyed this backup's hardening key after too many wrong passwords; "
        "the password can no longer open it.",
        destroyed=True,
    )


def _wrap(settings: Settings, kid: str, secret_key: bytes) -> bytes:
    """An OPRF key as stored: sealed under the server's key (XChaCha20-Poly1305, bound to the
    key id), so a copy of the database alone cannot evaluate, and hardened backups stay
    guess-limited. A server without a key (MPC off) keeps it as is."""
    if settings.share_key is None:
        return secret_key
    nonce = aead.random_nonce()
    return nonce + aead.seal(settings.share_key, nonce, secret_key, _key_aad(kid))


def _unwrap(settings: Settings, kid: str, stored: bytes) -> bytes:
    if len(stored) == oprf_key_bytes:  # stored before keys were wrapped, or by a keyless server
        return stored
    if settings.share_key is None:
        raise Refused(500, "This OPRF key is sealed, and this server has no key configured.")
    try:
        return aead.open_(
            settings.share_key,
            stored[: aead.NONCE_BYTES],
            stored[aead.NONCE_BYTES :],
            _key_aad(kid),
        )
    except aead.AuthenticationFailed:
        raise Refused(500, "A stored OPRF key does not open under this server's key.") from None


def _key_aad(kid: str) -> bytes:
    return f"seedguard oprf key {kid}".encode()


def create(
    conn: Connection, settings: Settings, session: Session, blinded: bytes
) -> tuple[bytes, bytes]:
    """A new key for the caller's account; returns (handle, evaluated element)."""
    quotas.enforce(
        conn,
        quotas.count(db.oprf_keys, db.oprf_keys.c.account_id == session.account_id),
        settings.limits.oprf_keys,
        "This account holds as many hardened backups as it may: delete an old one "
        "(`backup delete`) first",
        "oprf-keys",
    )
    secret_key = oprf.generate_key()
    evaluated = _evaluate(secret_key, blinded)
    handle = secrets.token_bytes(HANDLE_BYTES)
    kid = key_id(handle)
    conn.execute(
        sa.insert(db.oprf_keys).values(
            id=kid,
            account_id=session.account_id,
            secret_key=_wrap(settings, kid, secret_key),
            verifier=None,
            failures=0,
            created=settings.clock(),
        )
    )
    return handle, evaluated


def register_verifier(conn: Connection, session: Session, handle: bytes, verifier: bytes) -> None:
    """Set SHA-256(proof) once, by the key's own account."""
    if len(verifier) != 32:
        raise Refused(400, "verifier must be 32 bytes.")
    kid = key_id(handle)
    result = conn.execute(
        sa.update(db.oprf_keys)
        .where(
            db.oprf_keys.c.id == kid,
            db.oprf_keys.c.account_id == session.account_id,
            db.oprf_keys.c.verifier.is_(None),
        )
        .values(verifier=verifier, failures=0)
    )
    if result.rowcount == 0:
        row = conn.execute(
            sa.select(db.oprf_keys.c.account_id).where(db.oprf_keys.c.id == kid)
        ).first()
        if row is not None and row.account_id == session.account_id:
            raise Refused(409, "This key's verifier is already registered.")
        raise gone(conn, kid)


# One conditional UPDATE counts the attempt: concurrent requests, in any process, serialize on
# the row, and no more than `limit` of them get a row back. Built once (the hot path).
_COUNT = (
    sa.update(db.oprf_keys)
    .where(
        db.oprf_keys.c.id == sa.bindparam("kid"),
        db.oprf_keys.c.failures < sa.bindparam("limit"),
        db.oprf_keys.c.verifier.is_not(None),
    )
    .values(failures=db.oprf_keys.c.failures + 1)
    .returning(db.oprf_keys.c.secret_key, db.oprf_keys.c.failures)
)


# The token check and the counted attempt in one statement (the hot route's common case): the
# attempt is counted only when the token names a live session of a device not revoked. When
# it returns no row (a bad token, no attempt left, no such key), the route goes the long way,
# which says which (and counts nothing more).
_SESSION_ALIVE = (
    sa.select(db.tokens.c.account_id)
    .join(db.devices, db.devices.c.id == db.tokens.c.device_id)
    .where(
        db.tokens.c.token_hash == sa.bindparam("token_hash"),
        db.devices.c.revoked.is_(None),
        db.tokens.c.expires >= sa.bindparam("now"),
    )
)
AUTHENTICATED_COUNT = (
    sa.update(db.oprf_keys)
    .where(
        db.oprf_keys.c.id == sa.bindparam("kid"),
        db.oprf_keys.c.failures < sa.bindparam("limit"),
        db.oprf_keys.c.verifier.is_not(None),
        sa.exists(_SESSION_ALIVE),
    )
    .values(failures=db.oprf_keys.c.failures + 1)
    .returning(
        db.oprf_keys.c.secret_key,
        db.oprf_keys.c.failures,
        _SESSION_ALIVE.scalar_subquery(),
    )
)


def authenticated_count(
    settings: Settings, token_hash: bytes, handle: bytes, blinded: bytes
) -> dict[str, object]:
    """The values of the one-statement count; the element is refused before it can cost an
    attempt."""
    try:
        oprf.check_element(blinded)
    except oprf.OprfError as exc:
        raise Refused(400, f"blinded_element is not valid: {exc}.") from None
    return {
        "kid": key_id(handle),
        "limit": settings.max_attempts,
        "token_hash": token_hash,
        "now": settings.clock(),
    }


def authenticated_result(
    settings: Settings, kid: str, row: tuple[object, ...], blinded: bytes
) -> tuple[str, bytes, int]:
    secret_key, failures, account_id = row
    key = _unwrap(settings, kid, bytes(cast(bytes, secret_key)))
    return (
        str(account_id),
        _evaluate(key, blinded, checked=True),
        settings.max_attempts - int(cast(int, failures)),
    )


def evaluate_authenticated(
    conn: Connection, settings: Settings, token_hash: bytes, handle: bytes, blinded: bytes
) -> tuple[str, bytes, int] | None:
    """(account id, evaluated element, attempts left) when the session is alive and the key
    has an attempt left, all in one statement; None for every other case (nothing counted)."""
    values = authenticated_count(settings, token_hash, handle, blinded)
    row = db.first_row(conn, AUTHENTICATED_COUNT, **values)
    if row is None:
        return None
    return authenticated_result(settings, str(values["kid"]), row, blinded)


def evaluate(
    conn: Connection, settings: Settings, handle: bytes, blinded: bytes
) -> tuple[bytes | None, int]:
    """Count an attempt and evaluate: (evaluated element, attempts left). None when the key
    has no attempt left; the caller then destroys it (`destroy`), as it does after the
    evaluation that used the last attempt."""
    kid = key_id(handle)
    try:
        oprf.check_element(blinded)  # refused before it can cost an attempt
    except oprf.OprfError as exc:
        raise Refused(400, f"blinded_element is not valid: {exc}.") from None
    keys = db.oprf_keys
    row = db.first_row(conn, _COUNT, kid=kid, limit=settings.max_attempts)
    if row is None:
        existing = conn.execute(sa.select(keys.c.verifier).where(keys.c.id == kid)).first()
        if existing is not None and existing.verifier is None:
            raise Refused(409, "This key is not ready: its verifier was never registered.")
        if existing is not None:  # no attempt left (or the operator lowered the limit)
            return None, 0
        raise gone(conn, kid)
    secret_key, failures = row
    key = _unwrap(settings, kid, bytes(secret_key))
    return _evaluate(key, blinded, checked=True), settings.max_attempts - failures


def destroy(conn: Connection, settings: Settings, handle: bytes) -> bool:
    """Delete the key for good, leaving a tombstone so clients can say "destroyed"."""
    kid = key_id(handle)
    row = conn.execute(
        sa.delete(db.oprf_keys).where(db.oprf_keys.c.id == kid).returning(db.oprf_keys.c.account_id)
    ).first()
    if row is None:
        return False
    conn.execute(
        sa.insert(db.destroyed_keys).values(
            id=kid, account_id=row.account_id, destroyed=settings.clock()
        )
    )
    return True


def prove(conn: Connection, settings: Settings, handle: bytes, proof: bytes) -> int:
    """Reset the count when SHA-256(proof) is the registered verifier; returns attempts left."""
    kid = key_id(handle)
    row = conn.execute(
        sa.select(db.oprf_keys.c.verifier, db.oprf_keys.c.failures).where(db.oprf_keys.c.id == kid)
    ).first()
    if row is None:
        raise gone(conn, kid)
    digest = hashlib.sha256(proof).digest()
    if row.verifier is None or not hmac.compare_digest(row.verifier, digest):
        raise Refused(403, "The proof is wrong: the attempt stays counted.")
    conn.execute(sa.update(db.oprf_keys).where(db.oprf_keys.c.id == kid).values(failures=0))
    return settings.max_attempts


def state(conn: Connection, settings: Settings, handle: bytes) -> dict[str, object]:
    """What a device may learn about a key whose handle it holds (from the backup's header):
    whether it still exists and how many wrong passwords it may take. Counts no attempt."""
    kid = key_id(handle)
    row = conn.execute(
        sa.select(db.oprf_keys.c.verifier, db.oprf_keys.c.failures).where(db.oprf_keys.c.id == kid)
    ).first()
    if row is not None:
        left = max(0, settings.max_attempts - row.failures)
        status = "not-ready" if row.verifier is None else "active"
        return {"state": status, "attempts_left": left, "max_attempts": settings.max_attempts}
    if _destroyed(conn, kid):
        return {"state": "destroyed", "attempts_left": 0, "max_attempts": settings.max_attempts}
    raise not_found("The hardening key")


def _destroyed(conn: Connection, kid: str) -> bool:
    query = sa.select(db.destroyed_keys.c.id).where(db.destroyed_keys.c.id == kid)
    return conn.execute(query).first() is not None


def delete(conn: Connection, session: Session, handle: bytes) -> None:
    kid = key_id(handle)
    result = conn.execute(
        sa.delete(db.oprf_keys).where(
            db.oprf_keys.c.id == kid, db.oprf_keys.c.account_id == session.account_id
        )
    )
    if result.rowcount == 0:
        raise not_found("The hardening key")


def list_keys(conn: Connection, settings: Settings, session: Session) -> list[dict[str, object]]:
    rows = conn.execute(
        sa.select(db.oprf_keys.c.id, db.oprf_keys.c.failures, db.oprf_keys.c.created)
        .where(db.oprf_keys.c.account_id == session.account_id)
        .order_by(db.oprf_keys.c.created)
    ).all()
    return [
        {
            "id": r.id[:16],
            "failures": r.failures,
            "attempts_left": max(0, settings.max_attempts - r.failures),
            "created": r.created,
        }
        for r in rows
    ]

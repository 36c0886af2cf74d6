"""Actions that must wait: what a device asks for that could lock the owner out or give a
thief a second way in, when the device offers no proof that a thief lacks (docs/security.md).

Such an action is recorded with a release time (the account's recovery delay, the same window
the social relay gives), announced to every device of the account (notifications, event
`action-pending`) and to its webhook, and cancellable from any device of the account. The
requesting device repeats its request after the release time, and only then does it happen.
Revoking a device cancels every action that device asked for, so an owner who recovers on a
new device (revoking the others) also stops what a thief started.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.server import db, quotas
from seedguard.server.refusals import KeepWrites, Refused
from seedguard.server.settings import Settings
from seedguard.server.social import Event, notify, recovery_delay

if TYPE_CHECKING:
    from seedguard.server.accounts import Session

KINDS = {
    "repair-cloud": "re-create an MPC wallet's cloud share from a device",
    "revoke-device": "revoke another device",
    "shorten-delay": "shorten the recovery delay",
    "change-webhook": "change or remove the webhook",
    "add-credential": "add an account recovery credential",
    "loosen-policy": "loosen an MPC wallet's spending policy",
    "mpc-spend": "spend more than an MPC wallet's 24-hour limit",
}

_P = db.pending_actions


@dataclass(frozen=True)
class Pending:
    id: str
    kind: str
    target: str
    value: str | None
    created: float
    release_at: float
    requested_by: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "what": KINDS[self.kind],
            "target": self.target,
            "created": self.created,
            "release_at": self.release_at,
            "requested_by": self.requested_by,
        }


class Waiting(KeepWrites):
    """202: recorded (or already recorded), to be repeated after `release_at`; the record
    stands (the transaction commits)."""

    def __init__(self, pending: Pending, now: float) -> None:
        hours = max(0.0, pending.release_at - now) / 3600
        super().__init__(
            202,
            f"This device has no proof for this ({KINDS[pending.kind]}): it was announced to "
            f"every device of the account and happens if repeated in {hours:.1f} hours, unless "
            "one of them cancels it.",
            pending=pending.as_dict(),
        )


def _open(conn: Connection, session: Session, kind: str, target: str) -> sa.Row[object] | None:
    return conn.execute(
        sa.select(_P)
        .where(
            _P.c.account_id == session.account_id,
            _P.c.kind == kind,
            _P.c.target == target,
            _P.c.cancelled.is_(None),
            _P.c.done.is_(None),
        )
        .order_by(_P.c.created)
    ).first()


def _pending(row: sa.Row[object]) -> Pending:
    m = row._mapping
    return Pending(
        str(m["id"]),
        str(m["kind"]),
        str(m["target"]),
        None if m["value"] is None else str(m["value"]),
        float(m["created"]),
        float(m["release_at"]),
        str(m["device_id"]),
    )


def wait_or_proceed(
    conn: Connection,
    settings: Settings,
    session: Session,
    kind: str,
    target: str,
    value: str | None,
    events: list[Event],
) -> None:
    """Return (and mark the action done) when this device's earlier request for the same
    action has waited out its delay; otherwise record or report it (raises Waiting)."""
    now = settings.clock()
    row = _open(conn, session, kind, target)
    if row is not None:
        found = _pending(row)
        same = hmac.compare_digest((found.value or "").encode(), (value or "").encode())
        if found.requested_by == session.device_id and same and found.release_at <= now:
            conn.execute(sa.update(_P).where(_P.c.id == found.id).values(done=now))
            return
        if same:
            raise Waiting(found, now)
        # The same action with another value: the new request replaces the old one.
        conn.execute(sa.update(_P).where(_P.c.id == found.id).values(cancelled=now))
    found = record(conn, settings, session, kind, target, value, events)
    raise Waiting(found, now)


def record(
    conn: Connection,
    settings: Settings,
    session: Session,
    kind: str,
    target: str,
    value: str | None,
    events: list[Event],
) -> Pending:
    now = settings.clock()
    quotas.enforce(
        conn,
        quotas.count(
            _P,
            _P.c.account_id == session.account_id,
            _P.c.cancelled.is_(None),
            _P.c.done.is_(None),
        ),
        settings.limits.pending_actions,
        "This account has as many changes waiting as it may: cancel one (`account cancel`)",
        "pending-actions",
    )
    pending = Pending(
        secrets.token_hex(8),
        kind,
        target,
        value,
        now,
        now + recovery_delay(conn, settings, session.account_id),
        session.device_id,
    )
    conn.execute(
        sa.insert(_P).values(
            id=pending.id,
            account_id=session.account_id,
            device_id=session.device_id,
            kind=kind,
            target=target,
            value=value,
            created=now,
            release_at=pending.release_at,
        )
    )
    notify(conn, settings, session.account_id, "action-pending", pending.id, events)
    return pending


def list_pending(conn: Connection, session: Session) -> list[Pending]:
    rows = conn.execute(
        sa.select(_P)
        .where(_P.c.account_id == session.account_id, _P.c.cancelled.is_(None), _P.c.done.is_(None))
        .order_by(_P.c.created)
        .limit(100)
    ).all()
    return [_pending(r) for r in rows]


def cancel(
    conn: Connection, settings: Settings, session: Session, action: str | None, events: list[Event]
) -> list[str]:
    """Cancel one pending action of the account (or all): any device of the account may."""
    now = settings.clock()
    where = [_P.c.account_id == session.account_id, _P.c.cancelled.is_(None), _P.c.done.is_(None)]
    if action is not None:
        where.append(_P.c.id == action)
    rows = conn.execute(sa.update(_P).where(*where).values(cancelled=now).returning(_P)).all()
    for row in rows:
        found = _pending(row)
        if found.kind == "add-credential":
            rc = db.recovery_credentials
            conn.execute(
                sa.delete(rc).where(
                    rc.c.account_id == session.account_id,
                    rc.c.verifier == bytes.fromhex(found.target),
                    rc.c.active_from > now,
                )
            )
        notify(conn, settings, session.account_id, "action-cancelled", found.id, events)
    return sorted(_pending(r).id for r in rows)


def cancel_for_devices(
    conn: Connection, settings: Settings, device_ids: sa.Select[tuple[str]]
) -> None:
    """Revoked devices' open requests are dropped (and their pending credentials)."""
    now = settings.clock()
    rows = conn.execute(
        sa.update(_P)
        .where(_P.c.device_id.in_(device_ids), _P.c.cancelled.is_(None), _P.c.done.is_(None))
        .values(cancelled=now)
        .returning(_P.c.kind, _P.c.target, _P.c.account_id)
    ).all()
    rc = db.recovery_credentials
    for row in rows:
        if row.kind == "add-credential":
            conn.execute(
                sa.delete(rc).where(
                    rc.c.account_id == row.account_id,
                    rc.c.verifier == bytes.fromhex(row.target),
                    rc.c.active_from > now,
                )
            )


def has_credential_proof(
    conn: Connection, settings: Settings, session: Session, credential: bytes | None
) -> bool:
    """True when `credential` is an active recovery credential of the session's account: it
    lives only inside the account's backups, which open only with the backup password (or a
    recovery key), so a thief holding the device alone does not have it."""
    if credential is None:
        return False
    rc = db.recovery_credentials
    row = conn.execute(
        sa.select(rc.c.account_id, rc.c.active_from).where(
            rc.c.verifier == hashlib.sha256(credential).digest()
        )
    ).first()
    if row is None or not hmac.compare_digest(str(row.account_id), session.account_id):
        raise Refused(403, "The recovery credential given is not valid for this account.")
    if row.active_from is not None and row.active_from > settings.clock():
        raise Refused(403, "The recovery credential given is not active yet.")
    return True

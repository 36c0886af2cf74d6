"""The social-recovery relay. The server sees opaque mailbox ids and sealed blobs only.

- A guardian's device opens a mailbox; owners deposit shares sealed to that guardian in it.
- A new device opens a recovery request with an ephemeral public key and gets a short code.
- A guardian approves the request with one of its deposits, re-sealed to the request's key.
  The first approval binds the request to the deposit's owner; deposits of another owner are
  refused from then on. The owner's devices are notified.
- The re-sealed shares are released to the requesting device only after the owner's delay
  (counted from the first approval), and never after the owner cancelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.server import db
from seedguard.server.accounts import Session
from seedguard.server.refusals import Refused, not_found
from seedguard.server.settings import Settings

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud by phone
MAX_SEALED = 64 * 1024


Event = dict[str, object]  # {"account", "event", "code", "created"}: also sent to webhooks


def notify(
    conn: Connection, settings: Settings, account: str, event: str, code: str, out: list[Event]
) -> None:
    created = settings.clock()
    conn.execute(
        sa.insert(db.notifications).values(
            account_id=account, event=event, code=code, created=created
        )
    )
    out.append({"account": account, "event": event, "code": code, "created": created})


def set_webhook(
    conn: Connection,
    settings: Settings,
    me: Session,
    url: str | None,
    credential: bytes | None = None,
    events: list[Event] | None = None,
) -> None:
    """Where the server also POSTs this account's events (None: nowhere). The first webhook
    is set at once; changing or removing one (silencing the owner's alerts) waits for the
    account's delay unless a recovery credential proves the owner (server/guard.py)."""
    from seedguard.server import guard

    if (
        url is not None
        and not url.startswith("https://")
        and not (settings.allow_http_webhooks and url.startswith("http://"))
    ):
        raise Refused(400, "A webhook URL starts with https://.")
    current = webhook_of(conn, me.account_id)
    if current == url:
        return
    if current is not None and not guard.has_credential_proof(conn, settings, me, credential):
        guard.wait_or_proceed(
            conn,
            settings,
            me,
            "change-webhook",
            "webhook",
            url or "",
            [] if events is None else events,
        )
    if url is None:
        conn.execute(sa.delete(db.webhooks).where(db.webhooks.c.account_id == me.account_id))
    else:
        db.upsert(conn, db.webhooks, "account_id", account_id=me.account_id, url=url)


def webhook_of(conn: Connection, account: str) -> str | None:
    row = conn.execute(
        sa.select(db.webhooks.c.url).where(db.webhooks.c.account_id == account)
    ).first()
    return None if row is None else str(row.url)


def open_mailbox(conn: Connection, settings: Settings, me: Session) -> str:
    mailbox = secrets.token_hex(16)
    conn.execute(
        sa.insert(db.mailboxes).values(
            id=mailbox, account_id=me.account_id, created=settings.clock()
        )
    )
    return mailbox


def deposit(conn: Connection, settings: Settings, me: Session, mailbox: str, sealed: bytes) -> str:
    if not 0 < len(sealed) <= MAX_SEALED:
        raise Refused(413, f"A sealed share is 1 to {MAX_SEALED} bytes.")
    found = conn.execute(sa.select(db.mailboxes.c.id).where(db.mailboxes.c.id == mailbox)).first()
    if found is None:
        raise not_found(f"Mailbox {mailbox}")
    deposit_id = secrets.token_hex(16)
    conn.execute(
        sa.insert(db.deposits).values(
            id=deposit_id,
            mailbox_id=mailbox,
            owner_id=me.account_id,
            sealed=sealed,
            created=settings.clock(),
        )
    )
    return deposit_id


@dataclass(frozen=True)
class Deposit:
    deposit: str
    sealed: bytes
    created: float


def deposits(conn: Connection, me: Session, mailbox: str) -> list[Deposit]:
    """A guardian's mailbox: only its own account reads it."""
    owner = conn.execute(
        sa.select(db.mailboxes.c.account_id).where(db.mailboxes.c.id == mailbox)
    ).first()
    if owner is None or owner.account_id != me.account_id:
        raise not_found(f"Mailbox {mailbox}")
    rows = conn.execute(
        sa.select(db.deposits.c.id, db.deposits.c.sealed, db.deposits.c.created)
        .where(db.deposits.c.mailbox_id == mailbox)
        .order_by(db.deposits.c.created)
    ).all()
    return [Deposit(r.id, bytes(r.sealed), float(r.created)) for r in rows]


def set_delay(
    conn: Connection,
    settings: Settings,
    me: Session,
    seconds: float,
    credential: bytes | None = None,
    events: list[Event] | None = None,
) -> float:
    """The account's recovery delay. Lengthening it is at once; shortening it waits for the
    current delay unless a recovery credential proves the owner (server/guard.py)."""
    from seedguard.server import guard

    if seconds < settings.min_recovery_delay:
        hours = settings.min_recovery_delay / 3600
        raise Refused(400, f"This server's shortest recovery delay is {hours:g} hours.")
    if seconds < recovery_delay(conn, settings, me.account_id) and not (
        guard.has_credential_proof(conn, settings, me, credential)
    ):
        guard.wait_or_proceed(
            conn,
            settings,
            me,
            "shorten-delay",
            "delay",
            repr(float(seconds)),
            [] if events is None else events,
        )
    db.upsert(conn, db.recovery_delays, "account_id", account_id=me.account_id, seconds=seconds)
    return seconds


def recovery_delay(conn: Connection, settings: Settings, account: str) -> float:
    row = conn.execute(
        sa.select(db.recovery_delays.c.seconds).where(db.recovery_delays.c.account_id == account)
    ).first()
    chosen = row.seconds if row is not None else settings.default_recovery_delay
    return max(float(chosen), settings.min_recovery_delay)


def start(
    conn: Connection, settings: Settings, me: Session, label: str, public_key: str
) -> tuple[str, str]:
    """A new request; returns (request id, code)."""
    for _ in range(8):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        taken = conn.execute(
            sa.select(db.recovery_requests.c.id).where(db.recovery_requests.c.code == code)
        ).first()
        if taken is None:
            break
    else:  # pragma: no cover - 32^8 codes
        raise Refused(503, "Could not allocate a request code; try again.")
    request_id = secrets.token_hex(16)
    conn.execute(
        sa.insert(db.recovery_requests).values(
            id=request_id,
            code=code,
            requester_id=me.account_id,
            label=label,
            public_key=public_key,
            created=settings.clock(),
        )
    )
    return request_id, code


def _request(conn: Connection, code: str) -> sa.Row[tuple[object, ...]]:
    row = conn.execute(
        sa.select(db.recovery_requests).where(
            db.recovery_requests.c.code == code.replace("-", "").upper()
        )
    ).first()
    if row is None:
        raise not_found(f"Recovery request {code}")
    return row


def describe(conn: Connection, settings: Settings, code: str) -> dict[str, object]:
    """What a guardian sees before approving: who asks (the label they typed), when, and the
    key the share would be re-sealed to."""
    row = _request(conn, code)
    count = conn.execute(
        sa.select(sa.func.count()).where(db.approvals.c.request_id == row.id)
    ).scalar_one()
    return {
        "code": row.code,
        "label": row.label,
        "created": row.created,
        "public_key": row.public_key,
        "approvals": int(count),
        "state": _state(row, settings),
        "release_at": (row.bound + row.delay) if row.bound is not None else None,
    }


def _state(row: sa.Row[tuple[object, ...]], settings: Settings) -> str:
    if row.cancelled is not None:
        return "cancelled"
    if row.bound is None:
        return "waiting"
    if settings.clock() < float(row.bound) + float(row.delay):
        return "delayed"
    return "released"


def approve(
    conn: Connection,
    settings: Settings,
    me: Session,
    code: str,
    deposit_id: str,
    resealed: bytes,
    events: list[Event],
) -> int:
    """Attach a guardian's share, re-sealed to the request's key; returns the approvals."""
    if not 0 < len(resealed) <= MAX_SEALED:
        raise Refused(413, f"A sealed share is 1 to {MAX_SEALED} bytes.")
    row = _request(conn, code)
    if row.cancelled is not None:
        raise Refused(410, "The owner cancelled this recovery request.")
    found = conn.execute(
        sa.select(db.deposits.c.owner_id, db.mailboxes.c.account_id)
        .join(db.mailboxes, db.mailboxes.c.id == db.deposits.c.mailbox_id)
        .where(db.deposits.c.id == deposit_id)
    ).first()
    if found is None or found.account_id != me.account_id:
        raise not_found(f"Deposit {deposit_id}")
    owner = found.owner_id
    now = settings.clock()
    if row.owner_id is None:
        bound = conn.execute(
            sa.update(db.recovery_requests)
            .where(db.recovery_requests.c.id == row.id, db.recovery_requests.c.owner_id.is_(None))
            .values(owner_id=owner, bound=now, delay=recovery_delay(conn, settings, owner))
        )
        if bound.rowcount == 1:
            notify(conn, settings, owner, "recovery-requested", row.code, events)
        row = _request(conn, code)
    if row.owner_id != owner:
        raise Refused(403, "This request is for another wallet's owner: it cannot be approved "
                      "with this share.")  # fmt: skip
    exists = conn.execute(
        sa.select(db.approvals.c.deposit_id).where(
            db.approvals.c.request_id == row.id, db.approvals.c.deposit_id == deposit_id
        )
    ).first()
    if exists is None:
        conn.execute(
            sa.insert(db.approvals).values(
                request_id=row.id, deposit_id=deposit_id, resealed=resealed, created=now
            )
        )
        notify(conn, settings, owner, "recovery-approved", row.code, events)
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(db.approvals.c.request_id == row.id)
        ).scalar_one()
    )


def cancel(
    conn: Connection, settings: Settings, me: Session, code: str | None, events: list[Event]
) -> list[str]:
    """The owner stops recovery requests for their wallet (one, or every open one)."""
    table = db.recovery_requests
    where = (table.c.owner_id == me.account_id) & table.c.cancelled.is_(None)
    if code is not None:
        where = where & (table.c.code == code.replace("-", "").upper())
    rows = conn.execute(sa.select(table.c.code).where(where)).all()
    conn.execute(sa.update(table).where(where).values(cancelled=settings.clock()))
    for r in rows:
        notify(conn, settings, me.account_id, "recovery-cancelled", r.code, events)
    return [r.code for r in rows]


def release(conn: Connection, settings: Settings, me: Session, code: str) -> list[bytes]:
    """The re-sealed shares, to the requesting device, after the delay and only then."""
    row = _request(conn, code)
    if row.requester_id != me.account_id:
        raise not_found(f"Recovery request {code}")
    if row.cancelled is not None:
        raise Refused(410, "The owner cancelled this recovery request.")
    if row.bound is None:
        raise Refused(409, "No guardian has approved this request yet.")
    release_at = float(row.bound) + float(row.delay)
    now = settings.clock()
    if now < release_at:
        wait = release_at - now
        raise Refused(
            425,
            f"The shares are released after the owner's delay: {wait / 3600:.1f} more hours.",
            release_at=release_at,
        )
    rows = conn.execute(
        sa.select(db.approvals.c.resealed)
        .where(db.approvals.c.request_id == row.id)
        .order_by(db.approvals.c.created)
    ).all()
    return [bytes(r.resealed) for r in rows]


def notifications(conn: Connection, me: Session, after: int) -> list[dict[str, object]]:
    rows = conn.execute(
        sa.select(db.notifications)
        .where(db.notifications.c.account_id == me.account_id, db.notifications.c.id > after)
        .order_by(db.notifications.c.id)
        .limit(100)
    ).all()
    return [{"id": r.id, "event": r.event, "code": r.code, "created": r.created} for r in rows]

"""The social-recovery relay. The server sees opaque mailbox ids and sealed blobs only.

- A guardian's device opens a mailbox; owners deposit shares sealed to that guardian in it.
- A new device opens a recovery request with an ephemeral public key and gets a short code.
- A guardian approves the request with one of its deposits, re-sealed to the request's key.
  Approvals are grouped by the owner whose share they carry: each owner's group has its own
  delay (from that owner's first approval), its own notifications and its own cancel, so a
  stranger who heard the code and approves first with some other owner's share neither binds
  the request nor blocks the real guardians. A guardian counts once per owner and request,
  however many deposits of that owner it holds (the newest approval replaces the older).
- The re-sealed shares are released to the requesting device only (the session that opened
  the request and holds its key) after the owner's delay, group by group, and never a group
  whose owner cancelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.server import db, quotas
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
    n = db.notifications
    keep = settings.limits.notifications
    oldest_kept = (
        sa.select(n.c.id)
        .where(n.c.account_id == account)
        .order_by(n.c.id.desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(sa.delete(n).where(n.c.account_id == account, n.c.id < oldest_kept))
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
    quotas.enforce(
        conn,
        quotas.count(db.mailboxes, db.mailboxes.c.account_id == me.account_id),
        settings.limits.mailboxes,
        "This account holds as many mailboxes as it may: reuse one",
        "mailboxes",
    )
    mailbox = secrets.token_hex(16)
    conn.execute(
        sa.insert(db.mailboxes).values(
            id=mailbox, account_id=me.account_id, created=settings.clock()
        )
    )
    return mailbox


def deposit(conn: Connection, settings: Settings, me: Session, mailbox: str, sealed: bytes) -> str:
    if not sealed:
        raise Refused(400, "The sealed share is empty: seal the share, then send it.")
    if len(sealed) > MAX_SEALED:
        raise Refused(413, f"A sealed share is at most {MAX_SEALED} bytes.")
    found = conn.execute(sa.select(db.mailboxes.c.id).where(db.mailboxes.c.id == mailbox)).first()
    if found is None:
        raise not_found(f"Mailbox {mailbox}")
    d = db.deposits
    quotas.enforce(
        conn,
        quotas.count(d, d.c.mailbox_id == mailbox, d.c.owner_id == me.account_id),
        settings.limits.deposits_per_owner,
        "You hold as many shares in this guardian's mailbox as one owner may",
        "deposits-per-owner",
    )
    quotas.enforce(
        conn,
        quotas.count(d, d.c.mailbox_id == mailbox),
        settings.limits.deposits_per_mailbox,
        "This guardian's mailbox is full: ask the guardian for a new code",
        "deposits-per-mailbox",
    )
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


def deposits(
    conn: Connection, settings: Settings, me: Session, mailbox: str, after: str | None = None
) -> tuple[list[Deposit], str | None]:
    """One page of a guardian's mailbox (only its own account reads it), oldest first, and
    the cursor of the next page (None: this was the last). The cursor is the last deposit's id;
    a page is one bounded query, whatever the mailbox holds."""
    owner = conn.execute(
        sa.select(db.mailboxes.c.account_id).where(db.mailboxes.c.id == mailbox)
    ).first()
    if owner is None or owner.account_id != me.account_id:
        raise not_found(f"Mailbox {mailbox}")
    d = db.deposits
    query = sa.select(d.c.id, d.c.sealed, d.c.created).where(d.c.mailbox_id == mailbox)
    if after is not None:
        mark = conn.execute(
            sa.select(d.c.created).where(d.c.id == after, d.c.mailbox_id == mailbox)
        ).first()
        if mark is None:
            raise Refused(400, "The page cursor is not a deposit of this mailbox: start over.")
        query = query.where(sa.tuple_(d.c.created, d.c.id) > sa.tuple_(mark.created, after))
    size = settings.limits.page
    rows = conn.execute(query.order_by(d.c.created, d.c.id).limit(size + 1)).all()
    page = [Deposit(r.id, bytes(r.sealed), float(r.created)) for r in rows[:size]]
    return page, (page[-1].deposit if len(rows) > size else None)


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
    quotas.enforce(
        conn,
        quotas.count(db.recovery_requests, db.recovery_requests.c.requester_id == me.account_id),
        settings.limits.requests,
        "This device opened as many recovery requests as it may: finish one, or sign in anew",
        "requests",
    )
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


@dataclass(frozen=True)
class Group:
    """One owner's approvals of a request."""

    owner: str
    bound: float  # that owner's first approval
    delay: float
    cancelled: float | None

    @property
    def release_at(self) -> float:
        return self.bound + self.delay


def _groups(conn: Connection, request_id: str) -> list[Group]:
    g = db.request_owners
    rows = conn.execute(
        sa.select(g).where(g.c.request_id == request_id).order_by(g.c.bound, g.c.owner_id)
    ).all()
    return [Group(r.owner_id, float(r.bound), float(r.delay), r.cancelled) for r in rows]


def describe(conn: Connection, settings: Settings, code: str) -> dict[str, object]:
    """What a guardian sees before approving: who asks (the label they typed), when, and the
    key the share would be re-sealed to."""
    row = _request(conn, code)
    count = conn.execute(
        quotas.count(db.approvals, db.approvals.c.request_id == row.id)
    ).scalar_one()
    groups = _groups(conn, row.id)
    open_groups = [g for g in groups if g.cancelled is None]
    return {
        "code": row.code,
        "label": row.label,
        "created": row.created,
        "public_key": row.public_key,
        "approvals": int(count),
        "state": _state(groups, settings),
        "release_at": min((g.release_at for g in open_groups), default=None),
    }


def _state(groups: list[Group], settings: Settings) -> str:
    if not groups:
        return "waiting"
    now = settings.clock()
    live = [g for g in groups if g.cancelled is None]
    if not live:
        return "cancelled"
    if any(g.release_at <= now for g in live):
        return "released"
    return "delayed"


def approve(
    conn: Connection,
    settings: Settings,
    me: Session,
    code: str,
    deposit_id: str,
    resealed: bytes,
    events: list[Event],
) -> int:
    """Attach a guardian's share, re-sealed to the request's key; returns the approvals of
    that share's owner."""
    if not resealed:
        raise Refused(400, "The sealed share is empty: seal the share, then send it.")
    if len(resealed) > MAX_SEALED:
        raise Refused(413, f"A sealed share is at most {MAX_SEALED} bytes.")
    row = _request(conn, code)
    found = conn.execute(
        sa.select(db.deposits.c.owner_id, db.mailboxes.c.account_id)
        .join(db.mailboxes, db.mailboxes.c.id == db.deposits.c.mailbox_id)
        .where(db.deposits.c.id == deposit_id)
    ).first()
    if found is None or found.account_id != me.account_id:
        raise not_found(f"Deposit {deposit_id}")
    owner = str(found.owner_id)
    now = settings.clock()
    g = db.request_owners
    mine = (g.c.request_id == row.id) & (g.c.owner_id == owner)
    group = conn.execute(sa.select(g.c.cancelled).where(mine)).first()
    if group is None:
        quotas.enforce(
            conn,
            quotas.count(g, g.c.request_id == row.id),
            settings.limits.owners_per_request,
            "This recovery request holds approvals for as many owners as it may: the device "
            "that asked should open a new one",
            "owners-per-request",
        )
        added = db.insert_new(
            conn,
            g,
            request_id=row.id,
            owner_id=owner,
            bound=now,
            delay=recovery_delay(conn, settings, owner),
        )
        if added:
            notify(conn, settings, owner, "recovery-requested", row.code, events)
        group = conn.execute(sa.select(g.c.cancelled).where(mine)).first()
    if group is not None and group.cancelled is not None:
        raise Refused(410, "The owner cancelled this recovery request.")
    a = db.approvals
    given = (
        (a.c.request_id == row.id) & (a.c.owner_id == owner) & (a.c.guardian_id == me.account_id)
    )
    before = conn.execute(sa.select(a.c.deposit_id).where(given)).first()
    if before is None:  # one per guardian of this owner: bounded by the owner's own deposits
        added = db.insert_new(
            conn,
            a,
            request_id=row.id,
            deposit_id=deposit_id,
            resealed=resealed,
            created=now,
            owner_id=owner,
            guardian_id=me.account_id,
        )
        if added:
            notify(conn, settings, owner, "recovery-approved", row.code, events)
    else:  # this guardian again, for the same owner: its newest share replaces the older
        conn.execute(
            sa.update(a).where(given).values(deposit_id=deposit_id, resealed=resealed, created=now)
        )
    return int(
        conn.execute(quotas.count(a, a.c.request_id == row.id, a.c.owner_id == owner)).scalar_one()
    )


def cancel(
    conn: Connection, settings: Settings, me: Session, code: str | None, events: list[Event]
) -> list[str]:
    """The owner stops recovery requests for their wallet (one, or every open one): the
    owner's group of approvals is never released; another owner's group is not theirs."""
    g = db.request_owners
    r = db.recovery_requests
    where = (g.c.owner_id == me.account_id) & g.c.cancelled.is_(None)
    if code is not None:
        chosen = sa.select(r.c.id).where(r.c.code == code.replace("-", "").upper())
        where = where & g.c.request_id.in_(chosen)
    rows = conn.execute(
        sa.select(r.c.code, g.c.request_id).join(r, r.c.id == g.c.request_id).where(where)
    ).all()
    conn.execute(sa.update(g).where(where).values(cancelled=settings.clock()))
    for row in rows:
        notify(conn, settings, me.account_id, "recovery-cancelled", row.code, events)
    return [row.code for row in rows]


def release(conn: Connection, settings: Settings, me: Session, code: str) -> list[list[bytes]]:
    """The re-sealed shares, to the requesting device, after the delay and only then: one
    list per owner whose delay has passed and who did not cancel, the earliest first."""
    row = _request(conn, code)
    if row.requester_id != me.account_id:
        raise not_found(f"Recovery request {code}")
    groups = _groups(conn, row.id)
    if not groups:
        raise Refused(409, "No guardian has approved this request yet.")
    live = [g for g in groups if g.cancelled is None]
    if not live:
        raise Refused(410, "The owner cancelled this recovery request.")
    now = settings.clock()
    ready = [g for g in live if g.release_at <= now]
    if not ready:
        release_at = min(g.release_at for g in live)
        wait = release_at - now
        raise Refused(
            425,
            f"The shares are released after the owner's delay: {wait / 3600:.1f} more hours.",
            release_at=release_at,
        )
    a = db.approvals
    out = []
    for group in ready:
        rows = conn.execute(
            sa.select(a.c.resealed)
            .where(a.c.request_id == row.id, a.c.owner_id == group.owner)
            .order_by(a.c.created, a.c.deposit_id)
        ).all()
        out.append([bytes(r.resealed) for r in rows])
    return out


def notifications(
    conn: Connection, settings: Settings, me: Session, after: int
) -> tuple[list[dict[str, object]], int | None]:
    """One page of this account's events after the cursor `after` (an event id), and the
    next page's cursor (None: no more now)."""
    size = settings.limits.page
    rows = conn.execute(
        sa.select(db.notifications)
        .where(db.notifications.c.account_id == me.account_id, db.notifications.c.id > after)
        .order_by(db.notifications.c.id)
        .limit(size + 1)
    ).all()
    page = [{"id": r.id, "event": r.event, "code": r.code, "created": r.created} for r in rows]
    return page[:size], (int(rows[size - 1].id) if len(rows) > size else None)

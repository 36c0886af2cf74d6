"""An MPC wallet's spending policy, and the server's check of what it co-signs (docs/mpc.md
§ The server as a guard).

The server signs a transaction only from the PSBT itself: it finds the wallet's inputs by
deriving their keys (mpc/psbt.py, the device's own code), recomputes each sighash, and counts
what leaves the wallet (outputs that are neither its own change nor on its allowlist) against
a rolling 24-hour limit. A spend over the limit waits for the account's delay as a pending
action (server/guard.py: announced to every device and the webhook, cancellable from any),
and the same device completes it by asking again after the delay. A policy change that
loosens (a higher or no limit, a new allowlisted destination, raw-hash signing on) waits the
same way; one that tightens applies at once.

The count is exact under concurrency: the wallet row is locked (FOR UPDATE on PostgreSQL;
SQLite's BEGIN IMMEDIATE takes the write lock) before the ledger is summed and the spend
written, in the transaction that consumes the nonces and signs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.server import db, guard
from seedguard.server.social import Event

DAY = 24 * 3600.0
MAX_ALLOWLIST = 20
_W = db.mpc_wallets
_S = db.mpc_spends


@dataclass(frozen=True)
class Policy:
    daily_limit: int | None  # satoshis per rolling 24 hours; None: no limit
    allowlist: tuple[str, ...]  # scriptPubKeys (hex) that bypass the limit
    raw_signing: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "daily_limit": self.daily_limit,
            "allowlist": list(self.allowlist),
            "raw_signing": self.raw_signing,
        }

    def digest(self) -> str:
        """What a pending change is recorded as (the device repeats the same policy)."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def loosens(self, current: Policy) -> bool:
        if self.raw_signing and not current.raw_signing:
            return True
        if set(self.allowlist) - set(current.allowlist):
            return True
        if current.daily_limit is None:
            return False
        return self.daily_limit is None or self.daily_limit > current.daily_limit


def load(conn: Connection, wallet_id: str, lock: bool = False) -> Policy:
    query = sa.select(_W.c.daily_limit, _W.c.allowlist, _W.c.raw_signing).where(
        _W.c.id == wallet_id
    )
    if lock and conn.dialect.name != "sqlite":  # SQLite: BEGIN IMMEDIATE holds the lock
        query = query.with_for_update()
    row = conn.execute(query).one()
    return Policy(
        None if row.daily_limit is None else int(row.daily_limit),
        tuple(json.loads(row.allowlist)) if row.allowlist else (),
        bool(row.raw_signing),
    )


def spent(conn: Connection, wallet_id: str, now: float) -> int:
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(_S.c.amount), 0)).where(
            _S.c.wallet_id == wallet_id, _S.c.at > now - DAY
        )
    ).scalar_one()
    return int(total)


def change(
    conn: Connection,
    settings: Any,
    session: Any,
    wallet_id: str,
    new: Policy,
    events: list[Event],
) -> Policy:
    """Apply `new` now when it tightens; when it loosens, after the delay (raises
    guard.Waiting until this device repeats it after the release time)."""
    current = load(conn, wallet_id, lock=True)
    if new.loosens(current):
        guard.wait_or_proceed(
            conn, settings, session, "loosen-policy", wallet_id, new.digest(), events
        )
    conn.execute(
        sa.update(_W)
        .where(_W.c.id == wallet_id)
        .values(
            daily_limit=new.daily_limit,
            allowlist=json.dumps(list(new.allowlist)) if new.allowlist else None,
            raw_signing=new.raw_signing,
        )
    )
    return new


def admit_spend(
    conn: Connection,
    settings: Any,
    session: Any,
    wallet_id: str,
    txid: str,
    outgoing: int,
    events: list[Event],
) -> None:
    """Record a spend of `outgoing` satoshis, or make it wait when it would take the last 24
    hours over the limit (raises guard.Waiting; after the delay the same request goes)."""
    current = load(conn, wallet_id, lock=True)
    now = settings.clock()
    if current.daily_limit is not None and outgoing > 0:
        already = spent(conn, wallet_id, now)
        if already + outgoing > current.daily_limit:
            guard.wait_or_proceed(
                conn, settings, session, "mpc-spend", wallet_id, f"{txid}:{outgoing}", events
            )
    if outgoing > 0:
        conn.execute(
            sa.insert(_S).values(
                id=secrets.token_hex(8), wallet_id=wallet_id, txid=txid, amount=outgoing, at=now
            )
        )

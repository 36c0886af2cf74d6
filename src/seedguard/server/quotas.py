"""Per-account (and per-mailbox) row limits: what one account may make the server store
(settings.Limits). Counted before the insert, in the same transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.server.refusals import Refused


def enforce(conn: Connection, count: sa.Select[int], limit: int, what: str, name: str) -> None:
    """Refuse (429) when `count` already reached `limit`. `what` says what is full and what
    the user can do; `name` is the server's --limit setting."""
    held = int(conn.execute(count).scalar_one())
    if held >= limit:
        raise Refused(
            429,
            f"{what} (this server's limit is {limit}; its operator sets it with "
            f"`--limit {name}=N`).",
        )


def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> sa.Select[int]:
    return sa.select(sa.func.count()).select_from(table).where(*where)

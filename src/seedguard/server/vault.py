"""The vault: opaque envelopes per account, each with a generation for compare-and-swap.

A write names the generation it replaces (or none, to create): a stale write changes nothing
and is refused with 412, so two devices never clobber each other. Sizes and quota are checked
in the same transaction as the write.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from seedguard.server import db
from seedguard.server.accounts import Session
from seedguard.server.refusals import Refused, not_found
from seedguard.server.settings import Settings

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # fullmatch: no "$" (it allows "\n")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise Refused(400, "A vault name is 1-128 letters, digits, '.', '_' or '-'.")
    return name


def usage(conn: Connection, account_id: str) -> tuple[int, int]:
    row = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(db.vault.c.size), 0), sa.func.count()).where(
            db.vault.c.account_id == account_id
        )
    ).one()
    return int(row[0]), int(row[1])


def list_objects(conn: Connection, session: Session) -> list[dict[str, object]]:
    rows = conn.execute(
        sa.select(db.vault.c.name, db.vault.c.size, db.vault.c.generation, db.vault.c.updated)
        .where(db.vault.c.account_id == session.account_id)
        .order_by(db.vault.c.name)
    ).all()
    return [
        {"name": r.name, "size": r.size, "generation": r.generation, "updated": r.updated}
        for r in rows
    ]


def _fetch(column: sa.Column[Any]) -> sa.Select[Any]:
    return sa.select(db.vault.c.generation, column).where(
        db.vault.c.account_id == sa.bindparam("account"), db.vault.c.name == sa.bindparam("name")
    )


_GET, _HEAD = _fetch(db.vault.c.data), _fetch(db.vault.c.size)  # built once: the hot path


def get(conn: Connection, session: Session, name: str, body: bool = True) -> tuple[bytes, int]:
    query = _GET if body else _HEAD
    row = db.first_row(conn, query, account=session.account_id, name=check_name(name))
    if row is None:
        raise not_found(f"Vault object {name}")
    generation, data = row
    return (bytes(data) if body else b""), int(generation)


def put(
    conn: Connection,
    settings: Settings,
    session: Session,
    name: str,
    data: bytes,
    expected: int | None,
) -> int:
    """Store `data` if the current generation is `expected` (None: the name must be free)."""
    check_name(name)
    if len(data) > settings.max_object_bytes:
        raise Refused(
            413, f"The object is larger than this server's limit ({settings.max_object_bytes})."
        )
    now = settings.clock()
    table = db.vault
    where = (table.c.account_id == session.account_id) & (table.c.name == name)
    if conn.dialect.name != "sqlite":  # SQLite's BEGIN IMMEDIATE already serializes writers
        # One writer per account at a time, so two concurrent writes cannot both pass the
        # quota check.
        conn.execute(
            sa.select(db.accounts.c.id)
            .where(db.accounts.c.id == session.account_id)
            .with_for_update()
        )
    used, count = usage(conn, session.account_id)
    old = conn.execute(sa.select(table.c.size, table.c.generation).where(where)).first()
    old_size = old.size if old is not None else 0
    if used - old_size + len(data) > settings.quota_bytes:
        raise Refused(
            413, f"The account's vault is full ({used} of {settings.quota_bytes} bytes used)."
        )
    if old is None and count >= settings.max_objects:
        raise Refused(413, f"The account's vault holds its limit of {settings.max_objects}.")
    if expected is None:
        if old is not None:
            raise Refused(
                412, f"{name} already exists (generation {old.generation}).", current=old.generation
            )
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.insert(table).values(
                        account_id=session.account_id,
                        name=name,
                        generation=1,
                        size=len(data),
                        data=data,
                        updated=now,
                    )
                )
        except sa.exc.IntegrityError:
            raise Refused(412, f"{name} was created meanwhile by another device.") from None
        return 1
    # The conditional UPDATE is the compare-and-swap: it matches only the expected generation.
    row = conn.execute(
        sa.update(table)
        .where(where, table.c.generation == expected)
        .values(generation=table.c.generation + 1, size=len(data), data=data, updated=now)
        .returning(table.c.generation)
    ).first()
    if row is None:
        current = old.generation if old is not None else None
        raise Refused(
            412,
            f"{name} changed meanwhile (generation {current}, not {expected}): read it again.",
            current=current,
        )
    return int(row.generation)


def delete(conn: Connection, session: Session, name: str, expected: int | None) -> None:
    where = (db.vault.c.account_id == session.account_id) & (db.vault.c.name == check_name(name))
    if expected is not None:
        where = where & (db.vault.c.generation == expected)
    if conn.execute(sa.delete(db.vault).where(where)).rowcount == 0:
        if expected is not None and get(conn, session, name, body=False):
            raise Refused(412, f"{name} changed meanwhile: read it again.")
        raise not_found(f"Vault object {name}")

"""The server's tables (SQLAlchemy Core), its engine, and the Alembic migration entry points.

Every mutation of a counter, a generation or a one-use row is a single conditional UPDATE or
DELETE, so it is atomic under concurrent requests from any number of processes on PostgreSQL
(row locks) and on SQLite (one writer at a time; transactions start with BEGIN IMMEDIATE).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from seedguard.errors import UnreachableError, UsageError

T = TypeVar("T")
metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created", sa.Float, nullable=False),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("public_key", sa.LargeBinary(33), nullable=False, unique=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("revoked", sa.Float, nullable=True),
)

challenges = sa.Table(
    "challenges",
    metadata,
    sa.Column("challenge", sa.LargeBinary(32), primary_key=True),
    sa.Column("public_key", sa.LargeBinary(33), nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
    sa.Column("device_id", sa.String(32), sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)

recovery_credentials = sa.Table(
    "recovery_credentials",
    metadata,
    sa.Column("verifier", sa.LargeBinary(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    # Migration 0004: a credential added while the account already has one works only from
    # here (the account's delay later, announced and cancellable); NULL: at once.
    sa.Column("active_from", sa.Float, nullable=True),
)

vault = sa.Table(
    "vault",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
)

oprf_keys = sa.Table(
    "oprf_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of the handle, in hex
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    # Sealed under the server's key (hardening._wrap; 72 bytes), or raw (32) when stored
    # before migration 0004's release or by a server without a key.
    sa.Column("secret_key", sa.LargeBinary, nullable=False),
    sa.Column("verifier", sa.LargeBinary(32), nullable=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

destroyed_keys = sa.Table(
    "destroyed_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("destroyed", sa.Float, nullable=False),
)


mailboxes = sa.Table(
    "mailboxes",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

deposits = sa.Table(
    "deposits",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("mailbox_id", sa.String(32), sa.ForeignKey("mailboxes.id"), nullable=False),
    sa.Column("owner_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)

sa.Index("deposits_page", deposits.c.mailbox_id, deposits.c.created, deposits.c.id)

recovery_delays = sa.Table(
    "recovery_delays",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("seconds", sa.Float, nullable=False),
)

recovery_requests = sa.Table(
    "recovery_requests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("requester_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("public_key", sa.String(128), nullable=False),
    sa.Column("owner_id", sa.String(32), nullable=True),
    sa.Column("bound", sa.Float, nullable=True),
    sa.Column("delay", sa.Float, nullable=True),
    sa.Column("cancelled", sa.Float, nullable=True),
    sa.Column("created", sa.Float, nullable=False),
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("request_id", sa.String(32), sa.ForeignKey("recovery_requests.id"), primary_key=True),
    sa.Column("deposit_id", sa.String(32), sa.ForeignKey("deposits.id"), primary_key=True),
    sa.Column("resealed", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    # Migration 0004: whose share it is and which guardian gave it; a guardian counts once per
    # owner and request, whatever number of deposits it holds.
    sa.Column("owner_id", sa.String(32), nullable=True),
    sa.Column("guardian_id", sa.String(32), nullable=True),
    sa.UniqueConstraint("request_id", "owner_id", "guardian_id", name="approvals_once"),
)

# Migration 0004. A request's approvals are grouped by the owner whose shares they carry; each
# owner's group has its own delay (from its first approval) and its own cancel, so a stranger
# who heard the code and approves first with another owner's share binds nothing. (The
# request's own owner_id, bound, delay and cancelled columns are from before: migrated here.)
request_owners = sa.Table(
    "request_owners",
    metadata,
    sa.Column("request_id", sa.String(32), sa.ForeignKey("recovery_requests.id"), primary_key=True),
    sa.Column("owner_id", sa.String(32), primary_key=True),
    sa.Column("bound", sa.Float, nullable=False),
    sa.Column("delay", sa.Float, nullable=False),
    sa.Column("cancelled", sa.Float, nullable=True),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)
sa.Index("notifications_page", notifications.c.account_id, notifications.c.id)


webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("url", sa.String(512), nullable=False),
)


# MPC wallets (migration 0003). Secret columns (`share`, `pending_share`, `dkg_state`,
# `secnonce`) hold XChaCha20-Poly1305 ciphertexts under the server's share key.
mpc_wallets = sa.Table(
    "mpc_wallets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # "dkg" until the key exists, "active"
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("thresh_pk", sa.LargeBinary(33), nullable=True),
    sa.Column("pubshares", sa.LargeBinary, nullable=True),
    sa.Column("share", sa.LargeBinary, nullable=True),
    sa.Column("pending_pubshares", sa.LargeBinary, nullable=True),
    sa.Column("pending_share", sa.LargeBinary, nullable=True),
    sa.Column("dkg_state", sa.LargeBinary, nullable=True),
    sa.Column("dkg_hostpubkeys", sa.LargeBinary, nullable=True),
    sa.Column("dkg_cmsg1", sa.LargeBinary, nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    # Migration 0004: what gates re-creating the cloud share from the device (docs/mpc.md):
    # the OPRF key id of the cloud envelope's hardened slot, and SHA-256 of a value derived
    # from the cloud envelope's recovery key.
    sa.Column("cloud_key_id", sa.String(64), nullable=True),
    sa.Column("recovery_verifier", sa.LargeBinary(32), nullable=True),
    # Migration 0005: the spending policy (server/policy.py). New wallets sign raw hashes
    # only when made so; an allowlist is a JSON list of scriptPubKeys in hex.
    sa.Column("raw_signing", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("daily_limit", sa.BigInteger, nullable=True),
    sa.Column("allowlist", sa.Text, nullable=True),
)

# Migration 0005. What left each wallet (outputs that were not its own change nor
# allowlisted), for the rolling 24-hour limit.
mpc_spends = sa.Table(
    "mpc_spends",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("wallet_id", sa.String(32), sa.ForeignKey("mpc_wallets.id"), nullable=False),
    sa.Column("txid", sa.String(64), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("mpc_spends_wallet", "wallet_id", "at"),
)

mpc_nonces = sa.Table(
    "mpc_nonces",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("wallet_id", sa.String(32), sa.ForeignKey("mpc_wallets.id"), nullable=False),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("secnonce", sa.LargeBinary, nullable=False),
    sa.Column("pubnonce", sa.LargeBinary(66), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)


# Migration 0004. A one-use challenge that a share proof signs (threshold/proofs.py), issued to one
# session for one wallet.
mpc_challenges = sa.Table(
    "mpc_challenges",
    metadata,
    sa.Column("challenge", sa.LargeBinary(32), primary_key=True),
    sa.Column("wallet_id", sa.String(32), nullable=False),
    sa.Column("device_id", sa.String(32), nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)

# Migration 0004. An action a device asked for that must wait for the account's delay
# (announced to every device and the webhook, cancellable from any of them): server/guard.py.
pending_actions = sa.Table(
    "pending_actions",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("device_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("value", sa.String(512), nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("release_at", sa.Float, nullable=False),
    sa.Column("cancelled", sa.Float, nullable=True),
    sa.Column("done", sa.Float, nullable=True),
)


def _insert(conn: Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_new(conn: Connection, table: sa.Table, **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: True when the row was added. Two concurrent first
    inserts of one key get one row and one False, never a unique violation (a 500)."""
    key = next(iter(table.primary_key.columns))
    statement = _insert(conn, table).values(**values).on_conflict_do_nothing().returning(key)
    return conn.execute(statement).first() is not None


def upsert(conn: Connection, table: sa.Table, key: str, **values: Any) -> None:
    """INSERT, or UPDATE the row with the same `key` (one statement: no race)."""
    statement = _insert(conn, table).values(**values)
    changed = {k: v for k, v in values.items() if k != key}
    conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=changed))


def default_url(home: Path) -> str:
    return f"sqlite:///{home / 'server' / 'seedguard.db'}"


def parse_url(url: str) -> URL:
    """An SQLAlchemy URL for sqlite:///path or postgresql://...; no password in it (argv and
    process listings are readable: PostgreSQL passwords belong in ~/.pgpass)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError(
            f"{url!r} is not a database URL: give sqlite:///path or postgresql://host/db."
        ) from None
    if parsed.password:
        raise UsageError(
            "The database URL holds a password: remove it and put it in ~/.pgpass "
            "(or PGPASSFILE), where PostgreSQL's client library reads it."
        )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise UsageError(f"Unsupported database {backend!r}: use sqlite:///path or postgresql://.")


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun explicitly below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock up front: two processes never interleave a read-then-write.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_path(url: str) -> Path | None:
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _private_sqlite(path: Path) -> None:
    """The database file 0600 before SQLite opens it, wherever it is: SQLite creates the
    -wal and -shm files with the database's own mode. Existing ones are tightened too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(name, 0o600)


def engine(url: str, autocommit: bool = False) -> Engine:
    """An engine whose connections run transactions (BEGIN IMMEDIATE on SQLite), or, with
    `autocommit`, one statement at a time. Two engines rather than one switched per request:
    switching a pooled connection's isolation level costs more than the statements."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite(Path(parsed.database))
        # An autocommit connection never holds a transaction between statements (the driver
        # is in autocommit mode, see _sqlite_pragmas): returning it to the pool needs no
        # ROLLBACK, which was a tenth of the hot route's cost.
        reset = None if autocommit else "rollback"
        eng = sa.create_engine(parsed, connect_args={"timeout": 30}, pool_reset_on_return=reset)
        sa.event.listen(eng, "connect", _sqlite_pragmas)
        if not autocommit:
            sa.event.listen(eng, "begin", _sqlite_begin)
        return eng
    if autocommit:
        return sa.create_engine(
            parsed,
            pool_size=10,
            max_overflow=20,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,  # AUTOCOMMIT: no transaction is ever left open
        )
    return sa.create_engine(parsed, pool_size=10, max_overflow=20)


class _Prepared:
    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.defaults = dict(compiled.params)  # literals the statement binds itself
        self.order = compiled.positiontup  # None for a named paramstyle (psycopg)


_prepared: dict[tuple[int, str], _Prepared] = {}


def first_row(conn: Connection, statement: Any, **values: Any) -> tuple[Any, ...] | None:
    """The first row of a statement built once at import, compiled once per dialect, and run
    on the driver's own cursor; the row is a plain tuple in the statement's column order.

    For the hot path only: SQLAlchemy's per-execution work (about 0.1 ms) costs more than
    the statement itself on SQLite. Values must already be what the driver takes (bytes,
    str, numbers).
    """
    key = (id(statement), conn.dialect.name)
    prepared = _prepared.get(key)
    if prepared is None:
        prepared = _prepared[key] = _Prepared(statement, conn.dialect)
    params = {**prepared.defaults, **values}
    cursor = conn.connection.cursor()
    try:
        if prepared.order is not None:
            cursor.execute(prepared.sql, tuple(params[k] for k in prepared.order))
        else:
            cursor.execute(prepared.sql, params)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else tuple(row)


class Database:
    """The engine and the three ways a route touches it.

    `read` and `statement` run without BEGIN/COMMIT (autocommit): a single statement is atomic
    on its own, and a request then costs one round trip per statement. `transaction` is for
    read-then-write work. On SQLite, writers in this process queue on a lock rather than in
    SQLite's sleeping busy handler (other processes still meet the busy timeout).
    """

    def __init__(self, url: str) -> None:
        self.engine = engine(url)
        self.sqlite = self.engine.url.get_backend_name() == "sqlite"
        self._autocommit = engine(url, autocommit=True)
        self._writers: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if self.sqlite else contextlib.nullcontext()
        )
        self._local = threading.local()
        self._kept: list[Connection] = []
        # PostgreSQL's hot-route statements on the event loop (None on SQLite, whose work
        # already runs on the loop, in process).
        self.async_statements = (
            None if self.sqlite else AsyncStatements(url, self._autocommit.dialect)
        )

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self._autocommit.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def statement(self) -> Iterator[Connection]:
        """One writing statement (plus reads). On SQLite each thread keeps one autocommit
        connection for these (no pool checkout and return per request: a third of the hot
        route's cost); a network database takes one from its pool."""
        if not self.sqlite:
            with self._autocommit.connect() as conn:
                yield conn
            return
        with self._writers:
            kept: Connection | None = getattr(self._local, "conn", None)
            if kept is None or kept.closed:
                kept = self._local.conn = self._autocommit.connect()
                self._kept.append(kept)
            yield kept

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction, committed when the block ends, or when it raises KeepWrites (a
        refusal whose writes stand); rolled back on any other exception."""
        from seedguard.server.refusals import KeepWrites

        with self._writers, self.engine.connect() as conn:
            trans = conn.begin()
            try:
                yield conn
            except KeepWrites:
                trans.commit()
                raise
            except BaseException:
                trans.rollback()
                raise
            trans.commit()

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work` (which uses this database) for an async route. SQLite is in-process and
        answers in microseconds: its work runs right on the event loop, which spares a thread
        switch per request. A network database's work runs in the thread pool, so a slow
        round trip never holds up other requests."""
        if self.sqlite:
            return work(*args, **kwargs)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(work, *args, **kwargs)

    def dispose(self) -> None:
        for conn in self._kept:
            with contextlib.suppress(Exception):
                conn.close()
        self.engine.dispose()
        self._autocommit.dispose()


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("seedguard.server") / "migrations")
    )
    config.attributes["url"] = parse_url(url)
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(eng: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with eng.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise UnreachableError(f"The database cannot be reached: {_reason(exc)}.") from None


def migrate(url: str) -> tuple[str | None, str]:
    """Apply every pending migration; returns (revision before, revision after)."""
    from alembic import command

    eng = engine(url)
    try:
        before = current_revision(eng)
        config = _alembic_config(url)
        with eng.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return before, head_revision()
    finally:
        eng.dispose()


def check_schema(eng: Engine) -> None:
    """Refuse to serve a database whose schema is not this version's."""
    current, head = current_revision(eng), head_revision()
    if current != head:
        state = "is empty" if current is None else f"is at revision {current}"
        raise UsageError(
            f"The database {state}; this server needs revision {head}: run "
            "`seedguard server migrate` with the same --database first."
        )


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__


class AsyncStatements:
    """One-statement hot-route work on PostgreSQL, run on the event loop by psycopg's async
    connection instead of a worker thread for a synchronous driver (a thread hand-off per
    statement was most of the route's cost). Autocommit connections, kept between requests,
    at most `size` at once. The statements are the same prepared ones `first_row` runs: one
    conditional UPDATE still counts each attempt, so the guess limit stays exact."""

    def __init__(self, url: str, dialect: Any, size: int = 8) -> None:
        parsed = parse_url(url)
        self.conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.dialect = dialect
        self.size = size
        self._idle: list[Any] = []
        self._slots: Any = None  # an asyncio.Semaphore, made in the serving loop

    async def first_row(self, statement: Any, **values: Any) -> tuple[Any, ...] | None:
        import asyncio

        import psycopg

        from seedguard.server.refusals import Refused

        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        key = (id(statement), self.dialect.name)
        prepared = _prepared.get(key)
        if prepared is None:
            prepared = _prepared[key] = _Prepared(statement, self.dialect)
        params = {**prepared.defaults, **values}
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            try:
                if conn is None or conn.closed:
                    conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                cursor = await conn.execute(prepared.sql, params)
                row = await cursor.fetchone()
            except psycopg.OperationalError:
                if conn is not None:
                    await conn.close()
                raise Refused(503, "The database cannot be reached now: try again.") from None
            except BaseException:
                if conn is not None:
                    await conn.close()  # its state is unknown: never reuse it
                raise
            self._idle.append(conn)
        return None if row is None else tuple(row)

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()

"""The server's tables (SQLAlchemy Core), its engine, and the Alembic migration entry points.

Every mutation of a counter, a generation or a one-use row is a single conditional UPDATE or
DELETE, so it is atomic under concurrent requests from any number of processes on PostgreSQL
(row locks) and on SQLite (one writer at a time; transactions start with BEGIN IMMEDIATE).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from seedguard.errors import UnreachableError, UsageError

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
    sa.Column("secret_key", sa.LargeBinary(32), nullable=False),
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
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock up front: two processes never interleave a read-then-write.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine(url: str) -> Engine:
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            folder = Path(parsed.database).parent
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        eng = sa.create_engine(parsed, connect_args={"timeout": 30})
        sa.event.listen(eng, "connect", _sqlite_pragmas)
        sa.event.listen(eng, "begin", _sqlite_begin)
        return eng
    return sa.create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)


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

"""`seedguard server ...`: run the server and migrate its database (docs/server.md)."""

from __future__ import annotations

import enum
import re
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seedguard import home as homes
from seedguard.cli.render import emit_json, out
from seedguard.errors import UsageError
from seedguard.fs import private_key_file

if TYPE_CHECKING:
    from seedguard.server.settings import Limits


class LogLevel(enum.StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


app = typer.Typer(
    help="Run a seedguard server (accounts, vault, guess-limited hardening).",
    no_args_is_help=True,
)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="sqlite:///path or postgresql://user@host:port/db (password in ~/.pgpass). "
        "Default: SQLite under $SEEDGUARD_HOME/server/.",
    ),
]


def _url(database: str | None) -> str:
    from seedguard.server import db

    return database or db.default_url(homes.ensure(homes.home()))


@app.command("migrate")
def migrate(
    database: DatabaseOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create or upgrade the database schema (Alembic migrations). Safe to run again."""
    from seedguard.server import db

    before, after = db.migrate(_url(database))
    if json_out:
        emit_json({"before": before, "after": after})
    elif before == after:
        out.print(f"The database is up to date (revision {after}).")
    else:
        out.print(f"Migrated the database from {before or 'empty'} to revision {after}.")


@app.command("run")
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8765,
    database: DatabaseOpt = None,
    max_attempts: Annotated[
        int,
        typer.Option(help="Wrong passwords in a row before a backup's OPRF key is destroyed."),
    ] = 10,
    max_object_kib: Annotated[int, typer.Option(help="Largest vault object, KiB.", min=1)] = 1024,
    quota_mib: Annotated[int, typer.Option(help="Vault quota per account, MiB.", min=1)] = 16,
    token_ttl: Annotated[int, typer.Option(help="Session token lifetime, seconds.", min=1)] = 900,
    rate_per_ip: Annotated[
        int, typer.Option(help="Requests per minute per client address (0: no limit).", min=0)
    ] = 1200,
    rate_per_account: Annotated[
        int, typer.Option(help="Requests per minute per account (0: no limit).", min=0)
    ] = 600,
    trust_proxy: Annotated[
        bool,
        typer.Option(help="Take client addresses from X-Forwarded-For (behind a proxy only)."),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            metavar="CIDR",
            help="With --trust-proxy: a proxy network whose X-Forwarded-For entries are "
            "believed (repeatable). The client is the right-most entry that is not one of them. "
            "Without it, the connected peer is the one proxy.",
        ),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option("--log-level")] = LogLevel.info,
    min_recovery_delay: Annotated[
        float, typer.Option(help="The shortest social-recovery delay an owner may set, hours.")
    ] = 24,
    allow_http_webhooks: Annotated[
        bool, typer.Option(help="Accept http:// webhooks (a closed network or a test).")
    ] = False,
    webhook_allow_network: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook-allow-network",
            metavar="CIDR",
            help="A network webhooks may reach although it is loopback, private or link-local "
            "(repeatable; by default such addresses are refused, against SSRF).",
        ),
    ] = None,
    webhook_deadline: Annotated[
        float,
        typer.Option(
            help="Seconds one webhook delivery attempt may take, start to finish.", min=0.1
        ),
    ] = 10.0,
    header_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a client has, from connecting (or from its last answer), to send a "
            "request's headers; then 408 and the connection closes.",
            min=0.1,
            max=3600,
        ),
    ] = 10.0,
    body_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a client has, after the headers, to send the whole body.",
            min=0.1,
            max=3600,
        ),
    ] = 30.0,
    limit_concurrency: Annotated[
        int,
        typer.Option(
            help="Connections this process holds at once. At the cap the connection that has "
            "waited longest without a complete request is closed to make room; when every one "
            "is being answered, a new one gets 503. The open-file limit is raised to fit "
            "(docs/server.md).",
            min=1,
            max=1_000_000,
        ),
    ] = 1000,
    share_key_file: Annotated[
        Path | None,
        typer.Option(
            help="The key that seals MPC key shares and OPRF keys at rest (32 bytes, made on "
            "first run). Default: $SEEDGUARD_HOME/keys/share.key. Every process of one server "
            "needs the same file; back it up apart from the database.",
        ),
    ] = None,
    allow_key_beside_database: Annotated[
        bool,
        typer.Option(
            help="Accept a share key in the SQLite database's folder (a copy of that folder "
            "would then carry both: keep them apart).",
        ),
    ] = False,
    limit: Annotated[
        list[str] | None,
        typer.Option(
            "--limit",
            metavar="NAME=N",
            help="A per-account row limit (repeatable): mailboxes, deposits-per-mailbox, "
            "deposits-per-owner, requests, owners-per-request, oprf-keys, wallets, "
            "pending-actions, notifications, dkg-seconds, page. Defaults in docs/server.md.",
        ),
    ] = None,
    clock_file: Annotated[
        Path | None,
        typer.Option(
            hidden=True,
            help="Tests only: a file holding seconds added to the clock (read at every use).",
        ),
    ] = None,
    bench_endpoint: Annotated[
        bool,
        typer.Option(
            hidden=True,
            help="Benchmarks only: POST /v1/bench/oprf, the OPRF multiplication alone (no "
            "token, no database), the yardstick for /v1/oprf/evaluate.",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API. Logs are JSON lines on stderr. Stop with Ctrl-C."""
    from seedguard.server.serve import serve
    from seedguard.server.settings import Settings

    if not 1 <= max_attempts <= 1000:
        raise UsageError("--max-attempts takes 1 to 1000.")
    key_file = _share_key_file(share_key_file, _url(database), allow_key_beside_database)
    settings = Settings(
        database_url=_url(database),
        max_attempts=max_attempts,
        max_object_bytes=max_object_kib * 1024,
        quota_bytes=quota_mib * 1024 * 1024,
        token_ttl=token_ttl,
        rate_per_ip=rate_per_ip,
        rate_per_account=rate_per_account,
        trust_proxy=trust_proxy,
        min_recovery_delay=min_recovery_delay * 3600,
        default_recovery_delay=max(48 * 3600, min_recovery_delay * 3600),
        clock=_clock(clock_file),
        allow_http_webhooks=allow_http_webhooks,
        share_key=private_key_file(key_file),
        trusted_proxies=_networks(trusted_proxy or [], "--trusted-proxy"),
        webhook_allow_networks=_networks(webhook_allow_network or [], "--webhook-allow-network"),
        webhook_deadline=webhook_deadline,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        limit_concurrency=limit_concurrency,
        limits=_limits(limit or []),
        bench_endpoint=bench_endpoint,
    )
    mode = stat.S_IMODE(key_file.stat().st_mode)
    warnings = [f"{key_file} is mode {mode:o}: chmod 600 it"] if mode & 0o077 else []
    serve(settings, host, port, log_level.value, warnings)


def _limits(values: list[str]) -> Limits:
    from seedguard.server.settings import Limits

    names = Limits.names()
    chosen: dict[str, int] = {}
    for value in values:
        name, _, number = value.partition("=")
        if (
            name not in names
            or not re.fullmatch("[0-9]{1,10}", number)
            or not (1 <= int(number) <= 10**9)
        ):
            raise UsageError(
                f"--limit takes NAME=N with N from 1 to 10^9 and NAME one of {', '.join(names)}."
            )
        chosen[name.replace("-", "_")] = int(number)
    return Limits(**chosen)


def _networks(values: list[str], option: str) -> tuple[str, ...]:
    import ipaddress

    try:
        return tuple(str(ipaddress.ip_network(v, strict=False)) for v in values)
    except ValueError as exc:
        raise UsageError(f"{option} takes an address or a network: {exc}.") from None


def _share_key_file(path: Path | None, url: str, beside_ok: bool) -> Path:
    """The server's key file: refused in the SQLite database's folder unless allowed."""
    from seedguard.server import db

    home = homes.ensure(homes.home())
    chosen = path or home / "keys" / "share.key"
    database = db.sqlite_path(url)
    old_default = home / "server" / "share.key"
    if path is None and not chosen.exists() and old_default.exists():
        raise UsageError(
            f"The share key is at {old_default}, beside the default database: move it to "
            f"{chosen} (mode 0600), or name it with --share-key-file."
        )
    if (
        database is not None
        and chosen.resolve().parent == database.resolve().parent
        and not beside_ok
    ):
        raise UsageError(
            f"The share key {chosen} is in the database's folder: a copy of that folder would "
            "carry both. Keep it elsewhere (--share-key-file), or pass "
            "--allow-key-beside-database."
        )
    return chosen


def _clock(path: Path | None) -> Callable[[], float]:
    if path is None:
        return time.time

    def shifted() -> float:
        try:
            return time.time() + float(path.read_text().strip() or 0)
        except (OSError, ValueError):
            return time.time()

    return shifted

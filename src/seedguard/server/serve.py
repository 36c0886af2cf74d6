"""Start one server process: check the schema, then serve with uvicorn."""

from __future__ import annotations

import logging
import resource

import uvicorn

from seedguard.server import db, logs
from seedguard.server.app import create_app
from seedguard.server.protocol import GuardedProtocol
from seedguard.server.settings import Settings


def serve(
    settings: Settings,
    host: str,
    port: int,
    log_level: str = "info",
    warnings: list[str] | None = None,
) -> None:
    logs.configure(log_level)
    for warning in warnings or []:  # e.g. a key file others can read
        logging.getLogger("seedguard.server").warning(
            "share key readable by others", extra={"event": "start", "detail": warning}
        )
    database = db.Database(settings.database_url)
    db.check_schema(database.engine)
    app = create_app(settings, database)
    backend = database.engine.url.get_backend_name()
    logging.getLogger("seedguard.server").info(
        "listening", extra={"event": "start", "detail": f"{host}:{port} on {backend}"}
    )
    GuardedProtocol.header_timeout = settings.header_timeout
    GuardedProtocol.body_timeout = settings.body_timeout
    GuardedProtocol.max_connections = connection_cap(settings.limit_concurrency)
    config = uvicorn.Config(
        app,
        http=GuardedProtocol,
        loop="auto",  # uvloop where installed
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        database.dispose()


FD_RESERVE = 64  # descriptors kept for the database, logs and webhook deliveries


def connection_cap(wanted: int) -> int:
    """Raise this process's open-file limit (RLIMIT_NOFILE) toward its hard limit so `wanted`
    connections fit beside FD_RESERVE; if the hard limit is lower, cap the connections to fit
    and warn (docs/server.md: raise it with `ulimit -n` or systemd's LimitNOFILE=)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        capped = max(1, soft - FD_RESERVE)
        logging.getLogger("seedguard.server").warning(
            "too few file descriptors",
            extra={
                "event": "start",
                "detail": f"the open-file limit is {soft}: {capped} connections, not {wanted}; "
                "raise it with `ulimit -n` or LimitNOFILE=",
            },
        )
        return capped
    return wanted

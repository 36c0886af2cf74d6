"""Start one server process: check the schema, then serve with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from seedguard.server import db, logs
from seedguard.server.app import create_app
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
    config = uvicorn.Config(
        app,
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

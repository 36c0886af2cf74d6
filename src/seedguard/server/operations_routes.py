"""Operations: health, liveness and metrics.

Routes and their bodies; `router(ctx)` gives them to the application factory (app.py)."""

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    generate_latest,
)
from sqlalchemy import text

from seedguard.server.api import Context
from seedguard.server.logs import LOGGER
from seedguard.server.refusals import Refused


def router(ctx: Context) -> APIRouter:
    app = APIRouter()
    server = ctx.server
    database = ctx.database
    on_database = ctx.on_database

    # -- operations ------------------------------------------------------------------------

    @app.get("/healthz", tags=["operations"])
    @on_database
    def healthz() -> dict[str, str]:
        """Readiness: this process and its database."""
        try:
            with database.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            LOGGER.warning("database unreachable", extra={"event": "healthz"})
            raise Refused(503, "The database is unreachable.") from None
        return {"status": "ok"}

    @app.get("/livez", tags=["operations"])
    async def livez() -> dict[str, str]:
        """Liveness of this process alone (no database): for a supervisor's probe."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Prometheus text format."""
        return Response(generate_latest(server.registry), media_type=CONTENT_TYPE_LATEST)

    return app

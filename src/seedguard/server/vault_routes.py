"""The envelope vault: objects with generations, compare-and-swap writes (server/vault.py).

Routes and their bodies; `router(ctx)` gives them to the application factory (app.py)."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from seedguard.server import vault
from seedguard.server.api import ETAG, MAX_INT, Context, Token
from seedguard.server.refusals import Refused


class ObjectOut(BaseModel):
    name: str
    size: int
    generation: int
    updated: float


class VaultOut(BaseModel):
    objects: list[ObjectOut]
    used: int
    quota: int


class WrittenOut(BaseModel):
    generation: int


def _precondition(if_match: str | None, if_none_match: str | None) -> int | None:
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise Refused(400, 'If-None-Match takes only "*".')
        return None
    if if_match is None:
        raise Refused(
            428, 'Say what you replace: If-None-Match: * to create, If-Match: "<generation>".'
        )
    match = ETAG.fullmatch(if_match.strip())
    if not match or int(match.group(1)) > MAX_INT:
        raise Refused(400, 'If-Match takes a generation, as in If-Match: "3".')
    return int(match.group(1))


def router(ctx: Context) -> APIRouter:
    app = APIRouter()
    settings = ctx.settings
    database = ctx.database
    auth = ctx.auth
    on_database = ctx.on_database

    # -- vault -------------------------------------------------------------------------------

    @app.get("/v1/vault", tags=["vault"])
    @on_database
    def list_vault(request: Request, token: Token) -> VaultOut:
        with database.read() as conn:
            me = auth(conn, request, token)
            objects = vault.list_objects(conn, me)
        return VaultOut(
            objects=[ObjectOut.model_validate(o) for o in objects],
            used=sum(int(str(o["size"])) for o in objects),
            quota=settings.quota_bytes,
        )

    @app.get("/v1/vault/{name}", tags=["vault"], response_class=Response)
    @on_database
    def get_object(name: str, request: Request, token: Token) -> Response:
        with database.read() as conn:
            data, generation = vault.get(conn, auth(conn, request, token), name)
        return Response(
            data, media_type="application/octet-stream", headers={"ETag": f'"{generation}"'}
        )

    @app.head("/v1/vault/{name}", tags=["vault"], response_class=Response)
    @on_database
    def head_object(name: str, request: Request, token: Token) -> Response:
        with database.read() as conn:
            _, generation = vault.get(conn, auth(conn, request, token), name, body=False)
        return Response(headers={"ETag": f'"{generation}"'})

    @app.put("/v1/vault/{name}", tags=["vault"])
    async def put_object(
        name: str,
        request: Request,
        token: Token,
        if_match: Annotated[str | None, Header()] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> WrittenOut:
        """Store an envelope: `If-None-Match: *` to create, `If-Match: "<generation>"` to
        replace that generation. One of them is required (no blind overwrite)."""
        expected = _precondition(if_match, if_none_match)
        data = await request.body()

        def write() -> int:
            with database.transaction() as conn:
                me = auth(conn, request, token)
                return vault.put(conn, settings, me, name, data, expected)

        return WrittenOut(generation=await database.run(write))

    @app.delete("/v1/vault/{name}", tags=["vault"], status_code=204)
    @on_database
    def delete_object(
        name: str,
        request: Request,
        token: Token,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        expected = _precondition(if_match, None) if if_match else None
        with database.transaction() as conn:
            vault.delete(conn, auth(conn, request, token), name, expected)
        return Response(status_code=204)

    return app

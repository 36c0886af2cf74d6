"""Guess-limited password hardening: per-backup OPRF keys (server/hardening.py).

Routes and their bodies; `router(ctx)` gives them to the application factory (app.py)."""

import hashlib
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ValidationError
from starlette.types import Receive, Scope, Send

from seedguard.primitives import oprf
from seedguard.server import hardening
from seedguard.server.api import (
    B64,
    Context,
    Token,
    b64,
    bearer_credentials,
    header,
    read_body,
    replay,
    unb64,
)
from seedguard.server.logs import LOGGER
from seedguard.server.refusals import Refused


class CreateKeyIn(BaseModel):
    blinded_element: B64


class CreateKeyOut(BaseModel):
    handle: str
    evaluated_element: str
    max_attempts: int


class HandleIn(BaseModel):
    handle: B64


class KeyVerifierIn(BaseModel):
    handle: B64
    verifier: B64


class EvaluateIn(BaseModel):
    handle: B64
    blinded_element: B64


class EvaluateOut(BaseModel):
    evaluated_element: str
    attempts_left: int


class ProveIn(BaseModel):
    handle: B64
    proof: B64


class AttemptsOut(BaseModel):
    attempts_left: int


class KeyStateOut(BaseModel):
    state: Literal["active", "not-ready", "destroyed"]
    attempts_left: int
    max_attempts: int


class KeyOut(BaseModel):
    id: str
    failures: int
    attempts_left: int
    created: float


class KeysOut(BaseModel):
    keys: list[KeyOut]
    max_attempts: int


def router(ctx: Context) -> APIRouter:
    app = APIRouter()
    server, settings, database, auth, on_database = (
        ctx.server,
        ctx.settings,
        ctx.database,
        ctx.auth,
        ctx.on_database,
    )

    # -- hardening (OPRF) ------------------------------------------------------------------------

    @app.post("/v1/oprf/keys", tags=["hardening"])
    @on_database
    def create_key(body: CreateKeyIn, request: Request, token: Token) -> CreateKeyOut:
        """A new OPRF key for one backup; evaluates the creating client's blinded element."""
        blinded = unb64(body.blinded_element, "blinded_element", 32)
        with database.transaction() as conn:
            handle, evaluated = hardening.create(
                conn, settings, auth(conn, request, token), blinded
            )
        return CreateKeyOut(
            handle=b64(handle), evaluated_element=b64(evaluated), max_attempts=settings.max_attempts
        )

    @app.post("/v1/oprf/keys/verifier", tags=["hardening"], status_code=204)
    @on_database
    def key_verifier(body: KeyVerifierIn, request: Request, token: Token) -> Response:
        """Register SHA-256(proof) once; until then the key cannot be evaluated."""
        handle = unb64(body.handle, "handle", 32)
        verifier = unb64(body.verifier, "verifier", 32)
        with database.transaction() as conn:
            hardening.register_verifier(conn, auth(conn, request, token), handle, verifier)
        return Response(status_code=204)

    @app.post("/v1/oprf/evaluate", tags=["hardening"], response_model=EvaluateOut)
    async def evaluate(body: EvaluateIn, request: Request, token: Token) -> Response:
        """Count one attempt and evaluate. 410 when the key was destroyed."""
        return await evaluated(request.scope, body, token.credentials)

    async def evaluated(scope: Scope, body: EvaluateIn, credentials: str) -> Response:
        handle = unb64(body.handle, "handle", 32)
        blinded = unb64(body.blinded_element, "blinded_element", 32)
        token_hash = hashlib.sha256(unb64(credentials, "The token", 32)).digest()
        known = server.token_account(token_hash)
        fast: tuple[str, bytes, int] | None = None
        if known is not None:  # the session is checked again in the counting statement
            server.admit(scope, known)  # the rate limit, before anything is counted
            if database.async_statements is not None:  # PostgreSQL: on the event loop
                values = hardening.authenticated_count(settings, token_hash, handle, blinded)
                row = await database.async_statements.first_row(
                    hardening.AUTHENTICATED_COUNT, **values
                )
                if row is not None:
                    fast = hardening.authenticated_result(
                        settings, str(values["kid"]), row, blinded
                    )
            else:
                with database.statement() as conn:
                    fast = hardening.evaluate_authenticated(
                        conn, settings, token_hash, handle, blinded
                    )
        if fast is not None:
            evaluated: bytes | None = fast[1]
            left = fast[2]
        else:  # nothing was counted: the long way says why (401, 404, 410...)
            evaluated, left = await database.run(
                slow_evaluate, Request(scope), credentials, handle, blinded, known is not None
            )
        if left <= 0:
            await database.run(destroy_key, handle)
        if evaluated is None:
            raise hardening.destroyed_refusal()
        server.evaluations.inc()
        # The hot route: its two fields are written directly, sparing a validation pass.
        return Response(
            f'{{"evaluated_element":"{b64(evaluated)}","attempts_left":{left}}}',
            media_type="application/json",
        )

    # FastAPI's dependency resolution (the body, the bearer scheme, the Request parameter)
    # cost more than the statement and the multiplication together; a well-formed request
    # skips it. Anything else (another content type, a body that does not parse, a missing
    # or malformed token) goes to the declared route above, which answers as it always did.
    documented = app.routes[-1]
    if not isinstance(documented, APIRoute) or documented.path != "/v1/oprf/evaluate":
        raise RuntimeError("the evaluation route moved: evaluate_fast must follow it")
    declared = documented.app

    async def evaluate_fast(scope: Scope, receive: Receive, send: Send) -> None:
        credentials = bearer_credentials(scope)
        if credentials is None or header(scope, b"content-type") != b"application/json":
            await declared(scope, receive, send)
            return
        raw = await read_body(receive)
        try:
            body = EvaluateIn.model_validate_json(raw)
        except ValidationError:
            await declared(scope, replay(raw, receive), send)
            return
        response = await evaluated(scope, body, credentials)
        await response(scope, receive, send)

    documented.app = evaluate_fast

    def slow_evaluate(
        request: Request, credentials: str, handle: bytes, blinded: bytes, admitted: bool
    ) -> tuple[bytes | None, int]:
        with database.statement() as conn:
            auth(
                conn,
                request,
                HTTPAuthorizationCredentials(scheme="Bearer", credentials=credentials),
                admitted,
            )
            return hardening.evaluate(conn, settings, handle, blinded)

    def destroy_key(handle: bytes) -> None:
        with database.transaction() as conn:
            if hardening.destroy(conn, settings, handle):
                server.destroyed.inc()
                LOGGER.warning("oprf key destroyed", extra={"event": "key-destroyed"})

    if settings.bench_endpoint:
        bench_key = oprf.generate_key()

        @app.post("/v1/bench/oprf", include_in_schema=False)
        async def bench_oprf(body: EvaluateIn) -> Response:
            """The yardstick: the same body, decoding and multiplication as an evaluation,
            with no token, no counted attempt and no thread hand-off."""
            unb64(body.handle, "handle", 32)
            blinded = unb64(body.blinded_element, "blinded_element", 32)
            try:
                evaluated = oprf.blind_evaluate(bench_key, blinded)
            except oprf.OprfError as exc:
                raise Refused(400, f"blinded_element is not valid: {exc}.") from None
            return Response(
                f'{{"evaluated_element":"{b64(evaluated)}","attempts_left":10}}',
                media_type="application/json",
            )

    @app.post("/v1/oprf/prove", tags=["hardening"])
    @on_database
    def prove(body: ProveIn, request: Request, token: Token) -> AttemptsOut:
        """Show the right output was obtained: the attempt counter resets."""
        handle, proof = unb64(body.handle, "handle", 32), unb64(body.proof, "proof", 32)
        with database.transaction() as conn:
            auth(conn, request, token)
            left = hardening.prove(conn, settings, handle, proof)
        return AttemptsOut(attempts_left=left)

    @app.get("/v1/oprf/keys", tags=["hardening"])
    @on_database
    def list_keys(request: Request, token: Token) -> KeysOut:
        with database.read() as conn:
            keys = hardening.list_keys(conn, settings, auth(conn, request, token))
        return KeysOut(
            keys=[KeyOut.model_validate(k) for k in keys], max_attempts=settings.max_attempts
        )

    @app.post("/v1/oprf/keys/state", tags=["hardening"])
    @on_database
    def key_state(body: HandleIn, request: Request, token: Token) -> KeyStateOut:
        """A key's state for whoever holds its handle: active (with the attempts left),
        not-ready, or destroyed by the guess limit. Counts no attempt."""
        handle = unb64(body.handle, "handle", 32)
        with database.read() as conn:
            auth(conn, request, token)
            answer = hardening.state(conn, settings, handle)
        return KeyStateOut.model_validate(answer)

    @app.post("/v1/oprf/keys/delete", tags=["hardening"], status_code=204)
    @on_database
    def delete_key(body: HandleIn, request: Request, token: Token) -> Response:
        """Delete one of this account's keys (the backup it hardens can no longer open by
        password)."""
        handle = unb64(body.handle, "handle", 32)
        with database.transaction() as conn:
            hardening.delete(conn, auth(conn, request, token), handle)
        return Response(status_code=204)

    return app

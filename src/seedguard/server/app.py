"""The HTTP shell (FastAPI): parse, call one capability function in one transaction, render.

Routes are thin; accounts.py, vault.py and hardening.py hold the rules. docs/api.md describes
every route; the OpenAPI schema is served at /openapi.json.
"""

import base64
import binascii
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from seedguard import __version__
from seedguard.server import accounts, hardening, vault
from seedguard.server.accounts import Session
from seedguard.server.logs import LOGGER
from seedguard.server.ratelimit import RateLimiter
from seedguard.server.refusals import Refused, unauthenticated
from seedguard.server.settings import Settings

B64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]*$", max_length=512)]
ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str, what: str, size: int | None = None) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise Refused(400, f"{what} is not base64url.") from None
    if size is not None and len(data) != size:
        raise Refused(400, f"{what} must be {size} bytes, not {len(data)}.")
    return data


# -- bodies ----------------------------------------------------------------------------------


class ChallengeIn(BaseModel):
    public_key: B64


class ChallengeOut(BaseModel):
    challenge: str
    expires_in: int


class EnrollIn(BaseModel):
    account: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    credential: B64
    revoke_others: bool = False


class TokenIn(BaseModel):
    public_key: B64
    challenge: B64
    signature: B64
    new_account: bool = False
    enroll: EnrollIn | None = None


class TokenOut(BaseModel):
    token: str
    expires_in: int
    account: str
    device: str


class DeviceOut(BaseModel):
    id: str
    created: float
    revoked: float | None
    current: bool


class AccountOut(BaseModel):
    account: str
    device: str
    devices: list[DeviceOut]


class VerifierIn(BaseModel):
    verifier: B64


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


class KeyOut(BaseModel):
    id: str
    failures: int
    attempts_left: int
    created: float


class KeysOut(BaseModel):
    keys: list[KeyOut]
    max_attempts: int


# -- the edge: limits, metrics, the access log ----------------------------------------------------


class Edge:
    """Pure ASGI middleware: per-address rate limit, request size limit, metrics, access log."""

    def __init__(self, app: ASGIApp, server: "Server") -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = self.server
        started = time.perf_counter()
        client = server.client_address(scope)
        status = {"code": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            wait = server.ip_limiter.allow(client)
            length = _content_length(scope)
            if wait:
                server.rate_limited.inc()
                await _refuse(send_status, 429, "Too many requests from this address.", wait)
            elif length is not None and length > server.settings.max_request_bytes:
                await _refuse(send_status, 413, "The request body is too large.")
            else:
                limit = server.settings.max_request_bytes
                await self.app(scope, _bounded(receive, limit), send_status)
        except _TooLarge:
            await _refuse(send_status, 413, "The request body is too large.")
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            server.requests.labels(scope["method"], route, str(status["code"])).inc()
            server.latency.labels(route).observe(elapsed)
            if route not in ("/healthz", "/metrics"):
                LOGGER.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "status": status["code"],
                        "ms": round(elapsed * 1000, 2),
                        "client": client,
                        "account": scope.get("state", {}).get("account"),
                    },
                )


class _TooLarge(Exception):
    pass


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return wrapped


async def _refuse(send: Send, status: int, message: str, retry: float = 0.0) -> None:
    response = JSONResponse({"error": message}, status_code=status)
    if retry:
        response.headers["Retry-After"] = str(max(1, round(retry)))

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    await response({"type": "http", "method": "GET", "headers": []}, receive, send)


class Server:
    """Per-process resources: the engine, the limiters and the metrics registry."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.ip_limiter = RateLimiter(settings.rate_per_ip)
        self.account_limiter = RateLimiter(settings.rate_per_account)
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "seedguard_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "seedguard_request_seconds", "Request latency.", ["route"], registry=self.registry
        )
        self.evaluations = Counter(
            "seedguard_oprf_evaluations_total", "OPRF evaluations.", registry=self.registry
        )
        self.destroyed = Counter(
            "seedguard_oprf_keys_destroyed_total",
            "OPRF keys destroyed after too many failed attempts.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "seedguard_rate_limited_total",
            "Requests refused by a rate limit.",
            registry=self.registry,
        )

    def client_address(self, scope: Scope) -> str:
        if self.settings.trust_proxy:
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    return str(value.decode("latin-1").split(",")[0].strip())
        client = scope.get("client")
        return str(client[0]) if client else "unknown"


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    server = Server(settings, engine)
    app = FastAPI(
        title="seedguard server",
        version=__version__,
        description="Device accounts, an envelope vault and guess-limited password hardening "
        "(RFC 9497 OPRF). See docs/api.md.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = server

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.message, **exc.extra}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = f"Malformed request: {where}: {first.get('msg', 'invalid')}."
        return JSONResponse({"error": message}, 422)

    def session(request: Request, authorization: Annotated[str | None, Header()] = None) -> Session:
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthenticated()
        token = unb64(authorization.removeprefix("Bearer ").strip(), "The token", 32)
        with engine.begin() as conn:
            found = accounts.authenticate(conn, settings, token)
        request.scope.setdefault("state", {})["account"] = found.account_id[:8]
        wait = server.account_limiter.allow(found.account_id)
        if wait:
            server.rate_limited.inc()
            raise Refused(429, "Too many requests for this account: slow down.")
        return found

    Authed = Annotated[Session, Depends(session)]

    # -- operations ------------------------------------------------------------------------

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        from sqlalchemy import text

        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            LOGGER.warning("database unreachable", extra={"event": "healthz"})
            raise Refused(503, "The database is unreachable.") from None
        return {"status": "ok"}

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus text format."""
        return Response(generate_latest(server.registry), media_type=CONTENT_TYPE_LATEST)

    # -- accounts --------------------------------------------------------------------------

    @app.post("/v1/auth/challenge", tags=["accounts"])
    def challenge(body: ChallengeIn) -> ChallengeOut:
        """A one-use challenge for the device key to sign."""
        key = unb64(body.public_key, "public_key", 33)
        with engine.begin() as conn:
            value = accounts.issue_challenge(conn, settings, key)
        return ChallengeOut(challenge=b64(value), expires_in=settings.challenge_ttl)

    @app.post("/v1/auth/token", tags=["accounts"])
    def token(body: TokenIn) -> TokenOut:
        """Exchange a signed challenge for a session token; `new_account` creates an account,
        `enroll` joins one with a recovery credential."""
        enroll = body.enroll
        with engine.begin() as conn:
            value, found = accounts.sign_in(
                conn,
                settings,
                unb64(body.public_key, "public_key", 33),
                unb64(body.challenge, "challenge", 32),
                unb64(body.signature, "signature"),
                register=body.new_account,
                enroll_account=enroll.account if enroll else None,
                credential=unb64(enroll.credential, "credential", 32) if enroll else None,
                revoke_others=bool(enroll and enroll.revoke_others),
            )
        return TokenOut(
            token=b64(value),
            expires_in=settings.token_ttl,
            account=found.account_id,
            device=found.device_id,
        )

    @app.get("/v1/account", tags=["accounts"])
    def account(me: Authed) -> AccountOut:
        with engine.begin() as conn:
            devices = accounts.list_devices(conn, me)
        return AccountOut(
            account=me.account_id,
            device=me.device_id,
            devices=[DeviceOut.model_validate(d) for d in devices],
        )

    @app.delete("/v1/account/devices/{device}", tags=["accounts"], status_code=204)
    def revoke(device: str, me: Authed) -> Response:
        """Revoke a device of this account: its tokens stop working at once."""
        with engine.begin() as conn:
            accounts.revoke(conn, settings, me, device)
        return Response(status_code=204)

    @app.post("/v1/account/recovery-credentials", tags=["accounts"], status_code=204)
    def add_credential(body: VerifierIn, me: Authed) -> Response:
        """Register SHA-256 of an account recovery credential."""
        with engine.begin() as conn:
            accounts.add_recovery_credential(
                conn, settings, me, unb64(body.verifier, "verifier", 32)
            )
        return Response(status_code=204)

    # -- vault -------------------------------------------------------------------------------

    @app.get("/v1/vault", tags=["vault"])
    def list_vault(me: Authed) -> VaultOut:
        with engine.begin() as conn:
            objects = vault.list_objects(conn, me)
            used, _ = vault.usage(conn, me.account_id)
        return VaultOut(
            objects=[ObjectOut.model_validate(o) for o in objects],
            used=used,
            quota=settings.quota_bytes,
        )

    @app.get("/v1/vault/{name}", tags=["vault"], response_class=Response)
    def get_object(name: str, me: Authed) -> Response:
        with engine.begin() as conn:
            data, generation = vault.get(conn, me, name)
        return Response(
            data, media_type="application/octet-stream", headers={"ETag": f'"{generation}"'}
        )

    @app.head("/v1/vault/{name}", tags=["vault"], response_class=Response)
    def head_object(name: str, me: Authed) -> Response:
        with engine.begin() as conn:
            _, generation = vault.get(conn, me, name, body=False)
        return Response(headers={"ETag": f'"{generation}"'})

    @app.put("/v1/vault/{name}", tags=["vault"])
    async def put_object(
        name: str,
        request: Request,
        me: Authed,
        if_match: Annotated[str | None, Header()] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> WrittenOut:
        """Store an envelope: `If-None-Match: *` to create, `If-Match: "<generation>"` to
        replace that generation. One of them is required (no blind overwrite)."""
        expected = _precondition(if_match, if_none_match)
        data = await request.body()

        def write() -> int:
            with engine.begin() as conn:
                return vault.put(conn, settings, me, name, data, expected)

        from starlette.concurrency import run_in_threadpool

        return WrittenOut(generation=await run_in_threadpool(write))

    @app.delete("/v1/vault/{name}", tags=["vault"], status_code=204)
    def delete_object(
        name: str, me: Authed, if_match: Annotated[str | None, Header()] = None
    ) -> Response:
        expected = _precondition(if_match, None) if if_match else None
        with engine.begin() as conn:
            vault.delete(conn, me, name, expected)
        return Response(status_code=204)

    # -- hardening (OPRF) ------------------------------------------------------------------------

    @app.post("/v1/oprf/keys", tags=["hardening"])
    def create_key(body: CreateKeyIn, me: Authed) -> CreateKeyOut:
        """A new OPRF key for one backup; evaluates the creating client's blinded element."""
        blinded = unb64(body.blinded_element, "blinded_element", 32)
        with engine.begin() as conn:
            handle, evaluated = hardening.create(conn, settings, me, blinded)
        return CreateKeyOut(
            handle=b64(handle), evaluated_element=b64(evaluated), max_attempts=settings.max_attempts
        )

    @app.post("/v1/oprf/keys/verifier", tags=["hardening"], status_code=204)
    def key_verifier(body: KeyVerifierIn, me: Authed) -> Response:
        """Register SHA-256(proof) once; until then the key cannot be evaluated."""
        with engine.begin() as conn:
            hardening.register_verifier(
                conn, me, unb64(body.handle, "handle", 32), unb64(body.verifier, "verifier", 32)
            )
        return Response(status_code=204)

    @app.post("/v1/oprf/evaluate", tags=["hardening"])
    def evaluate(body: EvaluateIn, _: Authed) -> EvaluateOut:
        """Count one attempt and evaluate. 410 when the key was destroyed."""
        handle = unb64(body.handle, "handle", 32)
        blinded = unb64(body.blinded_element, "blinded_element", 32)
        with engine.begin() as conn:
            evaluated, left = hardening.evaluate(conn, settings, handle, blinded)
        if evaluated is None:
            server.destroyed.inc()
            raise hardening.destroyed_refusal()
        server.evaluations.inc()
        if left == 0:
            server.destroyed.inc()
            LOGGER.warning("oprf key destroyed", extra={"event": "key-destroyed"})
        return EvaluateOut(evaluated_element=b64(evaluated), attempts_left=left)

    @app.post("/v1/oprf/prove", tags=["hardening"])
    def prove(body: ProveIn, _: Authed) -> AttemptsOut:
        """Show the right output was obtained: the attempt counter resets."""
        with engine.begin() as conn:
            left = hardening.prove(
                conn, settings, unb64(body.handle, "handle", 32), unb64(body.proof, "proof", 32)
            )
        return AttemptsOut(attempts_left=left)

    @app.get("/v1/oprf/keys", tags=["hardening"])
    def list_keys(me: Authed) -> KeysOut:
        with engine.begin() as conn:
            keys = hardening.list_keys(conn, settings, me)
        return KeysOut(
            keys=[KeyOut.model_validate(k) for k in keys], max_attempts=settings.max_attempts
        )

    @app.post("/v1/oprf/keys/delete", tags=["hardening"], status_code=204)
    def delete_key(body: HandleIn, me: Authed) -> Response:
        """Delete one of this account's keys (the backup it hardens can no longer open by
        password)."""
        with engine.begin() as conn:
            hardening.delete(conn, me, unb64(body.handle, "handle", 32))
        return Response(status_code=204)

    app.add_middleware(Edge, server=server)
    return app


def _precondition(if_match: str | None, if_none_match: str | None) -> int | None:
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise Refused(400, 'If-None-Match takes only "*".')
        return None
    if if_match is None:
        raise Refused(
            428, 'Say what you replace: If-None-Match: * to create, If-Match: "<generation>".'
        )
    match = ETAG.match(if_match.strip())
    if not match:
        raise Refused(400, 'If-Match takes a generation, as in If-Match: "3".')
    return int(match.group(1))


logging.getLogger("seedguard.server").addHandler(logging.NullHandler())

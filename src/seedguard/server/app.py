"""The HTTP shell (FastAPI): parse, call one capability function in one connection, render.

Routes are thin; accounts.py, vault.py and hardening.py hold the rules. docs/api.md describes
every route; the OpenAPI schema is served at /openapi.json.
"""

import contextlib
import functools
import hashlib
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
)
from sqlalchemy.engine import Connection
from starlette.exceptions import HTTPException as StarletteHTTPException

from seedguard import __version__
from seedguard.server import (
    accounts,
    accounts_routes,
    hardening_routes,
    logs,
    mpc_routes,
    openapi,
    operations_routes,
    social,
    social_routes,
    vault_routes,
    webhooks,
)
from seedguard.server.accounts import Session
from seedguard.server.api import TOKEN_FORMAT, Context, bearer_token, unb64
from seedguard.server.db import Database
from seedguard.server.ratelimit import RateLimiter
from seedguard.server.refusals import KeepWrites, Refused, unauthenticated
from seedguard.server.settings import Settings

Scope = MutableMapping[str, Any]

Message = MutableMapping[str, Any]

Receive = Callable[[], Awaitable[Message]]

Send = Callable[[Message], Awaitable[None]]

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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
            if _has_nul(scope):
                await _refuse(send_status, 400, "The address holds a NUL character.")
            elif wait:
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
            if route not in ("/healthz", "/livez", "/metrics"):
                logs.access(
                    scope["method"],
                    route,
                    status["code"],
                    round(elapsed * 1000, 2),
                    client,
                    scope.get("state", {}).get("account"),
                )


def _has_nul(scope: Scope) -> bool:
    """A NUL in the (decoded) path or query: PostgreSQL cannot compare it, nothing is named so."""
    query = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


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


TOKEN_CACHE = 10_000  # tokens whose account is remembered for the hot route's rate limit


class Server:
    """Per-process resources: the database, the limiters and the metrics registry."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._proxies = tuple(
            ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies
        )
        self.webhook_policy = webhooks.Policy.from_settings(
            settings.webhook_allow_networks, deadline=settings.webhook_deadline
        )
        # Per account, in order; one account's slow endpoint never delays another's.
        self.webhooks = webhooks.Deliveries(self.webhook_policy)
        self._token_accounts: dict[bytes, str] = {}
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
        self.mpc_signatures = Counter(
            "seedguard_mpc_partial_signatures_total",
            "FROST partial signatures made by the server.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "seedguard_rate_limited_total",
            "Requests refused by a rate limit.",
            registry=self.registry,
        )

    def deliver(self, events: list[dict[str, object]]) -> None:
        """POST each event to its account's webhook, after the transaction, in the
        background; a failed delivery is logged (the event stays in /v1/notifications)."""
        if not events:
            return
        with self.database.read() as conn:
            targets = [(social.webhook_of(conn, str(e["account"])), e) for e in events]
        for url, event in targets:
            if url is not None:
                body = {k: v for k, v in event.items() if k != "account"}
                self.webhooks.submit(str(event["account"]), url, body)

    def client_address(self, scope: Scope) -> str:
        """The peer, or behind trusted proxies the right-most X-Forwarded-For entry that is
        not a trusted proxy: the address the last trusted proxy saw (entries to its left
        are whatever the client wrote)."""
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if not self.settings.trust_proxy or (self._proxies and not self._trusted(peer)):
            return peer
        chain: list[str] = [
            str(part).strip()
            for name, value in scope.get("headers", ())
            if name == b"x-forwarded-for"
            for part in value.decode("latin-1").split(",")
            if part.strip()
        ]
        if not self._proxies:  # --trust-proxy alone: the connected peer is the one proxy
            return chain[-1] if chain else peer
        for entry in reversed(chain):
            if not self._trusted(entry):
                return entry
        return peer

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._proxies)

    def authenticate(
        self,
        conn: Connection,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
        admitted: bool = False,
    ) -> Session:
        """The session behind a bearer token, checked in the request's own connection (one
        round trip), then the account's rate limit."""
        if credentials is None:
            raise unauthenticated()
        token = unb64(credentials.credentials, "The token", 32)
        found = accounts.authenticate(conn, self.settings, token)
        if not admitted:  # a hot route that admitted the account already counts it once
            self.admit(request.scope, found.account_id)
        self._token_accounts[hashlib.sha256(token).digest()] = found.account_id
        while len(self._token_accounts) > TOKEN_CACHE:
            self._token_accounts.pop(next(iter(self._token_accounts)))
        return found

    def token_account(self, token_hash: bytes) -> str | None:
        """The account a token named when it was last checked in full (a token's account
        never changes). A hint for the rate limit only: whether the session is still alive
        is checked again in the statement that uses it."""
        return self._token_accounts.get(token_hash)

    def admit(self, scope: Scope, account_id: str) -> None:
        """After a token check: the account's rate limit, and its name in the access log."""
        scope.setdefault("state", {})["account"] = account_id[:8]
        if self.account_limiter.allow(account_id):
            self.rate_limited.inc()
            raise Refused(429, "Too many requests for this account: slow down.")


def _bearer_missing(request: Request) -> Refused | None:
    """For a body that fails to parse (FastAPI reads it before any dependency): the refusal
    the token check would give, when the route needs a token."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    needs = dependant is not None and any(d.call is bearer_token for d in dependant.dependencies)
    if not needs:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return unauthenticated()
    if not TOKEN_FORMAT.fullmatch(value):
        return unauthenticated("The session token is malformed: sign in again.")
    return None


def create_app(settings: Settings, database: Database) -> FastAPI:
    server = Server(settings, database)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if database.async_statements is not None:  # closed in the loop that opened them
            await database.async_statements.close()

    app = FastAPI(
        lifespan=lifespan,
        title="seedguard server",
        version=__version__,
        description="Device accounts, an envelope vault and guess-limited password hardening "
        "(RFC 9497 OPRF). See docs/api.md.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = server
    auth = server.authenticate

    def on_database(route: Callable[..., Any]) -> Callable[..., Any]:
        """Run a route's body where its database wants it (Database.run)."""

        @functools.wraps(route)
        async def dispatched(*args: Any, **kwargs: Any) -> Any:
            return await database.run(route, *args, **kwargs)

        return dispatched

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        key = "message" if exc.status < 300 else "error"  # 202: recorded, not refused
        return JSONResponse({key: exc.message, **exc.extra}, exc.status, headers=headers)

    @contextlib.contextmanager
    def announced(events: list[social.Event]) -> Iterator[None]:
        """Deliver the events once the transaction inside has committed (also when it ends
        with a refusal whose writes stand, such as a recorded pending action)."""
        try:
            yield
        except KeepWrites:
            server.deliver(events)
            raise
        server.deliver(events)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """FastAPI's own refusals (no such route, method not allowed) in the same shape."""
        message = {404: "No such route.", 405: "This route does not take that method."}.get(
            exc.status_code, str(exc.detail)
        )
        return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        missing = _bearer_missing(request)
        if missing is not None:
            return await refused(request, missing)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = f"Malformed request: {where}: {first.get('msg', 'invalid')}."
        return JSONResponse({"error": message}, 422)

    ctx = Context(server, settings, database, auth, on_database, announced)
    for module in (
        operations_routes,
        accounts_routes,
        vault_routes,
        hardening_routes,
        social_routes,
        mpc_routes,
    ):
        # The routes themselves, not an included router: this FastAPI keeps an included
        # router as one lazy entry, which the hot-route order and the contract need flat.
        app.router.routes.extend(module.router(ctx).routes)

    hot = ("/v1/oprf/evaluate", "/v1/bench/oprf", "/v1/vault/{name}", "/livez")

    def rank(route: Any) -> int:
        path = getattr(route, "path", "")
        return hot.index(path) if path in hot else len(hot)

    app.router.routes.sort(key=rank)
    app.add_middleware(Edge, server=server)

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.contract(app)
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
    return app


logging.getLogger("seedguard.server").addHandler(logging.NullHandler())

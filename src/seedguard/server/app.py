"""The HTTP shell (FastAPI): parse, call one capability function in one connection, render.

Routes are thin; accounts.py, vault.py and hardening.py hold the rules. docs/api.md describes
every route; the OpenAPI schema is served at /openapi.json.
"""

import base64
import binascii
import contextlib
import functools
import ipaddress
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.engine import Connection
from starlette.exceptions import HTTPException as StarletteHTTPException

from seedguard import __version__
from seedguard.primitives.secp256k1 import CURVE_ORDER, scalar_bytes
from seedguard.server import accounts, guard, hardening, mpc, openapi, social, vault, webhooks
from seedguard.server.accounts import Session
from seedguard.server.db import Database
from seedguard.server.logs import LOGGER
from seedguard.server.ratelimit import RateLimiter
from seedguard.server.refusals import KeepWrites, Refused, unauthenticated
from seedguard.server.settings import Settings

B64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]*$", max_length=512)]
SealedB64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]*$", max_length=90_000)]
# Pydantic's patterns run on Rust's regex engine, where "$" is the end of the text only (not
# before a final newline, as in Python's re). Free text: no control characters, no NUL (which
# PostgreSQL refuses to store) and no unpaired surrogate (which no encoding stores).
TEXT = r"^[^\x00-\x1f\x7f]*$"
ETAG = re.compile(r'(?:W/)?"?(\d{1,10})"?')  # fullmatch; a generation fits in 31 bits
MAX_INT = 2**31 - 1  # PostgreSQL's integer: larger values are refused as input, not stored

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
    proof: B64 | None = None  # an active recovery credential of the account


class CredentialProofIn(BaseModel):
    credential: B64 | None = None  # an active recovery credential of the account


class PendingItem(BaseModel):
    id: str
    kind: str
    what: str
    target: str
    created: float
    release_at: float
    requested_by: str


class PendingOut(BaseModel):
    pending: list[PendingItem]


class PendingCancelIn(BaseModel):
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")] | None = None


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


class MailboxOut(BaseModel):
    mailbox: str


class DepositIn(BaseModel):
    mailbox: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    sealed: SealedB64


class DepositOut(BaseModel):
    deposit: str


class DepositItem(BaseModel):
    deposit: str
    sealed: str
    created: float


class DepositsOut(BaseModel):
    deposits: list[DepositItem]
    next: str | None = Field(
        None, description="The cursor of the next page (`?after=`); null on the last page."
    )


class DelayIn(BaseModel):
    seconds: Annotated[float, Field(gt=0, le=365 * 86400)]
    credential: B64 | None = None


class DelayOut(BaseModel):
    seconds: float


class RequestIn(BaseModel):
    label: Annotated[str, Field(min_length=1, max_length=64, pattern=TEXT)]
    public_key: Annotated[str, Field(pattern=r"^age1[0-9a-z]{20,100}$")]


class RequestOut(BaseModel):
    code: str


class RequestInfo(BaseModel):
    code: str
    label: str
    created: float
    public_key: str
    approvals: int
    state: str
    release_at: float | None


class ApproveIn(BaseModel):
    deposit: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    resealed: SealedB64


class ApproveOut(BaseModel):
    approvals: int


class WebhookIn(BaseModel):
    url: Annotated[str, Field(max_length=512, pattern=TEXT)] | None
    credential: B64 | None = None


class CancelIn(BaseModel):
    code: Annotated[str, Field(max_length=16, pattern=TEXT)] | None = None


class CancelOut(BaseModel):
    cancelled: list[str]


class SharesOut(BaseModel):
    shares: list[str] = Field(description="The first released owner's shares (groups[0]).")
    groups: list[list[str]] = Field(
        description="One list per owner whose delay has passed and who did not cancel."
    )


class NotificationItem(BaseModel):
    id: int
    event: str
    code: str
    created: float


class NotificationsOut(BaseModel):
    notifications: list[NotificationItem]
    next: int | None = Field(
        None, description="The cursor of the next page (`?after=`); null when no more now."
    )


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


# -- MPC wallets --------------------------------------------------------------------------------


class MpcCreateOut(BaseModel):
    wallet_id: str
    server_hostpubkey: str


class MpcHostKeysIn(BaseModel):
    hostpubkeys: list[B64] = Field(max_length=3)


class MpcMessageIn(BaseModel):
    message: SealedB64


class MpcMessageOut(BaseModel):
    message: str


class MpcKeyOut(BaseModel):
    wallet_id: str
    status: str
    epoch: int = Field(ge=0, le=MAX_INT)
    thresh_pk: str | None
    pubshares: list[str] | None = None
    refresh_pending: bool = False
    pending_pubshares: list[str] | None = None


class MpcWalletsOut(BaseModel):
    wallets: list[MpcKeyOut]


class MpcNoncesIn(BaseModel):
    count: int = Field(default=1, ge=1, le=16)


class MpcNonce(BaseModel):
    nonce_id: str
    pubnonce: str


class MpcNoncesOut(BaseModel):
    nonces: list[MpcNonce]
    epoch: int = Field(ge=0, le=MAX_INT)


class MpcSignIn(BaseModel):
    nonce_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    message: B64
    pubnonce: B64


class MpcSignOut(BaseModel):
    psig: str


class MpcChallengeOut(BaseModel):
    challenge: str
    epoch: int = Field(ge=0, le=MAX_INT)
    expires_in: int


class ShareProofs(BaseModel):
    """A proof for a participant's share, by participant id ("0" the device, "2" the cloud)."""

    model_config = {"extra": "forbid"}
    device: B64 | None = Field(default=None, alias="0")
    cloud: B64 | None = Field(default=None, alias="2")


class PasswordProofIn(BaseModel):
    handle: B64
    proof: B64


class MpcRepairIn(BaseModel):
    target: int = Field(ge=0, le=2)
    delta: B64
    commitment: B64
    challenge: B64
    proofs: ShareProofs
    password: PasswordProofIn | None = None
    recovery_proof: B64 | None = None


class MpcRepairOut(BaseModel):
    delta: str
    sigma: str
    commitment: str
    gate: str | None


class MpcRefreshIn(BaseModel):
    commitment: list[B64] = Field(max_length=8)
    share: B64
    challenge: B64
    proofs: ShareProofs


class MpcCloudIn(BaseModel):
    challenge: B64
    proofs: ShareProofs
    handle: B64 | None
    recovery_verifier: B64 | None


class MpcRefreshOut(BaseModel):
    commitment: list[str]
    shares: dict[str, str]
    epoch: int = Field(ge=0, le=MAX_INT)


class MpcEpochIn(BaseModel):
    epoch: int = Field(ge=0, le=MAX_INT)


class MpcEpochOut(BaseModel):
    epoch: int = Field(ge=0, le=MAX_INT)


def _scalar(text: str, what: str) -> int:
    value = int.from_bytes(unb64(text, what, 32), "big")
    if value >= CURVE_ORDER:
        raise Refused(400, f"{what} is not a scalar below the group order.")
    return value


def _proofs(body: ShareProofs) -> dict[int, bytes]:
    found = {0: body.device, 2: body.cloud}
    return {i: unb64(v, f"proofs.{i}", 64) for i, v in found.items() if v is not None}


def _key_out(described: dict[str, Any]) -> MpcKeyOut:
    thresh_pk = described["thresh_pk"]
    pubshares = described.get("pubshares")
    return MpcKeyOut(
        wallet_id=described["wallet_id"],
        status=described["status"],
        epoch=described["epoch"],
        thresh_pk=None if thresh_pk is None else b64(thresh_pk),
        pubshares=None if pubshares is None else [b64(p) for p in pubshares],
        refresh_pending=bool(described.get("refresh_pending", False)),
        pending_pubshares=[b64(p) for p in described.get("pending_pubshares") or []] or None,
    )


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
        self, conn: Connection, request: Request, credentials: HTTPAuthorizationCredentials | None
    ) -> Session:
        """The session behind a bearer token, checked in the request's own connection (one
        round trip), then the account's rate limit."""
        if credentials is None:
            raise unauthenticated()
        token = unb64(credentials.credentials, "The token", 32)
        found = accounts.authenticate(conn, self.settings, token)
        request.scope.setdefault("state", {})["account"] = found.account_id[:8]
        if self.account_limiter.allow(found.account_id):
            self.rate_limited.inc()
            raise Refused(429, "Too many requests for this account: slow down.")
        return found


bearer = HTTPBearer(auto_error=False, description="A session token from /v1/auth/token.")


TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url without padding


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> HTTPAuthorizationCredentials:
    """The header only, checked before the body is validated (an unauthenticated call learns
    nothing about the route); routes check the token in their own database connection."""
    if credentials is None:
        raise unauthenticated()
    if not TOKEN_FORMAT.fullmatch(credentials.credentials):
        raise unauthenticated("The session token is malformed: sign in again.")
    return credentials


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


Token = Annotated[HTTPAuthorizationCredentials, Depends(bearer_token)]


def create_app(settings: Settings, database: Database) -> FastAPI:
    server = Server(settings, database)
    app = FastAPI(
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

    # -- accounts --------------------------------------------------------------------------

    @app.post("/v1/auth/challenge", tags=["accounts"])
    @on_database
    def challenge(body: ChallengeIn) -> ChallengeOut:
        """A one-use challenge for the device key to sign."""
        key = unb64(body.public_key, "public_key", 33)
        with database.transaction() as conn:
            value = accounts.issue_challenge(conn, settings, key)
        return ChallengeOut(challenge=b64(value), expires_in=settings.challenge_ttl)

    @app.post("/v1/auth/token", tags=["accounts"])
    @on_database
    def token(body: TokenIn) -> TokenOut:
        """Exchange a signed challenge for a session token; `new_account` creates an account,
        `enroll` joins one with a recovery credential."""
        enroll = body.enroll
        with database.transaction() as conn:
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
    @on_database
    def account(request: Request, token: Token) -> AccountOut:
        with database.read() as conn:
            me = auth(conn, request, token)
            devices = accounts.list_devices(conn, me)
        return AccountOut(
            account=me.account_id,
            device=me.device_id,
            devices=[DeviceOut.model_validate(d) for d in devices],
        )

    def revoke_device(
        device: str, credential: bytes | None, request: Request, token: Token
    ) -> Response:
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            accounts.revoke(conn, settings, me, device, credential, events)
        return Response(status_code=204)

    @app.delete("/v1/account/devices/{device}", tags=["accounts"], status_code=204)
    @on_database
    def revoke(device: str, request: Request, token: Token) -> Response:
        """Revoke a device of this account: this device at once (not the last one of an
        account without a recovery credential); another after the account's delay (202)."""
        return revoke_device(device, None, request, token)

    @app.post("/v1/account/devices/{device}/revoke", tags=["accounts"], status_code=204)
    @on_database
    def revoke_with_proof(
        device: str, body: CredentialProofIn, request: Request, token: Token
    ) -> Response:
        """Revoke a device; with an active recovery credential as proof, another device too
        at once (its tokens stop working)."""
        credential = None if body.credential is None else unb64(body.credential, "credential", 32)
        return revoke_device(device, credential, request, token)

    @app.post("/v1/account/recovery-credentials", tags=["accounts"], status_code=204)
    @on_database
    def add_credential(body: VerifierIn, request: Request, token: Token) -> Response:
        """Register SHA-256 of an account recovery credential: active at once when it is the
        first, or with an active credential as `proof`; otherwise after the delay (202)."""
        verifier = unb64(body.verifier, "verifier", 32)
        proof = None if body.proof is None else unb64(body.proof, "proof", 32)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            active_from = accounts.add_recovery_credential(
                conn, settings, me, verifier, proof, events
            )
        if active_from is None:
            return Response(status_code=204)
        return JSONResponse(
            {
                "message": "Announced to every device of the account; it works from then, "
                "unless one of them cancels it.",
                "active_from": active_from,
            },
            202,
        )

    @app.get("/v1/account/pending", tags=["accounts"])
    @on_database
    def pending(request: Request, token: Token) -> PendingOut:
        """Actions this account's devices asked for that wait for the delay."""
        with database.read() as conn:
            items = guard.list_pending(conn, auth(conn, request, token))
        return PendingOut(pending=[PendingItem.model_validate(p.as_dict()) for p in items])

    @app.post("/v1/account/pending/cancel", tags=["accounts"])
    @on_database
    def cancel_pending(body: PendingCancelIn, request: Request, token: Token) -> CancelOut:
        """Any device of the account stops one pending action (or all)."""
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            ids = guard.cancel(conn, settings, auth(conn, request, token), body.id, events)
        return CancelOut(cancelled=ids)

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
    @on_database
    def evaluate(body: EvaluateIn, request: Request, token: Token) -> Response:
        """Count one attempt and evaluate. 410 when the key was destroyed."""
        handle = unb64(body.handle, "handle", 32)
        blinded = unb64(body.blinded_element, "blinded_element", 32)
        with database.statement() as conn:
            auth(conn, request, token)
            evaluated, left = hardening.evaluate(conn, settings, handle, blinded)
        if left <= 0:
            with database.transaction() as conn:
                if hardening.destroy(conn, settings, handle):
                    server.destroyed.inc()
                    LOGGER.warning("oprf key destroyed", extra={"event": "key-destroyed"})
        if evaluated is None:
            raise hardening.destroyed_refusal()
        server.evaluations.inc()
        # The hot route: its two fields are written directly, sparing a validation pass.
        return Response(
            f'{{"evaluated_element":"{b64(evaluated)}","attempts_left":{left}}}',
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

    # -- social recovery relay ---------------------------------------------------------------

    @app.post("/v1/social/mailboxes", tags=["social"])
    @on_database
    def open_mailbox(request: Request, token: Token) -> MailboxOut:
        """A guardian's mailbox, where owners deposit shares sealed to that guardian."""
        with database.transaction() as conn:
            mailbox = social.open_mailbox(conn, settings, auth(conn, request, token))
        return MailboxOut(mailbox=mailbox)

    @app.post("/v1/social/deposits", tags=["social"])
    @on_database
    def deposit(body: DepositIn, request: Request, token: Token) -> DepositOut:
        """Deposit a share sealed to the mailbox's guardian (by the wallet's owner)."""
        sealed = unb64(body.sealed, "sealed")
        with database.transaction() as conn:
            me = auth(conn, request, token)
            found = social.deposit(conn, settings, me, body.mailbox, sealed)
        return DepositOut(deposit=found)

    @app.get("/v1/social/mailboxes/{mailbox}", tags=["social"])
    @on_database
    def read_mailbox(
        mailbox: str,
        request: Request,
        token: Token,
        after: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    ) -> DepositsOut:
        """One page of the sealed shares in one of the caller's mailboxes, oldest first; the
        next page with `?after=` the answer's `next`."""
        with database.read() as conn:
            items, cursor = social.deposits(
                conn, settings, auth(conn, request, token), mailbox, after
            )
        return DepositsOut(
            deposits=[
                DepositItem(deposit=d.deposit, sealed=b64(d.sealed), created=d.created)
                for d in items
            ],
            next=cursor,
        )

    @app.put("/v1/social/delay", tags=["social"])
    @on_database
    def set_delay(body: DelayIn, request: Request, token: Token) -> DelayOut:
        """How long released shares wait after a recovery request is approved (the owner's
        window to cancel); at least the server's minimum."""
        credential = None if body.credential is None else unb64(body.credential, "credential", 32)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            seconds = social.set_delay(conn, settings, me, body.seconds, credential, events)
        return DelayOut(seconds=seconds)

    @app.post("/v1/social/requests", tags=["social"])
    @on_database
    def start_request(body: RequestIn, request: Request, token: Token) -> RequestOut:
        """A recovery request from a new device, with the key shares are re-sealed to."""
        with database.transaction() as conn:
            me = auth(conn, request, token)
            _, code = social.start(conn, settings, me, body.label, body.public_key)
        return RequestOut(code=code)

    @app.get("/v1/social/requests/{code}", tags=["social"])
    @on_database
    def request_info(code: str, request: Request, token: Token) -> RequestInfo:
        """Who asks and when: what a guardian checks before approving."""
        with database.read() as conn:
            auth(conn, request, token)
            info = social.describe(conn, settings, code)
        return RequestInfo.model_validate(info)

    @app.post("/v1/social/requests/{code}/approvals", tags=["social"])
    @on_database
    def approve(code: str, body: ApproveIn, request: Request, token: Token) -> ApproveOut:
        """A guardian's share for the request, re-sealed to its key."""
        resealed = unb64(body.resealed, "resealed")
        with database.transaction() as conn:
            me = auth(conn, request, token)
            events: list[social.Event] = []
            count = social.approve(conn, settings, me, code, body.deposit, resealed, events)
        server.deliver(events)
        return ApproveOut(approvals=count)

    @app.post("/v1/social/requests/cancel", tags=["social"])
    @on_database
    def cancel(body: CancelIn, request: Request, token: Token) -> CancelOut:
        """The owner stops a recovery of their wallet (one request, or every open one)."""
        events: list[social.Event] = []
        with database.transaction() as conn:
            codes = social.cancel(conn, settings, auth(conn, request, token), body.code, events)
        server.deliver(events)
        return CancelOut(cancelled=codes)

    @app.put("/v1/social/webhook", tags=["social"], status_code=204)
    async def set_webhook(body: WebhookIn, request: Request, token: Token) -> Response:
        """Also POST this account's events to a URL (null: stop); a host that resolves to a
        loopback, private, link-local or reserved address is refused."""
        if body.url is not None and body.url.startswith(("https://", "http://")):
            await webhooks.resolve(body.url, server.webhook_policy)
        return await database.run(store_webhook, body, request, token)

    def store_webhook(body: WebhookIn, request: Request, token: Token) -> Response:
        credential = None if body.credential is None else unb64(body.credential, "credential", 32)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            social.set_webhook(conn, settings, me, body.url, credential, events)
        return Response(status_code=204)

    @app.get("/v1/social/requests/{code}/shares", tags=["social"])
    @on_database
    def shares(code: str, request: Request, token: Token) -> SharesOut:
        """The re-sealed shares, to the requesting device, once the delay has passed."""
        with database.read() as conn:
            found = social.release(conn, settings, auth(conn, request, token), code)
        groups = [[b64(s) for s in group] for group in found]
        return SharesOut(shares=groups[0], groups=groups)

    @app.get("/v1/notifications", tags=["social"])
    @on_database
    def notifications(
        request: Request, token: Token, after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0
    ) -> NotificationsOut:
        """Events for this account's devices (recovery requested, approved, cancelled)."""
        with database.read() as conn:
            items, cursor = social.notifications(conn, settings, auth(conn, request, token), after)
        return NotificationsOut(
            notifications=[NotificationItem.model_validate(i) for i in items], next=cursor
        )

    # -- MPC wallets --------------------------------------------------------------------------

    @app.post("/v1/mpc/wallets", tags=["mpc"])
    @on_database
    def mpc_create(request: Request, token: Token) -> MpcCreateOut:
        """A new 2-of-3 wallet in key generation (ChillDKG); the server is participant 1."""
        with database.transaction() as conn:
            wallet_id, hostpubkey = mpc.create(conn, settings, auth(conn, request, token))
        return MpcCreateOut(wallet_id=wallet_id, server_hostpubkey=b64(hostpubkey))

    @app.get("/v1/mpc/wallets", tags=["mpc"])
    @on_database
    def mpc_list(request: Request, token: Token) -> MpcWalletsOut:
        with database.read() as conn:
            rows = mpc.list_wallets(conn, auth(conn, request, token))
        return MpcWalletsOut(wallets=[_key_out(r) for r in rows])

    @app.get("/v1/mpc/wallets/{wallet_id}", tags=["mpc"])
    @on_database
    def mpc_wallet(wallet_id: str, request: Request, token: Token) -> MpcKeyOut:
        with database.read() as conn:
            wallet = mpc.load(conn, settings, auth(conn, request, token), wallet_id)
        return _key_out(mpc.describe(wallet))

    @app.post("/v1/mpc/wallets/{wallet_id}/dkg/1", tags=["mpc"])
    @on_database
    def mpc_dkg1(
        wallet_id: str, body: MpcHostKeysIn, request: Request, token: Token
    ) -> MpcMessageOut:
        """ChillDKG participant step 1: the server's first message."""
        keys = [unb64(k, "hostpubkey", 33) for k in body.hostpubkeys]
        with database.transaction() as conn:
            pmsg1 = mpc.dkg_round1(conn, settings, auth(conn, request, token), wallet_id, keys)
        return MpcMessageOut(message=b64(pmsg1))

    @app.post("/v1/mpc/wallets/{wallet_id}/dkg/2", tags=["mpc"])
    @on_database
    def mpc_dkg2(
        wallet_id: str, body: MpcMessageIn, request: Request, token: Token
    ) -> MpcMessageOut:
        """ChillDKG participant step 2 on the coordinator's message: the server's signature."""
        cmsg1 = unb64(body.message, "message")
        with database.transaction() as conn:
            pmsg2 = mpc.dkg_round2(conn, settings, auth(conn, request, token), wallet_id, cmsg1)
        return MpcMessageOut(message=b64(pmsg2))

    @app.post("/v1/mpc/wallets/{wallet_id}/dkg/3", tags=["mpc"])
    @on_database
    def mpc_dkg3(wallet_id: str, body: MpcMessageIn, request: Request, token: Token) -> MpcKeyOut:
        """ChillDKG finalize on the success certificate: the server keeps its share."""
        cmsg2 = unb64(body.message, "message")
        with database.transaction() as conn:
            session = auth(conn, request, token)
            mpc.dkg_finalize(conn, settings, session, wallet_id, cmsg2)
            wallet = mpc.load(conn, settings, session, wallet_id)
        return _key_out(mpc.describe(wallet))

    @app.post("/v1/mpc/wallets/{wallet_id}/nonces", tags=["mpc"])
    @on_database
    def mpc_nonces(
        wallet_id: str, body: MpcNoncesIn, request: Request, token: Token
    ) -> MpcNoncesOut:
        """Signing round 1: the server's public nonces (each usable once)."""
        with database.transaction() as conn:
            made, epoch = mpc.nonces(
                conn, settings, auth(conn, request, token), wallet_id, body.count
            )
        return MpcNoncesOut(
            nonces=[MpcNonce(nonce_id=i, pubnonce=b64(p)) for i, p in made], epoch=epoch
        )

    @app.post("/v1/mpc/wallets/{wallet_id}/sign", tags=["mpc"])
    @on_database
    def mpc_sign(wallet_id: str, body: MpcSignIn, request: Request, token: Token) -> MpcSignOut:
        """Signing round 2: consumes the nonce in the same transaction; the partial signature."""
        message = unb64(body.message, "message", 32)
        pubnonce = unb64(body.pubnonce, "pubnonce", 66)
        with database.statement() as conn:
            psig = mpc.sign(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                body.nonce_id,
                message,
                pubnonce,
            )
        server.mpc_signatures.inc()
        return MpcSignOut(psig=b64(psig))

    @app.post("/v1/mpc/wallets/{wallet_id}/repair", tags=["mpc"])
    @on_database
    def mpc_repair(
        wallet_id: str, body: MpcRepairIn, request: Request, token: Token
    ) -> MpcRepairOut:
        """The server as a helper in re-creating a lost share (repairable threshold scheme),
        for a requester that proves the other helper's share; the cloud share also needs
        the backup password's proof, the recovery key's, or the delay (202)."""
        delta_in = _scalar(body.delta, "delta")
        commitment = unb64(body.commitment, "commitment", 33)
        gate = mpc.CloudGate(
            password_handle=None
            if body.password is None
            else unb64(body.password.handle, "handle", 32),
            password_proof=None
            if body.password is None
            else unb64(body.password.proof, "proof", 32),
            recovery_proof=None
            if body.recovery_proof is None
            else unb64(body.recovery_proof, "recovery_proof", 32),
        )
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            delta, sigma, kept, passed = mpc.repair(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                body.target,
                delta_in,
                commitment,
                unb64(body.challenge, "challenge", 32),
                _proofs(body.proofs),
                gate,
                events,
            )
        return MpcRepairOut(
            delta=b64(scalar_bytes(delta)),
            sigma=b64(scalar_bytes(sigma)),
            commitment=b64(kept),
            gate=passed,
        )

    @app.post("/v1/mpc/wallets/{wallet_id}/challenge", tags=["mpc"])
    @on_database
    def mpc_challenge(wallet_id: str, request: Request, token: Token) -> MpcChallengeOut:
        """A one-use challenge that this session's share proofs for this wallet sign."""
        with database.transaction() as conn:
            value, epoch = mpc.issue_challenge(
                conn, settings, auth(conn, request, token), wallet_id
            )
        return MpcChallengeOut(challenge=b64(value), epoch=epoch, expires_in=int(mpc.CHALLENGE_TTL))

    @app.put("/v1/mpc/wallets/{wallet_id}/cloud", tags=["mpc"], status_code=204)
    @on_database
    def mpc_cloud(wallet_id: str, body: MpcCloudIn, request: Request, token: Token) -> Response:
        """What the cloud envelope offers to gate a later re-creation of the cloud share
        (its OPRF key's handle, a recovery-key verifier); needs the cloud share's proof."""
        handle = None if body.handle is None else unb64(body.handle, "handle")
        verifier = (
            None
            if body.recovery_verifier is None
            else unb64(body.recovery_verifier, "recovery_verifier", 32)
        )
        with database.transaction() as conn:
            mpc.link_cloud(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                unb64(body.challenge, "challenge", 32),
                _proofs(body.proofs),
                handle,
                verifier,
            )
        return Response(status_code=204)

    @app.post("/v1/mpc/wallets/{wallet_id}/refresh", tags=["mpc"])
    @on_database
    def mpc_refresh(
        wallet_id: str, body: MpcRefreshIn, request: Request, token: Token
    ) -> MpcRefreshOut:
        """Proactive refresh: the server's zero-polynomial shares; its own new share waits."""
        commitment = [unb64(c, "commitment", 33) for c in body.commitment]
        share = _scalar(body.share, "share")
        with database.transaction() as conn:
            mine, shares, epoch = mpc.start_refresh(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                commitment,
                share,
                unb64(body.challenge, "challenge", 32),
                _proofs(body.proofs),
            )
        return MpcRefreshOut(
            commitment=[b64(c) for c in mine],
            shares={str(i): b64(scalar_bytes(v)) for i, v in shares.items()},
            epoch=epoch,
        )

    @app.post("/v1/mpc/wallets/{wallet_id}/refresh/commit", tags=["mpc"])
    @on_database
    def mpc_commit(wallet_id: str, body: MpcEpochIn, request: Request, token: Token) -> MpcEpochOut:
        """Switch to the refreshed share; the old one and its nonces are deleted."""
        with database.transaction() as conn:
            epoch = mpc.commit_refresh(
                conn, settings, auth(conn, request, token), wallet_id, body.epoch
            )
        return MpcEpochOut(epoch=epoch)

    # Matching walks the routes in order: the busiest go first.
    hot = ("/v1/oprf/evaluate", "/v1/vault/{name}", "/livez")
    app.router.routes.sort(key=lambda r: -1 if getattr(r, "path", "") in hot else 0)
    app.add_middleware(Edge, server=server)

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.contract(app)
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
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
    match = ETAG.fullmatch(if_match.strip())
    if not match or int(match.group(1)) > MAX_INT:
        raise Refused(400, 'If-Match takes a generation, as in If-Match: "3".')
    return int(match.group(1))


logging.getLogger("seedguard.server").addHandler(logging.NullHandler())

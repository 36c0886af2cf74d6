"""What every route module shares: base64url helpers, bounded field types, the bearer
token dependency, and the `Context` a router is built with (docs/api.md)."""

import base64
import binascii
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope

from seedguard.server import social
from seedguard.server.accounts import Session
from seedguard.server.db import Database
from seedguard.server.refusals import Refused, unauthenticated
from seedguard.server.settings import Settings

if TYPE_CHECKING:
    from seedguard.server.app import Server


B64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]*$", max_length=512)]

SealedB64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]*$", max_length=90_000)]

TEXT = r"^[^\x00-\x1f\x7f]*$"

ETAG = re.compile(r'(?:W/)?"?(\d{1,10})"?')  # fullmatch; a generation fits in 31 bits

MAX_INT = 2**31 - 1  # PostgreSQL's integer: larger values are refused as input, not stored


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


class CancelOut(BaseModel):
    cancelled: list[str]


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


Token = Annotated[HTTPAuthorizationCredentials, Depends(bearer_token)]


# -- a hot route's own request handling, beside FastAPI's (hardening_routes.evaluate_fast) --


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first header of that (lower-case) name, as sent."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def bearer_credentials(scope: Scope) -> str | None:
    """The token of a well-formed `Authorization: Bearer` header; None otherwise (the
    declared route then gives the refusal `bearer_token` gives)."""
    value = header(scope, b"authorization")
    if value is None or value[:7].lower() != b"bearer ":
        return None
    token = value[7:].decode("latin-1")
    return token if TOKEN_FORMAT.fullmatch(token) else None


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """`receive` again from the start, for a body already read."""
    pending = [body]

    async def again() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return again


@dataclass(frozen=True)
class Context:
    """What a route module needs from the application factory: the process's resources, the
    authentication call, and the two wrappers every database route uses."""

    server: "Server"
    settings: Settings
    database: Database
    auth: Callable[..., Session]
    on_database: Callable[[Callable[..., Any]], Callable[..., Any]]
    announced: Callable[[list[social.Event]], contextlib.AbstractContextManager[None]]

"""HTTP connections under slow or hostile clients: a deadline for a request's headers, another
for its body, and a cap on the connections one process holds.

Threat: anyone who can reach the port may open connections and send nothing, or a byte at a
time (slowloris), or announce a body and never send it. Without deadlines each holds a file
descriptor and a slot for ever, and enough of them stop the process from accepting anyone.

uvicorn's own `limit_concurrency` answers 503 to every new request once that many connections
are open, so slow clients holding the slots would shut out everyone else; and it has no header
or body deadline. This subclass of its httptools protocol (uvicorn has no hook for either) adds
both, and at the cap closes the connection that has waited longest without a complete request
(an idle keep-alive or one still sending) to make room; only when every slot holds a request
being answered does a new connection get 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("seedguard.server")


def _answer(status: bytes, message: str, *extra: bytes) -> bytes:
    body = json.dumps({"error": message}).encode() + b"\n"
    head = [b"HTTP/1.1 " + status, b"content-type: application/json", *extra,
            b"connection: close", b"content-length: " + str(len(body)).encode()]  # fmt: skip
    return b"\r\n".join(head) + b"\r\n\r\n" + body


_REFUSE = _answer(b"503 Service Unavailable", "The server is busy: try again in a moment.",
                  b"retry-after: 1")  # fmt: skip
_TIMEOUT = _answer(b"408 Request Timeout", "The request was not sent in time: send it again.")


class GuardedProtocol(HttpToolsProtocol):
    """Set the class attributes (serve.py) before uvicorn makes connections."""

    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 30.0
    max_connections: ClassVar[int] = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since: float | None = None  # without a complete request since then
        self._busy = False  # a request is being read or answered

    # -- connections ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self._make_room():
            transport.write(_REFUSE)
            transport.close()
            log.warning("connection refused", extra={"event": "busy", "detail": "all slots busy"})
            return
        self._waiting_since = time.monotonic()
        self._arm(self.header_timeout)

    def _make_room(self) -> bool:
        """Close the connection that has waited longest without a complete request."""
        oldest: GuardedProtocol | None = None
        for other in self.connections:
            if other is self or not isinstance(other, GuardedProtocol):
                continue
            if other._busy or other._waiting_since is None or other.transport.is_closing():
                continue
            if oldest is None or other._waiting_since < (oldest._waiting_since or 0.0):
                oldest = other
        if oldest is None:
            return False
        oldest._drop(b"")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- deadlines -----------------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        answered = self.cycle is not None and self.cycle.response_started
        self._drop(b"" if answered else _TIMEOUT)

    def _drop(self, answer: bytes) -> None:
        self._disarm()
        self._waiting_since = None
        if not self.transport.is_closing():
            if answer:
                self.transport.write(answer)
            self.transport.close()

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a keep-alive connection's next request
            self._waiting_since = time.monotonic()
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        self._busy = True
        self._waiting_since = None
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._busy = False
        if not self.transport.is_closing():
            self._waiting_since = time.monotonic()  # idle keep-alive: uvicorn's timer runs

"""Webhook delivery: an account's events POSTed to its URL, without letting that URL reach into
the operator's network or hold up anyone else's alerts (docs/server.md, "Webhooks").

- A URL whose host resolves to a loopback, private, shared (CGNAT), link-local (cloud metadata
  included), multicast, reserved or unspecified address is refused, when it is set and again
  at every delivery (DNS can change in between: the address checked is the one connected to,
  with the certificate still checked against the host name). An operator opens a network
  explicitly (`--webhook-allow-network`).
- Each account has its own bounded queue, drained by its own task on a dedicated event loop:
  one account's slow or silent endpoint delays only that account's events. Every delivery has
  a total deadline (connect, TLS, request and the whole response), and failures are retried
  with exponential backoff; the oldest queued event gives way when the queue is full (every
  event also stays in /v1/notifications).
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import json
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from seedguard.server.logs import LOGGER
from seedguard.server.refusals import Refused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, not "private" to Python


@dataclass(frozen=True)
class Policy:
    """Where deliveries may go, and how hard they are tried."""

    allowed: tuple[IPNetwork, ...] = ()
    deadline: float = 10.0  # seconds for one attempt, start to finish
    attempts: int = 4
    backoff: float = 2.0  # seconds before the second attempt, doubling
    queue: int = 100  # events one account may have waiting
    concurrency: int = 32  # deliveries in flight, all accounts together

    @classmethod
    def from_settings(cls, networks: Sequence[str], **kw: Any) -> Policy:
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks), **kw)

    def permits(self, address: IPAddress) -> bool:
        if any(address in n for n in self.allowed):
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return self.permits(address.ipv4_mapped)
        return not (
            address.is_loopback
            or address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
            or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED)
        )


def _target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None:
        raise Refused(400, "The webhook URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(400, "The webhook URL's port is not a number.") from None
    return parts.hostname, port


async def resolve(url: str, policy: Policy) -> list[IPAddress]:
    """Every address the URL's host resolves to, all of them permitted; Refused otherwise."""
    host, port = _target(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(400, f"The webhook host {host} does not resolve.") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    refused = [a for a in addresses if not policy.permits(a)]
    if not addresses or refused:
        raise Refused(
            400,
            f"The webhook host {host} resolves to {refused[0] if refused else 'nothing'}, an "
            "address this server does not call (loopback, private, link-local or reserved).",
        )
    return addresses


def _pinned(url: str, address: IPAddress) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


class Deliveries:
    """Per-account queues on one background event loop (started on first use)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._queues: dict[str, collections.deque[tuple[str, bytes]]] = {}
        self._draining: set[str] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._client: httpx.AsyncClient | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="webhooks", daemon=True).start()
                self._loop = loop
            return self._loop

    def submit(self, account: str, url: str, event: dict[str, object]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        self._start().call_soon_threadsafe(self._enqueue, account, url, body)

    def _enqueue(self, account: str, url: str, body: bytes) -> None:
        queue = self._queues.setdefault(account, collections.deque())
        if len(queue) >= self.policy.queue:
            queue.popleft()
            LOGGER.warning("webhook queue full", extra={"event": "webhook", "detail": account[:8]})
        queue.append((url, body))
        if account not in self._draining:
            self._draining.add(account)
            asyncio.get_running_loop().create_task(self._drain(account))

    async def _drain(self, account: str) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.policy.concurrency)
            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        queue = self._queues[account]
        try:
            while queue:
                url, body = queue.popleft()
                async with self._slots:
                    await self._deliver(url, body)
        finally:
            self._draining.discard(account)
            if not queue:
                self._queues.pop(account, None)

    async def _deliver(self, url: str, body: bytes) -> None:
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            try:
                await asyncio.wait_for(self._post(url, body), self.policy.deadline)
                return
            except Refused as exc:  # the host now resolves somewhere it must not go
                LOGGER.warning("webhook refused", extra={"event": "webhook", "detail": exc.message})
                return
            except (TimeoutError, httpx.HTTPError) as exc:
                LOGGER.warning(
                    "webhook failed",
                    extra={"event": "webhook", "detail": f"{type(exc).__name__}, try {attempt}"},
                )
            if attempt < self.policy.attempts:
                await asyncio.sleep(delay)
                delay *= 2

    async def _post(self, url: str, body: bytes) -> None:
        assert self._client is not None
        address = (await resolve(url, self.policy))[0]
        host = urlsplit(url).hostname or ""
        response = await self._client.post(
            _pinned(url, address),
            content=body,
            headers={"Host": urlsplit(url).netloc, "Content-Type": "application/json"},
            extensions={"sni_hostname": host},
            timeout=self.policy.deadline,
        )
        response.raise_for_status()

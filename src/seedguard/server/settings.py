"""What an operator may set; every value has a safe default (docs/server.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """How many rows one account (or one mailbox) may hold in each per-account table; a
    request past one is refused with 429 (docs/server.md). `server run --limit NAME=N`."""

    mailboxes: int = 20  # a guardian's mailboxes
    deposits_per_mailbox: int = 200  # every owner's shares in one mailbox
    deposits_per_owner: int = 20  # one owner's shares in one mailbox
    requests: int = 20  # recovery requests one account opened, open or not
    owners_per_request: int = 16  # owners whose guardians approved one recovery request
    oprf_keys: int = 100  # hardened backups
    wallets: int = 20  # MPC wallets, key generations in progress included
    pending_actions: int = 20  # account changes waiting for the delay
    notifications: int = 1000  # kept per account: the oldest go first
    dkg_seconds: int = 3600  # an unfinished key generation older than this is removed
    page: int = 100  # items per page of a mailbox or of notifications

    @classmethod
    def names(cls) -> list[str]:
        return [name.replace("_", "-") for name in cls.__dataclass_fields__]


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_attempts: int = 10  # wrong guesses in a row before an OPRF key is destroyed
    max_object_bytes: int = 1024 * 1024  # one vault object
    quota_bytes: int = 16 * 1024 * 1024  # all of one account's vault objects
    max_objects: int = 1000
    token_ttl: int = 900  # seconds a session token lives
    challenge_ttl: int = 120
    rate_per_ip: int = 1200  # requests per minute from one address (0: no limit)
    rate_per_account: int = 600  # requests per minute for one account (0: no limit)
    trust_proxy: bool = False  # take the client address from X-Forwarded-For
    # The proxies whose X-Forwarded-For entries are believed (networks); with trust_proxy and
    # none given, only the directly connected peer is.
    trusted_proxies: tuple[str, ...] = ()
    default_recovery_delay: float = 48 * 3600  # an owner who set none
    min_recovery_delay: float = 24 * 3600  # the least an owner may set
    allow_http_webhooks: bool = False  # plain-http webhooks (a test or a closed network)
    # Networks a webhook may reach although they are loopback, private, link-local... (CIDR).
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_deadline: float = 10.0  # seconds for one delivery attempt, start to finish
    header_timeout: float = 10.0  # seconds from connecting (or idle) to a request's headers
    body_timeout: float = 30.0  # seconds from the headers to the end of the body
    limit_concurrency: int = 1000  # connections one process holds (server/protocol.py)
    limits: Limits = field(default_factory=Limits)
    # Benchmarks only (`server run --bench-endpoint`, hidden): POST /v1/bench/oprf, the same
    # body and the same OPRF multiplication as /v1/oprf/evaluate with no token, no database.
    bench_endpoint: bool = False
    share_key: bytes | None = field(default=None, repr=False)  # seals MPC shares at rest
    clock: Callable[[], float] = field(default=time.time, compare=False)

    @property
    def max_request_bytes(self) -> int:
        return self.max_object_bytes + 64 * 1024

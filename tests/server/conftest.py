"""The server suite runs against SQLite and against PostgreSQL (a cluster of its own)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from coincurve import PrivateKey

from seedguard.primitives import oprf
from tests.servers import PostgresCluster, SeedguardServer, seedguard_server

AUTH_TAG = b"seedguard/auth/v1\x00"
OPTIONS = ("--quota-mib", "1", "--max-object-kib", "600", "--allow-http-webhooks",
           "--webhook-allow-network", "127.0.0.1/32")  # fmt: skip


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def database_url(backend: str, work: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{work / 'server.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg")
    return cluster.create_database(f"sg_{secrets.token_hex(6)}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeedguardServer]:
    work = tmp_path_factory.mktemp(f"server-{backend}")
    extra = getattr(request.module, "SERVER_OPTIONS", ())  # a module's own server settings
    with seedguard_server(database_url(backend, work, request), work, *OPTIONS, *extra) as running:
        yield running


class Device:
    """A device speaking the HTTP API directly (the adversarial tests need the raw calls)."""

    def __init__(self, url: str, key: PrivateKey | None = None) -> None:
        self.url = url
        self.key = key or PrivateKey()
        self.http = httpx.Client(base_url=url, timeout=30)
        self.token: str | None = None
        self.account: str | None = None
        self.device: str | None = None

    @property
    def public_key(self) -> str:
        return b64(self.key.public_key.format(compressed=True))

    def signed_challenge(self, key: PrivateKey | None = None) -> dict[str, str]:
        answer = self.http.post("/v1/auth/challenge", json={"public_key": self.public_key})
        assert answer.status_code == 200, answer.text
        challenge = answer.json()["challenge"]
        signature = (key or self.key).sign(AUTH_TAG + unb64(challenge))
        return {"public_key": self.public_key, "challenge": challenge, "signature": b64(signature)}

    def sign_in(self, **extra: Any) -> httpx.Response:
        response = self.http.post("/v1/auth/token", json={**self.signed_challenge(), **extra})
        if response.status_code == 200:
            body = response.json()
            self.token, self.account, self.device = body["token"], body["account"], body["device"]
        return response

    def register(self) -> Device:
        assert self.sign_in(new_account=True).status_code == 200
        return self

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def credential(self) -> bytes:
        import hashlib

        secret = secrets.token_bytes(32)
        verifier = b64(hashlib.sha256(secret).digest())
        answer = self.call("POST", "/v1/account/recovery-credentials", json={"verifier": verifier})
        assert answer.status_code == 204, answer.text
        return secret

    def hardened_key(self, password: bytes) -> tuple[bytes, bytes]:
        """A key with its verifier registered; returns (handle, proof)."""
        state = oprf.blind(password)
        answer = self.call(
            "POST", "/v1/oprf/keys", json={"blinded_element": b64(state.blinded_element)}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        handle = unb64(body["handle"])
        proof = oprf.finalize(state, unb64(body["evaluated_element"]))[:32]
        import hashlib

        verifier = b64(hashlib.sha256(proof).digest())
        answer = self.call(
            "POST", "/v1/oprf/keys/verifier", json={"handle": b64(handle), "verifier": verifier}
        )
        assert answer.status_code == 204, answer.text
        return handle, proof

    def guess(self, handle: bytes, password: bytes) -> httpx.Response:
        state = oprf.blind(password)
        return self.call(
            "POST",
            "/v1/oprf/evaluate",
            json={"handle": b64(handle), "blinded_element": b64(state.blinded_element)},
        )


@pytest.fixture
def device(server: SeedguardServer) -> Device:
    return Device(server.url).register()

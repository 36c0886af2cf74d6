"""The client side of guess-limited hardening: the envelope's OprfService over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seedguard.client import client_for
from seedguard.client.session import b64, unb64


class ServerHardening:
    """Calls the hardening routes of whichever server a slot names, as this device."""

    def __init__(
        self, home: Path | None = None, report: Callable[[str], None] = lambda _: None
    ) -> None:
        self.home = home
        self.report = report

    def create(self, server: str, blinded: bytes) -> tuple[bytes, bytes]:
        answer = (
            client_for(server, self.home)
            .request("POST", "/v1/oprf/keys", json={"blinded_element": b64(blinded)})
            .json()
        )
        return unb64(answer["handle"], "handle"), unb64(answer["evaluated_element"], "element")

    def register(self, server: str, handle: bytes, verifier: bytes) -> None:
        client_for(server, self.home).request(
            "POST",
            "/v1/oprf/keys/verifier",
            json={"handle": b64(handle), "verifier": b64(verifier)},
        )

    def evaluate(self, server: str, handle: bytes, blinded: bytes) -> tuple[bytes, int]:
        self.report(f"Asking {server} to evaluate the password (one attempt)")
        answer = (
            client_for(server, self.home)
            .request(
                "POST",
                "/v1/oprf/evaluate",
                json={"handle": b64(handle), "blinded_element": b64(blinded)},
            )
            .json()
        )
        return unb64(answer["evaluated_element"], "element"), int(answer["attempts_left"])

    def prove(self, server: str, handle: bytes, proof: bytes) -> None:
        client_for(server, self.home).request(
            "POST", "/v1/oprf/prove", json={"handle": b64(handle), "proof": b64(proof)}
        )

    def delete(self, server: str, handle: bytes) -> None:
        client_for(server, self.home).request(
            "POST", "/v1/oprf/keys/delete", json={"handle": b64(handle)}
        )

    def state(self, server: str, handle: bytes) -> dict[str, object]:
        """The key's state (active / not-ready / destroyed) and attempts left; no attempt is
        counted. BackupMissingError when the server has no such key."""
        answer = (
            client_for(server, self.home)
            .request("POST", "/v1/oprf/keys/state", json={"handle": b64(handle)})
            .json()
        )
        return dict(answer)

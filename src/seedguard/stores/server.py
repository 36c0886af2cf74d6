"""A seedguard server's vault as a store (seedguard+http(s)://host:port).

The vault refuses blind overwrites: each write names the generation it replaces. This store
remembers the generation of every object it has read or written, so the lifecycle's own
read-then-write steps become compare-and-swap: if another device wrote in between, the write
is refused (BusyError) and nothing is clobbered.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from seedguard.client import client_for
from seedguard.errors import BackupMissingError
from seedguard.stores.base import MAX_OBJECT_BYTES, ObjectInfo, check_name, missing, too_large

ABSENT = 0  # the generation remembered for a name seen missing


class ServerStore:
    def __init__(self, server: str, home: Path | None = None) -> None:
        self.client = client_for(server, home)
        self.location = "seedguard+" + self.client.server
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()

    def _remember(self, name: str, etag: str | None) -> None:
        with self._lock:
            self._generations[name] = int((etag or "0").strip('W/"') or 0)

    def save(self, name: str, data: bytes) -> None:
        check_name(name)
        with self._lock:
            known = self._generations.get(name, ABSENT)
        header = {"If-None-Match": "*"} if known == ABSENT else {"If-Match": f'"{known}"'}
        answer = self.client.request(
            "PUT",
            f"/v1/vault/{name}",
            content=data,
            headers={**header, "Content-Type": "application/octet-stream"},
        )
        self._remember(name, str(answer.json()["generation"]))

    def load(self, name: str) -> bytes:
        check_name(name)
        try:
            response = self.client.request("GET", f"/v1/vault/{name}")
        except BackupMissingError:
            self._remember(name, None)
            raise missing(name, self.location) from None
        if len(response.content) > MAX_OBJECT_BYTES:
            raise too_large(name, self.location)
        self._remember(name, response.headers.get("ETag"))
        return response.content

    def names(self) -> list[str]:
        objects = self.client.request("GET", "/v1/vault").json()["objects"]
        return [str(o["name"]) for o in objects]

    def remove(self, name: str) -> None:
        check_name(name)
        with contextlib.suppress(BackupMissingError):
            self.client.request("DELETE", f"/v1/vault/{name}")
        self._remember(name, None)

    def prune(self, name: str) -> None:
        """The vault keeps one version of each object: nothing to prune."""
        check_name(name)

    def stat(self, name: str) -> ObjectInfo | None:
        check_name(name)
        for entry in self.client.request("GET", "/v1/vault").json()["objects"]:
            if entry["name"] == name:
                return ObjectInfo(name, int(entry["size"]))
        return None

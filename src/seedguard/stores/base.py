"""The one small interface every backup location implements (after restic's backends).

A store keeps named blobs and knows nothing of what is in them. `save` is atomic: a reader
sees the old blob or the new one, never a mixture. `remove` takes every version the store
keeps; `prune` drops the older versions of a blob and keeps the current one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from seedguard.errors import BackupMissingError, EnvelopeError

MAX_OBJECT_BYTES = 4 * 1024 * 1024
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    size: int


class Store(Protocol):
    location: str  # canonical, credential-free: shown to users and kept in the registry

    def save(self, name: str, data: bytes) -> None: ...

    def load(self, name: str) -> bytes: ...

    def names(self) -> list[str]: ...

    def remove(self, name: str) -> None: ...

    def prune(self, name: str) -> None: ...

    def stat(self, name: str) -> ObjectInfo | None: ...


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"not a store object name: {name!r}")
    return name


def missing(name: str, location: str) -> BackupMissingError:
    return BackupMissingError(
        f"{name} is not at {location}: it was deleted or moved, or this is another account."
    )


def too_large(name: str, location: str) -> EnvelopeError:
    return EnvelopeError(f"{name} at {location} is larger than any seedguard backup.")

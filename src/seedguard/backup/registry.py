"""The local registry of backups: which wallet, where its copies are, when each was checked.

Kept as `[[backups]]` tables in $SEEDGUARD_HOME/config.toml. It holds no secret: ids,
fingerprints, locations, SHA-256 digests of the (encrypted) copies and times.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seedguard import home as homes
from seedguard.envelope import Argon2idParams, check_new_kdf
from seedguard.errors import EnvelopeError, InputError, UsageError


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Copy:
    location: str
    sha256: str
    written: str
    verified: str | None = None


@dataclass
class Entry:
    backup_id: str
    kind: str
    created: str
    fingerprint: str | None = None
    label: str | None = None
    copies: list[Copy] = field(default_factory=list)

    def copy_at(self, location: str) -> Copy | None:
        return next((c for c in self.copies if c.location == location), None)


class _CopyToml(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    location: Annotated[str, Field(min_length=1, max_length=4000)]
    sha256: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")] = ""
    written: Annotated[str, Field(max_length=40)] = ""
    verified: Annotated[str, Field(max_length=40)] | None = None


class _EntryToml(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    kind: Annotated[str, Field(max_length=40)] = ""
    created: Annotated[str, Field(max_length=40)] = ""
    fingerprint: Annotated[str, Field(max_length=40)] | None = None
    label: Annotated[str, Field(max_length=200)] | None = None
    copies: Annotated[list[_CopyToml], Field(max_length=256)] = []


def _entries(raw: Any, path: Path) -> list[Entry]:
    """The registry's `[[backups]]` tables, each checked whole: a malformed one is an error
    naming it, never dropped (dropping it on the next write would lose where its copies are)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UsageError(
            f"`backups` in {path} is not a list of [[backups]] tables: fix or move the file "
            "(seedguard keeps its backup registry there)."
        )
    entries = []
    for i, item in enumerate(raw, 1):
        try:
            typed = _EntryToml.model_validate(dict(item) if isinstance(item, dict) else item)
        except (ValidationError, TypeError, ValueError):
            name = item.get("id") if isinstance(item, dict) else None
            shown = f" (id {str(name)[:40]!r})" if name is not None else ""
            raise UsageError(
                f"[[backups]] entry {i}{shown} in {path} is malformed: fix or remove that "
                "entry; seedguard will not rewrite a file it could not read whole."
            ) from None
        copies = [Copy(c.location, c.sha256, c.written, c.verified) for c in typed.copies]
        entries.append(
            Entry(typed.id, typed.kind, typed.created, typed.fingerprint, typed.label, copies)
        )
    return entries


def _table(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entry.backup_id, "kind": entry.kind, "created": entry.created}
    if entry.fingerprint:
        out["fingerprint"] = entry.fingerprint
    if entry.label:
        out["label"] = entry.label
    copies = []
    for c in entry.copies:
        item = {"location": c.location, "sha256": c.sha256, "written": c.written}
        if c.verified:
            item["verified"] = c.verified
        copies.append(item)
    out["copies"] = copies
    return out


class Registry:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else homes.home()

    def entries(self) -> list[Entry]:
        raw = homes.load_config(self.folder).get("backups")
        return _entries(raw, self.folder / homes.CONFIG)

    def get(self, backup_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.backup_id == backup_id), None)

    def find(self, backup_id: str | None) -> Entry:
        """The entry for an id or a unique id prefix; with None, the only entry there is."""
        entries = self.entries()
        if not entries:
            raise InputError(
                "No backups are registered on this device: make one with `seedguard backup "
                "create`, or name the location with --from."
            )
        if backup_id is None:
            if len(entries) > 1:
                ids = ", ".join(e.backup_id[:8] for e in entries)
                raise UsageError(
                    f"{len(entries)} backups are registered ({ids}): pick one with --id."
                )
            return entries[0]
        if not re.fullmatch(r"[0-9a-fA-F]{1,32}", backup_id):
            raise UsageError(
                f"{backup_id!r} is not a backup id: give its hex digits (a unique prefix will do)."
            )
        matches = [e for e in entries if e.backup_id.startswith(backup_id.lower())]
        if len(matches) != 1:
            what = "No" if not matches else "More than one"
            raise InputError(f"{what} registered backup has an id starting with {backup_id!r}.")
        return matches[0]

    def update(self, change: Callable[[list[Entry]], None]) -> None:
        with homes.edit_config(self.folder) as document:
            raw = document.get("backups")
            entries = _entries(None if raw is None else raw.unwrap(), self.folder / homes.CONFIG)
            change(entries)
            array = tomlkit.aot()
            for entry in entries:
                array.append(tomlkit.item(_table(entry)))
            if "backups" in document:
                del document["backups"]
            if entries:
                document.append("backups", array)

    def record(
        self,
        meta: Entry,
        location: str,
        sha256: str,
        verified: bool,
        written: str | None = None,
    ) -> None:
        """Add or refresh the copy at `location` (and the entry itself when new)."""

        def change(entries: list[Entry]) -> None:
            entry = next((e for e in entries if e.backup_id == meta.backup_id), None)
            if entry is None:
                entry = Entry(meta.backup_id, meta.kind, meta.created, meta.fingerprint, meta.label)
                entries.append(entry)
            entry.fingerprint = entry.fingerprint or meta.fingerprint
            copy = entry.copy_at(location)
            stamp = now()
            if copy is None:
                copy = Copy(location, sha256, written or stamp)
                entry.copies.append(copy)
            elif copy.sha256 != sha256:
                copy.sha256, copy.written = sha256, written or stamp
            if verified:
                copy.verified = stamp

        self.update(change)

    def set_verified(self, backup_id: str, location: str, stamp: str) -> None:
        def change(entries: list[Entry]) -> None:
            for entry in entries:
                copy = entry.copy_at(location) if entry.backup_id == backup_id else None
                if copy is not None:
                    copy.verified = stamp

        self.update(change)

    def forget(self, backup_id: str, location: str) -> None:
        def change(entries: list[Entry]) -> None:
            for entry in entries:
                if entry.backup_id == backup_id:
                    entry.copies = [c for c in entry.copies if c.location != location]
            entries[:] = [e for e in entries if e.copies]

        self.update(change)

    def kdf(self) -> Argon2idParams | None:
        """The KDF cost for new backups from `[backup.kdf]`, checked; None for the default."""
        raw = homes.section(homes.load_config(self.folder), "backup", "kdf")
        if not raw:
            return None
        where = f"[backup.kdf] in {self.folder / homes.CONFIG}"
        values = {}
        for key, default in (("memory_mib", 256), ("iterations", 3), ("parallelism", 4)):
            value = raw.get(key, default)
            if type(value) is not int or not 1 <= value <= 1 << 22:
                raise UsageError(f"{where}: {key} must be a whole number, not {str(value)[:20]}.")
            values[key] = value
        try:
            params = Argon2idParams(
                values["memory_mib"] * 1024, values["iterations"], values["parallelism"]
            )
            check_new_kdf(params)
        except EnvelopeError as exc:
            raise UsageError(f"{where}: {exc.message}") from None
        return params

    def webdav_credentials(self, host: str) -> tuple[str, str] | None:
        raw = homes.section(homes.load_config(self.folder), "webdav", host)
        user, password = raw.get("username"), raw.get("password")
        if isinstance(user, str) and isinstance(password, str):
            return (user, password)
        return None

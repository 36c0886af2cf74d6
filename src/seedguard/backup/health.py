""" "Can I still recover?": one verdict per backup from its copies, its slots and, for a
server-hardened backup, its key's state on the server (docs/backup.md, "Status").

Pure: `assess` takes what `Backups.health` read and says no more than that. A backup is
- `bad` (exit 1) when no intact copy is left, when a copy is missing, changed, damaged or
  refused (even while another is intact: something happened there), when its hardening key
  was destroyed or is missing, or when few guesses remain before the server destroys it
  (`locked`);
- `unknown` (exit 3) when a location or the hardening server could not be asked;
- `warning` (exit 0) when it is recoverable through one location only;
- `due` (exit 0) when a copy is past its verify interval;
- `ok` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seedguard.backup.registry import Entry
from seedguard.envelope import Header
from seedguard.envelope.sealing import destroyed_advice

# Attempts left at or below which a hardened key is shown as `locked` (and exit 1).
FEW_ATTEMPTS = 3
LEVELS = ("ok", "due", "warning", "unknown", "bad")


@dataclass(frozen=True)
class CopyState:
    location: str
    state: str  # ok | pending | missing | changed | damaged | unreachable | unchecked | denied
    detail: str | None
    verified: str | None
    verify_due: bool

    @property
    def intact(self) -> bool:
        return self.state in ("ok", "pending")


@dataclass(frozen=True)
class KeyState:
    """A hardened backup's key on its server: active, not-ready, destroyed, missing, or
    unreachable (with the reason)."""

    server: str
    state: str
    attempts_left: int | None = None
    max_attempts: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class BackupHealth:
    entry: Entry
    copies: tuple[CopyState, ...]
    header: Header | None
    key: KeyState | None
    level: str  # ok | due | warning | unknown | bad
    state: str  # ok | verify-due | one-location | degraded | locked | destroyed | ...
    verdict: str

    @property
    def exit_code(self) -> int:
        return {"bad": 1, "unknown": 3}.get(self.level, 0)

    def ways(self) -> list[str]:
        """What opens the backup: "password", "server-hardened password", "recovery key"."""
        if self.header is None:
            return []
        ways = []
        if self.header.server_slot() is not None:
            ways.append("password (server-hardened)")
        elif self.header.password_kdf() is not None:
            ways.append("password")
        if self.header.has_recovery_key():
            ways.append("recovery key")
        return ways

    def as_dict(self) -> dict[str, Any]:
        key: dict[str, Any] | None = None
        if self.key is not None:
            key = {
                "server": self.key.server,
                "state": self.key.state,
                "attempts_left": self.key.attempts_left,
                "max_attempts": self.key.max_attempts,
                "detail": self.key.detail,
            }
        return {
            "backup_id": self.entry.backup_id,
            "label": self.entry.label,
            "kind": self.entry.kind,
            "fingerprint": self.entry.fingerprint,
            "level": self.level,
            "state": self.state,
            "verdict": self.verdict,
            "opens_with": self.ways(),
            "recovery_key": None if self.header is None else self.header.has_recovery_key(),
            "hardening": key,
            "copies": [
                {
                    "location": c.location,
                    "state": c.state,
                    "detail": c.detail,
                    "verified": c.verified,
                    "verify_due": c.verify_due,
                }
                for c in self.copies
            ],
        }


def assess(
    entry: Entry, copies: tuple[CopyState, ...], header: Header | None, key: KeyState | None
) -> BackupHealth:
    level, state, verdict = _verdict(copies, header, key)
    return BackupHealth(entry, copies, header, key, level, state, verdict)


def _verdict(
    copies: tuple[CopyState, ...], header: Header | None, key: KeyState | None
) -> tuple[str, str, str]:
    intact = [c for c in copies if c.intact]
    broken = [c for c in copies if c.state in ("missing", "changed", "damaged", "denied")]
    # Unchecked: this install cannot read that kind of location (an extra is missing). Like an
    # unreachable one, nothing is known of the copy: never called broken, never ok.
    unreachable = [c for c in copies if c.state in ("unreachable", "unchecked")]
    recovery = header.has_recovery_key() if header is not None else None
    if not intact:
        if unreachable and not broken:
            return (
                "unknown",
                "unreachable",
                "No copy could be checked: " + _not_asked(unreachable),
            )
        states = ", ".join(sorted({c.state for c in copies})) or "no copies registered"
        if copies and all(c.state in ("denied", "unreachable", "unchecked") for c in copies):
            return (
                "bad",
                "denied",
                f"No copy could be read ({states}): fix the access to the locations shown, "
                "then run it again.",
            )
        return (
            "bad",
            "lost",
            f"No intact copy is left ({states}): make a new backup from the wallet while you "
            "still have it.",
        )
    if key is not None:
        if key.state == "destroyed":
            return (
                "bad",
                "destroyed",
                (
                    f"The server at {key.server} destroyed this backup's hardening key after too "
                    f"many wrong passwords: the password no longer opens it. "
                    f"{destroyed_advice(recovery)}"
                ),
            )
        if key.state == "missing":
            return (
                "bad",
                "key-missing",
                (
                    f"The server at {key.server} has no hardening key for this backup (deleted, or "
                    f"another server answers there): the password no longer opens it. "
                    f"{destroyed_advice(recovery)}"
                ),
            )
        if key.state == "unreachable":
            way = (
                " Its recovery key opens it without the server."
                if recovery
                else " Without that server it cannot be opened."
            )
            return (
                "unknown",
                "server-unreachable",
                (f"The hardening server {key.server} could not be asked ({key.detail}).{way}"),
            )
        left = key.attempts_left
        if key.state == "active" and left is not None and left <= FEW_ATTEMPTS:
            return (
                "bad",
                "locked",
                (
                    f"locked: {left} attempt(s) left before {key.server} destroys this backup's "
                    "key (wrong passwords were tried). The right password resets the count: run "
                    "`seedguard backup verify`."
                ),
            )
    where = f"{len(intact)} location{'s' if len(intact) != 1 else ''}"
    ways = " or ".join(_ways(header)) or "its secret"
    if key is not None and key.state == "active":
        ways += f" (hardened by {key.server}: {key.attempts_left} attempts left)"
    if broken:
        names = ", ".join(f"{c.location} ({c.state})" for c in broken)
        return (
            "bad",
            "degraded",
            (
                f"Recoverable from {where} with {ways}, but not from {names}: check what "
                "happened there (`backup verify`), then `seedguard backup copy` puts a copy "
                "back."
            ),
        )
    if unreachable:
        return (
            "unknown",
            "partly-unreachable",
            (f"Recoverable from {where} with {ways}; " + _not_asked(unreachable)),
        )
    if len(intact) == 1:
        return (
            "warning",
            "one-location",
            (
                f"Recoverable from one location only ({intact[0].location}) with {ways}: add "
                "another with `seedguard backup copy`."
            ),
        )
    if any(c.verify_due for c in copies):
        return "due", "verify-due", f"Recoverable from {where} with {ways}; a verify is due."
    return "ok", "ok", f"Recoverable from {where} with {ways}."


def _not_asked(copies: list[CopyState]) -> str:
    """Which copies were not checked and why: a location that could not be reached, or one
    this install cannot read (with what to install), never the one said for the other."""
    parts = []
    unreached = [c.location for c in copies if c.state == "unreachable"]
    if unreached:
        parts.append(", ".join(unreached) + " could not be reached.")
    unchecked = [c for c in copies if c.state == "unchecked"]
    if unchecked:
        parts.append(", ".join(c.location for c in unchecked) + ": not checked here.")
        parts.extend(dict.fromkeys(c.detail for c in unchecked if c.detail))
    return " ".join(parts)


def _ways(header: Header | None) -> list[str]:
    if header is None:
        return []
    ways = []
    if header.password_kdf() is not None:
        ways.append("the password")
    if header.has_recovery_key():
        ways.append("the recovery key")
    return ways

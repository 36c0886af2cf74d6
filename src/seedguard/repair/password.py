"""A half-remembered backup password, searched against an offline envelope (docs/repair.md).

The candidates come from the pattern language and typo model of `passphrase.Space`. Each one
costs one Argon2id run with the envelope's own parameters (256 MiB and most of a second by
default, on every core), which is the point of Argon2id: this is for typo-level searches, and
the estimate says how long. A server-hardened envelope is refused: its password is checked
with the server's help, every guess spends one of its limited attempts, and the last one
destroys the key.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from seedguard.envelope import Header, Password, password_unwraps
from seedguard.envelope.header import PasswordSlot
from seedguard.errors import UsageError
from seedguard.repair.passphrase import Space
from seedguard.repair.targets import Match


def check_offline(header: Header) -> list[PasswordSlot]:
    """The envelope's offline password slots (their Argon2id parameters checked), or a
    UsageError that says why this backup's password cannot be searched."""
    slots = [s for s in header.slots if isinstance(s, PasswordSlot)]
    hardened = header.server_slot()
    if not slots and hardened is not None:
        raise UsageError(
            f"Backup {header.backup_id[:8]} is hardened by the seedguard server at "
            f"{hardened.server}: every guess would spend one of its limited attempts, and the "
            "last one destroys the key. It cannot be searched: try the passwords you remember "
            "one at a time with `backup verify`, or open it with its recovery key."
        )
    if not slots:
        raise UsageError(
            f"Backup {header.backup_id[:8]} has no password slot: open it with its recovery "
            "key (--with-recovery-key)."
        )
    for slot in slots:
        slot.kdf.check_bounds()  # a hostile file is refused before any candidate runs
    return slots


def default_jobs(header: Header) -> int:
    """Processes for a search: Argon2id already runs its lanes on threads, so one process
    per `parallelism` cores, and no more than half the memory can hold."""
    slots = check_offline(header)
    lanes = max(s.kdf.parallelism for s in slots)
    memory = max(s.kdf.memory_kib for s in slots) * 1024
    cores = os.cpu_count() or 1
    jobs = max(1, cores // lanes)
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):
        return jobs
    return max(1, min(jobs, available // 2 // max(memory, 1)))


@dataclass
class PasswordSearch:
    """Backup passwords (passphrase.Space) tried against one offline envelope's header."""

    space: Space
    header: Header

    def __post_init__(self) -> None:
        check_offline(self.header)

    @property
    def count(self) -> int:
        return self.space.count

    def valid(self, start: int, stop: int) -> Iterator[tuple[int, str]]:
        return self.space.valid(start, stop)

    def reveal(self, candidate: str) -> str:
        return candidate

    def chunk(self) -> int:
        return 1  # a candidate is most of a second: checkpoint and stop between any two

    def test(self, items: Sequence[tuple[int, str]]) -> list[tuple[int, str, Match]]:
        return [
            (index, text, Match("password", self.header.backup_id))
            for index, text in items
            if password_unwraps(self.header, Password(text))
        ]

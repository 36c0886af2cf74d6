"""Runs a search over a candidate space on every core, with progress, cancellation and a
checkpoint.

A search is anything with a `count`, an iterator of checksum-valid candidates by index
(`valid(start, stop)`) and a batch test (`test(items)`). The space is cut into chunks that
worker processes take in order; the parent records, after each chunk, the index below which
every candidate was tried, and that single integer is the checkpoint (no word, no
passphrase). The first match ends the search unless `find_all`.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from seedguard import home as homes
from seedguard.errors import InputError
from seedguard.mnemonic import bip39
from seedguard.repair import checksum, pbkdf2
from seedguard.repair.targets import Match, Matcher

CHECKPOINT_VERSION = 1
SAVE_EVERY = 2.0  # seconds between checkpoint writes


class Search(Protocol):
    @property
    def count(self) -> int: ...

    def valid(self, start: int, stop: int) -> Iterator[tuple[int, Any]]: ...

    def test(self, items: Sequence[tuple[int, Any]]) -> list[tuple[int, Any, Match]]: ...

    def chunk(self) -> int: ...

    def reveal(self, candidate: Any) -> str: ...


@dataclass
class PhraseSearch:
    """Phrases from a damaged one (space.Space), recognised by the targets."""

    space: Any
    matcher: Matcher | None
    passphrase: str = ""
    use_batch: bool = True

    @property
    def count(self) -> int:
        return int(self.space.count)

    def valid(self, start: int, stop: int) -> Iterator[tuple[int, Any]]:
        return self.space.valid(start, stop)  # type: ignore[no-any-return]

    def reveal(self, candidate: Any) -> str:
        return str(self.space.phrase(candidate))

    def chunk(self) -> int:
        # About 2,048 survivors, 32 rows of the kernel's lanes: the last row, part empty,
        # costs a few percent (at 512 survivors it cost six).
        return 2048 * int(self.space.checksum_ratio)

    def test(self, items: Sequence[tuple[int, Any]]) -> list[tuple[int, Any, Match]]:
        if self.matcher is None:
            return []
        salt = b"mnemonic" + bip39.nfkd(self.passphrase).encode()
        normalized = self.space.wordlist.normalized
        passwords = [" ".join(normalized[w] for w in words).encode() for _, words in items]
        seeds = _pbkdf2(passwords, [salt] * len(passwords), self.use_batch)
        return _matches(self.matcher, items, seeds)


@dataclass
class PassphraseSearch:
    """BIP-39 passphrases for a known phrase (passphrase.Space), recognised by the targets."""

    space: Any
    matcher: Matcher
    mnemonic: str
    use_batch: bool = True

    @property
    def count(self) -> int:
        return int(self.space.count)

    def valid(self, start: int, stop: int) -> Iterator[tuple[int, Any]]:
        return self.space.valid(start, stop)  # type: ignore[no-any-return]

    def reveal(self, candidate: Any) -> str:
        return str(candidate)

    def chunk(self) -> int:
        return 512

    def test(self, items: Sequence[tuple[int, Any]]) -> list[tuple[int, Any, Match]]:
        password = bip39.nfkd(self.mnemonic).encode()
        salts = [b"mnemonic" + bip39.nfkd(p).encode() for _, p in items]
        seeds = _pbkdf2([password] * len(salts), salts, self.use_batch)
        return _matches(self.matcher, items, seeds)


def _matches(
    matcher: Matcher, items: Sequence[tuple[int, Any]], seeds: Sequence[bytes]
) -> list[tuple[int, Any, Match]]:
    """The candidates whose seed the matcher recognises, with what it recognised."""
    out = []
    for (index, candidate), seed in zip(items, seeds, strict=True):
        found = matcher.match(seed)
        if found is not None:
            out.append((index, candidate, found))
    return out


def _pbkdf2(passwords: list[bytes], salts: list[bytes], batch: bool) -> list[bytes]:
    if batch and len(passwords) >= 8:
        return pbkdf2.pbkdf2_sha512(passwords, salts)
    return [
        hashlib.pbkdf2_hmac("sha512", p, s, 2048) for p, s in zip(passwords, salts, strict=False)
    ]


@dataclass
class Found:
    index: int
    candidate: Any
    match: Match | None


@dataclass
class Outcome:
    found: list[Found] = field(default_factory=list)
    checked: int = 0  # candidates below `next_index` tried (the whole range when done)
    next_index: int = 0
    survivors: int = 0
    seconds: float = 0.0
    complete: bool = False
    interrupted: bool = False
    listed: list[Any] = field(default_factory=list)


_WORKER: Search | None = None


def _init(search: Search) -> None:
    global _WORKER
    _WORKER = search
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it checkpoints
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work(
    bounds: tuple[int, int, int],
) -> tuple[int, int, list[tuple[int, Any, Match]], int, list[Any]]:
    start, stop, list_limit = bounds
    assert _WORKER is not None
    items = list(_WORKER.valid(start, stop))
    found = _WORKER.test(items) if items else []
    listed = [c for _, c in items[:list_limit]] if list_limit else []
    return start, stop, found, len(items), listed


class Interrupted(Exception):
    """SIGTERM, turned into an exception the parent can checkpoint on."""


def run(
    search: Search,
    start: int = 0,
    jobs: int | None = None,
    find_all: bool = False,
    list_limit: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
    on_checkpoint: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    stop_at: int | None = None,
) -> Outcome:
    """Search [start, count) (or up to `stop_at`); `on_progress(done_index, survivors)` after
    each chunk, `on_checkpoint(next_index)` every few seconds and on the way out."""
    jobs = jobs or os.cpu_count() or 1
    end = search.count if stop_at is None else min(stop_at, search.count)
    size = max(1, search.chunk())
    outcome = Outcome(next_index=start)
    began = time.perf_counter()
    if isinstance(search, PhraseSearch | PassphraseSearch) and search.use_batch:
        pbkdf2.warm()  # compiled (or loaded) once, before the workers fork
    if isinstance(search, PhraseSearch):
        checksum.warm()

    def ranges() -> Iterator[tuple[int, int, int]]:
        for lo in range(start, end, size):
            yield lo, min(end, lo + size), list_limit

    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        raise Interrupted

    main_thread = _is_main_thread()
    if main_thread:
        signal.signal(signal.SIGTERM, on_term)
    last_save = time.monotonic()
    pending: dict[int, tuple[int, int]] = {}

    def advance(lo: int, hi: int, survivors: int) -> None:
        nonlocal last_save
        pending[lo] = (hi, survivors)
        while outcome.next_index in pending:
            hi2, surv = pending.pop(outcome.next_index)
            outcome.checked += hi2 - outcome.next_index
            outcome.survivors += surv
            outcome.next_index = hi2
        if on_progress is not None:
            on_progress(outcome.next_index, outcome.survivors)
        if on_checkpoint is not None and time.monotonic() - last_save >= SAVE_EVERY:
            on_checkpoint(outcome.next_index)
            last_save = time.monotonic()

    def consume(results: Iterator[tuple[int, int, list[Any], int, list[Any]]]) -> None:
        for lo, hi, found, survivors, listed in results:
            for index, candidate, match in found:
                outcome.found.append(Found(index, candidate, match))
            if list_limit and len(outcome.listed) < list_limit:
                outcome.listed.extend(listed[: list_limit - len(outcome.listed)])
            advance(lo, hi, survivors)
            if (outcome.found and not find_all) or (should_stop is not None and should_stop()):
                return

    try:
        if jobs == 1 or end - start <= size:
            _init_local(search)
            consume(_work(r) for r in ranges())
        else:
            context = multiprocessing.get_context("fork")
            with context.Pool(jobs, initializer=_init, initargs=(search,)) as pool:
                consume(pool.imap(_work, ranges()))
                pool.terminate()
        outcome.complete = outcome.next_index >= end
    except (KeyboardInterrupt, Interrupted):
        outcome.interrupted = True
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        if on_checkpoint is not None and not outcome.complete:
            on_checkpoint(outcome.next_index)
    outcome.found.sort(key=lambda f: f.index)
    outcome.seconds = time.perf_counter() - began
    return outcome


def _init_local(search: Search) -> None:
    global _WORKER
    _WORKER = search


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def measure_rate(search: Search, jobs: int | None = None, seconds: float = 1.0) -> float:
    """Candidates per second on this machine: the real pipeline (enumeration, checksum, key
    stretching, matching) run in this process for about `seconds` on stretches from the
    middle of the space, times the number of processes a search would use."""
    if search.count == 0:
        return 0.0
    jobs = jobs or os.cpu_count() or 1
    if isinstance(search, PhraseSearch | PassphraseSearch) and search.use_batch:
        pbkdf2.warm()
    if isinstance(search, PhraseSearch):
        checksum.warm()
    step = max(1, search.chunk() // 8)
    index = search.count // 2
    list(search.valid(index, min(search.count, index + 1)))  # warm: a list laid out once
    done = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        if index >= search.count:
            index = 0
        stop = min(search.count, index + step)
        items = list(search.valid(index, stop))
        if items:
            search.test(items)
        done += stop - index
        index = stop
        if done >= search.count:
            break
    elapsed = max(time.perf_counter() - began, 1e-6)
    return done / elapsed * jobs


# --- checkpoints ----------------------------------------------------------------------------


def describe(kind: str, *parts: str) -> str:
    """What a checkpoint belongs to, as a digest: the search's input and flags, hashed (the
    damaged words themselves are never stored)."""
    digest = hashlib.sha256(b"seedguard repair checkpoint\0" + kind.encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:32]


def checkpoint_path(kind: str, folder: Path | None = None) -> Path:
    base = folder if folder is not None else homes.home()
    return homes.ensure(homes.ensure(base) / "repair") / f"{kind}.checkpoint.json"


def save_checkpoint(path: Path, search_id: str, next_index: int, count: int) -> None:
    body = {"version": CHECKPOINT_VERSION, "search": search_id, "next": next_index, "count": count}
    homes.write_atomic(path, (json.dumps(body) + "\n").encode())


def load_checkpoint(path: Path, search_id: str, count: int) -> int:
    try:
        body = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"No checkpoint at {path}: start the search without --resume.") from None
    except (OSError, ValueError):
        raise InputError(
            f"{path} is not a seedguard checkpoint: remove it and start again."
        ) from None
    if not isinstance(body, dict) or body.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"{path} is not a seedguard checkpoint: remove it and start again.")
    if body.get("search") != search_id or body.get("count") != count:
        raise InputError(
            "The checkpoint is for another search (other words, flags or targets): give the "
            "same input as before, or start without --resume."
        )
    nxt = body.get("next")
    if not isinstance(nxt, int) or not 0 <= nxt <= count:
        raise InputError(f"{path} is damaged: remove it and start again.")
    return nxt

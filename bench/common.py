"""Shared pieces of the benchmarks: the result row and interleaved timing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    ours: str
    peer: str
    ours_s: float  # median seconds per operation
    peer_s: float
    target: str
    ratio: float  # how the target reads it (speed-up, or time ratio to a limit)
    passed: bool


def _time(fn: Callable[[], object], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops


def compare(
    ours: Callable[[], object], peer: Callable[[], object], loops: int, repeats: int
) -> tuple[float, float]:
    """Median per-call seconds of each, in interleaved rounds (so drift hits both alike)."""
    a, b = [], []
    for _ in range(repeats):
        a.append(_time(ours, loops))
        b.append(_time(peer, loops))
    return statistics.median(a), statistics.median(b)

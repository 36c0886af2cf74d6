"""Start-up: `seedguard --version`, `--help` and a plain `seed check` as a user runs them (a
new process each time), against their limits, with `python -c pass` as the yardstick; and the
whole command tree imported eagerly (as before the groups were loaded lazily) for comparison."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Result

SEEDGUARD = [str(Path(sys.executable).with_name("seedguard"))]
PHRASE = (
    b"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
    b"abandon about\n"
)
EAGER = "from seedguard.cli.main import make_app; make_app(every=True)"


def _median(argv: list[str], stdin: bytes, runs: int) -> float:
    times = []
    env = {**os.environ, "COLUMNS": "80"}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_startup(quick: bool) -> tuple[list[Result], list[str]]:
    runs = 5 if quick else 21
    python = [sys.executable]
    measured = {
        "python -c pass": _median([*python, "-c", "pass"], b"", runs),
        "seedguard --version": _median([*SEEDGUARD, "--version"], b"", runs),
        "seedguard --help": _median([*SEEDGUARD, "--help"], b"", runs),
        "seedguard seed check": _median([*SEEDGUARD, "seed", "check"], PHRASE, runs),
        "every command group imported (the tree before lazy loading)": _median(
            [*python, "-c", EAGER], b"", runs
        ),
    }
    limits = {"seedguard --version": 0.3, "seedguard --help": 0.3, "seedguard seed check": 0.5}
    results = [
        Result(
            f"Start-up: `{name}` (a new process)",
            "the command as a user runs it",
            f"{limit * 1000:.0f} ms (the limit)",
            measured[name],
            limit,
            "under the limit",
            measured[name] / limit,
            measured[name] < limit,
        )
        for name, limit in limits.items()
    ]
    base = measured["python -c pass"]
    lines = [
        "## Start-up",
        "",
        "Median wall time of a new process; the ratio is to `python -c pass` in the same run.",
        "Command groups are imported only when they run (seedguard/cli/main.py), so `--help`",
        "and `--version` load Typer and Rich but not the server, the S3 SDK or the MPC protocol.",
        "",
        "| process | time | ratio to `python -c pass` |",
        "|---|---|---|",
        *(f"| `{name}` | {t * 1000:.0f} ms | {t / base:.1f}× |" for name, t in measured.items()),
        "",
    ]
    return results, lines

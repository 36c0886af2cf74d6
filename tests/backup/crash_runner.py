"""Run the seedguard CLI and SIGKILL it at the Nth file-system step (tests only).

    python crash_runner.py N seedguard-args...

Steps are the calls that change the disk: os.open with O_CREAT, os.write, os.fsync,
os.replace, os.rename, os.unlink, os.mkdir. At step N the process kills itself just before
the call; a write is torn (half of it lands first). N = 0 never kills and prints the number of
steps to stderr, so a test knows how many points to try.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

KILL_AT = int(sys.argv[1])
steps = 0


def _step() -> bool:
    global steps
    steps += 1
    return steps == KILL_AT


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _wrap(name: str) -> None:
    real: Callable[..., Any] = getattr(os, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if name == "open" and not (len(args) > 1 and args[1] & os.O_CREAT):
            return real(*args, **kwargs)
        if _step():
            if name == "write" and len(args[1]) > 1:
                real(args[0], bytes(args[1])[: len(args[1]) // 2])  # a torn write
            _die()
        return real(*args, **kwargs)

    setattr(os, name, wrapper)


for _name in ("open", "write", "fsync", "replace", "rename", "unlink", "mkdir"):
    _wrap(_name)

if KILL_AT == 0:
    atexit.register(lambda: sys.stderr.write(f"\nSTEPS={steps}\n"))

from seedguard.cli.main import main  # noqa: E402 - the patches must come first

sys.argv = ["seedguard", *sys.argv[2:]]
main()

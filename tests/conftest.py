"""Shared fixtures: the official vectors (read from ../shared/vectors, never copied) and a
runner for the real `seedguard` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
VECTORS = Path(os.environ.get("SEEDGUARD_VECTORS", ROOT.parent / "shared" / "vectors"))


def vector_path(name: str) -> Path:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"official vectors not found at {path} (set SEEDGUARD_VECTORS)")
    return path


def load_vectors(name: str) -> Any:
    return json.loads(vector_path(name).read_text("utf-8"))


# The installed console script, as a user runs it; `python -m seedguard` where it is missing.
_SCRIPT = Path(sys.executable).with_name("seedguard")
SEEDGUARD = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "seedguard"]


def run_cli(
    *args: str, stdin: str | bytes = b"", env: dict[str, str] | None = None, timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    """Run `seedguard ARGS` with `stdin` piped (so never a terminal)."""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [*SEEDGUARD, *args],
        input=data,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})},
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def run_json(*args: str, stdin: str | bytes = b"", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)

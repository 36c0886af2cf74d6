"""Shared fixtures: the official vectors (read from ../shared/vectors, never copied) and a
runner for the real `seedguard` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# No test reads or writes the real user's data folder: every process started from here gets a
# fresh $SEEDGUARD_HOME unless the test names its own.
os.environ["SEEDGUARD_HOME"] = tempfile.mkdtemp(prefix="seedguard-test-home-")
os.chmod(os.environ["SEEDGUARD_HOME"], 0o700)
VECTORS = Path(os.environ.get("SEEDGUARD_VECTORS", ROOT.parent / "shared" / "vectors"))


def vector_path(name: str) -> Path:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(
            f"official vectors not found at {path} (set SEEDGUARD_VECTORS)",
            allow_module_level=True,  # parametrized tests load them while collecting
        )
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


# --- real servers (one of each per test worker) -------------------------------------------------

from tests.servers import (  # noqa: E402
    DavServer,
    PostgresCluster,
    S3Server,
    SeedguardServer,
    dav_server,
    postgres_cluster,
    s3_server,
    seedguard_server,
)


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    with dav_server(tmp_path_factory.mktemp("dav")) as server:
        yield server


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def sg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedguardServer]:
    """A seedguard server on SQLite, shared by a worker's tests (each test uses new accounts)."""
    work = tmp_path_factory.mktemp("sg-server")
    with seedguard_server(f"sqlite:///{work / 'server.db'}", work) as server:
        yield server


# --- a device's SEEDGUARD_HOME with a cheap KDF (tests only; the default is 256 MiB, t=3) ------

TEST_KDF_CONFIG = "[backup.kdf]\nmemory_mib = 19\niterations = 2\nparallelism = 1\n"


def make_home(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    (path / "config.toml").write_text(TEST_KDF_CONFIG)
    return path


@pytest.fixture
def sg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = make_home(tmp_path / "home")
    monkeypatch.setenv("SEEDGUARD_HOME", str(home))
    return home

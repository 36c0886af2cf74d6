"""Anyone who knows a guardian's public code can seal anything to it, and anyone can hand a
guardian a file (issue 14, section 3): every field of a sealed share is parsed by its type,
a huge or endless file is refused before it is read whole, and each case is one line, exit 1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pyrage import encrypt, x25519

from seedguard.social.guardian import recipient
from tests.conftest import make_home, run_cli

SECRET = "Granite-Otter-Lamp-51"
GOOD = {
    "format": "seedguard-sealed-share/1",
    "share": "x",
    "mode": "slip39",
    "label": "ann",
    "group": 1,
    "groups": 1,
    "group_threshold": 1,
    "member": 1,
    "members": 3,
    "threshold": 2,
    "created": "2026-12-02T10:00:00Z",
}


@pytest.fixture(scope="module")
def guardian(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = make_home(tmp_path_factory.mktemp("guardian"))
    made = run_cli(
        "guardian", "init", "--json", stdin=f"{SECRET}\n", env={"SEEDGUARD_HOME": str(home)}
    )
    return home, json.loads(made.stdout)["code"]


def _sealed(code: str, body: bytes) -> bytes:
    return bytes(encrypt(body, [x25519.Recipient.from_str(recipient(code))]))


HOSTILE = {
    "share-null": json.dumps({**GOOD, "share": None}).encode(),
    "share-number": json.dumps({**GOOD, "share": 5}).encode(),
    "share-list": json.dumps({**GOOD, "share": ["a", "b"]}).encode(),
    "deep": b'{"format":"seedguard-sealed-share/1","share":' + b"[" * 5000 + b"]" * 5000 + b"}",
    "huge-int": json.dumps({**GOOD, "member": 0})
    .encode()
    .replace(b'"member": 0', b'"member": ' + b"9" * 5000),
    "float": json.dumps({**GOOD, "member": 1.5}).encode(),
    "extra-field": json.dumps({**GOOD, "owner_says": "trust me"}).encode(),
    "not-json": b"\xff\xfe",
    "array": b"[]",
    "bad-share-words": json.dumps(GOOD).encode(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_sealed_shares_are_one_error(
    name: str, guardian: tuple[Path, str], tmp_path: Path
) -> None:
    home, code = guardian
    path = tmp_path / f"{name}.sgshare"
    path.write_bytes(_sealed(code, HOSTILE[name]))
    proc = run_cli(
        "guardian", "open", str(path), stdin=f"{SECRET}\n", env={"SEEDGUARD_HOME": str(home)}
    )
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_endless_and_special_files_are_refused(guardian: tuple[Path, str], tmp_path: Path) -> None:
    home, _ = guardian
    env = {"SEEDGUARD_HOME": str(home)}
    zero = run_cli("guardian", "open", "/dev/zero", stdin=f"{SECRET}\n", env=env, timeout=20)
    assert zero.returncode == 1
    assert "not a regular file" in zero.stderr
    big = tmp_path / "big.sgshare"
    with big.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024)  # sparse: 10 MiB of zeros
    refused = run_cli("guardian", "open", str(big), stdin=f"{SECRET}\n", env=env)
    assert refused.returncode == 1
    assert "larger than" in refused.stderr
    fifo = tmp_path / "pipe.sgshare"
    os.mkfifo(fifo)
    blocked = run_cli("guardian", "open", str(fifo), stdin=f"{SECRET}\n", env=env, timeout=20)
    assert blocked.returncode == 1
    assert "not a regular file" in blocked.stderr
    # The same for a backup "file" given as a location.
    fifo_backup = run_cli("backup", "list", "--from", str(fifo), env=env, timeout=20)
    assert fifo_backup.returncode in (1, 3)
    assert "Traceback" not in fifo_backup.stderr

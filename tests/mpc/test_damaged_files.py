"""A damaged or doctored device share file, or a hostile cloud payload, is one error naming
the file, never a KeyError, an OverflowError or a RecursionError (issue 14, section 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seedguard.errors import InputError
from seedguard.mpc.shares import ShareRecord
from tests.conftest import make_home, run_cli
from tests.servers import SeedguardServer

PASSWORD = "Correct horse battery staple 42"
RECORD = {
    "format": "seedguard-mpc-share/1",
    "wallet_id": "ab" * 16,
    "server": "http://127.0.0.1:1",
    "network": "mainnet",
    "label": None,
    "epoch": 0,
    "participant": 2,
    "thresh_pk": "02" + "11" * 32,
    "pubshares": ["02" + "22" * 32] * 3,
    "secshare": "33" * 32,
}


@pytest.mark.parametrize(
    "change",
    [
        {"epoch": 1.5},
        {"epoch": 10**400},
        {"epoch": True},
        {"participant": 7},
        {"secshare": "zz"},
        {"pubshares": "02"},
        {"label": ["x"]},
        {"extra": 1},
    ],
)
def test_hostile_records_are_one_error(change: dict[str, Any]) -> None:
    text = json.dumps({**RECORD, **change})
    with pytest.raises(InputError, match="not a seedguard MPC share"):
        ShareRecord.from_bytes(text.encode())


def test_deep_and_huge_payloads() -> None:
    for data in (b"[" * 100000 + b"]" * 100000, b'{"epoch":' + b"9" * 100000 + b"}", b"\xff"):
        with pytest.raises(InputError):
            ShareRecord.from_bytes(data)


def test_a_damaged_device_file_is_named(sg_server: SeedguardServer, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    env = {"SEEDGUARD_HOME": str(home)}
    made = run_cli(
        "mpc", "create", "--allow-raw-signing",
        "--server", sg_server.url, "--cloud", str(tmp_path / "c"), "--json",
        stdin=f"{PASSWORD}\n", env=env,
    )  # fmt: skip
    wallet = json.loads(made.stdout)["wallet_id"]
    path = home / "mpc" / f"{wallet}.json"
    good = json.loads(path.read_text())
    for change in ({"epoch": 1.5}, {"cloud": 5}, {"protection": "magic"}, {"thresh_pk": None}):
        path.write_text(json.dumps({**good, **change}))
        for args in (
            ("mpc", "status", "--offline"),
            ("mpc", "sign", "--wallet", wallet, "--message", "5a" * 32),
        ):
            proc = run_cli(*args, env=env)
            assert proc.returncode == 1, (change, args, proc.stderr)
            assert str(path) in proc.stderr
            assert "Traceback" not in proc.stderr
    del good["nonce"]
    path.write_text(json.dumps(good))
    assert run_cli("mpc", "status", "--offline", env=env).returncode == 1

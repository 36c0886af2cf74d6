"""`seedguard mpc ...` as a user runs it: the JSON contract, exit codes 1, 2 and 3, and the
lost-device walkthrough (create, sign, recover on a new device, sign with the same address)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coincurve.keys import PublicKeyXOnly

from tests.conftest import make_home, run_cli
from tests.servers import SeedguardServer, free_port

PASSWORD = "Correct horse battery staple 42\n"
MESSAGE = "5a" * 32


def _run(home: Path, *args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc


def _json(home: Path, *args: str, stdin: str = "", code: int = 0) -> Any:
    return json.loads(_run(home, *args, "--json", stdin=stdin, code=code).stdout)


def test_create_sign_recover_sign(sg_server: SeedguardServer, tmp_path: Path) -> None:
    phone = make_home(tmp_path / "phone")
    cloud = str(tmp_path / "cloud")
    created = _json(
        phone,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        "--label",
        "cli",
        stdin=PASSWORD,
    )
    assert set(created) == {
        "wallet_id",
        "public_key",
        "output_key",
        "address",
        "address_path",
        "descriptor",
        "cloud_backup",
        "recovery_key",
        "emergency_exit",
    }
    assert set(created["cloud_backup"]) == {"location", "backup_id", "hardened_by", "recovery_key"}
    assert created["cloud_backup"]["location"] == cloud
    assert created["cloud_backup"]["hardened_by"] == sg_server.url
    assert created["cloud_backup"]["recovery_key"] == "new"  # the default for an MPC wallet
    assert len(created["recovery_key"].split()) == 12
    assert "--with-recovery-key" in created["emergency_exit"]
    assert len(bytes.fromhex(created["public_key"])) == 32
    assert len(bytes.fromhex(created["output_key"])) == 32
    assert created["address"].startswith("bc1p")

    signed = _json(phone, "mpc", "sign", "--wallet", created["wallet_id"], "--message", MESSAGE)
    assert set(signed) == {"signature", "output_key", "path"}
    assert signed["output_key"] == created["output_key"]  # 0/0, the first address
    assert signed["path"] == created["address_path"] == "0/0"
    key = PublicKeyXOnly(bytes.fromhex(signed["output_key"]))
    assert key.verify(bytes.fromhex(signed["signature"]), bytes.fromhex(MESSAGE))

    status = _json(phone, "mpc", "status")
    assert [w["wallet_id"] for w in status["wallets"]] == [created["wallet_id"]]
    assert status["wallets"][0]["address"] == created["address"]

    # The phone is lost: a new device recovers with the backup password.
    laptop = make_home(tmp_path / "laptop")
    recovered = _json(
        laptop,
        "mpc",
        "recover",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        stdin=PASSWORD + "\n" + created["recovery_key"] + "\n",  # no PIN; keep the key
    )
    assert set(recovered) == set(created) - {"recovery_key"}  # kept: no new words to show
    assert recovered["cloud_backup"]["recovery_key"] == "kept"
    for field in ("wallet_id", "public_key", "output_key", "address", "descriptor"):
        assert recovered[field] == created[field]
    again = _json(laptop, "mpc", "sign", "--wallet", created["wallet_id"][:8], "--message", MESSAGE)
    assert key.verify(bytes.fromhex(again["signature"]), bytes.fromhex(MESSAGE))
    # The old phone is refused (revoked; and its share is stale anyway).
    refused = _json(
        phone, "mpc", "sign", "--wallet", created["wallet_id"], "--message", MESSAGE, code=1
    )
    assert "revoked" in refused["error"]

    exported = _json(
        laptop,
        "mpc",
        "export-key",
        "--wallet",
        created["wallet_id"],
        "--cloud",
        cloud,
        stdin=PASSWORD,
    )
    assert set(exported) == {"wif", "private_key", "descriptors"}
    human = _run(
        laptop,
        "mpc",
        "export-key",
        "--wallet",
        created["wallet_id"],
        "--cloud",
        cloud,
        stdin=PASSWORD,
    )
    assert "EMERGENCY EXIT" in human.stderr
    assert exported["descriptors"][0].startswith("tr([")
    assert "xprv" in exported["descriptors"][0]
    assert exported["descriptors"][0] in human.stdout.replace("\n", "").replace(" ", "")


def test_testnet_and_exit_codes(sg_server: SeedguardServer, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    cloud = str(tmp_path / "cloud")
    created = _json(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        "--network",
        "testnet",
        stdin=PASSWORD,
    )
    assert created["address"].startswith("tb1p")
    wallet = created["wallet_id"]
    # 2: usage
    _run(home, "mpc", "sign", "--wallet", wallet, "--message", "zz", code=2)
    _run(home, "mpc", "sign", "--wallet", wallet, "--message", "00" * 31, code=2)
    _run(home, "mpc", "sign", "--wallet", "nosuchwallet", "--message", MESSAGE, code=2)
    _run(home, "mpc", "create", "--allow-raw-signing", "--cloud", cloud, stdin=PASSWORD, code=2)
    _run(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        "--network",
        "regtest",
        stdin=PASSWORD,
        code=2,
    )
    # 1: the password was wrong (a weak new one, or a wrong one to open)
    weak = _json(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        stdin="password\n",
        code=1,
    )
    assert "backup password" in weak["error"]
    other = make_home(tmp_path / "other")
    wrong = _json(
        other,
        "mpc",
        "recover",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        stdin="Wrong horse battery staple 42\n",
        code=1,
    )
    assert wrong["attempts_left"] == 9
    # 3: the server could not be reached
    dead = f"http://127.0.0.1:{free_port()}"
    unreachable = _json(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        dead,
        "--cloud",
        cloud,
        stdin=PASSWORD,
        code=3,
    )
    assert dead in unreachable["error"]


def test_a_terminal_session(sg_server: SeedguardServer, tmp_path: Path) -> None:
    """At a terminal: the new password asked twice with its strength, a device PIN (no OS
    keyring here) asked twice; `sign` asks for the PIN; `export-key` warns and wants EXPORT."""
    import os
    import re

    import pexpect

    from tests.conftest import SEEDGUARD

    home = make_home(tmp_path / "home")
    env = {**os.environ, "SEEDGUARD_HOME": str(home), "COLUMNS": "120", "NO_COLOR": "1"}
    cloud = str(tmp_path / "cloud")
    password, pin = PASSWORD.strip(), "2468-1357"

    def spawn(*args: str) -> pexpect.spawn:
        return pexpect.spawn(
            SEEDGUARD[0], [*SEEDGUARD[1:], *args], env=env, encoding="utf-8", timeout=60
        )

    child = spawn(
        "mpc", "create", "--allow-raw-signing", "--server", sg_server.url, "--cloud", cloud
    )
    child.expect("New backup password")
    child.sendline(password)
    child.expect("Strength")
    child.expect("Repeat the backup password")
    child.sendline(password)
    child.expect("choose a device PIN")
    child.expect("Device PIN")
    child.sendline(pin)
    child.expect("Repeat the device PIN")
    child.sendline(pin)
    child.expect("MPC wallet created")
    # The recovery key (the default) waits behind Enter, is confirmed, then wiped.
    child.expect("Press Enter to show the recovery key")
    assert "1. " not in (child.before or "")
    child.sendline("")
    child.expect("type back two of its words")
    shown = re.sub(r"\x1b\[[0-9;]*m", "", child.before or "")
    words = dict(re.findall(r"(\d+)\. ([a-z]+)", shown))
    assert len(words) == 12
    for _ in range(2):
        child.expect(r"Word #(\d+) of the recovery key")
        asked = child.match.group(1)
        child.sendline("wrong")
        child.expect("That is not word")
        child.expect(r"Word #\d+ of the recovery key")
        child.sendline(words[asked])
    child.expect("\x1b\\[3J")
    child.expect("Without the server")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    wallet = _json(home, "mpc", "status")["wallets"][0]
    assert wallet["protection"] == "pin"

    child = spawn("mpc", "sign", "--wallet", wallet["wallet_id"], "--message", MESSAGE)
    child.expect("Device PIN")
    child.sendline(pin)
    child.expect("verified with libsecp256k1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    child = spawn("mpc", "export-key", "--wallet", wallet["wallet_id"], "--cloud", cloud)
    child.expect("EMERGENCY EXIT")
    child.expect("Type EXPORT")
    child.sendline("no")
    child.expect("Nothing was exported")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert password not in (child.before or "")

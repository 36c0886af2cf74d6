"""The server from the command line: hardened backups, the vault as a location, attempts left
after each wrong password, accounts and devices, and the documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_home, run_cli, run_json
from tests.servers import SeedguardServer, free_port, seedguard_server

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OLD, NEW = "Granite-Otter-Lamp-51", "Violet-Harbor-Quill-83"


@pytest.fixture
def home(sg_home: Path) -> Path:
    return sg_home


sg = run_json


def test_attempts_left_after_each_wrong_password(home: Path, tmp_path: Path) -> None:
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--max-attempts", "2") as s:
        folder = str(tmp_path / "cloud")
        made = sg(
            "backup",
            "create",
            "--to",
            folder,
            "--harden",
            s.location,
            "--recovery-key",
            stdin=f"{PHRASE}\n{OLD}\n",
        )
        assert made["hardened_by"] == s.url
        listed = sg("backup", "list", "--from", folder)["backups"][0]
        assert listed["hardened_by"] == s.url
        wrong = run_cli("backup", "restore", "--from", folder, stdin=f"{NEW}\n")
        assert wrong.returncode == 1
        assert "Wrong password: 1 attempt left before the server" in wrong.stderr
        last = sg("backup", "verify", "--from", folder, stdin=f"{NEW}\n", code=1)
        assert last["attempts_left"] == 0
        assert "that was the last attempt" in last["error"]
        gone = run_cli("backup", "restore", "--from", folder, stdin=f"{OLD}\n")
        assert gone.returncode == 1
        assert "destroyed this backup's hardening key" in gone.stderr
        assert "recovery key" in gone.stderr
        words = made["recovery_key"]
        restored = sg("backup", "restore", "--from", folder, "--recovery-key", stdin=f"{words}\n")
        assert restored["mnemonic"] == PHRASE


def test_the_vault_as_a_location(home: Path, sg_server: SeedguardServer, tmp_path: Path) -> None:
    folder = str(tmp_path / "folder")
    made = sg(
        "backup",
        "create",
        "--to",
        sg_server.location,
        "--to",
        folder,
        stdin=f"{PHRASE}\n{OLD}\n",
    )
    assert made["locations"] == [
        {"location": sg_server.location, "ok": True, "error": None},
        {"location": f"file://{folder}", "ok": True, "error": None},
    ]
    assert made["hardened_by"] == sg_server.url
    listed = sg("backup", "list", "--from", sg_server.location)
    assert [b["backup_id"] for b in listed["backups"]] == [made["backup_id"]]
    assert sg("backup", "status")["healthy"] is True
    changed = sg("backup", "change-password", stdin=f"{OLD}\n{NEW}\n")
    assert changed["locations"][0]["ok"] is True
    restored = sg("backup", "restore", "--from", sg_server.location, stdin=f"{NEW}\n")
    assert restored["mnemonic"] == PHRASE
    assert restored["servers"] == [sg_server.url]
    deleted = sg("backup", "delete", "--at", sg_server.location, "--id", made["backup_id"], "--yes")
    assert deleted["backup_id"] == made["backup_id"]
    assert sg("backup", "list", "--from", sg_server.location)["backups"] == []


def test_account_show_and_revoke(home: Path, sg_server: SeedguardServer, tmp_path: Path) -> None:
    sg(
        "backup",
        "create",
        "--to",
        sg_server.location,
        "--to",
        str(tmp_path / "f"),
        stdin=f"{PHRASE}\n{OLD}\n",
    )
    mine = sg("account", "show", "--server", sg_server.url)
    assert [d["current"] for d in mine["devices"]] == [True]
    other = make_home(tmp_path / "second")
    proc = run_cli(
        "backup",
        "restore",
        "--from",
        str(tmp_path / "f"),
        "--json",
        stdin=f"{OLD}\n",
        env={"SEEDGUARD_HOME": str(other)},
    )
    assert proc.returncode == 0, proc.stderr
    both = sg("account", "show", "--server", sg_server.location)
    assert both["account"] == mine["account"]
    second = next(d["id"] for d in both["devices"] if not d["current"])
    # From a device with no proof, revoking another waits for the delay (a thief must not
    # lock the owner out); listed, and cancelled from any device.
    held = sg("account", "revoke", second, "--server", sg_server.url, code=1)
    assert held["pending"]["kind"] == "revoke-device"
    assert "Run the same command again after" in held["error"]
    listed = sg("account", "pending", "--server", sg_server.url)["pending"]
    assert [p["id"] for p in listed] == [held["pending"]["id"]]
    assert sg("account", "cancel", "--server", sg_server.url) == {
        "cancelled": [held["pending"]["id"]]
    }
    # The second device revokes itself at once (it is not the account's last).
    proc = run_cli(
        "account", "revoke", second, "--server", sg_server.url, "--json",
        env={"SEEDGUARD_HOME": str(other)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    refused = run_cli(
        "account", "show", "--server", sg_server.url, "--json", env={"SEEDGUARD_HOME": str(other)}
    )
    assert refused.returncode == 1
    assert "revoked" in json.loads(refused.stdout)["error"]


def test_unreachable_servers_exit_3(home: Path, tmp_path: Path) -> None:
    dead = f"seedguard+http://127.0.0.1:{free_port()}"
    failed = sg("backup", "list", "--from", dead, code=3)
    assert "Cannot reach the seedguard server" in failed["error"]
    made = run_cli(
        "backup",
        "create",
        "--to",
        str(tmp_path / "x"),
        "--harden",
        dead,
        stdin=f"{PHRASE}\n{OLD}\n",
    )
    assert made.returncode == 3


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("seedguard+http://127.0.0.1:1/path", "has no path"),
        ("seedguard+ftp://127.0.0.1:1", "unknown kind of location"),
        ("seedguard+https://user:pw@127.0.0.1:1", "Credentials do not belong"),
    ],
)
def test_malformed_server_locations_are_usage_errors(
    home: Path, location: str, message: str
) -> None:
    failed = sg("backup", "list", "--from", location, code=2)
    assert message in failed["error"]


def test_help_names_the_options() -> None:
    text = run_cli("server", "run", "--help").stdout
    for option in ("--database", "--max-attempts", "--quota-mib", "--rate-per-ip", "--port"):
        assert option in text
    assert "--harden" in run_cli("backup", "create", "--help").stdout

"""`seedguard backup ...` as a contract: the installed command in a subprocess, secrets on
stdin, JSON on stdout, one-line errors and the documented exit codes."""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.conftest import SEEDGUARD, make_home, run_cli
from tests.servers import DavServer, S3Server, free_port

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OLD, NEW = "Granite-Otter-Lamp-51", "Violet-Harbor-Quill-83"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_home(tmp_path / "home")
    monkeypatch.setenv("SEEDGUARD_HOME", str(path))
    return path


def sg(*args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def create(*places: str, extra: tuple[str, ...] = (), stdin: str | None = None) -> Any:
    args = [a for p in places for a in ("--to", p)]
    return sg("backup", "create", *args, *extra, stdin=stdin or f"{PHRASE}\n{OLD}\n")


def test_create_then_every_read_only_command(home: Path, tmp_path: Path) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    made = create(a, b, extra=("--label", "savings"))
    assert set(made) == {"backup_id", "fingerprint", "locations"}
    assert made["locations"] == [
        {"location": f"file://{a}", "ok": True, "error": None},
        {"location": f"file://{b}", "ok": True, "error": None},
    ]
    listed = sg("backup", "list", "--from", a)  # no password needed
    [entry] = listed["backups"]
    assert {k: entry[k] for k in ("backup_id", "label", "kind")} == {
        "backup_id": made["backup_id"],
        "label": "savings",
        "kind": "bip39",
    }
    assert entry["kdf"] == {"algorithm": "argon2id", "m": 19 * 1024, "t": 2, "p": 1}
    assert set(entry) >= {"backup_id", "label", "kind", "created", "kdf"}
    verified = sg("backup", "verify", "--from", b, stdin=f"{OLD}\n")
    assert verified == {
        "ok": True,
        "backup_id": made["backup_id"],
        "fingerprint": made["fingerprint"],
    }
    status = sg("backup", "status")
    assert status["healthy"] is True
    assert [c["state"] for c in status["backups"][0]["copies"]] == ["ok", "ok"]
    restored = sg("backup", "restore", "--from", a, stdin=f"{OLD}\n")
    addresses = sg("seed", "addresses", "--count", "3", stdin=f"{PHRASE}\n")
    assert restored["mnemonic"] == PHRASE
    assert restored["fingerprint"] == made["fingerprint"] == addresses["fingerprint"]
    assert restored["accounts"] == addresses["accounts"]
    assert "legal" not in (home / "config.toml").read_text()
    for place in (a, b):
        [file] = Path(place).iterdir()
        assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_wrong_password_and_damage_exit_1_with_json(home: Path, tmp_path: Path) -> None:
    a = str(tmp_path / "a")
    made = create(a)
    proc = run_cli("backup", "verify", "--from", a, "--json", stdin="Not-The-Password-99\n")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["ok"] is False
    assert proc.stderr.strip().count("\n") == 0
    assert "Wrong password" in proc.stderr
    assert "Not-The-Password" not in proc.stdout + proc.stderr
    [file] = Path(a).iterdir()
    data = bytearray(file.read_bytes())
    data[100] ^= 1
    file.write_bytes(bytes(data))
    bad = sg("backup", "verify", "--from", a, stdin=f"{OLD}\n", code=1)
    assert "damaged" in bad["error"]
    status = sg("backup", "status", code=1)
    assert status["backups"][0]["copies"][0]["state"] == "damaged"
    assert made["backup_id"] == status["backups"][0]["backup_id"]


def test_weak_password_is_refused_with_feedback_and_nothing_written(
    home: Path, tmp_path: Path
) -> None:
    proc = run_cli("backup", "create", "--to", str(tmp_path / "a"), stdin=f"{PHRASE}\nPassword1\n")
    assert proc.returncode == 1
    assert "too easy to guess" in proc.stderr
    assert "common password" in proc.stderr  # zxcvbn's own feedback
    assert not (tmp_path / "a").exists()


def test_usage_errors_exit_2(home: Path) -> None:
    assert run_cli("backup", "create", stdin=f"{PHRASE}\n{OLD}\n").returncode == 2
    proc = run_cli("backup", "list", "--from", "ftp://example.org/x")
    assert proc.returncode == 2
    assert "unknown kind of location" in proc.stderr
    proc = run_cli("backup", "list", "--from", "webdav+https://u:p@example.org/x")
    assert proc.returncode == 2
    assert "Credentials do not belong" in proc.stderr


def test_unreachable_locations_exit_3(home: Path, tmp_path: Path) -> None:
    dead = f"webdav+http://127.0.0.1:{free_port()}/backups"
    out = sg("backup", "list", "--from", dead, code=3)
    assert "network trouble" in out["error"]
    proc = run_cli(
        "backup",
        "create",
        "--to",
        str(tmp_path / "a"),
        "--to",
        dead,
        "--json",
        stdin=f"{PHRASE}\n{OLD}\n",
    )
    assert proc.returncode == 3
    made = json.loads(proc.stdout)
    assert [loc["ok"] for loc in made["locations"]] == [True, False]
    assert "could not be written" in proc.stderr


def test_missing_backup_exit_1(home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = sg("backup", "restore", "--from", str(tmp_path / "empty"), stdin=f"{OLD}\n", code=1)
    assert "No seedguard backup at" in out["error"]


def test_lost_device_walkthrough_with_recovery_key_and_password_change(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = str(tmp_path / "icloud"), str(tmp_path / "usb")
    made = create(
        a, b, extra=("--recovery-key", "--passphrase"), stdin=f"{PHRASE}\nTREZOR\n{OLD}\n"
    )
    words = made["recovery_key"].split()
    assert len(words) == 12
    # The phone is gone: a fresh SEEDGUARD_HOME finds the backup by itself.
    monkeypatch.setenv("SEEDGUARD_HOME", str(make_home(tmp_path / "new-phone")))
    assert [x["backup_id"] for x in sg("backup", "list", "--from", a)["backups"]] == [
        made["backup_id"]
    ]
    restored = sg(
        "backup", "restore", "--from", a, "--recovery-key", stdin=made["recovery_key"] + "\n"
    )
    assert restored["passphrase"] == "TREZOR"
    assert restored["fingerprint"] == made["fingerprint"]
    changed = sg(
        "backup", "change-password", "--recovery-key", stdin=f"{made['recovery_key']}\n{NEW}\n"
    )
    assert changed["locations"] == [{"location": f"file://{a}", "ok": True, "error": None}]
    sg("backup", "verify", "--from", a, stdin=f"{NEW}\n")
    sg("backup", "verify", "--from", a, stdin=f"{OLD}\n", code=1)
    # The copy on the USB stick still has the old password until it is verified and changed.
    sg("backup", "verify", "--from", b, stdin=f"{OLD}\n")
    changed = sg("backup", "change-password", stdin=f"{OLD}\n{NEW}\n")
    assert all(loc["ok"] for loc in changed["locations"])
    sg("backup", "verify", "--from", b, stdin=f"{OLD}\n", code=1)


def test_delete_asks_for_yes_and_export_armor_round_trips(home: Path, tmp_path: Path) -> None:
    a = str(tmp_path / "a")
    made = create(a)
    armored = sg("backup", "export", "--from", a, "--armor")["armored"]
    assert armored.startswith("-----BEGIN SEEDGUARD BACKUP-----")
    paper = tmp_path / "paper.txt"
    paper.write_text("typed back from paper:\n" + armored)
    assert sg("backup", "restore", "--from", str(paper), stdin=f"{OLD}\n")["mnemonic"] == PHRASE
    out = tmp_path / "copy.sgbk"
    sg("backup", "export", "--from", a, "--output", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    sg("backup", "export", "--from", a, "--output", str(out), code=1)  # never overwrites
    assert run_cli("backup", "delete", "--at", a, "--id", made["backup_id"]).returncode == 2
    sg("backup", "delete", "--at", a, "--id", made["backup_id"][:8], "--yes")
    assert list(Path(a).iterdir()) == []
    assert sg("backup", "status") == {"healthy": True, "backups": []}


def test_s3_through_the_standard_aws_environment(
    home: Path, s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    bucket = f"sg-{secrets.token_hex(5)}"
    s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    location = f"s3://{bucket}/phone"
    made = create(location)
    assert made["locations"][0]["ok"]
    assert sg("backup", "restore", "--from", location, stdin=f"{OLD}\n")["mnemonic"] == PHRASE
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    sg("backup", "list", "--from", location, code=3)


def test_webdav_with_netrc(home: Path, dav: DavServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(dav.netrc))
    location = dav.location(f"nextcloud-{secrets.token_hex(3)}")
    create(location)
    assert sg("backup", "status")["healthy"] is True
    sg("backup", "change-password", stdin=f"{OLD}\n{NEW}\n")
    sg("backup", "verify", "--from", location, stdin=f"{NEW}\n")
    monkeypatch.setenv("NETRC", os.devnull)
    # The store could not be read (exit 3, as every command says for it): nothing was checked.
    refused = sg("backup", "status", code=3)["backups"][0]
    assert "refused access" in refused["copies"][0]["detail"]
    assert refused["state"] == "unreachable"


def test_interactive_create_asks_twice_and_shows_strength(home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    command, *rest = SEEDGUARD
    child = pexpect.spawn(
        command,
        [*rest, "backup", "create", "--to", str(tmp_path / "a")],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Recovery phrase")
    child.sendline(PHRASE)
    child.expect("New backup password")
    child.sendline("password1")
    child.expect("upper-case letter")
    child.expect("New backup password")
    child.sendline(OLD)
    child.expect(r"Strength: (strong|very strong)")
    child.expect("Repeat the backup password")
    child.sendline(OLD + "x")
    child.expect("differ")
    child.expect("New backup password")
    child.sendline(OLD)
    child.expect("Repeat")
    child.sendline(OLD)
    child.expect("written, read back")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert OLD not in (child.before or "")

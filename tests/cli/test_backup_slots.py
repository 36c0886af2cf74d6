"""Restic's habits: `backup copy` repairs a location without a new backup, `backup keys` lists
what opens a backup, `add-recovery-key` / `remove-recovery-key` change it at every location;
and `backup status` gives one verdict per backup for each state (issue 13, sections 2 and 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seedguard.backup import Backups
from seedguard.backup.lifecycle import PENDING, SUFFIX
from tests.conftest import run_cli
from tests.servers import SeedguardServer

PASSWORD = "Correct horse battery staple 42"
WRONG = "Wrong horse battery staple 42"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def sg(*args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def _create(*folders: str, extra: tuple[str, ...] = ()) -> Any:
    to = [arg for f in folders for arg in ("--to", f)]
    return sg("backup", "create", *to, *extra, stdin=f"{PHRASE}\n{PASSWORD}\n")


def test_status_verdict_for_each_state(sg_home: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    made = _create(str(a), str(b))
    [row] = sg("backup", "status")["backups"]
    assert (row["level"], row["state"]) == ("ok", "ok")
    assert row["opens_with"] == ["password"]
    assert "Recoverable from 2 locations" in row["verdict"]
    assert all(c["verified"] for c in row["copies"])  # the read-back at creation counts
    name = made["backup_id"] + SUFFIX
    # A copy past its verify interval: informational, exit 0.
    Backups(sg_home).registry.set_verified(made["backup_id"], f"file://{a}", "2020-01-01T00:00:00Z")
    [row] = sg("backup", "status")["backups"]
    assert (row["level"], row["state"]) == ("due", "verify-due")
    assert [c["verify_due"] for c in row["copies"]] == [True, False]
    sg("backup", "verify", "--from", str(a), stdin=f"{PASSWORD}\n")
    assert sg("backup", "status")["backups"][0]["state"] == "ok"
    # One copy gone: still recoverable, but something happened there: exit 1, named.
    data = (b / name).read_bytes()
    (b / name).unlink()
    [row] = sg("backup", "status", code=1)["backups"]
    assert (row["level"], row["state"]) == ("bad", "degraded")
    assert "Recoverable from 1 location" in row["verdict"]
    assert f"file://{b} (missing)" in row["verdict"]
    # Changed elsewhere at the only other place: nothing intact is left, exit 1.
    (b / name).write_bytes(data)
    (a / name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    rows = sg("backup", "status", code=1)["backups"]
    assert rows[0]["state"] == "degraded"
    (b / name).unlink()
    [row] = sg("backup", "status", code=1)["backups"]
    assert (row["level"], row["state"]) == ("bad", "lost")


def test_copy_repairs_a_location(sg_home: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    b.mkdir()
    made = _create(str(a))
    assert sg("backup", "status")["backups"][0]["state"] == "one-location"
    copied = sg("backup", "copy", "--id", made["backup_id"][:8], "--to", str(b))
    assert copied == {
        "backup_id": made["backup_id"],
        "location": f"file://{b}",
        "ok": True,
        "error": None,
    }
    name = made["backup_id"] + SUFFIX
    assert (b / name).read_bytes() == (a / name).read_bytes()
    [row] = sg("backup", "status")["backups"]
    assert row["state"] == "ok"
    assert sg("backup", "verify", "--from", str(b), stdin=f"{PASSWORD}\n")["ok"] is True
    again = sg("backup", "copy", "--to", str(b), code=2)
    assert "already has a copy" in again["error"]
    # A tampered source is not copied: only a copy as this device wrote or verified it.
    c = tmp_path / "c"
    (a / name).write_bytes(b"junk")
    (b / name).write_bytes(b"junk")
    refused = sg("backup", "copy", "--to", str(c), code=1)
    assert "No copy" in refused["error"]
    assert not c.exists() or not list(c.iterdir())


def test_keys_and_recovery_key_slots(sg_home: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    made = _create(str(a), str(b))
    assert [s["type"] for s in sg("backup", "keys")["slots"]] == ["password"]
    added = sg("backup", "add-recovery-key", stdin=f"{PASSWORD}\n")
    assert all(r["ok"] for r in added["locations"])
    words = added["recovery_key"]
    assert [s["type"] for s in sg("backup", "keys")["slots"]] == ["password", "recovery"]
    for folder in (a, b):
        opened = sg(
            "backup", "verify", "--from", str(folder), "--with-recovery-key", stdin=f"{words}\n"
        )
        assert opened["backup_id"] == made["backup_id"]
        assert not (folder / (made["backup_id"] + PENDING)).exists()
    # The old spelling still works (hidden alias).
    sg("backup", "verify", "--from", str(a), "--recovery-key", stdin=f"{words}\n")
    assert sg("backup", "status")["backups"][0]["opens_with"] == ["password", "recovery key"]
    # Wrong password: nothing changes.
    wrong = sg("backup", "remove-recovery-key", "--yes", stdin=f"{WRONG}\n", code=1)
    assert "nothing was changed" in wrong["error"]
    removed = sg("backup", "remove-recovery-key", "--yes", stdin=f"{PASSWORD}\n")
    assert all(r["ok"] for r in removed["locations"])
    gone = sg(
        "backup", "verify", "--from", str(a), "--with-recovery-key", stdin=f"{words}\n", code=1
    )
    assert "without a recovery key" in gone["error"]
    assert sg("backup", "verify", "--from", str(b), stdin=f"{PASSWORD}\n")["ok"] is True
    again = sg("backup", "remove-recovery-key", "--yes", stdin=f"{PASSWORD}\n", code=1)
    assert "no recovery key" in again["error"]
    no_tty = run_cli("backup", "remove-recovery-key", stdin=f"{PASSWORD}\n")
    assert no_tty.returncode == 2


def test_add_recovery_key_to_a_hardened_backup(
    sg_home: Path, sg_server: SeedguardServer, tmp_path: Path
) -> None:
    made = _create(str(tmp_path / "a"), extra=("--harden", sg_server.location))
    slots = sg("backup", "keys")["slots"]
    assert slots[0]["type"] == "server"
    assert slots[0]["state"] == "active"
    assert slots[0]["attempts_left"] == 10
    added = sg("backup", "add-recovery-key", "--id", made["backup_id"], stdin=f"{PASSWORD}\n")
    restored = sg(
        "backup",
        "restore",
        "--from",
        str(tmp_path / "a"),
        "--with-recovery-key",
        stdin=f"{added['recovery_key']}\n",
    )
    assert restored["mnemonic"] == PHRASE


def test_copy_to_a_place_that_cannot_hold_it_says_so(sg_home: Path, tmp_path: Path) -> None:
    made = _create(str(tmp_path / "a"))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is expected")
    failed = run_cli("backup", "copy", "--id", made["backup_id"], "--to", f"file://{blocker}/sub")
    assert failed.returncode in (1, 3), failed.stderr
    assert "Traceback" not in failed.stderr
    assert len(Backups(sg_home).registry.find(made["backup_id"]).copies) == 1

"""`seedguard backup repair-password`: a half-remembered password found against a real
offline envelope in a folder; a server-hardened backup refused without spending one of its
server's guesses (a real server process); a checkpoint that holds no candidate, and --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from seedguard.envelope import Password, inspect, password_unwraps
from seedguard.repair import passphrase, password
from tests.conftest import SEEDGUARD, make_home, run_cli
from tests.servers import seedguard_server

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
PASSWORD = "Granite-Otter-Lamp-51"


def _made(home: Path, folder: Path, *extra: str) -> dict[str, Any]:
    env = {"SEEDGUARD_HOME": str(home)}
    proc = run_cli("backup", "create", "--to", str(folder), *extra, "--json",
                   stdin=f"{PHRASE}\n{PASSWORD}\n", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    made: dict[str, Any] = json.loads(proc.stdout)
    return made


def _repair(home: Path, folder: Path, pattern: str, *args: str, code: int) -> Any:
    env = {"SEEDGUARD_HOME": str(home)}
    proc = run_cli("backup", "repair-password", "--from", str(folder), *args, "--json",
                   stdin=pattern + "\n", env=env, timeout=240)  # fmt: skip
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr)


def test_found_by_pattern_and_by_typo_and_not_found(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    folder = tmp_path / "cloud"
    made = _made(home, folder)
    found = _repair(home, folder, "{granite|Granite}-Otter-Lamp-%2d", code=0)
    assert set(found) == {"found", "password", "backup_id", "fingerprint", "candidates",
                          "checked", "seconds"}  # fmt: skip
    assert found["found"] is True
    assert found["password"] == PASSWORD
    assert found["backup_id"] == made["backup_id"]
    assert found["fingerprint"] == made["fingerprint"]
    assert found["candidates"] == 200
    assert 0 < found["checked"] <= 200
    # A key repeated: one typo away, found by --typos 1 (and not without it).
    doubled = PASSWORD.replace("Otter", "Ottter")
    assert _repair(home, folder, doubled, code=1)["found"] is False
    typo = _repair(home, folder, doubled, "--typos", "1", code=0)
    assert typo["password"] == PASSWORD
    # Exhausted without a match: exit 1, every candidate tried, no password.
    missing = _repair(home, folder, "{Basalt|basalt}-Otter-Lamp-%d", code=1)
    assert missing == {**missing, "found": False, "password": None, "fingerprint": None}
    assert missing["checked"] == missing["candidates"] == 20
    estimate = _repair(home, folder, doubled, "--typos", "1", "--estimate", code=0)
    assert set(estimate) == {"candidates", "survivors", "rate", "seconds"}
    assert estimate["candidates"] == typo["candidates"] > 1000
    assert estimate["rate"] > 0
    assert estimate["seconds"] == pytest.approx(estimate["candidates"] / estimate["rate"])


def test_time_limit_refuses_in_json_mode(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    folder = tmp_path / "cloud"
    _made(home, folder)
    refused = _repair(home, folder, PASSWORD + "%3d", "--max-time", "1s", code=1)
    assert "more than --max-time 1s" in refused["error"]


def test_a_hardened_backup_is_refused_and_no_guess_is_spent(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    env = {"SEEDGUARD_HOME": str(home)}
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--max-attempts", "2") as s:
        folder = tmp_path / "cloud"
        _made(home, folder, "--harden", s.location)
        for _ in range(3):  # more than the server would allow, were they guesses
            proc = run_cli("backup", "repair-password", "--from", str(folder),
                           stdin=PASSWORD + "\n", env=env)  # fmt: skip
            assert proc.returncode == 2, proc.stderr
            assert "hardened by the seedguard server" in proc.stderr
            assert "limited attempts" in proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1
            assert "Traceback" not in proc.stderr
        # Both of the server's attempts are still there: a wrong password leaves one.
        wrong = run_cli("backup", "verify", "--from", str(folder), stdin="Basalt-Otter-9\n",
                        env=env)  # fmt: skip
        assert wrong.returncode == 1
        assert "1 attempt left" in wrong.stderr
        ok = run_cli("backup", "verify", "--from", str(folder), stdin=PASSWORD + "\n", env=env)
        assert ok.returncode == 0, ok.stderr


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    env = {"SEEDGUARD_HOME": str(home)}
    folder = tmp_path / "cloud"
    _made(home, folder)
    planted = tmp_path / "planted.seedguard"
    planted.write_bytes(b"not an envelope at all\n")
    cases = [
        (str(folder), ("--typos", "3"), PASSWORD, 2, "--typos"),
        (str(folder), (), "Granite{Otter", 1, "not closed"),
        (str(planted), (), PASSWORD, 1, "planted.seedguard"),
        (str(tmp_path / "empty"), (), PASSWORD, 1, "No seedguard backup"),
        (str(folder), ("--id", "zz"), PASSWORD, 2, "not a backup id"),
    ]
    (tmp_path / "empty").mkdir()
    for location, args, stdin, code, text in cases:
        proc = run_cli("backup", "repair-password", "--from", location, *args,
                       stdin=stdin + "\n", env=env)  # fmt: skip
        assert proc.returncode == code, (args, proc.stderr)
        assert text in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_sigterm_checkpoint_and_resume(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    folder = tmp_path / "cloud"
    _made(home, folder)
    numbers = [str(n) for n in range(100, 500)]
    pattern = "Granite-Otter-Lamp-{" + "|".join([*numbers, "51"]) + "}"  # the right one last
    args = ["backup", "repair-password", "--from", str(folder), "--jobs", "1", "--json"]
    env = {**os.environ, "SEEDGUARD_HOME": str(home), "NO_COLOR": "1"}
    checkpoint = home / "repair" / "password.checkpoint.json"
    proc = subprocess.Popen([*SEEDGUARD, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write((pattern + "\n").encode())
    proc.stdin.close()
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert checkpoint.exists(), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    saved = checkpoint.read_text()
    if proc.returncode == 0:  # it finished before the signal landed: nothing to resume
        pytest.skip("the search ended before SIGTERM")
    assert proc.returncode == 1, stderr
    assert "--resume" in stderr.decode()
    assert oct(checkpoint.stat().st_mode & 0o777) == "0o600"
    for part in ("Granite", "Otter", "Lamp"):
        assert part not in saved
    body = json.loads(saved)
    assert 0 < body["next"] < body["count"] == 401
    resumed = _repair(home, folder, pattern, "--resume", code=0)
    assert resumed["password"] == PASSWORD
    assert resumed["checked"] <= 401 - body["next"]
    assert not checkpoint.exists()


def test_the_library_tries_each_slot_with_its_own_kdf(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    folder = tmp_path / "cloud"
    made = _made(home, folder)
    header = inspect((folder / f"{made['backup_id']}.seedguard").read_bytes())
    assert password_unwraps(header, Password(PASSWORD))
    assert not password_unwraps(header, Password(PASSWORD.lower()))
    search = password.PasswordSearch(passphrase.Space("{a|Granite}-Otter-Lamp-5{0|1}"), header)
    items = list(search.valid(0, search.count))
    assert [c for _, c in items] == [
        "a-Otter-Lamp-50", "a-Otter-Lamp-51", "Granite-Otter-Lamp-50", PASSWORD
    ]  # fmt: skip
    assert [(i, c) for i, c, _ in search.test(items)] == [(3, PASSWORD)]

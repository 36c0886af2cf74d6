"""`seedguard seed repair` as a script sees it: the JSON contract, the exit codes, the
estimate, --list without a target; a checkpoint that survives SIGKILL, holds no word, and
lets --resume find the same phrase."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from seedguard.hd import bip32
from seedguard.mnemonic import bip39
from tests.conftest import SEEDGUARD, make_home, run_cli


def _phrase() -> str:
    while True:
        phrase = bip39.generate(12)
        if len(set(phrase.split())) == 12:
            return phrase


def _fingerprint(phrase: str) -> str:
    return bip32.master_key(bip39.to_seed(phrase)).fingerprint.hex()


def _json(home: Path, *args: str, stdin: str, code: int) -> Any:
    proc = run_cli("seed", "repair", *args, "--json", stdin=stdin,
                   env={"SEEDGUARD_HOME": str(home)}, timeout=240)  # fmt: skip
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr)


def test_found_and_not_found(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    phrase = _phrase()
    words = phrase.split()
    words[3] = "?"
    words[10] = words[10][:3] + "*"
    damaged = " ".join(words) + "\n"
    found = _json(home, "--fingerprint", _fingerprint(phrase), "--jobs", "2",
                  stdin=damaged, code=0)  # fmt: skip
    assert set(found) == {"found", "mnemonic", "fingerprint", "derivation", "candidates",
                          "checked", "seconds"}  # fmt: skip
    assert found["found"] is True
    assert found["mnemonic"] == phrase
    assert found["fingerprint"] == _fingerprint(phrase)
    assert found["derivation"] == "m"
    assert 0 < found["checked"] <= found["candidates"]
    missing = _json(home, "--fingerprint", "00000000", stdin=damaged, code=1)
    assert missing["found"] is False
    assert missing["mnemonic"] is None
    assert missing["checked"] == missing["candidates"]


def test_estimate_and_list(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    phrase = _phrase()
    words = phrase.split()
    words[0] = "?"
    words[6] = "?"
    estimate = _json(home, "--estimate", "--fingerprint", "01020304",
                     stdin=" ".join(words), code=0)  # fmt: skip
    assert set(estimate) == {"candidates", "survivors", "rate", "seconds"}
    assert estimate["candidates"] == 2048**2
    assert estimate["survivors"] == 2048**2 // 16
    assert estimate["rate"] > 0
    words[6] = phrase.split()[6]
    listed = _json(home, "--list", stdin=" ".join(words), code=0)
    assert listed["candidates"] == 2048
    assert listed["valid"] == len(listed["listed"])
    assert phrase in listed["listed"]
    for candidate in listed["listed"]:
        assert bip39.check(candidate).valid


def test_bad_input_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    env = {"SEEDGUARD_HOME": str(home)}
    cases = [
        (("--fingerprint", "01020304"), "abandon {zoo ?", 1, "list"),
        (("--fingerprint", "01020304"), "abandon " * 10, 2, "12, 15, 18, 21 or 24"),
        (("--address", "nonsense"), "abandon " * 12, 1, "not an address"),
        ((), "abandon " * 12, 2, "Give a target"),
        (("--fingerprint", "01020304", "--typos", "-1"), "abandon " * 12, 2, "--typos"),
    ]
    for args, stdin, code, text in cases:
        proc = run_cli("seed", "repair", *args, stdin=stdin, env=env)
        assert proc.returncode == code, (args, proc.stderr)
        assert text in proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_checkpoint_survives_sigkill_and_resume_finds_the_phrase(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    phrase = _phrase()
    words = phrase.split()
    truth = words[2]
    others = [w for w in bip39.wordlist("english").words if w not in words][:255]
    words[2] = "{" + "|".join([*others, truth]) + "}"  # the right word last: found late
    words[9] = "?"
    damaged = " ".join(words) + "\n"
    args = ["seed", "repair", "--fingerprint", _fingerprint(phrase), "--jobs", "2", "--json"]
    env = {**os.environ, "SEEDGUARD_HOME": str(home), "NO_COLOR": "1"}
    checkpoint = home / "repair" / "seed.checkpoint.json"
    proc = subprocess.Popen([*SEEDGUARD, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(damaged.encode())
    proc.stdin.close()
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert checkpoint.exists(), proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run(["pkill", "-9", "-P", str(proc.pid)], check=False)
    saved = checkpoint.read_text()
    assert oct(checkpoint.stat().st_mode & 0o777) == "0o600"
    assert oct(checkpoint.parent.stat().st_mode & 0o777) == "0o700"
    for word in phrase.split():
        assert word not in saved
    body = json.loads(saved)
    assert 0 < body["next"] < body["count"]
    resumed = _json(home, "--fingerprint", _fingerprint(phrase), "--resume", stdin=damaged, code=0)
    assert resumed["mnemonic"] == phrase
    assert resumed["checked"] <= body["count"] - body["next"]  # it went on, not from 0
    assert not checkpoint.exists()  # done: nothing left to resume
    # A checkpoint for other input is refused rather than silently skipping candidates.
    other = _phrase().split()
    other[9] = "?"
    from seedguard.repair import runner

    runner.save_checkpoint(checkpoint, "0" * 32, 5, 2048)
    refused = run_cli("seed", "repair", "--fingerprint", "01020304", "--resume",
                      stdin=" ".join(other), env={"SEEDGUARD_HOME": str(home)})  # fmt: skip
    assert refused.returncode == 1
    assert "another search" in refused.stderr

"""Passwords people actually use: the composition rule for short passwords, long passphrases
without it (NIST SP 800-63B), and the password from a 0600 file or a command, never argv."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from seedguard.backup import password_policy
from seedguard.cli.main import hoist_global_options
from seedguard.errors import PasswordPolicyError
from tests.conftest import run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
PASSPHRASE = "marble yonder tulip crevice anvil"  # five diceware-style words, no capital/digit


@pytest.mark.parametrize(
    "password",
    [PASSPHRASE, "Granite-Otter-Lamp-51", "quartz lantern meadow falcon origami"],
)
def test_accepted(password: str) -> None:
    assert password_policy.check(password).score >= 3


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Short1a", "at least 8 characters"),
        ("alllowercase1", "an upper-case letter"),
        ("password password password", "passphrase of at least 16"),  # long but guessable
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "passphrase of at least 16"),
        ("Password1", "too easy to guess"),  # the rule holds, the estimate does not
    ],
)
def test_refused(password: str, why: str) -> None:
    with pytest.raises(PasswordPolicyError, match=why):
        password_policy.check(password)


def test_a_passphrase_makes_and_opens_a_backup(sg_home: Path, tmp_path: Path) -> None:
    folder = str(tmp_path / "f")
    made = run_cli("backup", "create", "--to", folder, "--json", stdin=f"{PHRASE}\n{PASSPHRASE}\n")
    assert made.returncode == 0, made.stderr
    opened = run_cli("backup", "verify", "--from", folder, "--json", stdin=f"{PASSPHRASE}\n")
    assert json.loads(opened.stdout)["ok"] is True


def test_password_file_and_command(sg_home: Path, tmp_path: Path) -> None:
    folder = str(tmp_path / "f")
    secret = tmp_path / "private"
    secret.mkdir(mode=0o700)
    pw = secret / "backup-password"
    pw.write_text(f"{PASSPHRASE}\nignored second line\n")
    pw.chmod(0o644)
    loose = run_cli(
        "--password-file", str(pw), "backup", "create", "--to", folder, stdin=f"{PHRASE}\n"
    )
    assert loose.returncode == 1
    assert "chmod 600" in loose.stderr
    assert not Path(folder).exists()
    pw.chmod(0o600)
    made = run_cli(
        "backup",
        "create",
        "--to",
        folder,
        "--password-file",
        str(pw),
        "--json",
        stdin=f"{PHRASE}\n",
    )
    assert made.returncode == 0, made.stderr
    assert PASSPHRASE not in made.stdout + made.stderr
    # After the command, as restic's users write it; and from a command's output.
    by_file = run_cli("backup", "verify", "--from", folder, f"--password-file={pw}", "--json")
    assert json.loads(by_file.stdout)["ok"] is True
    command = shlex.join([sys.executable, "-c", f"print({PASSPHRASE!r})"])
    by_command = run_cli(
        "backup", "restore", "--from", folder, "--password-command", command, "--json"
    )
    assert json.loads(by_command.stdout)["mnemonic"] == PHRASE
    failing = run_cli(
        "--password-command",
        f"{sys.executable} -c 'raise SystemExit(4)'",
        "backup",
        "verify",
        "--from",
        folder,
    )
    assert failing.returncode == 1
    assert "exited with status 4" in failing.stderr
    both = run_cli(
        "--password-file",
        str(pw),
        "--password-command",
        "true",
        "backup",
        "verify",
        "--from",
        folder,
    )
    assert both.returncode == 2
    # change-password: the file gives the current password; the new one comes from stdin.
    changed = run_cli(
        "--password-file",
        str(pw),
        "backup",
        "change-password",
        "--json",
        stdin="Violet-Harbor-Quill-83\n",
    )
    assert changed.returncode == 0, changed.stderr
    old = run_cli("backup", "verify", "--from", folder, "--password-file", str(pw))
    assert old.returncode == 1


def test_hoisting_keeps_everything_else_in_place() -> None:
    argv = ["backup", "verify", "--from", "x", "--password-file", "f", "--", "--password-file"]
    assert hoist_global_options(argv) == [
        "--password-file",
        "f",
        "backup",
        "verify",
        "--from",
        "x",
        "--",
        "--password-file",
    ]

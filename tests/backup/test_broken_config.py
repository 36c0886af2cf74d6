"""A broken config.toml is a one-line error naming it (exit 2), never exit 70, and seedguard
never rewrites a registry it could not read whole (issue 14, section 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TEST_KDF_CONFIG, run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
PASSWORD = "Correct horse battery staple 42"
ENTRY = '[[backups]]\nid = "{id}"\nkind = "bip39"\ncreated = "2026-12-01T00:00:00Z"\n'


REGISTRY_BROKEN = [
    "backups = 5\n" + TEST_KDF_CONFIG,
    TEST_KDF_CONFIG + ENTRY.format(id="ab" * 16) + "copies = 5\n",
    TEST_KDF_CONFIG + ENTRY.format(id="not-an-id"),
    TEST_KDF_CONFIG + ENTRY.format(id="ab" * 16) + "fingerprint = 7\n",
]
KDF_BROKEN = [
    TEST_KDF_CONFIG.replace("memory_mib = 19", "memory_mib = inf"),
    TEST_KDF_CONFIG.replace("memory_mib = 19", "memory_mib = 1e300"),
    TEST_KDF_CONFIG.replace("memory_mib = 19", 'memory_mib = "19"'),
]


def _run(home: Path, folder: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode != 70, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stdout


def _home(tmp_path: Path, text: str) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(text)
    return home


@pytest.mark.parametrize("text", REGISTRY_BROKEN)
def test_a_broken_registry_is_named_and_kept(text: str, tmp_path: Path) -> None:
    home, folder = _home(tmp_path, text), tmp_path / "f"
    for args, stdin in (
        (("backup", "status"), ""),
        (("backup", "create", "--to", str(folder)), f"{PHRASE}\n{PASSWORD}\n"),
    ):
        code, out = _run(home, folder, *args, stdin=stdin)
        assert code == 2, (args, out)
        assert "config.toml" in json.loads(out)["error"]
        assert "entry" in json.loads(out)["error"] or "backups" in json.loads(out)["error"]
    assert (home / "config.toml").read_text() == text  # never rewritten
    assert not folder.exists() or not list(folder.iterdir())  # nothing written before the check


@pytest.mark.parametrize("text", KDF_BROKEN)
def test_a_broken_kdf_setting_is_named(text: str, tmp_path: Path) -> None:
    home, folder = _home(tmp_path, text), tmp_path / "f"
    assert _run(home, folder, "backup", "status")[0] == 0  # status needs no KDF
    code, out = _run(
        home, folder, "backup", "create", "--to", str(folder), stdin=f"{PHRASE}\n{PASSWORD}\n"
    )
    assert code == 2
    assert "[backup.kdf]" in json.loads(out)["error"]
    assert not folder.exists() or not list(folder.iterdir())


def test_deep_nesting_is_no_crash(tmp_path: Path) -> None:
    home = _home(tmp_path, TEST_KDF_CONFIG + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    folder = tmp_path / "f"
    for args, stdin in (
        (("backup", "status"), ""),
        (("backup", "create", "--to", str(folder)), f"{PHRASE}\n{PASSWORD}\n"),
    ):
        _run(home, folder, *args, stdin=stdin)

"""SIGKILL at every file-system step of `backup create` and `backup change-password`:
afterwards each copy opens with the old or the new password, and once a change has run to
the end, nothing the old password opens is left anywhere."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from seedguard.backup import Backups
from seedguard.envelope import Password, open_envelope
from seedguard.errors import SeedguardError
from tests.conftest import make_home

RUNNER = Path(__file__).with_name("crash_runner.py")
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OLD, NEW = "Granite-Otter-Lamp-51", "Violet-Harbor-Quill-83"


def run(kill_at: int, home: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEEDGUARD_HOME": str(home), "PYTHONPATH": str(Path.cwd())}
    return subprocess.run(
        [sys.executable, str(RUNNER), str(kill_at), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def steps_of(proc: subprocess.CompletedProcess[str]) -> int:
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"STEPS=(\d+)", proc.stderr)
    assert match is not None
    return int(match.group(1))


def opens_with(data: bytes) -> set[str]:
    result = set()
    for name in (OLD, NEW):
        try:
            open_envelope(data, Password(name))
            result.add(name)
        except SeedguardError:
            pass
    return result


def every_file(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


def registry(home: Path) -> list[dict[str, object]]:
    text = (home / "config.toml").read_text()
    return list(tomllib.loads(text).get("backups", []))  # always valid TOML


def test_kill_anywhere_during_create(tmp_path: Path) -> None:
    def fresh() -> tuple[Path, list[Path]]:
        shutil.rmtree(tmp_path / "w", ignore_errors=True)
        return make_home(tmp_path / "w" / "home"), [tmp_path / "w" / "a", tmp_path / "w" / "b"]

    home, places = fresh()
    args = ["backup", "create", "--to", str(places[0]), "--to", str(places[1])]
    total = steps_of(run(0, home, *args, stdin=f"{PHRASE}\n{OLD}\n"))
    assert total >= 20
    for kill_at in range(1, total + 1):
        home, places = fresh()
        proc = run(kill_at, home, *args, stdin=f"{PHRASE}\n{OLD}\n")
        assert proc.returncode == -signal.SIGKILL, (kill_at, proc.stderr)
        registered = {
            copy["location"]: copy["sha256"]
            for entry in registry(home)
            for copy in entry["copies"]  # type: ignore[attr-defined]
        }
        for place in places:
            for path in every_file(place):
                if path.name.startswith("."):
                    continue  # a temporary name: never read as a backup
                assert opens_with(path.read_bytes()) == {OLD}, (kill_at, path)
        for location in registered:  # the registry never claims a copy that is not there
            folder = Path(location.removeprefix("file://"))
            assert any(not p.name.startswith(".") for p in every_file(folder)), kill_at


def test_kill_anywhere_during_change_password(tmp_path: Path) -> None:
    work = tmp_path / "w"
    home, places = make_home(work / "home"), [work / "a", work / "b"]
    create = ["backup", "create", "--to", str(places[0]), "--to", str(places[1])]
    assert run(-1, home, *create, stdin=f"{PHRASE}\n{OLD}\n").returncode == 0
    pristine = tmp_path / "pristine"
    shutil.copytree(work, pristine)
    change = ["backup", "change-password"]
    total = steps_of(run(0, home, *change, stdin=f"{OLD}\n{NEW}\n"))
    assert total >= 20
    for kill_at in range(1, total + 1):
        shutil.rmtree(work)
        shutil.copytree(pristine, work)
        proc = run(kill_at, home, *change, stdin=f"{OLD}\n{NEW}\n")
        assert proc.returncode == -signal.SIGKILL, (kill_at, proc.stderr)
        registry(home)
        for place in places:
            names = [p.name for p in every_file(place) if not p.name.startswith(".")]
            finals = [n for n in names if n.endswith(".seedguard")]
            assert len(finals) == 1, (kill_at, names)  # the copy is never absent
            for name in names:
                assert opens_with((place / name).read_bytes()) in ({OLD}, {NEW}), kill_at
        # Finishing the change afterwards leaves nothing the old password opens.
        again = run(-1, home, *change, stdin=f"{OLD}\n{NEW}\n")
        finished = "already opens every copy" in again.stderr  # killed after the last step
        assert again.returncode == 0 or (again.returncode == 1 and finished), (
            kill_at,
            again.stderr,
        )
        for place in places:
            for path in every_file(place):
                assert opens_with(path.read_bytes()) == {NEW}, (kill_at, path)
        assert all(row.healthy for row in Backups(home).status()), kill_at

"""A failed write never reports the opposite of what happened, and never exits 70 (issue 14,
section 2): $SEEDGUARD_HOME on a small tmpfs that is filled up, a read-only mount, a folder
an unprivileged user cannot enter, a file where a folder is expected."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEEDGUARD, TEST_KDF_CONFIG, run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OLD, NEW = "Correct horse battery staple 42", "Violet-Harbor-Quill-83"


def _mount(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return proc.returncode == 0


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (mounting needs root: skipped elsewhere)."""
    mount = tmp_path / "small"
    if os.geteuid() != 0 or not _mount(mount, "size=1m,mode=0700"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system under `folder`; returns the filler, to delete for room."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        with contextlib.suppress(OSError):  # the last few bytes a smaller write still fits
            while True:
                os.write(fd, b"\0")
    finally:
        os.close(fd)
    return filler


def sg(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode != 70, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_a_full_home_disk(small: Path, tmp_path: Path) -> None:
    home = small / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(TEST_KDF_CONFIG)
    folder = tmp_path / "backups"
    filler = fill(small)
    # create: the copy is written and read back; the registry could not record it. Say both.
    made = sg(home, "backup", "create", "--to", str(folder), stdin=f"{PHRASE}\n{OLD}\n")
    assert made.returncode == 3
    value = json.loads(made.stdout)
    [location] = value["locations"]
    assert location["ok"] is True
    assert location["registered"] is False
    assert "written and read back" in made.stderr
    assert "nothing" not in made.stderr
    backup_id = value["backup_id"]
    assert (folder / f"{backup_id}.seedguard").exists()
    # verify still verifies, with a note that its bookkeeping failed.
    checked = sg(home, "backup", "verify", "--from", str(folder), stdin=f"{OLD}\n")
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["ok"] is True
    assert "could not be recorded" in checked.stderr
    # With room again, a rerun recognises the copy.
    filler.unlink()
    sg(home, "backup", "verify", "--from", str(folder), stdin=f"{OLD}\n")
    assert json.loads(sg(home, "backup", "status").stdout)["backups"][0]["backup_id"] == backup_id
    # change-password on a full disk: re-wrapped, and said so; the registry catches up on a rerun.
    filler = fill(small)
    changed = sg(home, "backup", "change-password", stdin=f"{OLD}\n{NEW}\n")
    assert changed.returncode == 3
    assert json.loads(changed.stdout)["locations"][0]["ok"] is True
    assert "nothing was changed" not in changed.stderr
    assert sg(home, "backup", "verify", "--from", str(folder), stdin=f"{NEW}\n").returncode == 0
    filler.unlink()
    again = sg(home, "backup", "change-password", stdin=f"{OLD}\n{NEW}\n")
    assert again.returncode == 0, again.stderr
    assert json.loads(sg(home, "backup", "status").stdout)["backups"][0]["state"] in (
        "one-location",
        "ok",
    )


def test_failed_file_writes_leave_nothing_behind(small: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(TEST_KDF_CONFIG)
    folder = tmp_path / "backups"
    backup_id = json.loads(
        sg(home, "backup", "create", "--to", str(folder), stdin=f"{PHRASE}\n{OLD}\n").stdout
    )["backup_id"]
    fill(small)
    cases = [
        (("seed", "qr", "--output", str(small / "qr.png")), f"{PHRASE}\n", small / "qr.png"),
        (
            (
                "backup",
                "export",
                "--from",
                str(folder),
                "--id",
                backup_id,
                "--output",
                str(small / "b.sg"),
            ),
            "",
            small / "b.sg",
        ),
    ]
    for args, stdin, target in cases:
        proc = sg(home, *args, stdin=stdin)
        assert proc.returncode == 3, (args, proc.stderr)
        assert not target.exists(), args  # no empty file to block the retry
        assert not [p for p in small.iterdir() if p.name.startswith(".")], args
    cards = small / "cards"
    split = sg(
        home,
        "shamir",
        "split",
        "--threshold",
        "2",
        "--shares",
        "3",
        "--cards",
        str(cards),
        stdin=f"{PHRASE}\n",
    )
    assert split.returncode == 3, split.stderr
    assert not cards.exists() or not list(cards.iterdir())  # no partial set blocks the retry
    guardian = sg(small / "guardian-home", "guardian", "init", stdin="Granite-Otter-Lamp-51\n")
    assert guardian.returncode == 3, guardian.stderr


def test_a_read_only_mount_and_a_file_for_a_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(TEST_KDF_CONFIG)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    proc = sg(home, "seed", "qr", "--output", str(blocker / "qr.png"), stdin=f"{PHRASE}\n")
    assert proc.returncode == 1
    assert "not a folder" in proc.stderr
    if os.geteuid() != 0:
        return
    ro = tmp_path / "ro"
    if not _mount(ro, "size=64k,ro"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        proc = sg(home, "seed", "qr", "--output", str(ro / "qr.png"), stdin=f"{PHRASE}\n")
        assert proc.returncode == 3
        assert "Read-only" in proc.stderr
        made = sg(home, "backup", "create", "--to", str(ro / "b"), stdin=f"{PHRASE}\n{OLD}\n")
        assert made.returncode == 3
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def _reachable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & 0o005 == 0o005 for p in [path, *path.parents] if p.is_dir())


def test_a_folder_an_unprivileged_user_cannot_enter() -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to an unprivileged user needs root")
    interpreter = Path(os.path.realpath(sys.executable)).parent
    if not (_reachable_by_others(Path(SEEDGUARD[0]).parent) and _reachable_by_others(interpreter)):
        pytest.skip("the virtual environment is not readable by an unprivileged user here")
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="seedguard-nobody-"))
    os.chmod(work, 0o755)  # noqa: S103 - the unprivileged user must reach its own folder in it
    locked = work / "locked"
    locked.mkdir(mode=0o700)  # root's
    home = work / "home"
    home.mkdir(mode=0o700)
    os.chown(home, 65534, 65534)
    proc = subprocess.run(
        [*SEEDGUARD, "seed", "qr", "--output", str(locked / "qr.png")],
        input=f"{PHRASE}\n".encode(),
        capture_output=True,
        env={**os.environ, "SEEDGUARD_HOME": str(home), "HOME": str(home)},
        user=65534,
        group=65534,
        check=False,
    )
    stderr = proc.stderr.decode()
    shutil.rmtree(work, ignore_errors=True)
    assert proc.returncode == 3, stderr
    assert "Permission denied" in stderr
    assert "Traceback" not in stderr

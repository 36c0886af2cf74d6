"""Two password changes at once on the same backup: no loss."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from seedguard.backup import Backups, Password, bip39_payload
from seedguard.envelope import open_envelope
from seedguard.errors import SeedguardError
from tests.conftest import SEEDGUARD, make_home

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OLD = "Granite-Otter-Lamp-51"
A, B = "Violet-Harbor-Quill-83", "Amber-Canyon-Whistle-26"


def start(home: Path, old: str, new: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*SEEDGUARD, "backup", "change-password", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SEEDGUARD_HOME": str(home)},
    )
    assert proc.stdin is not None
    proc.stdin.write(f"{old}\n{new}\n".encode())
    proc.stdin.close()
    return proc


def opener(data: bytes) -> set[str]:
    found = set()
    for password in (OLD, A, B):
        try:
            open_envelope(data, Password(password))
            found.add(password)
        except SeedguardError:
            pass
    return found


def test_two_changes_on_one_device_never_lose_the_backup(tmp_path: Path) -> None:
    for round_ in range(3):
        home = make_home(tmp_path / f"home{round_}")
        places = [tmp_path / f"r{round_}a", tmp_path / f"r{round_}b"]
        Backups(home).create(bip39_payload(PHRASE), Password(OLD), [str(p) for p in places])
        first, second = start(home, OLD, A), start(home, OLD, B)
        codes = {A: first.wait(60), B: second.wait(60)}
        errors = first.stderr.read() + second.stderr.read()  # type: ignore[union-attr]
        assert sorted(codes.values()) == [0, 1], errors
        assert b"Traceback" not in errors
        winner = A if codes[A] == 0 else B
        for place in places:
            files = list(place.iterdir())
            assert len(files) == 1
            assert opener(files[0].read_bytes()) == {winner}


def test_two_devices_changing_one_folder_never_lose_it(tmp_path: Path) -> None:
    """No lock spans two devices; the copy is re-read just before it is replaced, and in the
    worst case one password wins. Either way a copy opens with a password somebody chose."""
    place = tmp_path / "shared"
    one, two = make_home(tmp_path / "one"), make_home(tmp_path / "two")
    Backups(one).create(bip39_payload(PHRASE), Password(OLD), [str(place)])
    Backups(two).restore(str(place), Password(OLD))
    first, second = start(one, OLD, A), start(two, OLD, B)
    codes = [first.wait(60), second.wait(60)]
    assert 0 in codes
    [copy] = list(place.iterdir())
    assert opener(copy.read_bytes()) in ({A}, {B})

"""One spelling for each thing: durations, request codes, times in JSON, guardian
fingerprints; dice entry that keeps what was typed (issue 13, section 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from seedguard.cli import render
from seedguard.errors import InputError, UsageError
from seedguard.social.relay import normalize_code, show_code
from tests.conftest import make_home, run_cli


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("48h", 172800), ("2d", 172800), ("1.5h", 5400), ("3", 10800)],
)
def test_durations(text: str, seconds: float) -> None:
    assert render.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "-1h", "0s", "2w", "infh", "nanm"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        render.parse_duration(text)


def test_human_durations_and_times() -> None:
    assert render.duration(45) == "45 s"
    assert render.duration(600) == "10 min"
    assert render.duration(7140) == "1 h 59 min"
    assert render.duration(2 * 86400 + 3 * 3600) == "2 d 3 h"
    assert render.when(1000.0, now=1000.0 + 7140).endswith("local, 1 h 59 min ago")
    assert render.when(1000.0 + 600, now=1000.0).endswith("local, in 10 min")
    assert render.iso_times({"created": 0, "items": [{"release_at": 86400.5}], "count": 3}) == {
        "created": "1970-01-01T00:00:00Z",
        "items": [{"release_at": "1970-01-02T00:00:00Z"}],
        "count": 3,
    }


def test_request_codes_in_any_spelling() -> None:
    for typed in ("ABCD-EFGH", "abcdefgh", " abcd efgh ", "AbCd-eFgH"):
        assert normalize_code(typed) == "ABCDEFGH"
    assert show_code("abcdefgh") == "ABCD-EFGH"
    for bad in ("ABCD-EFG", "ABCD-EFG0", "ABCDEFGHI", "ABCD-EFG1"):
        with pytest.raises(InputError, match="XXXX-XXXX"):
            normalize_code(bad)


def test_guardian_show_prints_a_codes_fingerprint(tmp_path: Path) -> None:
    guardian = make_home(tmp_path / "guardian")
    env = {"SEEDGUARD_HOME": str(guardian)}
    made = json.loads(
        run_cli("guardian", "init", "--json", stdin="Granite-Otter-Lamp-51\n", env=env).stdout
    )
    owner = make_home(tmp_path / "owner")
    shown = run_cli("guardian", "show", made["code"], "--json", env={"SEEDGUARD_HOME": str(owner)})
    assert json.loads(shown.stdout)["fingerprint"] == made["fingerprint"]
    human = run_cli("guardian", "show", made["code"], env={"SEEDGUARD_HOME": str(owner)})
    assert made["fingerprint"] in human.stdout
    bad = run_cli("guardian", "show", "age1nonsense", env={"SEEDGUARD_HOME": str(owner)})
    assert bad.returncode == 2  # not a guardian code: the argument is wrong
    assert "Traceback" not in bad.stderr


def test_dice_entry_keeps_what_was_typed(tmp_path: Path) -> None:
    import os

    import pexpect

    from tests.conftest import SEEDGUARD

    env = {**os.environ, "SEEDGUARD_HOME": str(make_home(tmp_path / "h")), "COLUMNS": "100"}
    child = pexpect.spawn(
        SEEDGUARD[0], [*SEEDGUARD[1:], "seed", "new", "--dice"], env=env, encoding="utf-8"
    )
    child.expect(r"Roll a die at least (\d+) times")
    need = int(child.match.group(1))
    first = "123456" * 4  # 24 rolls, counted as they are typed
    for i, roll in enumerate(first[:3], 1):
        child.send(roll)
        child.expect(rf"\[{i}/{need}\]")
    child.send("9")  # not a face: ignored
    child.expect(rf"\[3/{need}\]")
    child.send("\x7f")  # backspace
    child.expect(rf"\[2/{need}\]")
    child.send(first[2:])
    child.sendline("")  # Enter too early: what was typed is kept
    child.expect(rf"24 so far: {need - 24} more needed")
    rest = ("654321" * 10)[: need - 24]
    child.send(rest)
    child.expect(rf"\[{need}/{need}\]")
    child.sendline("")
    child.expect("Press Enter to show")
    child.sendline("")
    child.expect("Press Enter when")
    shown = re.findall(r"(\d+)\. ([a-z]+)", re.sub(r"\x1b\[[0-9;]*m", "", child.before or ""))
    words = [w for _, w in sorted((int(n), w) for n, w in shown)]
    assert len(words) == 12
    child.close(force=True)
    # The same rolls typed at once give the same phrase (nothing typed was lost).
    piped = run_cli("seed", "new", "--dice", "--json", stdin=first + rest + "\n")
    assert json.loads(piped.stdout)["mnemonic"].split() == words

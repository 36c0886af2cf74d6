"""The interactive paths, driven through a real pseudo-terminal with pexpect."""

from __future__ import annotations

import os
import re

import pexpect
import pytest

from seedguard.mnemonic import bip39
from tests.conftest import SEEDGUARD

ABOUT = "abandon " * 11 + "about"
LEGAL = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def _spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    command, *rest = SEEDGUARD
    return pexpect.spawn(command, [*rest, *args], env=env, encoding="utf-8", timeout=30)


def _ends_with(child: pexpect.spawn, status: int) -> None:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == status


def _start_restore(words: int) -> pexpect.spawn:
    child = _spawn("seed", "restore", "--count", "1")
    child.expect("How many words")
    child.sendline(str(words))
    return child


def test_new_shows_words_then_quizzes_three_positions() -> None:
    child = _spawn("seed", "new")
    child.expect("Press Enter to show the new recovery phrase")
    assert "1. " not in child.before  # nothing shown before the user asks
    child.sendline("")
    child.expect("Press Enter when you have written them down")
    shown = dict((int(n), w) for n, w in re.findall(r"(\d+)\. (\S+)", child.before))
    assert sorted(shown) == list(range(1, 13))
    child.sendline("")
    asked = []
    for _ in range(3):
        child.expect(r"Word (\d+): ")
        position = int(child.match.group(1))
        asked.append(position)
        child.sendline(shown[position])
    child.expect("\x1b\\[3J")  # the screen and its scrollback are cleared
    child.expect("Your written copy matches")
    _ends_with(child, 0)
    assert asked == sorted(asked)
    assert len(set(asked)) == 3
    assert bip39.check(" ".join(shown[i] for i in range(1, 13))).valid


def test_new_quiz_fails_after_three_wrong_answers() -> None:
    child = _spawn("seed", "new")
    child.expect("Press Enter to show")
    child.sendline("")
    child.expect("Press Enter when")
    child.sendline("")
    for _ in range(3):
        child.expect(r"Word \d+: ")
        child.sendline("zzzz")
    child.expect("does not match")
    _ends_with(child, 1)


def test_guided_restore_completes_prefixes_and_reports_typos() -> None:
    child = _start_restore(12)
    for position, word in enumerate(ABOUT.split()[:-1], start=1):
        child.expect(f"Word {position}: ")
        child.sendline(word[:4] if position % 2 else word)
    child.expect("Word 12: ")
    child.sendline("[/x]")  # shown as typed, never read as terminal markup
    child.expect(r"'\[/x\]' is not in the english wordlist")
    child.expect("Word 12: ")
    child.sendline("abuot")
    child.expect("Did you mean: about")
    child.expect("Word 12: ")
    child.sendline("ab")
    child.expect("starts")
    child.expect("Word 12: ")
    child.sendline("about")
    child.expect("Valid 12-word english phrase")
    child.expect("73c5da0a")
    _ends_with(child, 0)


def test_guided_restore_bad_checksum_lets_the_user_fix_a_word() -> None:
    child = _start_restore(12)
    words = LEGAL.split()
    words[3] = "yard"
    for position, word in enumerate(words, start=1):
        child.expect(f"Word {position}: ")
        child.sendline(word)
    child.expect("checksum does not match")
    child.expect("word 4 → 'year'")
    child.expect("Re-enter which word number")
    child.sendline("4")
    child.expect("Word 4: ")
    child.sendline("year")
    child.expect("Valid 12-word english phrase")
    _ends_with(child, 0)


@pytest.mark.parametrize("command", ["check", "addresses"])
def test_hidden_prompt_for_the_phrase(command: str) -> None:
    child = _spawn("seed", command)
    child.expect("Recovery phrase \\(hidden\\): ")
    child.sendline(ABOUT)
    _ends_with(child, 0)
    assert "abandon" not in child.before.split("hidden")[-1].split("\n")[0]

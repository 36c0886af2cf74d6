"""SLIP-39 share repair by RS1024 alone: one wrong word anywhere, one or two unknown words
(?) or words not in the list, a second check against the group's other shares; too much
damage is refused in one line; `seedguard shamir repair` as a script sees it."""

from __future__ import annotations

import json
import secrets

import pytest
from shamir_mnemonic import generate_mnemonics

from seedguard.errors import InputError
from seedguard.mnemonic import slip39
from seedguard.repair import shares
from tests.conftest import run_cli


def _group() -> list[str]:
    return generate_mnemonics(1, [(2, 3)], secrets.token_bytes(16), b"", False, 0)[0]


def _damage(share: str, positions: list[int], token: str | None = None) -> str:
    words = share.split()
    for p in positions:
        if token is not None:
            words[p] = token
        else:
            words[p] = next(w for w in slip39.WORDS[secrets.randbelow(900) :] if w != words[p])
    return " ".join(words)


def test_one_wrong_word_anywhere() -> None:
    share = _group()[0]
    at = secrets.randbelow(20)
    result = shares.repair(_damage(share, [at]))
    assert result.shares == (share,)
    assert result.positions == (at + 1,)


def test_unknown_words() -> None:
    share = _group()[1]
    one = shares.repair(_damage(share, [4], "?"))
    assert one.shares == (share,)
    assert one.candidates == 1024
    two = shares.repair(_damage(share, [2, 17], "?"))
    assert two.shares == (share,)
    assert two.positions == (3, 18)
    assert two.candidates == 1024**2
    misspelled = shares.repair(_damage(share, [9], "qqqq"))
    assert misspelled.shares == (share,)


def test_the_group_is_a_second_check() -> None:
    group = _group()
    other = _group()
    damaged = _damage(group[0], [6], "?")
    assert shares.repair(damaged, [group[1]]).shares == (group[0],)
    # a share of another wallet disagrees on the identifier: nothing fits both
    assert shares.repair(damaged, [other[1]]).shares == ()


def test_too_much_damage() -> None:
    share = _group()[0]
    with pytest.raises(InputError, match="at most 2"):
        shares.repair(_damage(share, [1, 5, 9], "?"))
    with pytest.raises(InputError, match="at least 20"):
        shares.repair(" ".join(share.split()[:15]))


def test_the_command() -> None:
    share = _group()[2]
    proc = run_cli("shamir", "repair", "--json", stdin=_damage(share, [11], "?") + "\n")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["found"] is True
    assert body["share"] == share
    assert body["positions"] == [12]
    bad = run_cli("shamir", "repair", stdin=_damage(share, [1, 2, 3], "?") + "\n")
    assert bad.returncode == 1
    assert "at most 2" in bad.stderr
    assert "Traceback" not in bad.stderr

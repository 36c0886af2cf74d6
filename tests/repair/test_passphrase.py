"""Passphrase candidates: the pattern language's counts against closed formulas, the typo
model's variants (each kind found, no duplicates, none equal to what was remembered), bad
patterns; and `seed repair-passphrase` finding a passphrase behind a typo by an account key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seedguard.errors import InputError, UsageError
from seedguard.hd import accounts, bip32
from seedguard.mnemonic import bip39
from seedguard.repair import passphrase
from tests.conftest import make_home, run_cli


def _all(space: passphrase.Space) -> list[str]:
    return [c for _, c in space.valid(0, space.count)]


def test_pattern_counts() -> None:
    assert passphrase.Space("{Correct|correct}{Horse|horse}").count == 4
    assert passphrase.Space("x%d").count == 10
    assert passphrase.Space("%1,2d").count == 10 + 100
    assert passphrase.Space("%2a%A").count == 26**2 * 26
    assert passphrase.Space("%s").count == 33
    assert passphrase.Space("100%%").count == 1
    assert _all(passphrase.Space("100%%")) == ["100%"]
    assert _all(passphrase.Space("a\\{b\\}")) == ["a{b}"]


def test_one_typo_variants() -> None:
    space = passphrase.Space("Horse", typos=1)
    found = _all(space)
    assert found[0] == "Horse"
    variants = found[1:]
    assert len(variants) == len(set(variants))
    assert "Horse" not in variants
    for expected in ("hORSE", "horse", "Hrse", "Hrose", "Hoorse", "Hprse", "Horse!", "xHorse"):
        assert expected in variants, expected
    # pieces in order: the same index always names the same candidate (checkpoints)
    assert [c for _, c in space.valid(5, 9)] == found[5:9]


def test_two_typos_come_after_one() -> None:
    space = passphrase.Space("ab", typos=2)
    found = _all(space)
    one = set(_all(passphrase.Space("ab", typos=1)))
    assert set(found[: len(one)]) == one
    assert "ba!" in found[len(one) :]
    assert len(found) == len(set(found))


def test_bad_patterns() -> None:
    for bad, text in (("{a|b", "not closed"), ("a}b", "outside"), ("%q", "followed by"),
                      ("%9d", "0 to 8"), ("%3,1d", "0 to 8")):  # fmt: skip
        with pytest.raises(InputError, match=text):
            passphrase.Space(bad)
    with pytest.raises(UsageError, match="--typos"):
        passphrase.Space("a", typos=3)
    with pytest.raises(UsageError, match="narrow"):
        passphrase.Space("%8d")


def test_wide_patterns_refused_before_they_are_written_out() -> None:
    # 26^8 strings would take minutes and gigabytes to list: the count is known first.
    with pytest.raises(UsageError, match="208,827,064,576 candidates"):
        passphrase.Space("%8a")
    with pytest.raises(UsageError, match="narrow"):
        passphrase.Space("%4d%4d")  # each part fits, the product does not
    # With typos, the estimate from the lengths refuses before the exact index is built.
    with pytest.raises(UsageError, match="About 726,000,000 candidates"):
        passphrase.Space("%6d", typos=1)
    space = passphrase.Space("ab%1d", typos=1)
    assert abs(space._estimate() - space.count) < space.count * 0.2


def test_repair_passphrase_by_account_key(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    phrase = bip39.generate(12)
    secret = "Tr0ub4dor&3"
    master = bip32.master_key(bip39.to_seed(phrase, secret))
    xpub = accounts.bitcoin_account(master, accounts.STANDARDS[3]).xpub
    remembered = "{tr0ub4dor|Tr0ubador}&3"  # the case of the first and an o for the 0: typos
    proc = run_cli("seed", "repair-passphrase", "--xpub", xpub, "--typos", "1", "--json",
                   stdin=f"{phrase}\n{remembered}\n", env={"SEEDGUARD_HOME": str(home)},
                   timeout=240)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["found"] is True
    assert body["passphrase"] == secret
    assert body["derivation"] == "m/86'/0'/0'"
    assert body["fingerprint"] == master.fingerprint.hex()
    assert set(body) == {"found", "passphrase", "fingerprint", "derivation", "candidates",
                         "checked", "seconds"}  # fmt: skip
    env = {"SEEDGUARD_HOME": str(home)}
    wrong = run_cli("seed", "repair-passphrase", "--fingerprint", "01020304", "--json",
                    stdin=f"{phrase}\n{remembered}\n", env=env)  # fmt: skip
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout)["found"] is False

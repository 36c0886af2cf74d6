"""`seedguard shamir split|combine` as a contract: JSON shapes, the two modes, errors."""

from __future__ import annotations

import json
import os
from typing import Any

import pexpect
import shamir_mnemonic

from seedguard import wallet
from tests.conftest import SEEDGUARD, run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
PHRASE24 = " ".join(["zoo"] * 23 + ["vote"])


def sg(*args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_bip39_mode_gives_back_the_same_phrase_and_wallet() -> None:
    made = sg("shamir", "split", "--threshold", "2", "--shares", "3", stdin=f"{PHRASE}\n")
    assert set(made) == {"mode", "groups", "fingerprint"}
    assert made["mode"] == "bip39"
    assert made["fingerprint"] == wallet.fingerprint(PHRASE)
    [group] = made["groups"]
    assert len(group) == 3
    assert all(len(share.split()) == 20 for share in group)
    for pair in ([group[0], group[1]], [group[2], group[0]]):
        back = sg("shamir", "combine", stdin="\n".join(pair) + "\n")
        assert back == {"mnemonic": PHRASE, "fingerprint": made["fingerprint"]}
    # Any SLIP-39 tool decodes the shares to the phrase's entropy.
    entropy = shamir_mnemonic.combine_mnemonics(group[:2], b"")
    assert entropy == bytes.fromhex("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f")


def test_24_words_make_33_word_shares() -> None:
    made = sg("shamir", "split", "--threshold", "3", "--shares", "5", stdin=f"{PHRASE24}\n")
    assert all(len(s.split()) == 33 for s in made["groups"][0])
    back = sg("shamir", "combine", stdin="\n".join(made["groups"][0][2:]) + "\n")
    assert back["mnemonic"] == PHRASE24


def test_groups_and_a_group_threshold() -> None:
    made = sg(
        "shamir", "split", "--group", "2/3", "--group", "1/1", "--group", "3/5",
        "--group-threshold", "2", stdin=f"{PHRASE}\n",
    )  # fmt: skip
    assert [len(g) for g in made["groups"]] == [3, 1, 5]
    enough = [*made["groups"][1], *made["groups"][2][:3]]
    assert sg("shamir", "combine", stdin="\n".join(enough) + "\n")["mnemonic"] == PHRASE
    one_group = made["groups"][2][:3]
    failed = sg("shamir", "combine", stdin="\n".join(one_group) + "\n", code=1)
    assert "1 of the 2 groups" in failed["error"]


def test_slip39_mode_is_a_native_wallet_behind_its_passphrase() -> None:
    made = sg(
        "shamir", "split", "--mode", "slip39", "--threshold", "2", "--shares", "3",
        "--passphrase", stdin="TREZOR\n",
    )  # fmt: skip
    assert made["mode"] == "slip39"
    shares = made["groups"][0][:2]
    back = sg("shamir", "combine", "--mode", "slip39", "--passphrase",
              stdin="TREZOR\n" + "\n".join(shares) + "\n")  # fmt: skip
    assert set(back) == {"master_secret", "fingerprint"}
    assert back["fingerprint"] == made["fingerprint"]
    assert len(bytes.fromhex(back["master_secret"])) == 16
    assert shamir_mnemonic.combine_mnemonics(shares, b"TREZOR").hex() == back["master_secret"]
    other = sg("shamir", "combine", "--mode", "slip39", "--passphrase",
               stdin="wrong\n" + "\n".join(shares) + "\n")  # fmt: skip
    assert other["fingerprint"] != made["fingerprint"]  # another wallet, never an error


def test_errors_point_at_the_problem() -> None:
    group = sg("shamir", "split", "--threshold", "2", "--shares", "3", stdin=f"{PHRASE}\n")[
        "groups"
    ][0]
    words = group[1].split()
    words[6] = "academic" if words[6] != "academic" else "acid"
    failed = sg("shamir", "combine", stdin=f"{group[0]}\n{' '.join(words)}\n", code=1)
    assert failed["error"].startswith("Share 2: The share's checksum fails: word 7")
    short = sg("shamir", "combine", stdin=f"{group[0]}\n", code=1)
    assert "Not enough shares" in short["error"]
    stranger = sg("shamir", "split", "--threshold", "2", "--shares", "3", stdin=f"{PHRASE}\n")
    mixed = f"{group[0]}\n{stranger['groups'][0][1]}\n"
    assert "another set" in sg("shamir", "combine", stdin=mixed, code=1)["error"]
    empty = sg("shamir", "combine", stdin="", code=1)
    assert "No shares" in empty["error"]


def test_usage_errors_exit_2() -> None:
    cases = [
        (["--threshold", "2"], "--threshold T --shares N"),
        (["--threshold", "1", "--shares", "3"], "1-of-3"),
        (["--threshold", "2", "--shares", "3", "--mode", "x"], "bip39 or slip39"),
        (["--threshold", "2", "--shares", "3", "--group", "2/3"], "not both"),
        (["--group", "2-3"], "THRESHOLD/COUNT"),
    ]
    for args, message in cases:
        failed = sg("shamir", "split", *args, stdin=f"{PHRASE}\n", code=2)
        assert message in failed["error"], args


def test_human_output_names_the_mode_loudly() -> None:
    text = run_cli("shamir", "split", "--threshold", "2", "--shares", "3", stdin=f"{PHRASE}\n")
    assert text.returncode == 0
    assert "BIP-39 MODE" in text.stdout
    assert "DIFFERENT wallet" in text.stdout
    assert text.stdout.count("BIP39 MODE · group 1 of 1") == 3


def test_combine_at_a_terminal_shows_each_groups_progress() -> None:
    shares = sg("shamir", "split", "--threshold", "2", "--shares", "3", stdin=f"{PHRASE}\n")[
        "groups"
    ][0]
    command, *rest = SEEDGUARD
    child = pexpect.spawn(
        command,
        [*rest, "shamir", "combine"],
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Share 1")
    child.sendline(shares[0])
    child.expect("group 1: 1 of 2")
    child.expect("Share 2")
    child.sendline(shares[0])
    child.expect("already entered")
    child.expect("Share 2")
    child.sendline(shares[2])
    child.expect("1 of 1 groups complete")
    child.expect("legal")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

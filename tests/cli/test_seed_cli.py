"""End-to-end: the real `seedguard` command in a subprocess, stdin piped (not a terminal)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from seedguard import wallet
from seedguard.mnemonic import bip39
from tests.conftest import load_vectors, run_cli, run_json

ABOUT = "abandon " * 11 + "about"
ABOUT_FINGERPRINT = "73c5da0a"
COMMANDS = ["new", "check", "addresses", "last-word", "restore", "qr", "from-qr"]


def _one_line_error(proc: object, code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]
    stderr: str = proc.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command: str) -> None:
    proc = run_cli("seed", command, "--help")
    assert proc.returncode == 0
    assert "--json" in proc.stdout


def test_top_level_help_and_version() -> None:
    assert "seed" in run_cli("--help").stdout
    assert run_cli("--version").stdout.startswith("seedguard ")


# --- seed new -----------------------------------------------------------------------------------


def test_new_defaults() -> None:
    data = run_json("seed", "new")
    assert set(data) == {"mnemonic", "language", "words", "fingerprint"}
    assert (data["language"], data["words"]) == ("english", 12)
    assert bip39.check(data["mnemonic"]).valid
    assert data["fingerprint"] == wallet.fingerprint(data["mnemonic"])


def test_new_24_japanese() -> None:
    data = run_json("seed", "new", "--words", "24", "--language", "japanese")
    assert data["words"] == 24
    assert "\u3000" in data["mnemonic"]
    assert bip39.check(data["mnemonic"]).language == "japanese"


def test_language_names_forgive_case_and_dashes() -> None:
    data = run_json("seed", "new", "--language", "Chinese-Simplified")
    assert data["language"] == "chinese_simplified"


def test_new_two_calls_differ() -> None:
    assert run_json("seed", "new")["mnemonic"] != run_json("seed", "new")["mnemonic"]


def test_new_from_hex_entropy_on_stdin() -> None:
    data = run_json("seed", "new", "--entropy-hex", stdin="00" * 16 + "\n")
    assert data["mnemonic"] == ABOUT.strip()
    assert data["fingerprint"] == ABOUT_FINGERPRINT
    assert run_json("seed", "new", "--entropy-hex", stdin="ff" * 32)["words"] == 24


def test_new_from_dice_and_coins() -> None:
    rolls = "3164251625341526354162534615263415263452163542615326451632546125364152"
    data = run_json("seed", "new", "--dice", stdin=rolls[:50])
    import hashlib

    expected = bip39.entropy_to_mnemonic(hashlib.sha256(rolls[:50].encode()).digest()[:16])
    assert data["mnemonic"] == expected
    flips = "HT" * 64
    assert run_json("seed", "new", "--coins", stdin=flips)["mnemonic"] == (
        bip39.entropy_to_mnemonic(bytes([0xAA] * 16))
    )


def test_new_bad_inputs() -> None:
    line = _one_line_error(run_cli("seed", "new", "--dice", stdin="123456" * 3), 1)
    assert "at least 50 dice rolls" in line
    _one_line_error(run_cli("seed", "new", "--dice", "--coins"), 2)
    _one_line_error(run_cli("seed", "new", "--words", "13"), 2)
    _one_line_error(run_cli("seed", "new", "--language", "klingon"), 2)
    _one_line_error(run_cli("seed", "new", "--entropy-hex", stdin="abc"), 1)
    _one_line_error(run_cli("seed", "new", "--entropy-hex"), 1)  # stdin empty
    _one_line_error(run_cli("seed", "new", "--words", "twelve"), 2)


# --- seed check ---------------------------------------------------------------------------------


def test_check_valid() -> None:
    data = run_json("seed", "check", stdin=ABOUT)
    assert data == {"valid": True, "language": "english", "words": 12, "problems": []}
    assert "Valid 12-word english phrase" in run_cli("seed", "check", stdin=ABOUT).stdout


def test_check_problems_json_contract() -> None:
    data = run_json("seed", "check", stdin=ABOUT.replace("about", "abuot"), code=1)
    assert data["valid"] is False
    (problem,) = data["problems"]
    assert set(problem) == {"kind", "position", "word", "suggestions"}
    assert (problem["kind"], problem["position"], problem["word"]) == ("unknown-word", 12, "abuot")
    assert problem["suggestions"][0] == "about"
    data = run_json("seed", "check", stdin="abandon " * 13, code=1)
    assert data["problems"][0] == {
        "kind": "word-count",
        "position": None,
        "word": None,
        "suggestions": [],
    }
    data = run_json("seed", "check", stdin="abandon " * 12, code=1)
    assert data["problems"][0]["kind"] == "checksum"


def test_check_human_output_names_the_fix() -> None:
    proc = run_cli("seed", "check", stdin=ABOUT.replace("about", "abuot"))
    assert proc.returncode == 1
    assert "Word 12" in proc.stdout
    assert "'about'" in proc.stdout


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"", "ended"),
        (b"a" * 1_000_000 + b"\n", "longer than 4096 bytes"),
        (bytes(range(128, 256)) * 8, "not UTF-8"),
        (b"abandon\x00abandon\n", "control characters"),
    ],
)
def test_check_garbage(stdin: bytes, message: str) -> None:
    assert message in _one_line_error(run_cli("seed", "check", stdin=stdin), 1)


def test_markup_like_input_is_shown_as_typed() -> None:
    proc = run_cli("seed", "check", stdin="[/x] [bold]" + " abandon" * 10)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "'[/x]'" in proc.stdout
    assert "'[bold]'" in proc.stdout


def test_check_empty_line_is_a_problem_not_a_crash() -> None:
    data = run_json("seed", "check", stdin="\n", code=1)
    assert data["words"] == 0
    assert data["problems"][0]["kind"] == "word-count"


def test_errors_with_json_are_json_too() -> None:
    proc = run_cli("seed", "addresses", "--json", stdin="abandon abandon\n")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["exit_code"] == 1
    assert "abandon" not in proc.stderr  # the error names positions, not the words


# --- seed addresses -----------------------------------------------------------------------------


def test_addresses_json_contract_and_published_vectors() -> None:
    data = run_json("seed", "addresses", stdin=ABOUT)
    assert data["fingerprint"] == ABOUT_FINGERPRINT
    accounts = data["accounts"]
    assert set(accounts) == {"bip44", "bip49", "bip84", "bip86", "ethereum"}
    for name, prefix in (
        ("bip44", "xpub"),
        ("bip49", "ypub"),
        ("bip84", "zpub"),
        ("bip86", "xpub"),
    ):
        assert accounts[name]["xpub"].startswith(prefix)
        assert accounts[name]["path"] == f"m/{name[3:]}'/0'/0'"
        assert len(accounts[name]["receive"]) == len(accounts[name]["change"]) == 5
    assert accounts["ethereum"]["path"] == "m/44'/60'/0'/0"
    published = load_vectors("bip49-84-86-vectors.json")
    assert accounts["bip84"]["xpub"] == published["bip84"]["entries"][0]["xpub"]
    assert accounts["bip84"]["receive"][0] == published["bip84"]["entries"][1]["address"]
    assert accounts["bip86"]["receive"][0] == published["bip86"]["entries"][1]["address"]


def test_addresses_with_passphrase_count_account_testnet() -> None:
    data = run_json(
        "seed",
        "addresses",
        "--passphrase",
        "--count",
        "2",
        "--account",
        "3",
        "--network",
        "testnet",
        stdin=f"{ABOUT}\nTREZOR\n",
    )
    assert data["fingerprint"] == wallet.fingerprint(ABOUT, "TREZOR") != ABOUT_FINGERPRINT
    assert data["accounts"]["bip84"]["path"] == "m/84'/1'/3'"
    assert data["accounts"]["bip84"]["xpub"].startswith("vpub")
    assert data["accounts"]["bip49"]["xpub"].startswith("upub")
    assert data["accounts"]["bip84"]["receive"][0].startswith("tb1q")
    assert data["accounts"]["bip86"]["receive"][0].startswith("tb1p")
    assert len(data["accounts"]["bip44"]["receive"]) == 2


def test_addresses_bad_inputs() -> None:
    assert "line 2" in _one_line_error(run_cli("seed", "addresses", "--passphrase", stdin=ABOUT), 1)
    _one_line_error(run_cli("seed", "addresses", "--count", "-1", stdin=ABOUT), 2)
    _one_line_error(run_cli("seed", "addresses", "--network", "regtest", stdin=ABOUT), 2)
    _one_line_error(run_cli("seed", "addresses", stdin="abandon " * 12), 1)


def test_addresses_human_output_is_never_truncated() -> None:
    proc = run_cli("seed", "addresses", "--count", "1", stdin=ABOUT, env={"COLUMNS": "60"})
    assert proc.returncode == 0
    assert "…" not in proc.stdout  # narrow terminals fold addresses, never cut them
    data = run_json("seed", "addresses", "--count", "1", stdin=ABOUT)
    for acct in data["accounts"].values():
        for address in acct["receive"]:
            assert address[:12] in proc.stdout


# --- last word, restore ---------------------------------------------------------------------------


def test_last_word() -> None:
    data = run_json("seed", "last-word", stdin="abandon " * 11)
    assert len(data["candidates"]) == 128
    assert "about" in data["candidates"]
    assert len(run_json("seed", "last-word", stdin="abandon " * 23)["candidates"]) == 8
    _one_line_error(run_cli("seed", "last-word", stdin="abandon " * 12), 1)


def test_restore_from_stdin_with_prefixes() -> None:
    typed = " ".join(w[:4] for w in ABOUT.split())
    data = run_json("seed", "restore", "--count", "1", stdin=typed)
    assert (data["language"], data["words"], data["fingerprint"]) == (
        "english",
        12,
        ABOUT_FINGERPRINT,
    )
    assert data["accounts"]["bip84"]["receive"] == ["bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"]
    human = run_cli("seed", "restore", stdin=typed)
    assert human.returncode == 0
    assert ABOUT_FINGERPRINT in human.stdout
    _one_line_error(run_cli("seed", "restore", stdin=ABOUT.replace("about", "abandon")), 1)


# --- SeedQR -------------------------------------------------------------------------------------


def test_qr_terminal_and_json() -> None:
    proc = run_cli("seed", "qr", stdin=ABOUT)
    assert proc.returncode == 0
    assert "█" in proc.stdout
    data = run_json("seed", "qr", "--compact", stdin=ABOUT)
    assert data["payload"] == "00" * 16
    assert (data["format"], data["version"], data["modules"]) == ("compact", 1, 21)
    data = run_json("seed", "qr", stdin=ABOUT)
    assert data["payload"] == "0000" * 11 + "0003"
    assert (data["version"], data["modules"]) == (2, 25)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_qr_file_is_private_and_never_overwritten(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"seed{suffix}"
    proc = run_cli("seed", "qr", "--output", str(target), stdin=ABOUT)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    content = target.read_bytes()
    assert content.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in content
    again = run_cli("seed", "qr", "--compact", "--output", str(target), stdin=ABOUT)
    assert "already exists" in _one_line_error(again, 1)
    assert target.read_bytes() == content


def test_qr_bad_inputs(tmp_path: Path) -> None:
    _one_line_error(run_cli("seed", "qr", "--output", str(tmp_path / "x.jpg"), stdin=ABOUT), 2)
    french = bip39.entropy_to_mnemonic(bytes(16), "french")
    assert "English" in _one_line_error(run_cli("seed", "qr", stdin=french), 1)
    missing = tmp_path / "nope" / "x.png"
    assert "does not exist" in _one_line_error(
        run_cli("seed", "qr", "--output", str(missing), stdin=ABOUT), 1
    )


def test_from_qr_reads_the_payload_from_stdin_only() -> None:
    digits = "0000" * 11 + "0003"
    assert run_json("seed", "from-qr", "--digits", "-", stdin=digits) == {"mnemonic": ABOUT.strip()}
    assert run_json("seed", "from-qr", "--hex", "-", stdin="00" * 16)["mnemonic"] == ABOUT.strip()
    line = _one_line_error(run_cli("seed", "from-qr", "--digits", digits), 2)
    assert "never put it on the command line" in line
    _one_line_error(run_cli("seed", "from-qr"), 2)
    _one_line_error(run_cli("seed", "from-qr", "--digits", "-", "--hex", "-"), 2)
    _one_line_error(run_cli("seed", "from-qr", "--digits", "-", stdin="1234"), 1)


def test_qr_roundtrip_through_the_cli() -> None:
    phrase = bip39.generate(24)
    for flag, compact in (("--digits", []), ("--hex", ["--compact"])):
        payload = run_json("seed", "qr", *compact, stdin=phrase)["payload"]
        assert run_json("seed", "from-qr", flag, "-", stdin=payload)["mnemonic"] == phrase


# --- demo ---------------------------------------------------------------------------------------


def test_the_demos_miswritten_word_is_never_a_word() -> None:
    # A real word in its place passed the checksum one time in sixteen (a CI run showed
    # "typo caught: valid"): every word's miswriting is caught as not in the wordlist.
    from seedguard.cli.demo import miswrite

    english = bip39.wordlist("english")
    for word in english.words:
        typo = miswrite(word)
        assert typo != word
        assert len(typo) == len(word)
        assert english.lookup(typo) is None


def test_demo() -> None:
    data = run_json("demo")
    assert data["addresses_match"] is True
    assert data["restored_fingerprint"] == data["fingerprint"] != data["passphrase_fingerprint"]
    assert data["typo_caught"]["valid"] is False
    backup = data["backup"]
    assert len(backup["locations"]) == 2
    assert backup["found_on_new_device"] == [backup["backup_id"]]
    assert backup["restored_fingerprint"] == data["fingerprint"]
    assert backup["addresses_match"] is True
    shares = data["shares"]
    assert shares["combined_fingerprint"] == data["fingerprint"]
    assert len(shares["shares"]) == 3
    assert shares["wrong_word_found_at"] == 6
    hardened = data["hardened_backup"]
    assert hardened["copy_alone_opens"] is False
    assert hardened["attempts_left_after_wrong_passwords"] == [9, 8]
    assert hardened["restored_fingerprint"] == data["fingerprint"]
    mpc = data["mpc"]
    assert mpc["address"].startswith("bc1p")
    assert mpc["recovered_address"] == mpc["address"]
    assert mpc["first_signature_valid"] is True
    assert mpc["second_signature_valid"] is True
    assert "revoked" in mpc["lost_device_refused"]
    assert mpc["recovery_key"] == "kept"
    assert mpc["exit_without_server"] is True
    human = run_cli("demo")
    assert human.returncode == 0, human.stderr
    assert "✓ match" in human.stdout
    assert "✓ same address" in human.stdout

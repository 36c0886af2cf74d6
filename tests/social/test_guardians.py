"""Guardians and sealed shares: identities kept encrypted, one share per guardian sealed so
that only that guardian opens it, and the offline ceremony that combines opened shares."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from seedguard import wallet
from seedguard.errors import InputError, UsageError, WrongSecretError
from seedguard.social import sealed
from seedguard.social.guardian import Guardian, fingerprint
from seedguard.social.setup import setup
from tests.conftest import run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
SECRET = "Granite-Otter-Lamp-51"


@pytest.fixture
def guardians(tmp_path: Path) -> dict[str, tuple[Guardian, str]]:
    made = {}
    for name in ("ann", "bob", "cy"):
        guardian = Guardian.at(tmp_path / name)
        made[name] = (guardian, guardian.create(SECRET + name))
    return made


def test_an_identity_is_kept_encrypted_and_private(tmp_path: Path) -> None:
    guardian = Guardian.at(tmp_path / "g")
    code = guardian.create(SECRET)
    assert code.startswith("age1")
    assert guardian.code() == code
    folder = tmp_path / "g" / "guardian"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in folder.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert b"AGE-SECRET-KEY" not in file.read_bytes()
    assert str(guardian.identity(SECRET).to_public()) == code
    with pytest.raises(WrongSecretError, match="Wrong guardian passphrase"):
        guardian.identity("Wrong-Otter-Lamp-51")
    with pytest.raises(InputError, match="already has a guardian identity"):
        guardian.create(SECRET)
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", fingerprint(code))


def test_only_its_guardian_opens_a_sealed_share(
    guardians: dict[str, tuple[Guardian, str]], tmp_path: Path
) -> None:
    codes = [code for _, code in guardians.values()]
    made = setup(codes, 2, tmp_path / "out", phrase=PHRASE, label="Dana")
    assert made.fingerprint == wallet.fingerprint(PHRASE)
    opened = {}
    keys = {name: g.identity(SECRET + name) for name, (g, _) in guardians.items()}  # scrypt: once
    for (name, (_, code)), delivery in zip(guardians.items(), made.deliveries, strict=True):
        assert delivery.guardian == fingerprint(code)
        data = delivery.path.read_bytes()
        item = sealed.open_sealed(data, keys[name])
        assert (item.label, item.threshold, item.members) == ("Dana", 2, 3)
        assert item.share.split()[0] not in data.decode("latin-1")  # no word in clear
        opened[name] = item.share
        for other, key in keys.items():
            if other != name:
                with pytest.raises(WrongSecretError, match="not for this guardian"):
                    sealed.open_sealed(data, key)
    # The offline ceremony: two guardians type their words on the owner's new device.
    shares = f"{opened['ann']}\n{opened['cy']}\n"
    proc = run_cli("shamir", "combine", "--json", stdin=shares)
    assert json.loads(proc.stdout)["mnemonic"] == PHRASE


def test_setup_refusals(tmp_path: Path) -> None:
    from pyrage import x25519

    codes = [str(x25519.Identity.generate().to_public()) for _ in range(3)]
    with pytest.raises(UsageError, match="twice"):
        setup([codes[0], codes[0]], 2, tmp_path / "o", phrase=PHRASE)
    with pytest.raises(UsageError, match="2 to 3"):
        setup(codes, 1, tmp_path / "o", phrase=PHRASE)
    with pytest.raises(UsageError, match="at least two guardians"):
        setup(codes[:1], 1, tmp_path / "o", phrase=PHRASE)
    with pytest.raises(UsageError, match="not a guardian code"):
        setup([*codes[:2], "age1nonsense"], 2, tmp_path / "o", phrase=PHRASE)
    setup(codes, 2, tmp_path / "o", phrase=PHRASE)
    with pytest.raises(InputError, match="already exists"):
        setup(codes, 2, tmp_path / "o", phrase=PHRASE)


def sg(home: Path, *args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_the_ceremony_from_the_command_line(tmp_path: Path) -> None:
    codes = {}
    for name in ("ann", "bob", "cy"):
        made = sg(tmp_path / name, "guardian", "init", stdin=f"{SECRET}\n")
        assert made == sg(tmp_path / name, "guardian", "code")
        codes[name] = made
    args = [a for c in codes.values() for a in ("--guardian", c["code"])]
    done = sg(
        tmp_path / "owner", "social", "setup", *args, "--threshold", "2",
        "--out", str(tmp_path / "out"), "--label", "Dana", stdin=f"{PHRASE}\n",
    )  # fmt: skip
    assert done["mode"] == "bip39"
    assert [g["fingerprint"] for g in done["guardians"]] == [
        c["fingerprint"] for c in codes.values()
    ]
    files = {name: g["file"] for name, g in zip(codes, done["guardians"], strict=True)}
    ann = sg(tmp_path / "ann", "guardian", "open", files["ann"], stdin=f"{SECRET}\n")
    bob = sg(tmp_path / "bob", "guardian", "open", files["bob"], stdin=f"{SECRET}\n")
    assert (ann["label"], ann["member"], bob["member"]) == ("Dana", 1, 2)
    wrong = sg(tmp_path / "bob", "guardian", "open", files["ann"], stdin=f"{SECRET}\n", code=1)
    assert "not for this guardian" in wrong["error"]
    bad = sg(tmp_path / "cy", "guardian", "open", files["cy"], stdin="nope\n", code=1)
    assert "Wrong guardian passphrase" in bad["error"]
    back = sg(tmp_path / "new", "shamir", "combine", stdin=f"{bob['share']}\n{ann['share']}\n")
    assert back["fingerprint"] == done["fingerprint"]
    again = sg(tmp_path / "ann", "guardian", "init", stdin=f"{SECRET}\n", code=1)
    assert "already has a guardian identity" in again["error"]
    weak = sg(tmp_path / "dee", "guardian", "init", stdin="password\n", code=1)
    assert weak["error"].startswith(
        "The guardian passphrase needs an upper-case letter, a digit, or to be a passphrase of "
        "at least 16 characters"
    )

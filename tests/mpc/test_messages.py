"""BIP-322 simple signatures for the MPC wallet's Taproot addresses, co-signed through the
server's PSBT route on a real server; each checked by seedguard's verifier and by an
independent one (rust-bitcoin's bip322 crate, through the bip322 package)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import bip322
import pytest

from seedguard.errors import InputError
from seedguard.mpc import addresses, messages
from tests.conftest import make_home, run_cli
from tests.mpc.helpers import local_dkg
from tests.servers import SeedguardServer

PASSWORD = "Correct horse battery staple 42\n"


def _json(home: Path, *args: str, code: int = 0, stdin: str = "") -> Any:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def _reference(address: str, message: str, signature: str) -> bool:
    try:  # None when valid (the stub says bool), an exception when not
        result = bip322.verify_simple_encoded(address, message, signature)
    except Exception:
        return False
    return result is None or result is True


def test_sign_and_verify_messages(sg_server: SeedguardServer, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    created = _json(
        home, "mpc", "create", "--server", sg_server.url, "--cloud", str(tmp_path / "c"),
        stdin=PASSWORD,
    )  # fmt: skip
    wallet = created["wallet_id"]
    listed = _json(home, "mpc", "addresses", "--wallet", wallet, "--from", "5", "--count", "1")
    for address, text in (
        (created["address"], "Hello World"),
        (listed["addresses"][0]["address"], ""),
    ):
        signed = _json(
            home, "mpc", "sign-message", "--wallet", wallet, "--address", address, "--message", text
        )
        assert _reference(address, text, signed["signature"])
        assert messages.verify_simple(address, text.encode(), signed["signature"])
        checked = _json(
            home, "mpc", "verify-message", "--address", address, "--message", text,
            "--signature", signed["signature"],
        )  # fmt: skip
        assert checked["valid"] is True
        # Another message, or another of the wallet's addresses: not valid, by either verifier.
        other = (
            listed["addresses"][0]["address"]
            if address == created["address"]
            else created["address"]
        )
        assert not _reference(address, text + "!", signed["signature"])
        assert not messages.verify_simple(address, text.encode() + b"!", signed["signature"])
        assert not messages.verify_simple(other, text.encode(), signed["signature"])
        refused = _json(
            home, "mpc", "verify-message", "--address", other, "--message", text,
            "--signature", signed["signature"], code=1,
        )  # fmt: skip
        assert refused["valid"] is False
    # Nothing left the wallet: the policy ledger is untouched.
    assert _json(home, "mpc", "policy", "--wallet", wallet)["spent_24h"] == 0
    foreign = addresses.index_free(local_dkg()[0], "mainnet").address
    refused = _json(
        home, "mpc", "sign-message", "--wallet", wallet, "--address", foreign, "--message", "x",
        code=1,
    )  # fmt: skip
    assert "not one of this wallet's" in refused["error"]


def test_verify_refuses_what_is_not_a_taproot_signature() -> None:
    address = addresses.index_free(local_dkg()[0], "mainnet").address
    for junk in ("", "!!!", "AQ==", "AUA" + "A" * 84):
        assert not messages.verify_simple(address, b"x", junk)
    with pytest.raises(InputError, match="Taproot"):
        messages.verify_simple("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", b"x", "AA==")

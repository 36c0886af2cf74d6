"""`seedguard signer`: Bitcoin Core's external-signer contract (doc/external-signer.md in
bitcoin/bitcoin), driven by a fake caller that issues the command lines Bitcoin Core issues
and reads the answers as it does (one JSON value on stdout; `signtx` through --stdin), against
a real server. BDK derives the addresses of the descriptors it returns and reads back the PSBT
it signs; the signatures verify against each input's output key."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import bdkpython as bdk
import pytest

from seedguard.mpc import psbt
from tests.conftest import SEEDGUARD, make_home, run_cli
from tests.mpc.test_psbt import _funded_psbt, _group_key, _independent_check
from tests.servers import SeedguardServer

PASSWORD = "Correct horse battery staple 42\n"


class FakeBitcoinCore:
    """The calls bitcoind makes with -signer=<cmd> (src/external_signer.cpp)."""

    def __init__(self, home: Path, chain: str = "test") -> None:
        self.env = {"SEEDGUARD_HOME": str(home), "PATH": "/usr/bin:/bin"}
        self.chain = chain

    def _run(self, args: list[str], stdin: str = "") -> Any:
        proc = subprocess.run(
            [*SEEDGUARD, "signer", *args], input=stdin, capture_output=True, text=True,
            env=self.env, timeout=120, check=False,
        )  # fmt: skip
        assert "Traceback" not in proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    def enumerate(self) -> Any:
        return self._run(["enumerate"])

    def getdescriptors(self, fingerprint: str, account: int = 0) -> Any:
        return self._run(
            ["--fingerprint", fingerprint, "--chain", self.chain, "getdescriptors",
             "--account", str(account)]
        )  # fmt: skip

    def displayaddress(self, fingerprint: str, descriptor: str) -> Any:
        return self._run(
            ["--fingerprint", fingerprint, "--chain", self.chain, "displayaddress", "--desc",
             descriptor]
        )  # fmt: skip

    def signtx(self, fingerprint: str, encoded: str) -> Any:
        return self._run(
            ["--stdin", "--fingerprint", fingerprint, "--chain", self.chain],
            stdin=f'signtx "{encoded}"',
        )


@pytest.fixture
def core(sg_server: SeedguardServer, tmp_path: Path) -> tuple[FakeBitcoinCore, str, Path]:
    home = make_home(tmp_path / "home")
    proc = run_cli(
        "mpc", "create", "--server", sg_server.url, "--cloud", str(tmp_path / "c"),
        "--network", "testnet", "--json", stdin=PASSWORD, env={"SEEDGUARD_HOME": str(home)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    return FakeBitcoinCore(home), created["wallet_id"], home


def test_the_signer_contract(core: tuple[FakeBitcoinCore, str, Path], tmp_path: Path) -> None:
    caller, wallet_id, home = core
    code, signers = caller.enumerate()
    assert code == 0
    assert len(signers) == 1
    fingerprint = signers[0]["fingerprint"]
    assert len(fingerprint) == 8
    assert "seedguard" in signers[0]["model"]

    code, described = caller.getdescriptors(fingerprint)
    assert code == 0
    assert set(described) == {"receive", "internal"}
    receive, internal = described["receive"][0], described["internal"][0]
    assert f"[{fingerprint}]" in receive
    key = _group_key(home, wallet_id)
    wallet = bdk.Wallet(
        bdk.Descriptor(receive, bdk.NetworkKind.TEST),
        bdk.Descriptor(internal, bdk.NetworkKind.TEST),
        bdk.Network.TESTNET,
        bdk.Persister.new_in_memory(),
    )
    first = wallet.peek_address(bdk.KeychainKind.EXTERNAL, 3).address

    # walletdisplayaddress: the single-key form Core infers for that address.
    single = receive.split("#")[0].replace("/0/*)", "/0/3)")
    code, shown = caller.displayaddress(fingerprint, single)
    assert code == 0
    assert shown == {"address": str(first)}
    code, refused = caller.displayaddress("00000000", single)
    assert code != 0
    assert "fingerprint" in refused["error"]
    forged = single.replace(f"[{fingerprint}]", "[00000000]")
    code, refused = caller.displayaddress(fingerprint, forged)
    assert code != 0
    assert "fingerprint" in refused["error"]

    # sendtoaddress: Core hands the PSBT over stdin and reads back {"psbt"}.
    unsigned = _funded_psbt(key)
    code, signed = caller.signtx(fingerprint, unsigned)
    assert code == 0, signed
    theirs = bdk.Psbt(signed["psbt"])  # BDK reads it back
    assert theirs.fee() > 0
    parsed = psbt.load(signed["psbt"].encode())
    done = psbt.finalize(parsed)
    assert done is not None
    _independent_check(key, unsigned, bytes.fromhex(done[0]))


def test_errors_are_json(core: tuple[FakeBitcoinCore, str, Path]) -> None:
    caller, _, _ = core
    code, answer = caller.getdescriptors("deadbeef")
    assert code != 0
    assert "deadbeef" in answer["error"]
    _, signers = caller.enumerate()
    code, answer = caller.getdescriptors(signers[0]["fingerprint"], account=1)
    assert code != 0
    assert "account" in answer["error"]
    code, answer = caller._run(["--stdin", "--fingerprint", "x"], stdin="rm -rf /")
    assert code == 2
    assert "signtx" in answer["error"]
    main = FakeBitcoinCore(Path(caller.env["SEEDGUARD_HOME"]), chain="main")
    code, answer = main.getdescriptors(signers[0]["fingerprint"])
    assert code != 0  # a testnet wallet is not a mainnet signer
    assert "mainnet" in answer["error"]

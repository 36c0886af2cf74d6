"""Fresh addresses from the threshold key (docs/mpc.md § Addresses), checked against two
independent implementations: bip-utils derives the children of the xpub seedguard prints,
and BDK (Rust, through bdkpython) derives the addresses of the descriptor it prints. A
signature for a derived address verifies under the output key BDK's address commits to."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import bdkpython as bdk
import pytest
from bip_utils import Bip32KeyNetVersions, Bip32Secp256k1, P2TRAddrEncoder
from coincurve.keys import PublicKeyXOnly

from seedguard.errors import InputError, UsageError
from seedguard.mpc import addresses
from seedguard.primitives.hashes import hash160
from seedguard.threshold import derivation
from seedguard.threshold.keys import DEVICE, SERVER, GroupKey, sign_locally, verify
from tests.conftest import make_home, run_cli
from tests.mpc.helpers import local_dkg
from tests.servers import SeedguardServer

KEY, SHARES, _ = local_dkg()
PASSWORD = "Correct horse battery staple 42\n"


def _bdk_address(descriptor: str, index: int, network: str = "mainnet") -> str:
    kind = bdk.NetworkKind.MAIN if network == "mainnet" else bdk.NetworkKind.TEST
    net = bdk.Network.BITCOIN if network == "mainnet" else bdk.Network.TESTNET
    return str(bdk.Descriptor(descriptor, kind).derive_address(index, net))


def _output_key(address: str) -> bytes:
    script = bdk.Address(address, bdk.Network.BITCOIN).script_pubkey().to_bytes()
    assert script[:2] == b"\x51\x20"  # OP_1 <32 bytes>: witness v1
    return bytes(script[2:])


def test_the_chain_code_is_bip328s() -> None:
    assert derivation.CHAIN_CODE.hex() == (
        "868087ca02a6f974c4598924c36b57762d32cb45717167e300622c7167e38965"
    )


@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_addresses_match_bip_utils_and_bdk(network: Any) -> None:
    for _ in range(5):
        key = GroupKey(local_dkg()[0].thresh_pk, KEY.pubshares)
        xpub = addresses.xpub(key, network).serialize()
        found = addresses.descriptors(key, network, True)
        versions = Bip32KeyNetVersions(bytes.fromhex("043587cf"), bytes.fromhex("04358394"))
        reference = (
            Bip32Secp256k1.FromExtendedKey(xpub)
            if network == "mainnet"
            else Bip32Secp256k1.FromExtendedKey(xpub, versions)
        )
        hrp = "bc" if network == "mainnet" else "tb"
        for chain, listed_as in ((0, found.receive), (1, found.change)):
            listing = addresses.listing(key, network, True, chain == 1, start=3, count=4)
            for offset, a in enumerate(listing):
                index = 3 + offset
                pub = reference.ChildKey(chain).ChildKey(index).PublicKey().RawCompressed()
                assert a.address == P2TRAddrEncoder.EncodeKey(pub.ToBytes(), hrp=hrp)
                assert a.address == _bdk_address(listed_as, index, network)
                assert a.path == f"{chain}/{index}"
        # The multipath form is the two single-path ones (BDK splits it).
        kind = bdk.NetworkKind.MAIN if network == "mainnet" else bdk.NetworkKind.TEST
        split = bdk.Descriptor(found.multipath, kind).to_single_descriptors()
        assert [str(d) for d in split] == [found.receive, found.change]
        assert found.multipath.startswith(f"tr([{hash160(key.thresh_pk)[:4].hex()}]")


def test_a_signature_for_a_derived_address_verifies_under_its_output_key() -> None:
    found = addresses.descriptors(KEY, "mainnet", True)
    for chain, index in ((0, 0), (0, 7), (1, 2), (0, 2**31 - 1)):
        message = secrets.token_bytes(32)
        child = addresses.child(KEY, chain, index)
        signature = sign_locally(
            KEY, {DEVICE: SHARES[DEVICE], SERVER: SHARES[SERVER]}, message, child
        )
        address = _bdk_address(found.change if chain else found.receive, index)
        assert PublicKeyXOnly(_output_key(address)).verify(signature, message)
        assert not verify(signature, message, KEY.output_key)  # not the index-free key


def test_out_of_range() -> None:
    with pytest.raises(InputError):
        derivation.child(KEY.thresh_pk, (0, 2**31))
    with pytest.raises(UsageError):
        addresses.listing(KEY, "mainnet", True, count=0)
    with pytest.raises(UsageError):
        addresses.listing(KEY, "mainnet", True, count=1001)
    with pytest.raises(UsageError):
        addresses.listing(KEY, "mainnet", True, start=2**31 - 5, count=10)


def test_an_older_wallet_keeps_its_index_free_address_first() -> None:
    older = addresses.listing(KEY, "mainnet", False, count=2)
    assert [a.path for a in older] == [None, "0/0", "0/1"]
    assert older[0].output_key == KEY.output_key
    assert addresses.listing(KEY, "mainnet", False, change=True, count=1)[0].path == "1/0"
    assert addresses.listing(KEY, "mainnet", False, start=1, count=1)[0].path == "0/1"
    found = addresses.descriptors(KEY, "mainnet", False)
    assert found.index_free is not None
    assert _bdk_address(found.index_free, 0) == older[0].address
    assert addresses.descriptors(KEY, "mainnet", True).index_free is None


# -- the commands ---------------------------------------------------------------------------


def _json(home: Path, *args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_create_addresses_descriptor_sign_and_export(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home")
    cloud = str(tmp_path / "cloud")
    created = _json(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        stdin=PASSWORD,
    )
    wallet = created["wallet_id"]
    listed = _json(home, "mpc", "addresses", "--wallet", wallet, "--count", "5")["addresses"]
    assert [a["path"] for a in listed] == [f"0/{i}" for i in range(5)]
    assert listed[0]["address"] == created["address"]
    assert created["address_path"] == "0/0"
    change = _json(home, "mpc", "addresses", "--wallet", wallet, "--change", "--from", "2")
    assert change["addresses"][0]["path"] == "1/2"
    assert change["addresses"][0]["change"] is True

    described = _json(home, "mpc", "descriptor", "--wallet", wallet)
    assert described["descriptor"] == created["descriptor"]
    assert described["index_free"] is None
    for i, a in enumerate(listed):
        assert _bdk_address(described["receive"], i) == a["address"]
    assert _bdk_address(described["change"], 2) == change["addresses"][0]["address"]
    human = run_cli(
        "mpc", "descriptor", "--wallet", wallet,
        env={"SEEDGUARD_HOME": str(home), "COLUMNS": "400"},
    )  # fmt: skip
    assert described["receive"] in human.stdout  # the [fingerprint] too, not eaten as markup
    requests = described["importdescriptors"]
    assert [r["desc"] for r in requests] == [described["receive"], described["change"]]
    assert [r["internal"] for r in requests] == [False, True]

    # Device + server sign for a derived address; the signature is that address's.
    message = "77" * 32
    signed = _json(home, "mpc", "sign", "--wallet", wallet, "--message", message, "--path", "0/3")
    assert signed["path"] == "0/3"
    assert bytes.fromhex(signed["output_key"]) == _output_key(listed[3]["address"])
    assert PublicKeyXOnly(_output_key(listed[3]["address"])).verify(
        bytes.fromhex(signed["signature"]), bytes.fromhex(message)
    )
    bad = _json(
        home, "mpc", "sign", "--wallet", wallet, "--message", message, "--path", "2/0", code=2
    )
    assert "--path" in bad["error"]

    # The emergency exit's descriptor spends the same addresses (BDK derives them from it).
    exported = _json(
        home, "mpc", "export-key", "--wallet", wallet, "--cloud", cloud, stdin=PASSWORD
    )
    assert len(exported["descriptors"]) == 1
    assert (
        _bdk_address(exported["descriptors"][0].replace("<0;1>", "0").split("#")[0], 4)
        == (listed[4]["address"])
    )


def test_an_older_device_file_lists_its_index_free_address(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home")
    created = _json(
        home, "mpc", "create", "--allow-raw-signing",
        "--server", sg_server.url, "--cloud", str(tmp_path / "c"),
        stdin=PASSWORD,
    )  # fmt: skip
    device_file = home / "mpc" / f"{created['wallet_id']}.json"
    fields = json.loads(device_file.read_text())
    del fields["derivation"]  # as written before addresses were derived
    device_file.write_text(json.dumps(fields))
    listed = _json(home, "mpc", "addresses", "--wallet", created["wallet_id"], "--count", "1")
    assert [a["path"] for a in listed["addresses"]] == [None, "0/0"]
    assert listed["addresses"][0]["index_free"] is True
    assert listed["addresses"][1]["address"] == created["address"]
    status = _json(home, "mpc", "status", "--offline")
    assert status["wallets"][0]["address"] == listed["addresses"][0]["address"]
    signed = _json(home, "mpc", "sign", "--wallet", created["wallet_id"], "--message", "11" * 32)
    assert signed["path"] is None  # the index-free address, as before

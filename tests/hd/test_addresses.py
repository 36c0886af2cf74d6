"""BIP-49, BIP-84 and BIP-86 published vectors; EIP-55; bech32m."""

from __future__ import annotations

from typing import Any

import base58
import pytest

from seedguard.hd import addresses, bip32
from seedguard.hd.accounts import BIP49, BIP84, BIP86, bitcoin_account
from seedguard.hd.bech32m import encode_segwit
from seedguard.mnemonic import bip39
from tests.conftest import load_vectors


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = load_vectors("bip49-84-86-vectors.json")
    return data


def _master(header: dict[str, str], version: Any) -> bip32.ExtendedKey:
    phrase = header.get("mnemonic") or header["masterseedWords"]
    return bip32.master_key(bip39.to_seed(phrase), version)


def test_bip49(vectors: dict[str, Any]) -> None:
    bip = vectors["bip49"]
    master = _master(bip["header"], BIP49.version("testnet"))
    assert master.serialize() == bip["header"]["masterseed"]
    account, key, derivation, encoded = bip["entries"]
    acct = bip32.derive(master, account["path"])
    assert acct.serialize() == account["account0Xpriv"]
    assert acct.neuter().serialize() == account["account0Xpub"]
    child = bip32.derive(master, key["path"])
    assert "0x" + child.key.hex() == key["account0recvPrivateKeyHex"]
    assert "0x" + child.public_key.hex() == key["account0recvPublicKeyHex"]
    assert addresses.wif(child.key, "testnet") == key["account0recvPrivateKey"]
    assert addresses.p2wpkh_script(child.public_key).hex() in derivation["scriptSig"]
    address = encoded["address"].split("= ")[-1]
    assert addresses.p2sh_p2wpkh(child.public_key, "testnet") == address
    summary = bitcoin_account(master, BIP49, 0, "testnet", count=1)
    assert (summary.xpub, summary.receive[0]) == (account["account0Xpub"], address)


def test_bip84(vectors: dict[str, Any]) -> None:
    bip = vectors["bip84"]
    master = _master(bip["header"], BIP84.version("mainnet"))
    assert master.serialize() == bip["header"]["rootpriv"]
    assert master.neuter().serialize() == bip["header"]["rootpub"]
    account, *children = bip["entries"]
    assert bip32.derive(master, account["path"]).serialize() == account["xpriv"]
    summary = bitcoin_account(master, BIP84, 0, "mainnet", count=2)
    assert summary.xpub == account["xpub"]
    for entry in children:
        child = bip32.derive(master, entry["path"])
        assert addresses.wif(child.key) == entry["privkey"]
        assert child.public_key.hex() == entry["pubkey"]
        assert addresses.p2wpkh(child.public_key) == entry["address"]
    assert summary.receive == (children[0]["address"], children[1]["address"])
    assert summary.change[0] == children[2]["address"]


def test_bip86(vectors: dict[str, Any]) -> None:
    bip = vectors["bip86"]
    master = _master(bip["header"], BIP86.version("mainnet"))
    assert master.serialize() == bip["header"]["rootpriv"]
    assert master.neuter().serialize() == bip["header"]["rootpub"]
    account, *children = bip["entries"]
    summary = bitcoin_account(master, BIP86, 0, "mainnet", count=2)
    assert summary.xpub == account["xpub"]
    for entry in children:
        child = bip32.derive(master, entry["path"])
        assert child.serialize() == entry["xprv"]
        assert child.public_key[1:].hex() == entry["internal_key"]
        assert addresses.taproot_output_key(child.public_key).hex() == entry["output_key"]
        assert "5120" + entry["output_key"] == entry["scriptPubKey"]
        assert addresses.p2tr(child.public_key) == entry["address"]
    assert summary.receive == (children[0]["address"], children[1]["address"])
    assert summary.change[0] == children[2]["address"]


def test_eip55_examples_from_the_eip() -> None:
    # The four all-caps/all-lower/mixed examples of EIP-55's specification text.
    for address in (
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    ):
        assert "0x" + addresses.eip55(address.lower()) == address


def test_bech32m_only_for_witness_v1() -> None:
    program = bytes(range(32))
    v0, v1 = encode_segwit("bc", 0, program), encode_segwit("bc", 1, program)
    assert v0.startswith("bc1q")
    assert v1.startswith("bc1p")
    assert v0[4:-6] == v1[4:-6]  # same data part, a different checksum constant
    with pytest.raises(ValueError, match="20 or 32"):
        encode_segwit("bc", 0, bytes(21))


def test_wif_is_base58check() -> None:
    decoded = base58.b58decode_check(addresses.wif(bytes([1] * 32)))
    assert decoded == b"\x80" + bytes([1] * 32) + b"\x01"

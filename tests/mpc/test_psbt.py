"""PSBT signing (docs/mpc.md § Spending): BIP-341 sighashes against the official key-path
vectors; a PSBT built by BDK (bdkpython, Rust) from made-up prevouts, signed by device +
server through `seedguard mpc sign-psbt` on a real server, each signature checked against a
sighash that python-bitcointx computes on its own and the output key of that input's
address, the finalized transaction parsed back by BDK; a foreign input left alone; a missing
prevout refused."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import bdkpython as bdk
import pytest
from bitcointx.core import CTransaction
from coincurve.keys import PublicKeyXOnly
from embit.script import address_to_scriptpubkey
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from seedguard.errors import InputError
from seedguard.mpc import addresses, psbt
from seedguard.threshold.keys import GroupKey
from tests.conftest import VECTORS, make_home, run_cli
from tests.mpc.helpers import local_dkg
from tests.servers import SeedguardServer

PASSWORD = "Correct horse battery staple 42\n"
FOREIGN = "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c"
PAYEE = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"


def test_sighashes_match_the_bip341_key_path_vectors() -> None:
    vectors = json.loads((VECTORS / "bip341-wallet-test-vectors.json").read_text())
    for case in vectors["keyPathSpending"]:
        tx = Transaction.parse(bytes.fromhex(case["given"]["rawUnsignedTx"]))
        spent = case["given"]["utxosSpent"]
        scripts = [psbt.Script(bytes.fromhex(u["scriptPubKey"])) for u in spent]
        values = [int(u["amountSats"]) for u in spent]
        for item in case["inputSpending"]:
            given = item["given"]
            digest = psbt.sighash(tx, given["txinIndex"], scripts, values, given["hashType"])
            assert digest.hex() == item["intermediary"]["sigHash"]


def _bdk_wallet(key: GroupKey) -> bdk.Wallet:
    found = addresses.descriptors(key, "testnet", True)
    return bdk.Wallet(
        bdk.Descriptor(found.receive, bdk.NetworkKind.TEST),
        bdk.Descriptor(found.change, bdk.NetworkKind.TEST),
        bdk.Network.TESTNET,
        bdk.Persister.new_in_memory(),
    )


def _funded_psbt(key: GroupKey, amounts: tuple[int, ...] = (60_000, 50_000)) -> str:
    """BDK's PSBT spending made-up prevouts paid to the wallet's first addresses: 70,000 sat
    to a P2WPKH payee, 10,000 to a Taproot one, the rest to the wallet's change."""
    wallet = _bdk_wallet(key)
    mine = [a.address for a in addresses.listing(key, "testnet", True, count=len(amounts))]
    funding = Transaction(
        vin=[TransactionInput(secrets.token_bytes(32), 0)],
        vout=[
            TransactionOutput(amount, address_to_scriptpubkey(address))
            for amount, address in zip(amounts, mine, strict=True)
        ],
    )
    wallet.reveal_addresses_to(bdk.KeychainKind.EXTERNAL, len(amounts))
    wallet.apply_unconfirmed_txs(
        [bdk.UnconfirmedTx(tx=bdk.Transaction(funding.serialize()), last_seen=1)]
    )
    builder = bdk.TxBuilder()
    for address, amount in ((PAYEE, 70_000), (FOREIGN, 10_000)):
        script = bdk.Address(address, bdk.Network.TESTNET).script_pubkey()
        builder = builder.add_recipient(script, bdk.Amount.from_sat(amount))
    built = builder.fee_rate(bdk.FeeRate.from_sat_per_vb(3)).finish(wallet)
    return str(built.serialize())


def _independent_check(key: GroupKey, unsigned: str, signed_tx: bytes) -> None:
    """Each input's signature, parsed out of the final transaction by python-bitcointx,
    verified (coincurve) against the output key of the address that input spends and a
    SIGHASH_DEFAULT hash embit computes on its own (right for DEFAULT; seedguard's sighash
    is python-bitcointx's)."""
    original = psbt.load(unsigned.encode())
    scripts = [inp.utxo.script_pubkey for inp in original.inputs]
    values = [int(inp.utxo.value) for inp in original.inputs]
    tx = CTransaction.deserialize(signed_tx)
    for index, txin_witness in enumerate(tx.wit.vtxinwit):
        stack = list(txin_witness.scriptWitness.stack)
        assert len(stack) == 1
        assert len(stack[0]) == 64
        digest = bytes(original.tx.sighash_taproot(index, scripts, values, 0))
        output_key = bytes(scripts[index].data)[2:]
        assert PublicKeyXOnly(output_key).verify(stack[0], digest)


def _json(home: Path, *args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def _group_key(home: Path, wallet: str) -> GroupKey:
    from seedguard.mpc.shares import DeviceStore, group_key

    store = DeviceStore(home)
    return group_key(store.public(store.find(wallet)))


@pytest.fixture
def wallet(sg_server: SeedguardServer, tmp_path: Path) -> tuple[Path, str]:
    home = make_home(tmp_path / "home")
    created = _json(
        home, "mpc", "create", "--server", sg_server.url, "--cloud", str(tmp_path / "cloud"),
        "--network", "testnet", stdin=PASSWORD,
    )  # fmt: skip
    return home, created["wallet_id"]


def test_a_bdk_psbt_signed_by_device_and_server(wallet: tuple[Path, str], tmp_path: Path) -> None:
    home, wallet_id = wallet
    key = _group_key(home, wallet_id)
    unsigned = _funded_psbt(key)
    file = tmp_path / "spend.psbt"
    file.write_text(unsigned)
    signed = _json(home, "mpc", "sign-psbt", "--wallet", wallet_id, str(file), "--yes")
    assert set(signed) >= {"psbt", "signed_inputs", "complete", "tx", "txid", "fee", "outputs"}
    assert sorted(signed["signed_inputs"]) == [0, 1]
    assert signed["complete"] is True
    assert signed["tx"] is None  # not asked to finalize
    outputs = {o["address"]: o for o in signed["outputs"]}
    assert outputs[PAYEE] == {"address": PAYEE, "amount": 70_000, "change": False}
    assert outputs[FOREIGN]["change"] is False
    change = [o for o in signed["outputs"] if o["change"]]
    assert len(change) == 1  # derived from the wallet's key: BDK's change address 1/0
    assert change[0]["address"] == addresses.derived(key, 1, 0, "testnet").address
    assert signed["fee"] == 110_000 - 80_000 - change[0]["amount"]

    # BDK reads the signed PSBT back, finalizes it itself, and extracts the transaction.
    theirs = bdk.Psbt(signed["psbt"])
    assert theirs.fee() == signed["fee"]
    finalized = _json(
        home, "mpc", "sign-psbt", "--wallet", wallet_id, str(file), "--yes", "--finalize"
    )
    raw = bytes.fromhex(finalized["tx"])
    parsed = bdk.Transaction(raw)
    assert str(parsed.compute_txid()) == finalized["txid"]
    assert len(parsed.input()) == 2
    _independent_check(key, unsigned, raw)


def test_a_foreign_input_is_left_alone(wallet: tuple[Path, str], tmp_path: Path) -> None:
    home, wallet_id = wallet
    key = _group_key(home, wallet_id)
    other, _, _ = local_dkg()
    ours = psbt.load(_funded_psbt(key, (120_000,)).encode())
    theirs = psbt.load(_funded_psbt(other, (90_000,)).encode())
    # One transaction spending one input of each wallet (embit merges the two PSBTs' parts).
    ours.inputs.append(theirs.inputs[0])
    ours.tx.vin.append(theirs.tx.vin[0])
    file = tmp_path / "mixed.psbt"
    file.write_text(psbt.to_base64(ours))
    signed = _json(
        home, "mpc", "sign-psbt", "--wallet", wallet_id, str(file), "--yes", "--finalize"
    )
    assert signed["signed_inputs"] == [0]
    assert signed["foreign_inputs"] == [1]
    assert signed["complete"] is False
    assert signed["tx"] is None
    back = psbt.load(signed["psbt"].encode())
    assert psbt.TAP_KEY_SIG in back.inputs[0].unknown
    assert psbt.TAP_KEY_SIG not in back.inputs[1].unknown


def test_a_missing_prevout_is_refused(wallet: tuple[Path, str], tmp_path: Path) -> None:
    home, wallet_id = wallet
    parsed = psbt.load(_funded_psbt(_group_key(home, wallet_id)).encode())
    parsed.inputs[1].witness_utxo = None
    parsed.inputs[1].non_witness_utxo = None
    file = tmp_path / "bare.psbt"
    file.write_text(psbt.to_base64(parsed))
    refused = _json(home, "mpc", "sign-psbt", "--wallet", wallet_id, str(file), "--yes", code=1)
    assert "previous output" in refused["error"]


def test_bad_input() -> None:
    key, _, _ = local_dkg()
    with pytest.raises(InputError, match="not a PSBT"):
        psbt.load(b"this is not base64!")
    with pytest.raises(InputError, match="does not parse"):
        psbt.load(base64.b64encode(b"psbt\xff\x01\x02"))
    other, _, _ = local_dkg()
    with pytest.raises(InputError, match="No input"):
        psbt.plan(psbt.load(_funded_psbt(other).encode()), key, "testnet")


def test_a_terminal_less_run_needs_yes(wallet: tuple[Path, str], tmp_path: Path) -> None:
    home, wallet_id = wallet
    file = tmp_path / "spend.psbt"
    file.write_text(_funded_psbt(_group_key(home, wallet_id)))
    refused = _json(home, "mpc", "sign-psbt", "--wallet", wallet_id, str(file), code=2)
    assert "--yes" in refused["error"]


def test_a_version_2_psbt_is_signed_and_stays_version_2(
    wallet: tuple[Path, str], tmp_path: Path
) -> None:
    """BIP-370: the same spend as a version-2 PSBT (no global unsigned transaction; each
    input's outpoint and sequence, each output's amount and script as fields) signs the same
    inputs, comes back as version 2, and finalizes into the same transaction."""
    home, wallet_id = wallet
    key = _group_key(home, wallet_id)
    unsigned = _funded_psbt(key)
    v2 = psbt.load(unsigned.encode())
    v2.version = 2
    v2_file = tmp_path / "v2.psbt"
    v2_file.write_text(psbt.to_base64(v2))
    assert psbt.load(v2_file.read_bytes()).version == 2
    raw_v2 = base64.b64decode(v2_file.read_text())
    assert raw_v2[5:7] != b"\x01\x00"  # no global unsigned transaction (BIP-370)
    v0_file = tmp_path / "v0.psbt"
    v0_file.write_text(unsigned)
    args = ("mpc", "sign-psbt", "--wallet", wallet_id)
    signed = _json(home, *args, str(v2_file), "--yes", "--finalize")
    reference = _json(home, *args, str(v0_file), "--yes", "--finalize")
    assert sorted(signed["signed_inputs"]) == [0, 1]
    assert psbt.load(signed["psbt"].encode()).version == 2
    assert signed["txid"] == reference["txid"]
    assert signed["fee"] == reference["fee"]
    _independent_check(key, unsigned, bytes.fromhex(signed["tx"]))

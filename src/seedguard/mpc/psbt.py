"""PSBT signing for an MPC wallet (BIP-174, BIP-370, BIP-371 Taproot fields): which inputs are
the wallet's, what the transaction pays, its BIP-341 sighashes, and the signed or finalized
result (docs/mpc.md § Spending).

The PSBT is parsed by embit, a well-kept, pure-Python wallet library (SeedSigner, Specter) that
reads PSBT v0 and v2 and BIP-371's Taproot derivations; bdkpython hides a PSBT's inner fields
behind its own signer. embit keeps PSBT_IN_TAP_KEY_SIG (0x13) as an unknown pair, so this
module sets that one field itself. The BIP-341 sighash comes from python-bitcointx: embit's
gets SIGHASH_SINGLE and ANYONECANPAY wrong (4 of the 7 official key-path vectors fail), and
bitcointx's passes them all (its sighash is pure Python: no native library is loaded).

An input is the wallet's when its prevout is a Taproot output whose key is one this wallet
derives: a BIP-371 derivation with this wallet's fingerprint and a path c/i (c 0 or 1) whose
child has that internal key and output key, or, for an older wallet, its index-free key.
Nothing is taken on trust from the PSBT: the path only says which child to derive.
"""

from __future__ import annotations

import binascii
import io
from dataclasses import dataclass, field
from typing import Any

from embit import psbt as embit_psbt
from embit.networks import NETWORKS
from embit.script import Script, Witness
from embit.transaction import SIGHASH, TransactionInput

from seedguard.errors import InputError
from seedguard.hd.slip132 import Network
from seedguard.mpc import addresses
from seedguard.threshold.derivation import CHANGE, RECEIVE, Child
from seedguard.threshold.keys import GroupKey

TAP_KEY_SIG = b"\x13"  # PSBT_IN_TAP_KEY_SIG (BIP-371)
MAX_PSBT_BYTES = 4 * 1024 * 1024
VALID_SIGHASHES = {0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83}  # BIP-341's hash_type values
SIGHASH_NAMES = {
    0x00: "DEFAULT",
    0x01: "ALL",
    0x02: "NONE",
    0x03: "SINGLE",
    0x81: "ALL|ANYONECANPAY",
    0x82: "NONE|ANYONECANPAY",
    0x83: "SINGLE|ANYONECANPAY",
}
FEE_SHARE_WARNING = 0.05  # a fee above 5% of what leaves the wallet
FEE_RATE_WARNING = 100.0  # sat/vB


@dataclass(frozen=True)
class Output:
    address: str
    amount: int
    change: bool
    path: str | None
    script: str = ""  # the scriptPubKey, hex

    def as_dict(self) -> dict[str, object]:
        return {"address": self.address, "amount": self.amount, "change": self.change}


@dataclass(frozen=True)
class Owned:
    index: int
    path: tuple[int, int] | None  # None: an older wallet's index-free key
    sighash_type: int
    sighash: bytes

    @property
    def child(self) -> tuple[int, int] | None:
        return self.path


@dataclass
class Plan:
    """What signing would do, for the user to check before anything is signed."""

    owned: list[Owned]
    foreign: list[int]
    outputs: list[Output]
    fee: int
    vsize: int
    warnings: list[str] = field(default_factory=list)

    @property
    def fee_rate(self) -> float:
        return self.fee / self.vsize if self.vsize else 0.0

    @property
    def sent(self) -> int:
        """What leaves the wallet: every output that is not its own change."""
        return sum(o.amount for o in self.outputs if not o.change)

    def outgoing(self, allowlist: tuple[str, ...] = ()) -> int:
        """What counts against a spending limit: outputs neither change nor allowlisted."""
        return sum(o.amount for o in self.outputs if not o.change and o.script not in allowlist)


class PSBT(embit_psbt.PSBT):  # type: ignore[misc]
    """embit's PSBT, with the unsigned transaction kept as given: embit's `tx` turns a version
    of 0 into 2 and an input's sequence of 0 into 0xFFFFFFFF (`x or default`), which changes
    the sighash (BIP-322's `to_sign` has both 0; so may any transaction's inputs)."""

    @property
    def tx(self) -> Any:
        return self.TX_CLS(
            version=2 if self.tx_version is None else self.tx_version,
            locktime=self.locktime or 0,
            vin=[
                TransactionInput(
                    inp.txid,
                    inp.vout,
                    sequence=0xFFFFFFFF if inp.sequence is None else inp.sequence,
                )
                for inp in self.inputs
            ],
            vout=[out.vout for out in self.outputs],
        )


def load(data: bytes) -> embit_psbt.PSBT:
    """A PSBT from its binary form or base64 text (surrounding whitespace ignored)."""
    if len(data) > MAX_PSBT_BYTES:
        raise InputError("This PSBT is larger than 4 MiB: that is not a transaction to sign.")
    if not data.startswith(b"psbt\xff"):
        try:
            data = binascii.a2b_base64(data.strip())
        except (binascii.Error, ValueError):
            raise InputError("This is not a PSBT: neither binary nor base64.") from None
    try:
        return PSBT.read_from(io.BytesIO(data))
    except Exception as exc:  # embit raises bare exceptions of several kinds
        raise InputError(f"This PSBT does not parse: {exc or type(exc).__name__}.") from None


def txid(psbt: embit_psbt.PSBT) -> str:
    return bytes(psbt.tx.txid()).hex()


def to_base64(psbt: embit_psbt.PSBT) -> str:
    return str(psbt.to_string())


def _network_params(network: Network) -> dict[str, object]:
    params: dict[str, object] = NETWORKS["main" if network == "mainnet" else "test"]
    return params


def _taproot_key(script: Script) -> bytes | None:
    data = script.data
    if len(data) == 34 and data[0] == 0x51 and data[1] == 0x20:
        return bytes(data[2:])
    return None


def _match(
    key: GroupKey, fingerprint: bytes, derivations: dict[object, object], output_key: bytes
) -> tuple[bool, tuple[int, int] | None]:
    """(mine, path) for a Taproot output key and its BIP-371 derivations."""
    for pub, value in derivations.items():
        der: Any = value[1]  # type: ignore[index]
        path = list(der.derivation)
        if bytes(der.fingerprint) != fingerprint or len(path) != 2:
            continue
        chain, index = path
        if chain not in (RECEIVE, CHANGE) or index >= 2**31:
            continue
        child: Child = addresses.child(key, chain, index)
        if child.internal_key == pub.xonly() and child.output_key == output_key:  # type: ignore[attr-defined]
            return True, (chain, index)
    if output_key == key.output_key:  # an older wallet's index-free key
        return True, None
    return False, None


def plan(psbt: embit_psbt.PSBT, key: GroupKey, network: Network) -> Plan:
    """Classify inputs and outputs, compute the sighash of each input the wallet owns, and the
    fee; refuse what cannot be signed safely."""
    fingerprint = bytes.fromhex(addresses.fingerprint(key))
    spks, values = [], []
    for i, inp in enumerate(psbt.inputs):
        if inp.witness_utxo is None and inp.non_witness_utxo is None:
            raise InputError(
                f"Input {i} has no previous output (amount and script): a Taproot signature "
                "commits to every input's, so nothing was signed. Have the wallet that made "
                "the PSBT include them (witness_utxo)."
            )
        if inp.non_witness_utxo is not None and inp.witness_utxo is None:
            try:
                inp.verify()
            except Exception:
                raise InputError(
                    f"Input {i}'s previous transaction does not match its txid: nothing was signed."
                ) from None
        utxo = inp.utxo
        spks.append(utxo.script_pubkey)
        values.append(int(utxo.value))
    owned, foreign, warnings = [], [], []
    tx = psbt.tx
    hasher: Sighasher | None = None
    for i, inp in enumerate(psbt.inputs):
        output_key = _taproot_key(spks[i])
        mine, path = (False, None)
        if output_key is not None:
            mine, path = _match(key, fingerprint, inp.taproot_bip32_derivations, output_key)
        if not mine:
            foreign.append(i)
            continue
        hash_type = 0 if inp.sighash_type is None else int(inp.sighash_type)
        if hash_type not in VALID_SIGHASHES:
            raise InputError(
                f"Input {i} asks for sighash type {hash_type:#x}, which BIP-341 does not "
                "define: nothing was signed."
            )
        if hash_type not in (SIGHASH.DEFAULT, SIGHASH.ALL):
            warnings.append(
                f"Input {i} asks for SIGHASH_{SIGHASH_NAMES[hash_type]}: the signature then "
                "does not commit to the whole transaction, and others may change it."
            )
        hasher = hasher or Sighasher(tx, spks, values)
        owned.append(Owned(i, path, hash_type, hasher(i, hash_type)))
    if not owned:
        raise InputError("No input of this PSBT is this wallet's: nothing to sign.")
    params = _network_params(network)
    outputs = []
    for j, out in enumerate(psbt.outputs):
        vout = tx.vout[j]
        output_key = _taproot_key(vout.script_pubkey)
        change, named = False, None
        if output_key is not None:
            mine, where = _match(key, fingerprint, out.taproot_bip32_derivations, output_key)
            if mine:
                change, named = True, None if where is None else f"{where[0]}/{where[1]}"
        try:
            address = str(vout.script_pubkey.address(params))
        except Exception:
            address = f"script:{vout.script_pubkey.data.hex()}"
        script = bytes(vout.script_pubkey.data).hex()
        outputs.append(Output(address, int(vout.value), change, named, script))
    fee = sum(values) - sum(o.amount for o in outputs)
    if fee < 0:
        raise InputError("The outputs pay more than the inputs hold: nothing was signed.")
    result = Plan(owned, foreign, outputs, fee, _vsize(psbt), warnings)
    if result.sent and fee > FEE_SHARE_WARNING * result.sent:
        result.warnings.append(
            f"The fee, {fee:,} sat, is {fee / result.sent:.0%} of what leaves the wallet."
        )
    if result.fee_rate > FEE_RATE_WARNING:
        result.warnings.append(f"The fee rate, {result.fee_rate:.1f} sat/vB, is very high.")
    return result


class Sighasher:
    """BIP-341 key-path signature hashes of one transaction's inputs (python-bitcointx); the
    transaction and its spent outputs are converted once, not once per input."""

    def __init__(self, tx: Any, scripts: list[Script], values: list[int]) -> None:
        from bitcointx import ChainParams
        from bitcointx.core import CTransaction, CTxOut
        from bitcointx.core.script import CScript

        with ChainParams("bitcoin"):
            self.tx = CTransaction.deserialize(tx.serialize())
            self.spent = [
                CTxOut(v, CScript(bytes(s.data))) for s, v in zip(scripts, values, strict=True)
            ]

    def __call__(self, index: int, hash_type: int) -> bytes:
        from bitcointx import ChainParams
        from bitcointx.core.script import SIGHASH_Type, SignatureHashSchnorr

        # bitcointx keeps its chain parameters per thread and context (a server's event loop
        # or worker thread has none set); the sighash is the same on every chain.
        with ChainParams("bitcoin"):
            digest = SignatureHashSchnorr(
                self.tx,
                index,
                self.spent,
                hashtype=SIGHASH_Type(hash_type) if hash_type else None,
            )
        return bytes(digest)


def sighash(tx: Any, index: int, scripts: list[Script], values: list[int], hash_type: int) -> bytes:
    """BIP-341's key-path signature hash of input `index`."""
    return Sighasher(tx, scripts, values)(index, hash_type)


def _vsize(psbt: embit_psbt.PSBT) -> int:
    """The signed transaction's virtual size, every input assumed a Taproot key-path spend
    (the wallet's are; another signer's may weigh more, so the fee rate is at most this)."""
    base = len(psbt.tx.serialize())  # the unsigned transaction: no witness yet
    witness = 2 + sum(1 + 1 + 64 for _ in psbt.inputs)  # marker, flag; count, length, sig
    return (base * 4 + witness + 3) // 4


def add_signature(psbt: embit_psbt.PSBT, owned: Owned, signature: bytes) -> None:
    """PSBT_IN_TAP_KEY_SIG: the 64-byte signature, with the sighash byte when not DEFAULT."""
    value = signature if owned.sighash_type == 0 else signature + bytes([owned.sighash_type])
    psbt.inputs[owned.index].unknown[TAP_KEY_SIG] = value


def complete(psbt: embit_psbt.PSBT) -> bool:
    """Every input signed (a key-path signature) or finalized."""
    return all(
        inp.final_scriptwitness is not None or TAP_KEY_SIG in inp.unknown for inp in psbt.inputs
    )


def finalize(psbt: embit_psbt.PSBT) -> tuple[str, str] | None:
    """(raw transaction hex, txid) once every input has a key-path signature; None while
    another signer's input is still unsigned. Finalized inputs keep only their witness."""
    if not complete(psbt):
        return None
    for inp in psbt.inputs:
        if inp.final_scriptwitness is None:
            inp.final_scriptwitness = Witness([inp.unknown.pop(TAP_KEY_SIG)])
            inp.taproot_bip32_derivations.clear()
            inp.taproot_internal_key = None
            inp.sighash_type = None
    tx = psbt.tx.__class__.parse(psbt.tx.serialize())
    for i, inp in enumerate(psbt.inputs):
        tx.vin[i].witness = inp.final_scriptwitness
        if inp.final_scriptsig is not None:
            tx.vin[i].script_sig = inp.final_scriptsig
    return tx.serialize().hex(), tx.txid().hex()

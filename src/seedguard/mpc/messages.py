"""BIP-322 simple signatures for the wallet's Taproot addresses: proof that the owner controls
an address (docs/mpc.md § Message signing).

The message becomes BIP-322's two virtual transactions: `to_spend` (an input that cannot
exist, committing to SHA256-tagged("BIP0322-signed-message", message), one output of 0 sat to
the address) and `to_sign` (spending it to OP_RETURN). `to_sign` goes to the server as a PSBT,
the same route a payment takes: the server derives the input's key, recomputes its sighash
and sees that nothing leaves the wallet. The simple signature is the witness, serialized and
base64-encoded.
"""

from __future__ import annotations

import base64
import binascii

from embit import ec
from embit.psbt import DerivationPath
from embit.script import Script, address_to_scriptpubkey
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from seedguard.errors import InputError
from seedguard.mpc import psbt
from seedguard.primitives import schnorr
from seedguard.primitives.hashes import tagged_hash

TAG = "BIP0322-signed-message"


def message_hash(message: bytes) -> bytes:
    return tagged_hash(TAG, message)


def _script(address: str) -> bytes:
    try:
        script = bytes(address_to_scriptpubkey(address).data)
    except Exception:
        raise InputError(f"{address!r} is not a Bitcoin address.") from None
    if len(script) != 34 or script[:2] != b"\x51\x20":
        raise InputError(f"{address} is not a Taproot address: only those are signed here.")
    return script


def to_spend(script: bytes, message: bytes) -> Transaction:
    return Transaction(
        version=0,
        vin=[
            TransactionInput(
                b"\x00" * 32,
                0xFFFFFFFF,
                script_sig=Script(b"\x00\x20" + message_hash(message)),
                sequence=0,
            )
        ],
        vout=[TransactionOutput(0, Script(script))],
        locktime=0,
    )


def to_sign_psbt(
    address: str,
    message: bytes,
    internal_key: bytes,
    fingerprint: bytes,
    path: tuple[int, int] | None,
) -> psbt.PSBT:
    """`to_sign` as a PSBT with its prevout (`to_spend`'s output) and the BIP-371 derivation
    of the address's key, so that a signer (the server among them) can find and check it."""
    script = _script(address)
    spend = to_spend(script, message)
    tx = Transaction(
        version=0,
        vin=[TransactionInput(spend.txid(), 0, sequence=0)],
        vout=[TransactionOutput(0, Script(b"\x6a"))],
        locktime=0,
    )
    parsed = psbt.PSBT(tx)
    parsed.inputs[0].witness_utxo = spend.vout[0]
    if path is not None:
        parsed.inputs[0].taproot_bip32_derivations[ec.PublicKey.from_xonly(internal_key)] = (
            [],
            DerivationPath(fingerprint, list(path)),
        )
    parsed.inputs[0].taproot_internal_key = ec.PublicKey.from_xonly(internal_key)
    return parsed


def encode_simple(signature: bytes) -> str:
    """The witness stack [signature], consensus-serialized, base64 (BIP-322 "simple")."""
    return base64.b64encode(bytes([1, len(signature)]) + signature).decode("ascii")


def verify_simple(address: str, message: bytes, encoded: str) -> bool:
    """Check a simple signature for a Taproot address (key path, SIGHASH_DEFAULT or ALL)."""
    script = _script(address)
    try:
        witness = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(witness) < 2 or witness[0] != 1 or witness[1] != len(witness) - 2:
        return False
    signature = witness[2:]
    if len(signature) not in (64, 65):
        return False
    hash_type = signature[64] if len(signature) == 65 else 0
    if len(signature) == 65 and hash_type != 0x01:  # 0x00 must be left out (BIP-341)
        return False
    spend = to_spend(script, message)
    to_sign = Transaction(
        version=0,
        vin=[TransactionInput(spend.txid(), 0, sequence=0)],
        vout=[TransactionOutput(0, Script(b"\x6a"))],
        locktime=0,
    )
    digest = psbt.Sighasher(to_sign, [Script(script)], [0])(0, hash_type)
    try:
        return schnorr.verify(digest, script[2:], signature[:64])
    except ValueError:  # an output key that is not a point
        return False

"""Addresses from public keys: Bitcoin P2PKH, P2SH-P2WPKH, P2WPKH, P2TR, and Ethereum.

Encodings: Base58Check (embit's `base58`), bech32 / bech32m (BIP-173 / BIP-350,
`seedguard.hd.bech32m`), EIP-55 mixed-case checksums.
"""

from __future__ import annotations

from embit import base58  # Base58Check; embit is here for PSBTs already

from seedguard.hd.bech32m import encode_segwit
from seedguard.hd.slip132 import Network
from seedguard.primitives import secp256k1
from seedguard.primitives.hashes import hash160, keccak256, tagged_hash

_P2PKH = {"mainnet": b"\x00", "testnet": b"\x6f"}
_P2SH = {"mainnet": b"\x05", "testnet": b"\xc4"}
_HRP = {"mainnet": "bc", "testnet": "tb"}
_WIF = {"mainnet": b"\x80", "testnet": b"\xef"}


def p2pkh(pubkey: bytes, network: Network = "mainnet") -> str:
    """BIP-44 legacy address: Base58Check(version || HASH160(pubkey))."""
    return str(base58.encode_check(_P2PKH[network] + hash160(pubkey)))


def p2wpkh_script(pubkey: bytes) -> bytes:
    """The witness v0 key-hash program: OP_0 PUSH20 HASH160(pubkey)."""
    return b"\x00\x14" + hash160(pubkey)


def p2sh_p2wpkh(pubkey: bytes, network: Network = "mainnet") -> str:
    """BIP-49 nested SegWit address: P2SH of the P2WPKH script."""
    return str(base58.encode_check(_P2SH[network] + hash160(p2wpkh_script(pubkey))))


def segwit_address(version: int, program: bytes, network: Network = "mainnet") -> str:
    return encode_segwit(_HRP[network], version, program)


def p2wpkh(pubkey: bytes, network: Network = "mainnet") -> str:
    """BIP-84 native SegWit address (bech32, witness v0)."""
    return segwit_address(0, hash160(pubkey), network)


def taproot_output_key(pubkey: bytes) -> bytes:
    """BIP-86/341 output key Q = P + int(hash_TapTweak(P))·G for a key with no script tree."""
    internal = pubkey[1:]  # x-only: BIP-340 lifts x to the point with even y
    return secp256k1.xonly_tweak_add(internal, tagged_hash("TapTweak", internal))


def p2tr(pubkey: bytes, network: Network = "mainnet") -> str:
    """BIP-86 Taproot address (bech32m, witness v1) of a single key."""
    return segwit_address(1, taproot_output_key(pubkey), network)


def ethereum(pubkey: bytes) -> str:
    """Ethereum address: the last 20 bytes of Keccak-256(x || y), EIP-55 checksummed."""
    raw = keccak256(secp256k1.uncompressed(pubkey)[1:])[-20:].hex()
    return "0x" + eip55(raw)


def eip55(hex_address: str) -> str:
    """EIP-55: upper-case each hex letter whose nibble in Keccak-256(lower-case address) >= 8."""
    lower = hex_address.lower().removeprefix("0x")
    digest = keccak256(lower.encode("ascii")).hex()
    return "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def wif(secret: bytes, network: Network = "mainnet") -> str:
    """Wallet Import Format for a private key whose public key is compressed."""
    return str(base58.encode_check(_WIF[network] + secret + b"\x01"))

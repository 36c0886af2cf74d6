"""Seed-phrase wallets: create one, check a phrase, and prove a restore right.

The proof of a restore is what the old wallet showed: the master key fingerprint (which
names a wallet everywhere in seedguard) and the first addresses of each standard account.
"""

from __future__ import annotations

from dataclasses import dataclass

from seedguard.errors import UsageError
from seedguard.hd import bip32
from seedguard.hd.accounts import (
    MAX_ADDRESSES,
    STANDARDS,
    BitcoinAccount,
    EthereumAccount,
    bitcoin_account,
    ethereum_account,
)
from seedguard.hd.bip32 import HARDENED
from seedguard.hd.slip132 import Network
from seedguard.mnemonic import bip39


@dataclass(frozen=True)
class NewWallet:
    mnemonic: str
    language: str
    words: int
    fingerprint: str


@dataclass(frozen=True)
class WalletProof:
    fingerprint: str
    network: Network
    accounts: dict[str, BitcoinAccount]
    ethereum: EthereumAccount


def master_key(mnemonic: str, passphrase: str = "") -> bip32.ExtendedKey:
    """Validate the phrase and derive the BIP-32 master key of phrase + passphrase."""
    phrase = bip39.validate(mnemonic).mnemonic  # full words, never the typed prefixes
    return bip32.master_key(bip39.to_seed(phrase, passphrase))


def fingerprint(mnemonic: str, passphrase: str = "") -> str:
    """The wallet's master key fingerprint, 8 hex digits."""
    return master_key(mnemonic, passphrase).fingerprint.hex()


def create(words: int = 12, language: str = "english", entropy: bytes | None = None) -> NewWallet:
    """A new phrase from the OS random generator, or from entropy the user supplied."""
    if words not in bip39.WORD_COUNTS:
        raise UsageError(f"A phrase has 12, 15, 18, 21 or 24 words, not {words}.")
    if entropy is None:
        mnemonic = bip39.generate(words, language)
    else:
        if len(entropy) * 8 != words * 32 // 3:
            raise UsageError(f"{len(entropy) * 8} bits of entropy do not make {words} words.")
        mnemonic = bip39.entropy_to_mnemonic(entropy, language)
    return NewWallet(mnemonic, language, words, fingerprint(mnemonic))


def prove(
    mnemonic: str,
    passphrase: str = "",
    *,
    count: int = 5,
    account: int = 0,
    network: Network = "mainnet",
    change: bool = True,
) -> WalletProof:
    """Fingerprint, account xpubs and first addresses of every standard account."""
    if not 0 <= count <= MAX_ADDRESSES:
        raise UsageError(f"--count must be 0 to {MAX_ADDRESSES}, not {count}.")
    if not 0 <= account < HARDENED:
        raise UsageError(f"--account must be 0 to {HARDENED - 1}, not {account}.")
    if network not in ("mainnet", "testnet"):
        raise UsageError(f"--network is mainnet or testnet, not {network!r}.")
    master = master_key(mnemonic, passphrase)
    return WalletProof(
        master.fingerprint.hex(),
        network,
        {s.name: bitcoin_account(master, s, account, network, count, change) for s in STANDARDS},
        ethereum_account(master, account, count),
    )

"""Standard single-signature accounts: BIP-44, BIP-49, BIP-84, BIP-86 and Ethereum.

Pure functions from a master key to an account's extended public key and first addresses;
these are what a restored wallet must show again to prove the restore right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seedguard.hd import addresses
from seedguard.hd.bip32 import HARDENED, ExtendedKey, ckd_pub, derive, format_path
from seedguard.hd.slip132 import Network, ScriptKind, Version, for_script

ETHEREUM_COIN = 60
MAX_ADDRESSES = 1000


@dataclass(frozen=True)
class Standard:
    """A BIP that fixes a purpose, a script type and an extended-key encoding."""

    name: str
    purpose: int
    script: ScriptKind
    address: Callable[[bytes, Network], str]

    def version(self, network: Network) -> Version:
        return for_script(self.script, network)


BIP44 = Standard("bip44", 44, "legacy", addresses.p2pkh)
BIP49 = Standard("bip49", 49, "nested-segwit", addresses.p2sh_p2wpkh)
BIP84 = Standard("bip84", 84, "segwit", addresses.p2wpkh)
BIP86 = Standard("bip86", 86, "taproot", addresses.p2tr)
STANDARDS: tuple[Standard, ...] = (BIP44, BIP49, BIP84, BIP86)


@dataclass(frozen=True)
class BitcoinAccount:
    standard: str
    path: str
    xpub: str
    receive: tuple[str, ...]
    change: tuple[str, ...]


@dataclass(frozen=True)
class EthereumAccount:
    path: str
    receive: tuple[str, ...]


def _check_ranges(account: int, count: int) -> None:
    if not 0 <= account < HARDENED:
        raise ValueError(f"account {account} is outside 0 .. 2^31-1")
    if not 0 <= count <= MAX_ADDRESSES:
        raise ValueError(f"count {count} is outside 0 .. {MAX_ADDRESSES}")


def coin_type(network: Network) -> int:
    """SLIP-44 coin type: 0 for Bitcoin, 1 for every testnet."""
    return 0 if network == "mainnet" else 1


def account_path(standard: Standard, account: int, network: Network) -> list[int]:
    return [standard.purpose | HARDENED, coin_type(network) | HARDENED, account | HARDENED]


def chain_addresses(
    account_key: ExtendedKey, chain: int, count: int, address: Callable[[bytes], str]
) -> tuple[str, ...]:
    """The first `count` addresses of the external (0) or internal (1) chain."""
    chain_key = ckd_pub(account_key, chain)
    return tuple(address(ckd_pub(chain_key, i).public_key) for i in range(count))


def bitcoin_account(
    master: ExtendedKey,
    standard: Standard,
    account: int = 0,
    network: Network = "mainnet",
    count: int = 5,
    change: bool = True,
) -> BitcoinAccount:
    _check_ranges(account, count)
    path = account_path(standard, account, network)
    key = derive(master, path).neuter().with_version(standard.version(network))

    def address(pubkey: bytes) -> str:
        return standard.address(pubkey, network)

    return BitcoinAccount(
        standard.name,
        format_path(path),
        key.serialize(),
        chain_addresses(key, 0, count, address),
        chain_addresses(key, 1, count, address) if change else (),
    )


def ethereum_account(master: ExtendedKey, account: int = 0, count: int = 5) -> EthereumAccount:
    """Addresses at m/44'/60'/account'/0/i, the path of MetaMask, Ledger Live and Trezor."""
    _check_ranges(account, count)
    path = [44 | HARDENED, ETHEREUM_COIN | HARDENED, account | HARDENED]
    key = derive(master, path).neuter()
    return EthereumAccount(
        format_path([*path, 0]), chain_addresses(key, 0, count, addresses.ethereum)
    )

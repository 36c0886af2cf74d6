"""An MPC wallet's receive and change addresses and its watch-only descriptor.

The extended public key is the threshold key with BIP-328's chain code (threshold/
derivation.py); receive addresses are `0/i`, change `1/i`, each a key-path-only Taproot
output (BIP-86 style). The descriptor `tr([fingerprint]xpub/<0;1>/*)` gives them to any
wallet that reads descriptors (Bitcoin Core, Sparrow, BDK); the fingerprint is the xpub's own
(HASH160 of the threshold key), as for a depth-0 key.

Wallets made before addresses were derived have one more address, index-free: the threshold
key's own Taproot output. It stays theirs (listed first, labelled "index-free"); the derived
ones follow from `0/0`.
"""

from __future__ import annotations

from dataclasses import dataclass

from seedguard.errors import InputError, UsageError
from seedguard.hd.addresses import segwit_address
from seedguard.hd.bip32 import ExtendedKey
from seedguard.hd.descriptors import with_checksum
from seedguard.hd.slip132 import TPUB, XPUB, Network
from seedguard.primitives.hashes import hash160
from seedguard.threshold import derivation
from seedguard.threshold.derivation import CHANGE, RECEIVE, Child
from seedguard.threshold.keys import GroupKey

MAX_COUNT = 1000  # addresses in one listing


@dataclass(frozen=True)
class Address:
    address: str
    path: str | None  # "0/3", or None for the index-free address
    change: bool
    output_key: bytes

    def as_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "path": self.path,
            "change": self.change,
            "index_free": self.path is None,
        }


def xpub(key: GroupKey, network: Network) -> ExtendedKey:
    version = XPUB if network == "mainnet" else TPUB
    return ExtendedKey(version, 0, b"\0\0\0\0", 0, derivation.CHAIN_CODE, key.thresh_pk)


def fingerprint(key: GroupKey) -> str:
    return hash160(key.thresh_pk)[:4].hex()


def child(key: GroupKey, chain: int, index: int) -> Child:
    return derivation.child(key.thresh_pk, (chain, index))


def derived(key: GroupKey, chain: int, index: int, network: Network) -> Address:
    c = child(key, chain, index)
    return Address(
        segwit_address(1, c.output_key, network), f"{chain}/{index}", chain == CHANGE, c.output_key
    )


def index_free(key: GroupKey, network: Network) -> Address:
    return Address(segwit_address(1, key.output_key, network), None, False, key.output_key)


def first_address(key: GroupKey, network: Network, is_derived: bool) -> Address:
    """What `mpc create` reports: 0/0 for a wallet made with derived addresses, else the
    index-free one."""
    return derived(key, RECEIVE, 0, network) if is_derived else index_free(key, network)


def listing(
    key: GroupKey,
    network: Network,
    is_derived: bool,
    change: bool = False,
    start: int = 0,
    count: int = 10,
) -> list[Address]:
    if not 1 <= count <= MAX_COUNT:
        raise UsageError(f"--count takes 1 to {MAX_COUNT}.")
    if not 0 <= start <= derivation.MAX_INDEX - count + 1:
        raise UsageError(f"--from takes 0 to {derivation.MAX_INDEX - count + 1}.")
    chain = CHANGE if change else RECEIVE
    found = [derived(key, chain, i, network) for i in range(start, start + count)]
    if not is_derived and not change and start == 0:
        found.insert(0, index_free(key, network))
    return found


SEARCH = 1000  # addresses of each chain `find` looks through


def find(key: GroupKey, network: Network, address: str) -> tuple[int, int] | None:
    """The path of one of the wallet's addresses (None: the index-free one); refused when it
    is not among the first SEARCH receive and change addresses."""
    if address == index_free(key, network).address:
        return None
    for chain in (RECEIVE, CHANGE):
        for index in range(SEARCH):
            if derived(key, chain, index, network).address == address:
                return chain, index
    raise InputError(
        f"{address} is not one of this wallet's first {SEARCH} receive or change addresses."
    )


@dataclass(frozen=True)
class Descriptors:
    multipath: str  # tr([fp]xpub/<0;1>/*)#checksum
    receive: str  # tr([fp]xpub/0/*)#checksum
    change: str  # tr([fp]xpub/1/*)#checksum
    index_free: str | None  # tr(<internal key>)#checksum for an older wallet's first address

    def as_dict(self) -> dict[str, object]:
        return {
            "descriptor": self.multipath,
            "receive": self.receive,
            "change": self.change,
            "index_free": self.index_free,
        }

    def importdescriptors(self) -> list[dict[str, object]]:
        """The request Bitcoin Core's `importdescriptors` takes for a watch-only wallet."""
        requests: list[dict[str, object]] = [
            {"desc": self.receive, "active": True, "internal": False, "timestamp": 0},
            {"desc": self.change, "active": True, "internal": True, "timestamp": 0},
        ]
        if self.index_free is not None:
            requests.append({"desc": self.index_free, "timestamp": 0})
        return requests


def descriptors(key: GroupKey, network: Network, is_derived: bool) -> Descriptors:
    origin = f"[{fingerprint(key)}]{xpub(key, network).serialize()}"
    return Descriptors(
        with_checksum(f"tr({origin}/<0;1>/*)"),
        with_checksum(f"tr({origin}/0/*)"),
        with_checksum(f"tr({origin}/1/*)"),
        None if is_derived else with_checksum(f"tr({key.public_key.hex()})"),
    )

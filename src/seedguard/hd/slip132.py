"""SLIP-132: the version bytes of serialized extended keys.

BIP-32 defines xpub/xprv (mainnet) and tpub/tprv (testnet); SLIP-132 adds ypub/upub for
BIP-49 (P2SH-P2WPKH) and zpub/vpub for BIP-84 (P2WPKH). BIP-44 and BIP-86 use xpub/tpub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Network = Literal["mainnet", "testnet"]


@dataclass(frozen=True)
class Version:
    name: str  # the prefix the encoding starts with: "xpub", "zprv", ...
    public: bytes
    private: bytes
    network: Network


XPUB = Version("xpub", bytes.fromhex("0488b21e"), bytes.fromhex("0488ade4"), "mainnet")
YPUB = Version("ypub", bytes.fromhex("049d7cb2"), bytes.fromhex("049d7878"), "mainnet")
ZPUB = Version("zpub", bytes.fromhex("04b24746"), bytes.fromhex("04b2430c"), "mainnet")
TPUB = Version("tpub", bytes.fromhex("043587cf"), bytes.fromhex("04358394"), "testnet")
UPUB = Version("upub", bytes.fromhex("044a5262"), bytes.fromhex("044a4e28"), "testnet")
VPUB = Version("vpub", bytes.fromhex("045f1cf6"), bytes.fromhex("045f18bc"), "testnet")

VERSIONS: tuple[Version, ...] = (XPUB, YPUB, ZPUB, TPUB, UPUB, VPUB)
BY_BYTES: dict[bytes, tuple[Version, bool]] = {
    **{v.public: (v, False) for v in VERSIONS},
    **{v.private: (v, True) for v in VERSIONS},
}


ScriptKind = Literal["legacy", "nested-segwit", "segwit", "taproot"]


def for_script(kind: ScriptKind, network: Network) -> Version:
    """The version family a wallet of that script kind uses on that network."""
    mainnet = {"legacy": XPUB, "nested-segwit": YPUB, "segwit": ZPUB, "taproot": XPUB}
    testnet = {"legacy": TPUB, "nested-segwit": UPUB, "segwit": VPUB, "taproot": TPUB}
    return (mainnet if network == "mainnet" else testnet)[kind]

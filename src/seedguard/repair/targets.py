"""How a candidate seed is recognised: the wallet's addresses, account keys or fingerprint.

Each target is compared with the least work that decides it. An account key (xpub, ypub,
zpub) is matched by the chain code of the hardened path m/purpose'/coin'/account', which
takes three HMACs and no elliptic-curve multiplication; the public key is compared only then.
A fingerprint costs one multiplication (the master public key). An address costs one per
address tried: its type picks the derivation (1... BIP-44, 3... BIP-49, bc1q BIP-84, bc1p
BIP-86, 0x Ethereum at m/44'/60'/0'/0/i), and the receive and change addresses below
`address_limit` of account 0 are tried.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coincurve import PublicKey

from seedguard.errors import InputError
from seedguard.hd import bip32
from seedguard.primitives.hashes import hash160, keccak256, ripemd160, tagged_hash
from seedguard.primitives.secp256k1 import CURVE_ORDER

HARDENED = 0x80000000
_PURPOSE = {"p2pkh": 44, "p2sh-p2wpkh": 49, "p2wpkh": 84, "p2tr": 86}


@dataclass(frozen=True)
class Match:
    derivation: str  # e.g. "m/84'/0'/0'/0/3", "m/84'/0'/0'", "m"
    target: str


@dataclass(frozen=True)
class AddressTarget:
    text: str
    kind: str  # p2pkh, p2sh-p2wpkh, p2wpkh, p2tr, ethereum
    program: bytes  # hash160, script hash, x-only key or the 20-byte Ethereum address
    coin: int  # 0 mainnet, 1 testnet, 60 Ethereum


@dataclass(frozen=True)
class AccountTarget:
    text: str
    purposes: tuple[int, ...]
    coin: int
    account: int
    chain_code: bytes
    key: bytes


@dataclass
class Targets:
    """Everything a candidate may be recognised by; empty means list candidates only."""

    addresses: list[AddressTarget] = field(default_factory=list)
    accounts: list[AccountTarget] = field(default_factory=list)
    fingerprints: list[bytes] = field(default_factory=list)
    address_limit: int = 10

    def __bool__(self) -> bool:
        return bool(self.addresses or self.accounts or self.fingerprints)

    def describe(self) -> str:
        parts = [a.text for a in self.addresses] + [a.text[:12] + "…" for a in self.accounts]
        parts += [f.hex() for f in self.fingerprints]
        return ", ".join(parts)


def parse_address(text: str) -> AddressTarget:
    text = text.strip()
    if text.lower().startswith("0x"):
        body = text[2:]
        if len(body) != 40 or any(c not in "0123456789abcdefABCDEF" for c in body):
            raise InputError(f"{text!r} is not an Ethereum address (0x and 40 hex digits).")
        if body != body.lower() and body != body.upper():
            from seedguard.hd.addresses import eip55

            if eip55(body.lower()) != "0x" + body:
                raise InputError(
                    f"{text!r} fails its EIP-55 checksum (the mixed case): check it for typos."
                )
        return AddressTarget(text, "ethereum", bytes.fromhex(body), 60)
    from embit import script

    try:
        spk = script.address_to_scriptpubkey(text)
    except Exception:
        raise InputError(
            f"{text!r} is not an address seedguard can match (1..., 3..., bc1q..., bc1p..., "
            "their testnet forms, or 0x... for Ethereum)."
        ) from None
    data = bytes(spk.data)
    kind = spk.script_type()
    lowered = text.lower()
    mainnet = lowered.startswith("bc1") or text[0] in "13"
    coin = 0 if mainnet else 1
    if kind == "p2pkh":
        return AddressTarget(text, kind, data[3:23], coin)
    if kind == "p2sh":
        return AddressTarget(text, "p2sh-p2wpkh", data[2:22], coin)
    if kind == "p2wpkh":
        return AddressTarget(text, kind, data[2:22], coin)
    if kind == "p2tr":
        return AddressTarget(text, kind, data[2:34], coin)
    raise InputError(
        f"{text!r} is a {kind} address: seedguard matches single-key wallets (BIP-44/49/84/86)."
    )


def parse_account(text: str) -> AccountTarget:
    key = bip32.parse(text)
    if key.is_private:
        raise InputError("That is a private extended key: give the account's public key.")
    if key.depth != 3 or key.child_number < HARDENED:
        raise InputError(
            f"{text[:12]}… is at depth {key.depth}: give the account key (depth 3, "
            "m/purpose'/coin'/account'), as wallets show it."
        )
    name = key.version.name
    purposes = {"x": (44, 86, 84, 49), "t": (44, 86, 84, 49), "y": (49,), "u": (49,)}.get(
        name[0], (84,)
    )
    coin = 0 if key.version.network == "mainnet" else 1
    return AccountTarget(text, purposes, coin, key.child_number - HARDENED, key.chain_code, key.key)


def parse_fingerprint(text: str) -> bytes:
    clean = text.strip().lower()
    try:
        raw = bytes.fromhex(clean)
    except ValueError:
        raw = b""
    if len(raw) != 4:
        raise InputError(f"{text!r} is not a fingerprint: 8 hex digits, as seedguard shows it.")
    return raw


# --- derivation, lean: ints and bytes, no objects per step -----------------------------------
# The hot path of an address target is one libsecp256k1 multiplication per address tried
# (about 20 µs); everything around it is kept to a few plain calls.

_INDEX = tuple(i.to_bytes(4, "big") for i in range(1001))
_SHA256 = hashlib.sha256


def _pub(k: int) -> bytes:
    return PublicKey.from_valid_secret(k.to_bytes(32, "big")).format(True)


def _hardened(k: int, c: bytes, index: int) -> tuple[int, bytes]:
    i = hmac.digest(
        c, b"\0" + k.to_bytes(32, "big") + (index | HARDENED).to_bytes(4, "big"), "sha512"
    )
    return (int.from_bytes(i[:32], "big") + k) % CURVE_ORDER, i[32:]


def _normal(k: int, c: bytes, pub: bytes, index: int) -> tuple[int, bytes]:
    i = hmac.digest(c, pub + _INDEX[index], "sha512")
    return (int.from_bytes(i[:32], "big") + k) % CURVE_ORDER, i[32:]


def _hash160_program(k: int) -> bytes:
    return ripemd160(_SHA256(_pub(k)).digest())


def _nested_program(k: int) -> bytes:
    return hash160(b"\x00\x14" + ripemd160(_SHA256(_pub(k)).digest()))


def _taproot_program(k: int) -> bytes:
    """BIP-86's output key: the internal key tweaked by its own TapTweak hash, computed on the
    private side (one multiplication rather than a multiplication and a point tweak)."""
    pub = _pub(k)
    tweak = int.from_bytes(tagged_hash("TapTweak", pub[1:]), "big")
    even = k if pub[0] == 2 else CURVE_ORDER - k
    return _pub((even + tweak) % CURVE_ORDER)[1:]


def _ethereum_program(k: int) -> bytes:
    full = PublicKey.from_valid_secret(k.to_bytes(32, "big")).format(False)
    return keccak256(full[1:])[-20:]


_PROGRAMS: dict[str, Callable[[int], bytes]] = {
    "p2pkh": _hash160_program,
    "p2wpkh": _hash160_program,
    "p2sh-p2wpkh": _nested_program,
    "p2tr": _taproot_program,
    "ethereum": _ethereum_program,
}


class Matcher:
    """Tests seeds against the targets; `match(seed)` is the hot call, one per survivor."""

    def __init__(self, targets: Targets) -> None:
        self.targets = targets
        # Per account path: per program function, the programs sought and their address.
        self._address_groups: dict[
            tuple[int, int], dict[Callable[[int], bytes], dict[bytes, str]]
        ] = {}
        for a in targets.addresses:
            purpose = 44 if a.kind == "ethereum" else _PURPOSE[a.kind]
            by_program = self._address_groups.setdefault((purpose, a.coin), {})
            by_program.setdefault(_PROGRAMS[a.kind], {})[a.program] = a.text

    def match(self, seed: bytes) -> Match | None:
        i = hmac.digest(b"Bitcoin seed", seed, "sha512")
        k, c = int.from_bytes(i[:32], "big"), i[32:]
        if not 0 < k < CURVE_ORDER:
            return None
        t = self.targets
        if t.fingerprints:
            fingerprint = hash160(_pub(k))[:4]
            for f in t.fingerprints:
                if hmac.compare_digest(f, fingerprint):
                    return Match("m", f.hex())
        for account in t.accounts:
            for purpose in account.purposes:
                k1, c1 = _hardened(k, c, purpose)
                k2, c2 = _hardened(k1, c1, account.coin)
                k3, c3 = _hardened(k2, c2, account.account)
                if c3 == account.chain_code and _pub(k3) == account.key:
                    return Match(f"m/{purpose}'/{account.coin}'/{account.account}'", account.text)
        limit = t.address_limit
        for (purpose, coin), by_program in self._address_groups.items():
            k1, c1 = _hardened(k, c, purpose)
            k2, c2 = _hardened(k1, c1, coin)
            k3, c3 = _hardened(k2, c2, 0)
            p3 = _pub(k3)
            for change in (0, 1):
                kc, cc = _normal(k3, c3, p3, change)
                prefix = _pub(kc)
                for index in range(limit):
                    mac = hmac.digest(cc, prefix + _INDEX[index], "sha512")
                    ka = (int.from_bytes(mac[:32], "big") + kc) % CURVE_ORDER
                    for program, sought in by_program.items():
                        text = sought.get(program(ka))
                        if text is not None:
                            return Match(f"m/{purpose}'/{coin}'/0'/{change}/{index}", text)
        return None


def registered_fingerprints(home: object | None = None) -> list[bytes]:
    """Every wallet fingerprint the backup registry knows (`--registered`)."""
    from pathlib import Path

    from seedguard.backup.registry import Registry

    entries = Registry(Path(str(home)) if home is not None else None).entries()
    found = [bytes.fromhex(e.fingerprint) for e in entries if e.fingerprint]
    if not found:
        raise InputError(
            "The backup registry knows no wallet fingerprint: give --fingerprint, --address "
            "or --xpub instead."
        )
    return list(dict.fromkeys(found))


def build(
    addresses: Sequence[str] = (),
    accounts: Sequence[str] = (),
    fingerprints: Sequence[str] = (),
    address_limit: int = 10,
) -> Targets:
    return Targets(
        [parse_address(a) for a in addresses],
        [parse_account(x) for x in accounts],
        [parse_fingerprint(f) for f in fingerprints],
        address_limit,
    )

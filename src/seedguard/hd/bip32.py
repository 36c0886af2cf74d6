"""BIP-32: hierarchical deterministic wallets.

The curve arithmetic is libsecp256k1's (through `seedguard.primitives.secp256k1`); this module
holds the specification's key derivation functions (CKDpriv, CKDpub), serialization and the
validation that BIP-32 test vector 5 demands. Written here rather than taken from bip-utils:
it is a hundred lines over coincurve, and faster (docs/benchmarks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from embit import base58  # Base58Check; embit is here for PSBTs already

from seedguard.errors import DerivationError, ExtendedKeyError
from seedguard.hd.slip132 import BY_BYTES, XPUB, Version
from seedguard.primitives import secp256k1
from seedguard.primitives.hashes import hash160, hmac_sha512

HARDENED = 0x80000000
MASTER_HMAC_KEY = b"Bitcoin seed"
_PATH_RE = re.compile(r"^(\d+)(['hH]?)$")


@dataclass(frozen=True)
class ExtendedKey:
    """An extended private or public key (BIP-32 § Serialization format).

    `key` is 32 bytes for a private key, 33 (compressed point) for a public one.
    """

    version: Version
    depth: int
    parent_fingerprint: bytes
    child_number: int
    chain_code: bytes
    key: bytes

    @property
    def is_private(self) -> bool:
        return len(self.key) == 32

    @cached_property
    def public_key(self) -> bytes:
        """The compressed public key (point(k) for a private key)."""
        return secp256k1.public_key(self.key) if self.is_private else self.key

    @property
    def identifier(self) -> bytes:
        return hash160(self.public_key)

    @property
    def fingerprint(self) -> bytes:
        """The first 32 bits of the identifier: names a master key (and so a wallet)."""
        return self.identifier[:4]

    def neuter(self) -> ExtendedKey:
        """N((k, c)) = (K, c): the public key with the same chain code."""
        if not self.is_private:
            return self
        return ExtendedKey(
            self.version,
            self.depth,
            self.parent_fingerprint,
            self.child_number,
            self.chain_code,
            self.public_key,
        )

    def with_version(self, version: Version) -> ExtendedKey:
        return ExtendedKey(
            version,
            self.depth,
            self.parent_fingerprint,
            self.child_number,
            self.chain_code,
            self.key,
        )

    def serialize(self) -> str:
        """Base58Check of the 78-byte serialization."""
        version = self.version.private if self.is_private else self.version.public
        key = b"\x00" + self.key if self.is_private else self.key
        payload = (
            version
            + bytes([self.depth])
            + self.parent_fingerprint
            + self.child_number.to_bytes(4, "big")
            + self.chain_code
            + key
        )
        return str(base58.encode_check(payload))

    def __str__(self) -> str:
        return self.serialize()

    def __repr__(self) -> str:
        # Never print private material by accident.
        kind = "private" if self.is_private else "public"
        return f"<ExtendedKey {kind} depth={self.depth} fingerprint={self.fingerprint.hex()}>"


def master_key(seed: bytes, version: Version = XPUB) -> ExtendedKey:
    """Master key generation: I = HMAC-SHA512("Bitcoin seed", S)."""
    if not 16 <= len(seed) <= 64:
        raise DerivationError("A BIP-32 seed is 16 to 64 bytes long.")
    digest = hmac_sha512(MASTER_HMAC_KEY, seed)
    il, ir = digest[:32], digest[32:]
    if not secp256k1.is_valid_private_key(il):  # pragma: no cover - probability < 2^-127
        raise DerivationError("This seed gives an invalid master key; use another seed.")
    return ExtendedKey(version, 0, b"\x00" * 4, 0, ir, il)


def ckd_priv(parent: ExtendedKey, index: int) -> ExtendedKey:
    """Private parent key → private child key."""
    if not parent.is_private:
        raise DerivationError("A private child key needs a private parent key.")
    _check_index(index)
    if index >= HARDENED:
        data = b"\x00" + parent.key + index.to_bytes(4, "big")
    else:
        data = parent.public_key + index.to_bytes(4, "big")
    digest = hmac_sha512(parent.chain_code, data)
    child = secp256k1.private_add(parent.key, digest[:32])
    if child is None:  # pragma: no cover - probability < 2^-127
        raise DerivationError(f"Child {index} is an invalid key (BIP-32): use the next index.")
    return ExtendedKey(
        parent.version, _child_depth(parent), parent.fingerprint, index, digest[32:], child
    )


def ckd_pub(parent: ExtendedKey, index: int) -> ExtendedKey:
    """Public parent key → public child key (non-hardened children only)."""
    _check_index(index)
    if index >= HARDENED:
        raise DerivationError("A hardened child cannot be derived from a public key.")
    digest = hmac_sha512(parent.chain_code, parent.public_key + index.to_bytes(4, "big"))
    child = secp256k1.public_add(parent.public_key, digest[:32])
    if child is None:  # pragma: no cover - probability < 2^-127
        raise DerivationError(f"Child {index} is an invalid key (BIP-32): use the next index.")
    return ExtendedKey(
        parent.version, _child_depth(parent), parent.fingerprint, index, digest[32:], child
    )


def derive(key: ExtendedKey, path: str | list[int]) -> ExtendedKey:
    """Follow a path ("m/84'/0'/0'" or a list of indices) with CKDpriv or CKDpub."""
    indices = parse_path(path) if isinstance(path, str) else path
    for index in indices:
        key = ckd_priv(key, index) if key.is_private else ckd_pub(key, index)
    return key


def parse_path(path: str) -> list[int]:
    """ "m/44'/0'/0'/0/1" → indices; hardened as ', h or H. The leading "m" is optional."""
    parts = path.strip().split("/")
    if parts and parts[0] == "m":
        parts = parts[1:]
    out = []
    for part in parts:
        match = _PATH_RE.match(part)
        if not match or int(match.group(1)) >= HARDENED:
            raise DerivationError(f"Bad derivation path {path!r}: write it like m/84'/0'/0'/0/1.")
        out.append(int(match.group(1)) + (HARDENED if match.group(2) else 0))
    return out


def format_path(indices: list[int]) -> str:
    return "/".join(["m"] + [f"{i - HARDENED}'" if i >= HARDENED else str(i) for i in indices])


def parse(text: str) -> ExtendedKey:
    """Deserialize and validate an extended key, naming what is wrong when it is invalid."""
    try:
        payload = base58.decode_check(text.strip())
    except ValueError as exc:
        raise ExtendedKeyError(
            "The extended key's checksum does not match: check it for typos."
        ) from exc
    if len(payload) != 78:
        raise ExtendedKeyError(
            f"An extended key holds 78 bytes, this one {len(payload)}: is it complete?"
        )
    version_bytes, depth = payload[:4], payload[4]
    parent, child = payload[5:9], int.from_bytes(payload[9:13], "big")
    chain_code, key_data = payload[13:45], payload[45:]
    found = BY_BYTES.get(version_bytes)
    if found is None:
        raise ExtendedKeyError(
            f"Unknown extended key version {version_bytes.hex()}: "
            "seedguard reads xpub/ypub/zpub/tpub/upub/vpub and their private forms."
        )
    version, is_private = found
    if depth == 0 and parent != b"\x00" * 4:
        raise ExtendedKeyError("Invalid extended key: depth 0 with a non-zero parent fingerprint.")
    if depth == 0 and child != 0:
        raise ExtendedKeyError("Invalid extended key: depth 0 with a non-zero child index.")
    if is_private:
        if key_data[0] != 0:
            raise ExtendedKeyError(
                f"Invalid extended key: a private key version ({version.name[0]}prv) "
                f"with a key starting {key_data[0]:02x}, not 00."
            )
        if not secp256k1.is_valid_private_key(key_data[1:]):
            raise ExtendedKeyError("Invalid extended key: the private key is not in 1..n-1.")
        key = key_data[1:]
    else:
        if key_data[0] not in (2, 3):
            raise ExtendedKeyError(
                f"Invalid extended key: a public key version ({version.name}) with a key "
                f"starting {key_data[0]:02x}, not 02 or 03."
            )
        if not secp256k1.is_valid_public_key(key_data):
            raise ExtendedKeyError("Invalid extended key: the public key is not on the curve.")
        key = key_data
    return ExtendedKey(version, depth, parent, child, chain_code, key)


def _check_index(index: int) -> None:
    if not 0 <= index < 2**32:
        raise DerivationError(f"Child index {index} is outside 0 .. 2^32-1.")


def _child_depth(parent: ExtendedKey) -> int:
    if parent.depth == 255:
        raise DerivationError("BIP-32 keys go at most 255 levels deep.")
    return parent.depth + 1

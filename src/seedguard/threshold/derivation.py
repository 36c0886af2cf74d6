"""Fresh addresses from one threshold key: BIP-32 public derivation under a fixed chain code,
applied as BIP-445 plain tweaks, then BIP-341's key-path tweak (docs/mpc.md § Addresses).

A FROST threshold key has no chain code of its own. BIP-328 fixes one for MuSig2 aggregate
keys, SHA-256("MuSig2MuSig2MuSig2"); the same constant serves here, so the wallet's extended
public key is (threshold key, that chain code) at depth 0, and any BIP-32 software derives the
same children from it. The chain code is public: it adds no secret, and knowing the extended
key reveals only what a watch-only wallet needs (every address), never a share.

Child `c/i` (c = 0 receive, 1 change) is P_ci = P + (t_c + t_ci)·G, where t_c and t_ci are
CKDpub's IL values; signing for it runs in the tweak context (t_c plain, t_ci plain,
TapTweak(x(P_ci)) x-only), whose key is the BIP-341 output key of P_ci with no script tree,
as BIP-86 derives for a single key and `tr(xpub/c/i)` describes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from seedguard.errors import InputError
from seedguard.primitives import secp256k1
from seedguard.primitives.hashes import hmac_sha512, tagged_hash

CHAIN_CODE = hashlib.sha256(b"MuSig2MuSig2MuSig2").digest()  # BIP-328's synthetic chain code
RECEIVE, CHANGE = 0, 1
MAX_INDEX = 2**31 - 1  # unhardened only: there is no private key to harden with


@dataclass(frozen=True)
class Child:
    """One derived key: its path, the plain tweaks that reach it, its public key and the
    Taproot output key of its address."""

    path: tuple[int, ...]
    plain_tweaks: tuple[bytes, ...]
    public_key: bytes  # 33-byte compressed
    chain_code: bytes

    @property
    def internal_key(self) -> bytes:
        return self.public_key[1:]

    @property
    def taptweak(self) -> bytes:
        return tagged_hash("TapTweak", self.internal_key)

    @property
    def output_key(self) -> bytes:
        return secp256k1.xonly_tweak_add(self.internal_key, self.taptweak)

    @property
    def tweaks(self) -> tuple[bytes, ...]:
        """The session's tweaks, in order (BIP-445 `tweak1..v`)."""
        return (*self.plain_tweaks, self.taptweak)

    @property
    def is_xonly(self) -> tuple[bool, ...]:
        return (*(False for _ in self.plain_tweaks), True)


def child(thresh_pk: bytes, path: tuple[int, ...]) -> Child:
    """CKDpub along `path` from (thresh_pk, CHAIN_CODE), keeping each step's tweak."""
    key, chain_code, tweaks = thresh_pk, CHAIN_CODE, []
    for index in path:
        if not 0 <= index <= MAX_INDEX:
            raise InputError(f"Index {index} is out of range: 0 to {MAX_INDEX} (unhardened).")
        digest = hmac_sha512(chain_code, key + index.to_bytes(4, "big"))
        added = secp256k1.public_add(key, digest[:32])
        if added is None:  # pragma: no cover - probability < 2^-127
            raise InputError(f"Child {index} is an invalid key (BIP-32): use the next index.")
        key, chain_code = added, digest[32:]
        tweaks.append(digest[:32])
    return Child(tuple(path), tuple(tweaks), key, chain_code)

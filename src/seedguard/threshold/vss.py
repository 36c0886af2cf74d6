"""Feldman verifiable secret sharing as ChillDKG uses it (bip-frost-dkg `vss.py`).

A polynomial f of degree t-1 over the scalars; participant i (0-based) holds f(i+1). The
commitment is the list of coefficient points; it may hold the point at infinity so that no
participant can make the sum of valid commitments invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seedguard.primitives.hashes import tagged_hash
from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    Point,
    base_mul,
    cbytes_ext,
    point_add,
    point_from_cbytes_ext,
    point_mul,
    xbytes,
)
from seedguard.threshold.dkg_errors import DkgValueError

BIP_TAG = "BIP DKG/"


def tagged_hash_bip_dkg(tag: str, msg: bytes) -> bytes:
    return tagged_hash(BIP_TAG + tag, msg)


def scalar_from_bytes_checked(data: bytes) -> int:
    value = int.from_bytes(data, "big")
    if len(data) != 32 or value >= CURVE_ORDER:
        raise DkgValueError("scalar out of range")
    return value


def polynomial_eval(coeffs: Sequence[int], x: int) -> int:
    value = 0
    for coeff in reversed(coeffs):
        value = (value * x + coeff) % CURVE_ORDER
    return value


@dataclass(frozen=True)
class VSSCommitment:
    ges: tuple[Point, ...]

    @staticmethod
    def from_bytes(data: bytes, t: int) -> VSSCommitment:
        if len(data) != 33 * t:
            raise DkgValueError("VSS commitment of the wrong length")
        return VSSCommitment(
            tuple(point_from_cbytes_ext(data[i : i + 33]) for i in range(0, 33 * t, 33))
        )

    def to_bytes(self) -> bytes:
        return b"".join(cbytes_ext(ge) for ge in self.ges)

    @property
    def t(self) -> int:
        return len(self.ges)

    def pubshare(self, i: int) -> Point:
        """Σ_j (i+1)^j · ges[j]: the public share of participant i."""
        x = i + 1
        return point_add(*(point_mul(ge, pow(x, j, CURVE_ORDER)) for j, ge in enumerate(self.ges)))

    def commitment_to_secret(self) -> Point:
        return self.ges[0]

    def commitment_to_nonconst_terms(self) -> tuple[Point, ...]:
        return self.ges[1:]

    def __add__(self, other: VSSCommitment) -> VSSCommitment:
        assert self.t == other.t
        return VSSCommitment(
            tuple(point_add(a, b) for a, b in zip(self.ges, other.ges, strict=True))
        )

    def invalid_taproot_commit(self) -> tuple[VSSCommitment, int, Point]:
        """The commitment tweaked so its threshold key commits to an unspendable BIP-341
        script path (a TapTweak of the bare key): (tweaked commitment, tweak, tweak·G)."""
        pk = self.commitment_to_secret()
        if pk is None:
            raise DkgValueError("the commitment to the secret is the point at infinity")
        tweak = scalar_from_bytes_checked(tagged_hash("TapTweak", xbytes(pk)))
        pubtweak = base_mul(tweak)
        vss_tweak = VSSCommitment((pubtweak, *([None] * (self.t - 1))))
        return self + vss_tweak, tweak, pubtweak


def verify_secshare(secshare: int, pubshare: Point) -> bool:
    actual = base_mul(secshare)
    if actual is None or pubshare is None:
        return actual is pubshare
    return bytes(actual.format()) == bytes(pubshare.format())


@dataclass(frozen=True)
class VSS:
    coeffs: tuple[int, ...]

    @staticmethod
    def generate(seed: bytes, t: int) -> VSS:
        return VSS(
            tuple(
                scalar_from_bytes_checked(
                    tagged_hash_bip_dkg("vss coeffs", seed + i.to_bytes(4, "big"))
                )
                for i in range(t)
            )
        )

    def secshare_for(self, i: int) -> int:
        return polynomial_eval(self.coeffs, i + 1)

    def secshares(self, n: int) -> list[int]:
        return [self.secshare_for(i) for i in range(n)]

    def commit(self) -> VSSCommitment:
        return VSSCommitment(tuple(base_mul(c) for c in self.coeffs))

    def secret(self) -> int:
        return self.coeffs[0]

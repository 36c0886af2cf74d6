"""Proactive share refresh: fresh shares of the same key (ZcashFoundation/frost's `refresh`
module, the "refresh with a DKG" variant).

Every dealer draws a polynomial g of degree t-1 with g(0) = 0 and commits to its coefficients;
participant i adds Σ g_j(i+1) over the dealers to its share. The group key is unchanged (every
g(0) is zero), and a share from before the refresh no longer combines with one from after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from seedguard.errors import InputError
from seedguard.primitives.secp256k1 import (
    CURVE_ORDER,
    Point,
    base_mul,
    cbytes,
    point_add,
    point_from_cbytes,
    point_mul,
)

n = CURVE_ORDER


class RefreshError(InputError):
    """A refresh contribution does not match its commitment; `dealer` names its sender."""

    def __init__(self, dealer: str, message: str) -> None:
        super().__init__(message)
        self.dealer = dealer


@dataclass(frozen=True)
class ZeroPolynomial:
    """The coefficients a_1..a_{t-1} of g(x) = a_1·x + ... (g(0) = 0). Secret."""

    coeffs: tuple[int, ...]

    @staticmethod
    def generate(t: int) -> ZeroPolynomial:
        if t < 2:
            raise ValueError("a refresh needs a threshold of at least 2")
        return ZeroPolynomial(tuple(1 + secrets.randbelow(n - 1) for _ in range(t - 1)))

    def share_for(self, participant: int) -> int:
        x = participant + 1
        return sum(c * pow(x, k + 1, n) for k, c in enumerate(self.coeffs)) % n

    def commitment(self) -> tuple[bytes, ...]:
        points = [base_mul(c) for c in self.coeffs]
        return tuple(cbytes(p) for p in points if p is not None)


def commitment_at(commitment: Sequence[bytes], participant: int) -> Point:
    """g(participant + 1)·G from the commitment to g's coefficients."""
    x = participant + 1
    try:
        points = [point_from_cbytes(c) for c in commitment]
    except ValueError:
        raise RefreshError("?", "A refresh commitment is not a list of curve points.") from None
    return point_add(*(point_mul(p, pow(x, k + 1, n)) for k, p in enumerate(points)))


def verify_share(value: int, commitment: Sequence[bytes], participant: int, dealer: str) -> None:
    """Refuse a refresh share that does not match its dealer's commitment."""
    expected = commitment_at(commitment, participant)
    actual = base_mul(value)
    if actual is None or expected is None or cbytes(actual) != cbytes(expected):
        raise RefreshError(
            dealer, f"The refresh share from {dealer} does not match its commitment: aborted."
        )


def refreshed_pubshare(
    pubshare: bytes, commitments: Sequence[Sequence[bytes]], participant: int
) -> bytes:
    """A participant's public share after the refresh."""
    total = point_add(
        point_from_cbytes(pubshare), *(commitment_at(c, participant) for c in commitments)
    )
    if total is None:
        raise RefreshError("?", "A refresh would make a public share the point at infinity.")
    return cbytes(total)

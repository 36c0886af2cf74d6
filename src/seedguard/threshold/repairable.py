"""Repairable threshold scheme: re-create a lost share from `t` helpers' shares, none of which
is sent to anyone (the "Enrollment RTS" of Laing and Stinson, as in ZcashFoundation/frost's
`repairable` module: `repair_share_step_1/2/3`).

Identifiers are 0-based as in BIP-445 and ChillDKG: participant `i` holds f(i + 1).

1. Each helper i splits λ_i·s_i (λ_i interpolates the helpers' points at the target's) into
   one random-looking delta per helper, summing to it, and sends each helper its delta.
2. Each helper sums the deltas it received into one sigma, sent to the target.
3. The target sums the sigmas: f(target + 1).
A helper sees only uniformly random deltas of the other helpers, never a share.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from seedguard.errors import InputError
from seedguard.primitives.secp256k1 import CURVE_ORDER

n = CURVE_ORDER


def lagrange_at(helpers: Sequence[int], helper: int, target: int) -> int:
    """λ_helper for interpolating the helpers' points at the target's point (x = id + 1)."""
    if len(set(helpers)) != len(helpers) or helper not in helpers or target in helpers:
        raise InputError("A repair needs distinct helpers, including this one, and not the target.")
    x_t = target + 1
    num, den = 1, 1
    for other in helpers:
        if other != helper:
            num = num * (x_t - (other + 1)) % n
            den = den * ((helper + 1) - (other + 1)) % n
    return num * pow(den, -1, n) % n


def repair_share_step_1(
    helpers: Sequence[int], helper: int, share: int, target: int
) -> dict[int, int]:
    """Helper `helper`'s deltas, one per helper (its own included): random, summing to
    λ·share."""
    zeta = lagrange_at(helpers, helper, target) * share % n
    deltas = {h: secrets.randbelow(n) for h in helpers[:-1]}
    deltas[helpers[-1]] = (zeta - sum(deltas.values())) % n
    return deltas


def repair_share_step_2(deltas_received: Sequence[int]) -> int:
    """A helper's sigma: the sum of the deltas it received (one from every helper)."""
    return sum(deltas_received) % n


def repair_share_step_3(sigmas: Mapping[int, int] | Sequence[int]) -> int:
    """The target's repaired share: the sum of every helper's sigma."""
    values = sigmas.values() if isinstance(sigmas, Mapping) else sigmas
    return sum(values) % n

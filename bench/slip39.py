"""SLIP-39 split and combine against the reference, shamir-mnemonic, in the same run."""

from __future__ import annotations

import random

import shamir_mnemonic

from bench.common import Result, compare
from seedguard.mnemonic import slip39
from seedguard.mnemonic.slip39 import GroupSpec


def bench_slip39(rng: random.Random, quick: bool) -> list[Result]:
    secrets_ = [rng.randbytes(16) for _ in range(4)]
    groups = [GroupSpec(3, 5)]

    def ours_split() -> None:
        for secret in secrets_:
            slip39.split(secret, groups)

    def peer_split() -> None:
        for secret in secrets_:
            shamir_mnemonic.generate_mnemonics(1, [(3, 5)], secret, b"", True, 1)

    sets = [slip39.split(secret, groups)[0][:3] for secret in secrets_]
    assert [slip39.combine(s) for s in sets] == secrets_

    def ours_combine() -> None:
        for shares in sets:
            slip39.combine(shares)

    def peer_combine() -> None:
        for shares in sets:
            shamir_mnemonic.combine_mnemonics(shares, b"")

    loops, repeats = (2, 7) if quick else (10, 31)
    out = []
    for name, ours, peer, ours_name, peer_name in [
        (
            "SLIP-39 split (128-bit secret, 3-of-5, iteration exponent 1)",
            ours_split,
            peer_split,
            "`seedguard.mnemonic.slip39.split`",
            "shamir-mnemonic `generate_mnemonics`",
        ),
        (
            "SLIP-39 combine (3 shares, with every check)",
            ours_combine,
            peer_combine,
            "`seedguard.mnemonic.slip39.combine`",
            "shamir-mnemonic `combine_mnemonics`",
        ),
    ]:
        ours_s, peer_s = compare(ours, peer, loops=loops, repeats=repeats)
        n = len(secrets_)
        speedup = peer_s / ours_s
        out.append(
            Result(
                name,
                ours_name,
                peer_name,
                ours_s / n,
                peer_s / n,
                "≥ 1× (at least as fast)",
                speedup,
                speedup >= 1,
            )
        )
    return out

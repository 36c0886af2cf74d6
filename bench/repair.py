"""Seed repair: the batch PBKDF2 kernel against hashlib on one core, and whole searches on
every core against btcrecover's figures on a 2-core machine like this one (btcrecover is a
GPL script from a repository, not a package, so its published rates are the peer) and
against the limit: cores × the kernel's rate × the checksum ratio."""

from __future__ import annotations

import hashlib
import os
import time

from bench.common import Result, compare
from seedguard.hd import accounts, bip32
from seedguard.mnemonic import bip39
from seedguard.repair import grammar, passphrase, pbkdf2, runner, space, targets

BTCRECOVER_TWO_UNKNOWN = 23_000  # candidates/s: 12 words, two unknown, an address target
BTCRECOVER_ONE_MISSING = 72_000  # candidates/s: 24 words, one missing at an unknown position
BTCRECOVER_PASSPHRASES = 740  # BIP-39 passphrases/s against an xpub
NOBODY = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def _kernel_rate(quick: bool) -> tuple[float, float]:
    """Seconds per PBKDF2 (2048 rounds) for the batch kernel and for hashlib, one core."""
    pbkdf2.warm()
    phrases = [bip39.generate(12).encode() for _ in range(256)]
    salts = [b"mnemonic"] * len(phrases)

    def ours() -> None:
        pbkdf2.pbkdf2_sha512(phrases, salts)

    def peer() -> None:
        for p in phrases[:64]:
            hashlib.pbkdf2_hmac("sha512", p, b"mnemonic", 2048)

    ours_s, peer_s = compare(ours, peer, loops=1, repeats=3 if quick else 7)
    return ours_s / len(phrases), peer_s / 64


def _search_rate(search: runner.PhraseSearch, seconds: float) -> float:
    """Candidates per second of the real search on every core, from the middle of the space
    (no match there), for about `seconds`: the rate a long search holds, from the first
    chunk's result to the last (a short run would otherwise count the workers' start and the
    chunks in flight when it stops, which a search of minutes or hours does not feel)."""
    began = time.perf_counter()
    marks: list[tuple[float, int]] = []
    runner.run(
        search,
        start=search.count // 2,
        find_all=True,
        on_progress=lambda done, _survivors: marks.append((time.perf_counter(), done)),
        should_stop=lambda: time.perf_counter() - began > seconds,
    )
    (t0, first), (t1, last) = marks[0], marks[-1]
    return (last - first) / (t1 - t0)


def _two_unknown(target: targets.Targets) -> runner.PhraseSearch:
    words = bip39.generate(12).split()
    words[3] = words[8] = "?"
    slots, wl = grammar.parse(" ".join(words))
    return runner.PhraseSearch(space.build(slots, wl, space.Damage()), targets.Matcher(target))


def bench_repair(quick: bool) -> list[Result]:
    cores = os.cpu_count() or 1
    kernel_s, hashlib_s = _kernel_rate(quick)
    seconds = 6.0 if quick else 20.0
    results = [
        Result(
            "Batch PBKDF2-HMAC-SHA512 (2048 rounds, BIP-39 inputs), one core",
            "`seedguard.repair.pbkdf2.pbkdf2_sha512`, 256 candidates per call (numba, SIMD lanes)",
            "`hashlib.pbkdf2_hmac` (OpenSSL), one at a time",
            kernel_s,
            hashlib_s,
            "≥ 1.8× faster",
            hashlib_s / kernel_s,
            hashlib_s / kernel_s >= 1.8,
        )
    ]
    rate = _search_rate(_two_unknown(targets.build([NOBODY])), seconds)
    results.append(
        Result(
            f"Seed repair, 12 words with two unknown, an address target (10 receive + 10 "
            f"change tried), all {cores} cores",
            "`seedguard seed repair` (checksum first, batch PBKDF2, libsecp256k1)",
            f"btcrecover on 2 cores: {BTCRECOVER_TWO_UNKNOWN:,} candidates/s (published)",
            1 / rate,
            1 / BTCRECOVER_TWO_UNKNOWN,
            "≥ 1.5× btcrecover's rate",
            rate / BTCRECOVER_TWO_UNKNOWN,
            rate / BTCRECOVER_TWO_UNKNOWN >= 1.5,
        )
    )
    limit = cores / kernel_s * 16
    fp_rate = _search_rate(_two_unknown(targets.build(fingerprints=["01020304"])), seconds)
    results.append(
        Result(
            f"Seed repair, 12 words with two unknown, a fingerprint target, all {cores} cores",
            "`seedguard seed repair` (one multiplication per checksum survivor)",
            "the limit: cores × the batch PBKDF2 rate × 16 (the 12-word checksum ratio)",
            1 / fp_rate,
            1 / limit,
            "≥ 0.8× the limit",
            fp_rate / limit,
            fp_rate / limit >= 0.8,
        )
    )
    words = bip39.generate(24).split()
    del words[11]
    slots, wl = grammar.parse(" ".join(words))
    built = space.build(slots, wl, space.Damage(missing=1))
    search = runner.PhraseSearch(built, targets.Matcher(targets.build([NOBODY])))
    times = []
    for _ in range(3 if quick else 7):
        outcome = runner.run(search)
        assert outcome.complete
        assert not outcome.found
        times.append(outcome.seconds)
    times.sort()
    missing_rate = built.count / times[len(times) // 2]
    results.append(
        Result(
            f"Seed repair, 24 words with one missing at an unknown position, an address "
            f"target, the whole space ({built.count:,}), all {cores} cores",
            "`seedguard seed repair --missing 1`",
            f"btcrecover on 2 cores: {BTCRECOVER_ONE_MISSING:,} candidates/s (published)",
            1 / missing_rate,
            1 / BTCRECOVER_ONE_MISSING,
            "≥ 1.5× btcrecover's rate",
            missing_rate / BTCRECOVER_ONE_MISSING,
            missing_rate / BTCRECOVER_ONE_MISSING >= 1.5,
        )
    )
    secret_phrase = bip39.generate(12)
    master = bip32.master_key(bip39.to_seed(secret_phrase, "not in the space"))
    xpub = accounts.bitcoin_account(master, accounts.STANDARDS[2]).xpub
    guesses = passphrase.Space("{Correct|correct}{Horse|horse}%4d")  # 40,000, none right
    search = runner.PassphraseSearch(guesses, targets.Matcher(targets.build(accounts=[xpub])),
                                     secret_phrase)  # fmt: skip
    began = time.perf_counter()
    outcome = runner.run(
        search, find_all=True, should_stop=lambda: time.perf_counter() - began > seconds
    )
    pp_rate = outcome.checked / outcome.seconds
    results.append(
        Result(
            f"Passphrase repair against an account key (xpub), all {cores} cores",
            "`seedguard seed repair-passphrase --xpub`",
            f"btcrecover on 2 cores: {BTCRECOVER_PASSPHRASES} passphrases/s (published)",
            1 / pp_rate,
            1 / BTCRECOVER_PASSPHRASES,
            "≥ 1.5× btcrecover's rate",
            pp_rate / BTCRECOVER_PASSPHRASES,
            pp_rate / BTCRECOVER_PASSPHRASES >= 1.5,
        )
    )
    return results

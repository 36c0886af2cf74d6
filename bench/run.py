"""`make bench`: seedguard against its peers and limits, measured in one run.

Each benchmark times seedguard and its reference on the same inputs, interleaved, and reports
the ratio of the medians; docs/benchmarks.md is rewritten with the machine and the date.
Exit status 1 when a ratio misses its target.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import random
import sys
from pathlib import Path

from bip_utils import (
    Bip44,
    Bip44Changes,
    Bip44Coins,
    Bip49,
    Bip49Coins,
    Bip84,
    Bip84Coins,
    Bip86,
    Bip86Coins,
)
from mnemonic import Mnemonic

from bench.backup import attack_cost, bench_guess_cost, bench_status, bench_verify
from bench.common import Result, compare
from bench.mpc import bench_mpc_server, bench_signing, mpc_results, mpc_table
from bench.repair import bench_repair
from bench.server import BARE_OPRF, Load, bench_server
from bench.slip39 import bench_slip39
from bench.startup import bench_startup
from seedguard.hd import bip32
from seedguard.hd.accounts import STANDARDS, bitcoin_account, ethereum_account
from seedguard.mnemonic import bip39


def bench_check(rng: random.Random, quick: bool) -> Result:
    phrases = [bip39.entropy_to_mnemonic(rng.randbytes(rng.choice([16, 32]))) for _ in range(200)]
    reference = Mnemonic("english")
    assert all(bip39.check(p).valid and reference.check(p) for p in phrases)

    def ours() -> None:
        for p in phrases:
            bip39.check(p)

    def peer() -> None:
        for p in phrases:
            reference.check(p)

    ours_s, peer_s = compare(ours, peer, loops=2 if quick else 10, repeats=5 if quick else 15)
    n = len(phrases)
    speedup = peer_s / ours_s
    return Result(
        "Phrase check (valid 12/24-word English phrases)",
        "`seedguard.mnemonic.bip39.check` (detects the language)",
        "python-mnemonic `Mnemonic('english').check`",
        ours_s / n,
        peer_s / n,
        "≥ 5× faster",
        speedup,
        speedup >= 5,
    )


REFERENCE = [
    (Bip44, Bip44Coins.BITCOIN),
    (Bip49, Bip49Coins.BITCOIN),
    (Bip84, Bip84Coins.BITCOIN),
    (Bip86, Bip86Coins.BITCOIN),
    (Bip44, Bip44Coins.ETHEREUM),
]


def bench_addresses(rng: random.Random, quick: bool) -> Result:
    seeds = [rng.randbytes(64) for _ in range(4)]
    count = 20

    def ours() -> None:
        for seed in seeds:
            master = bip32.master_key(seed)
            for standard in STANDARDS:
                bitcoin_account(master, standard, count=count, change=False)
            ethereum_account(master, count=count)

    def peer() -> None:
        for seed in seeds:
            for cls, coin in REFERENCE:
                chain = cls.FromSeed(seed, coin).Purpose().Coin().Account(0)
                chain = chain.Change(Bip44Changes.CHAIN_EXT)
                [chain.AddressIndex(i).PublicKey().ToAddress() for i in range(count)]

    ours_s, peer_s = compare(ours, peer, loops=1 if quick else 3, repeats=5 if quick else 11)
    n = len(seeds)
    speedup = peer_s / ours_s
    return Result(
        "Seed → 20 receive addresses on each of BIP-44/49/84/86 and Ethereum",
        "`seedguard.hd.accounts` (libsecp256k1 via coincurve)",
        "bip-utils `Bip44/49/84/86.FromSeed(...)...ToAddress()`",
        ours_s / n,
        peer_s / n,
        "≥ 1× (at least as fast)",
        speedup,
        speedup >= 1,
    )


def bench_seed(rng: random.Random, quick: bool) -> Result:
    phrase = bip39.entropy_to_mnemonic(rng.randbytes(32))
    passphrase = "correct horse battery staple"
    # The limit: one bare PBKDF2 call on bytes already prepared.
    password, salt = phrase.encode(), b"mnemonic" + passphrase.encode()
    assert bip39.to_seed(phrase, passphrase) == hashlib.pbkdf2_hmac("sha512", password, salt, 2048)

    def ours() -> None:
        bip39.to_seed(phrase, passphrase)

    def limit() -> None:
        hashlib.pbkdf2_hmac("sha512", password, salt, 2048)

    ours_s, peer_s = compare(ours, limit, loops=20 if quick else 100, repeats=7 if quick else 21)
    ratio = ours_s / peer_s
    return Result(
        "Seed derivation (PBKDF2-HMAC-SHA512, 2048 rounds, NFKD inputs)",
        "`seedguard.mnemonic.bip39.to_seed`",
        "bare `hashlib.pbkdf2_hmac` (the limit)",
        ours_s,
        peer_s,
        "≤ 1.05× the limit",
        ratio,
        ratio <= 1.05,
    )


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def server_results(loads: dict[str, list[Load]]) -> list[Result]:
    out = []
    targets = {"sqlite": 0.8, "postgresql": 0.5}
    for kind, rows in loads.items():
        bare = next(r for r in rows if r.endpoint == BARE_OPRF)
        oprf = rows[-1]
        ratio = oprf.rps / bare.rps
        target = targets[kind]
        out.append(
            Result(
                f"Server throughput: OPRF evaluation vs a bare endpoint doing the same "
                f"multiplication ({BACKENDS[kind]})",
                "`POST /v1/oprf/evaluate` (token check, counted attempt, scalar multiplication)",
                "`POST /v1/bench/oprf` on the same stack: the same body and multiplication, no "
                "token, no database (FastAPI on uvicorn, one process)",
                1 / oprf.rps,
                1 / bare.rps,
                f"≥ {target}× the bare endpoint's requests per second",
                ratio,
                ratio >= target,
            )
        )
    return out


def server_table(loads: dict[str, list[Load]]) -> list[str]:
    lines = [
        "## Server load on loopback",
        "",
        "bench/server.py: one server process (`seedguard server run`, rate limits off), 16",
        "keep-alive connections from a load generator in another process on the same machine,",
        "each endpoint measured in interleaved rounds (median rate; p99 is the worst round's).",
        "The PostgreSQL cluster is a local one started for the run (fsync off, as in the tests).",
        "",
        "| database | endpoint | requests/s | p50 | p99 | vs bare | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, rows in loads.items():
        bare = rows[0]
        for row in rows:
            lines.append(
                f"| {BACKENDS[kind]} | {row.endpoint} | {row.rps:,.0f} | {row.p50_ms:.1f} ms | "
                f"{row.p99_ms:.1f} ms | {row.rps / bare.rps:.2f}× | {row.errors} |"
            )
    lines += [
        "",
        "The yardstick for the OPRF route is `POST /v1/bench/oprf` (served only with the hidden",
        "`server run --bench-endpoint`): the same body, base64url decoding and ristretto255",
        "multiplication, with no token, no counted attempt and no database, so the ratio is",
        "seedguard's own overhead. A profile on SQLite put it in: the pool checkout and return",
        "around each statement (now one kept connection per thread), the token check and the",
        "counted attempt (now one statement once a token was seen, the session re-checked in",
        "it), the element checked twice (now once), the access line (now formatted without a",
        "LogRecord), and FastAPI's dependency resolution for the body, the bearer token and",
        "the Request parameter, the largest part: a well-formed evaluation now skips it (the",
        "declared route still answers everything else; tests/server/test_hot_route.py checks",
        "both answer alike). Both routes are matched first. On PostgreSQL",
        "the counting statement now runs on the event loop (psycopg's async connection) instead",
        "of a worker thread for the synchronous driver; on this 2-core machine the server, the",
        "load generator and PostgreSQL share both cores.",
        "The guess limit needs one counted write per evaluation; throughput grows with server",
        "processes, which share nothing but the database.",
    ]
    return [*lines, ""]


def report(results: list[Result], extra: list[str]) -> str:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Each row times seedguard",
        "and its peer or limit on the same inputs in one run, interleaved, and gives the ratio",
        "of the medians. Timed assertions never appear in the tests; these ratios are the",
        "performance claims.",
        "",
        f"- Date: {today}",
        f"- Machine: {_cpu()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        "",
        "| benchmark | seedguard | peer or limit | seedguard time | peer time | ratio | target | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        shown = f"{r.ratio:.2f}×"
        lines.append(
            f"| {r.name} | {r.ours} | {r.peer} | {_fmt(r.ours_s)} | {_fmt(r.peer_s)} | "
            f"{shown} | {r.target} | {'✓' if r.passed else '✗'} |"
        )
    lines += [
        "",
        "Ratios: for the first two and SLIP-39, the peer's time over seedguard's (higher is",
        "faster; SLIP-39's time is mostly the spec's PBKDF2 rounds, the same in both); for",
        "seed derivation and verify, seedguard's time over the bare KDF call (1.00× is the",
        "limit); for the guess cost, Argon2id's time over PBKDF2's (higher costs an attacker",
        "more); for status, the 10-location time over the 1-location time. Times are per",
        "phrase, per seed (all five accounts), per derivation, per guess and per command.",
        "`backup status` is timed as a user runs it (a new process each time); no KDF runs.",
        "Server rows give seconds per request (the inverse of the rate) and the ratio of rates.",
        "MPC rows: FROST signing's time over its minimum and over one BIP-340 signature's; the",
        "session p50 over 20 ms; signatures per second over 200 (higher is better).",
        "Seed repair rows give seconds per candidate and the ratio of rates: searches hold",
        "their rate from the first chunk's result to the last, in the middle of the space.",
        "The CUDA kernel of issue 17 is not measured: no CUDA device was lent to this project",
        "(the device tool's status: not drawn); CI needs none.",
        "",
        *extra,
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, help="Markdown file to rewrite.")
    parser.add_argument("--quick", action="store_true", help="Fewer rounds (a smoke run).")
    args = parser.parse_args()
    rng = random.Random(20261124)
    results = [
        bench_check(rng, args.quick),
        bench_addresses(rng, args.quick),
        bench_seed(rng, args.quick),
    ]
    results += bench_slip39(rng, args.quick)
    results += bench_repair(args.quick)
    guess, guess_s = bench_guess_cost(args.quick)
    results += [
        guess,
        bench_verify(args.quick),
        bench_status("folder", args.quick),
        bench_status("s3", args.quick),
    ]
    loads = {kind: bench_server(kind, args.quick) for kind in BACKENDS}
    results += server_results(loads)
    results += bench_signing(args.quick)
    mpc_runs = [bench_mpc_server(kind, args.quick) for kind in BACKENDS]
    results += mpc_results(mpc_runs)
    startup, startup_table = bench_startup(args.quick)
    results += startup
    text = report(
        results,
        [*server_table(loads), *mpc_table(mpc_runs), *startup_table, *attack_cost(guess_s)],
    )
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

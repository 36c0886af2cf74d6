"""`seedguard seed repair`: find the wallet behind a damaged phrase (docs/repair.md)."""

from __future__ import annotations

import hashlib
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from seedguard import wallet
from seedguard.cli import render
from seedguard.cli.render import emit_json, err, out
from seedguard.cli.secrets_input import SecretInput
from seedguard.errors import InputError, UsageError

if TYPE_CHECKING:  # loaded when a repair runs: `seed check` starts without them
    from seedguard.repair import runner, space, targets

DAMAGED_PROMPT = "Damaged phrase, ? for an unknown word (hidden): "
LIST_CAP = 1000

# The targets, the same for a phrase and a passphrase search.
AddressOpt = Annotated[
    list[str] | None, typer.Option("--address", help="An address of the wallet (repeatable).")
]
AddressLimitOpt = Annotated[
    int, typer.Option("--address-limit", help="Receive and change addresses tried per type.")
]
AccountKeyOpt = Annotated[
    list[str] | None,
    typer.Option("--xpub", "--ypub", "--zpub", help="An account key of the wallet."),
]
FingerprintOpt = Annotated[
    list[str] | None, typer.Option("--fingerprint", help="The wallet's fingerprint (hex).")
]
RegisteredOpt = Annotated[
    bool, typer.Option("--registered", help="Every fingerprint the backup registry knows.")
]


def _targets(
    address: list[str] | None,
    xpub: list[str] | None,
    fingerprint: list[str] | None,
    registered: bool,
    address_limit: int,
) -> targets.Targets:
    from seedguard.repair import targets

    if not 1 <= address_limit <= 1000:
        raise UsageError(f"--address-limit must be 1 to 1000, not {address_limit}.")
    found = targets.build(address or [], xpub or [], fingerprint or [], address_limit)
    if registered:
        found.fingerprints.extend(targets.registered_fingerprints())
    return found


def _describe_damage(d: space.Damage) -> str:
    return repr(sorted(vars(d).items()))


def seed_repair(
    length: Annotated[
        int | None, typer.Option("--length", help="The phrase's real length.")
    ] = None,
    missing: Annotated[
        int, typer.Option("--missing", help="Words left out, at unknown positions.")
    ] = 0,
    extra: Annotated[int, typer.Option("--extra", help="Words written twice or by mistake.")] = 0,
    swaps: Annotated[int, typer.Option("--swaps", help="At most N pairs of words exchanged.")] = 0,
    adjacent_swaps: Annotated[
        int, typer.Option("--adjacent-swaps", help="At most N neighbouring pairs exchanged.")
    ] = 0,
    unscramble: Annotated[
        bool, typer.Option("--unscramble", help="Every word known, their order not (12 words).")
    ] = False,
    typos: Annotated[
        int, typer.Option("--typos", help="At most N words miswritten as a close word.")
    ] = 0,
    big_typos: Annotated[
        int, typer.Option("--big-typos", help="At most N words that may be any word.")
    ] = 0,
    address: AddressOpt = None,
    address_limit: AddressLimitOpt = 10,
    xpub: AccountKeyOpt = None,
    fingerprint: FingerprintOpt = None,
    registered: RegisteredOpt = False,
    passphrase: Annotated[
        bool, typer.Option("--passphrase", help="The wallet has a passphrase (stdin: line 2).")
    ] = False,
    language: Annotated[
        str | None, typer.Option("--language", help="Wordlist (default: detected).")
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="No target: list the checksum-valid candidates.")
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Processes (default: all cores).")
    ] = None,
    estimate: Annotated[bool, typer.Option("--estimate", help="Only estimate the work.")] = False,
    max_time: Annotated[
        str, typer.Option("--max-time", help="Ask (or, with --json, refuse) beyond this: 1h, 30m.")
    ] = "1h",
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint.")] = False,
    find_all: Annotated[
        bool, typer.Option("--all", help="Keep going after the first match.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Find the wallet behind a damaged phrase: unknown, miswritten, missing, extra or
    exchanged words, recognised by an address, an account key or the fingerprint.

    The damaged phrase comes from a hidden prompt or stdin, one token per word: a word, ?
    for an unknown one, ab* for a word known by its first letters, {one|two} for one of a
    few. Exit 0 when found, 1 when the space was exhausted without a match.
    """
    from seedguard.repair import grammar, runner, space, targets

    for name, value in (("missing", missing), ("extra", extra), ("swaps", swaps),
                        ("adjacent-swaps", adjacent_swaps), ("typos", typos),
                        ("big-typos", big_typos)):  # fmt: skip
        if not 0 <= value <= 24:
            raise UsageError(f"--{name} must be 0 to 24, not {value}.")
    if jobs is not None and not 1 <= jobs <= 1024:
        raise UsageError(f"--jobs must be 1 to 1024, not {jobs}.")
    limit_seconds = render.parse_duration(max_time)
    found_targets = _targets(address, xpub, fingerprint, registered, address_limit)
    if not found_targets and not list_only and not estimate:
        raise UsageError(
            "Give a target (--address, --xpub, --fingerprint or --registered), or --list: "
            "without one a repair cannot tell which candidate is your wallet."
        )
    inp = SecretInput()
    damaged = inp.read("damaged phrase", DAMAGED_PROMPT)
    secret = inp.read("passphrase", "Passphrase (hidden): ") if passphrase else ""
    slots, wl = grammar.parse(damaged, language.lower() if language else None)
    damage = space.Damage(
        length, missing, extra, swaps, adjacent_swaps, unscramble, typos, big_typos
    )
    with render.progress("Laying out the candidates"):
        built = space.build(slots, wl, damage)
    matcher = targets.Matcher(found_targets) if found_targets else None
    search = runner.PhraseSearch(built, matcher, secret)
    search_id = runner.describe(
        "seed", damaged, secret, _describe_damage(damage), found_targets.describe(),
        str(address_limit), wl.language,
    )  # fmt: skip
    if list_only and not found_targets:
        _list(search, json_out)
        return
    seconds_needed, rate = _estimate(search, jobs)
    if estimate:
        body = {"candidates": built.count, "survivors": built.survivors, "rate": rate,
                "seconds": seconds_needed}  # fmt: skip
        if json_out:
            emit_json(body)
        else:
            _show_estimate(body)
        return
    _confirm_time(seconds_needed, limit_seconds, built.count, rate, max_time, json_out)
    path = runner.checkpoint_path("seed")
    start = runner.load_checkpoint(path, search_id, built.count) if resume else 0
    outcome = _run(search, start, jobs, find_all, path, search_id, built.count)
    _finish(search, outcome, built.count, json_out, path)


def _estimate(
    search: runner.Search, jobs: int | None, smallest: int = 2_000
) -> tuple[float, float]:
    """(seconds for the whole space, candidates per second), measured for about a second;
    (0, 0) for a space (of fewer than `smallest` to derive) too small to be worth measuring."""
    from seedguard import extras
    from seedguard.repair import runner

    if isinstance(search, runner.PhraseSearch | runner.PassphraseSearch) and not (
        extras.installed("repair")
    ):
        err.print(
            "Seed repair runs on hashlib here, about a sixth of its speed: "
            "pip install 'seedguard[repair]' for its batch kernels.",
            markup=False,
            soft_wrap=True,
        )
    if search.space.survivors < smallest:  # type: ignore[attr-defined]
        return 0.0, 0.0
    with render.progress("Measuring the speed of this machine (a second)"):
        rate = runner.measure_rate(search, jobs, 1.0)
    return (search.count / rate if rate else float("inf")), rate


def _show_estimate(body: dict[str, Any]) -> None:
    out.print(f"Candidates: {body['candidates']:,}")
    out.print(f"Pass the checksum (derived): about {body['survivors']:,}")
    if body["rate"]:
        out.print(f"Rate on this machine: {body['rate']:,.0f} candidates/s")
        out.print(f"Time for the whole space: up to {render.duration(body['seconds'])}")
    else:
        out.print("Time: a few seconds (too small to measure)")


def _run(
    search: runner.Search,
    start: int,
    jobs: int | None,
    find_all: bool,
    path: Any,
    search_id: str,
    count: int,
) -> runner.Outcome:
    from seedguard.repair import runner

    def save(index: int) -> None:
        runner.save_checkpoint(path, search_id, index, count)

    if not err.is_terminal:
        return runner.run(search, start, jobs, find_all, on_checkpoint=save)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("Searching"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("search", total=count, completed=start, rate="")
        import time

        began = time.perf_counter()

        def progress(index: int, survivors: int) -> None:
            elapsed = max(time.perf_counter() - began, 1e-6)
            bar.update(task, completed=index, rate=f"{(index - start) / elapsed:,.0f}/s")

        return runner.run(search, start, jobs, find_all, on_progress=progress, on_checkpoint=save)


def _settle(outcome: runner.Outcome, count: int, path: Any) -> None:
    """Stopped: say where the checkpoint is (exit 1). Done or found: the checkpoint goes."""
    if outcome.interrupted:
        err.print(
            f"Stopped after {outcome.next_index:,} of {count:,} candidates; the checkpoint "
            f"is in {path} (no secret in it): run the same command with --resume."
        )
        raise typer.Exit(1)
    if outcome.complete or outcome.found:
        path.unlink(missing_ok=True)


def _finish(
    search: runner.PhraseSearch | runner.PassphraseSearch,
    outcome: runner.Outcome,
    count: int,
    json_out: bool,
    path: Any,
    key: str = "mnemonic",
) -> None:
    from seedguard.repair import runner

    _settle(outcome, count, path)
    first = outcome.found[0] if outcome.found else None
    revealed = search.reveal(first.candidate) if first else None
    proof = None
    if revealed is not None:
        if isinstance(search, runner.PassphraseSearch):
            proof = wallet.prove(search.mnemonic, revealed, count=3)
        else:
            proof = wallet.prove(revealed, search.passphrase, count=3)
    if json_out:
        emit_json(
            {
                "found": first is not None,
                key: revealed,
                "fingerprint": proof.fingerprint if proof else None,
                "derivation": first.match.derivation if first and first.match else None,
                "candidates": count,
                "checked": outcome.checked,
                "seconds": round(outcome.seconds, 3),
                **({"all": [search.reveal(f.candidate) for f in outcome.found]}
                   if len(outcome.found) > 1 else {}),
            }
        )  # fmt: skip
    elif first is not None and proof is not None and revealed is not None:
        where = first.match.derivation if first.match else ""
        took = render.duration(outcome.seconds)
        out.print(
            f"[bold green]Found[/] after {outcome.checked:,} candidates ({took}), at {where}:"
        )
        if key == "mnemonic":
            out.print(render.words_table(revealed.split()))
        else:
            out.print(f"The passphrase: [bold]{escape(revealed)}[/]")
        render.show_proof(proof)
        for other in outcome.found[1:]:
            out.print("Also matching: " + escape(search.reveal(other.candidate)))
    else:
        out.print(
            f"Not found: all {count:,} candidates were tried ({render.duration(outcome.seconds)}). "
            "Widen the search (--typos, wildcards, ?), or check the target."
        )
    if first is None:
        raise typer.Exit(1)


def seed_repair_passphrase(
    typos: Annotated[
        int, typer.Option("--typos", help="At most N typos on each remembered candidate (0-2).")
    ] = 0,
    address: AddressOpt = None,
    address_limit: AddressLimitOpt = 10,
    xpub: AccountKeyOpt = None,
    fingerprint: FingerprintOpt = None,
    registered: RegisteredOpt = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Processes (default: all cores).")
    ] = None,
    estimate: Annotated[bool, typer.Option("--estimate", help="Only estimate the work.")] = False,
    max_time: Annotated[
        str, typer.Option("--max-time", help="Ask (or, with --json, refuse) beyond this: 1h, 30m.")
    ] = "1h",
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Find a half-remembered BIP-39 passphrase of a known phrase.

    Line 1 (or the first prompt): the phrase; line 2: what you remember of the passphrase,
    as a pattern: {Correct|correct} alternatives, %d %a %A %s wildcards (%1,3d: one to three
    digits). --typos adds case changes, a character deleted, inserted, replaced by a
    neighbouring key, two exchanged, a repeated key, caps lock.
    """
    from seedguard.mnemonic import bip39
    from seedguard.repair import passphrase as patterns
    from seedguard.repair import runner, targets

    if jobs is not None and not 1 <= jobs <= 1024:
        raise UsageError(f"--jobs must be 1 to 1024, not {jobs}.")
    limit_seconds = render.parse_duration(max_time)
    found_targets = _targets(address, xpub, fingerprint, registered, address_limit)
    if not found_targets and not estimate:
        raise UsageError(
            "Give a target (--address, --xpub, --fingerprint or --registered): without one "
            "a repair cannot tell which passphrase opens your wallet."
        )
    inp = SecretInput()
    phrase = bip39.validate(inp.read("recovery phrase", "Recovery phrase (hidden): ")).mnemonic
    pattern = inp.read("passphrase pattern", "What you remember of the passphrase (hidden): ")
    built = patterns.Space(pattern, typos)
    search = runner.PassphraseSearch(built, targets.Matcher(found_targets), phrase)
    search_id = runner.describe(
        "passphrase", phrase, pattern, str(typos), found_targets.describe(), str(address_limit)
    )
    seconds_needed, rate = _estimate(search, jobs)
    if estimate:
        body = {"candidates": built.count, "survivors": built.count, "rate": rate,
                "seconds": seconds_needed}  # fmt: skip
        if json_out:
            emit_json(body)
        else:
            _show_estimate(body)
        return
    _confirm_time(seconds_needed, limit_seconds, built.count, rate, max_time, json_out)
    path = runner.checkpoint_path("passphrase")
    start = runner.load_checkpoint(path, search_id, built.count) if resume else 0
    outcome = _run(search, start, jobs, False, path, search_id, built.count)
    _finish(search, outcome, built.count, json_out, path, key="passphrase")


def _confirm_time(
    seconds_needed: float, limit: float, count: int, rate: float, max_time: str, json_out: bool
) -> None:
    if seconds_needed <= limit:
        return
    text = (
        f"This search may take {render.duration(seconds_needed)} ({count:,} "
        f"candidates at {rate:,.0f}/s), more than --max-time {max_time}"
    )
    if json_out or not (sys.stdin.isatty() and err.is_terminal):
        raise InputError(text + ": raise --max-time, or narrow the search.")
    if not typer.confirm(text + ". Go on?", default=False, err=True):
        raise typer.Exit(1)


def _list(search: runner.PhraseSearch, json_out: bool) -> None:
    from seedguard.repair import runner

    outcome = runner.run(search, 0, 1, True, list_limit=LIST_CAP)
    phrases = [search.reveal(c) for c in outcome.listed]
    if json_out:
        emit_json({"candidates": search.count, "valid": outcome.survivors, "listed": phrases})
        return
    err.print(
        f"{outcome.survivors:,} of {search.count:,} candidates pass the checksum; without a "
        "target a repair cannot tell which is your wallet: check each (seed addresses)."
    )
    for phrase in phrases:
        out.print(phrase)
    if outcome.survivors > len(phrases):
        err.print(f"… {outcome.survivors - len(phrases):,} more: give a target to search them.")


IdOpt = Annotated[
    str | None,
    typer.Option("--id", metavar="ID", help="The backup id (a unique prefix will do)."),
]


def backup_repair_password(
    location: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="LOCATION",
            help="Where the backup is: a folder, s3://, webdav+https://, or one backup file.",
        ),
    ],
    backup_id: IdOpt = None,
    typos: Annotated[
        int, typer.Option("--typos", help="At most N typos on each remembered candidate (0-2).")
    ] = 0,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", help="Processes (default: cores / the backup's Argon2id lanes)."),
    ] = None,
    estimate: Annotated[bool, typer.Option("--estimate", help="Only estimate the work.")] = False,
    max_time: Annotated[
        str, typer.Option("--max-time", help="Ask (or, with --json, refuse) beyond this: 1h, 30m.")
    ] = "1h",
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Find a half-remembered password of an offline backup.

    Line 1 of stdin (or the hidden prompt): what you remember of the password, as a pattern:
    {Correct|correct} alternatives, %d %a %A %s wildcards (%1,3d: one to three digits);
    --typos adds case changes, a character deleted, inserted, replaced by a neighbouring key,
    two exchanged, a repeated key, caps lock. Every guess costs one Argon2id run (about a
    second with the default settings): a search of typos, not of every password. A
    server-hardened backup is refused: each guess would spend one of its limited attempts.
    Exit 0 when found, 1 when no candidate opens the backup.
    """
    from seedguard.backup import Backups
    from seedguard.envelope import Password, open_envelope
    from seedguard.repair import passphrase as patterns
    from seedguard.repair import password as passwords
    from seedguard.repair import runner

    if jobs is not None and not 1 <= jobs <= 1024:
        raise UsageError(f"--jobs must be 1 to 1024, not {jobs}.")
    limit_seconds = render.parse_duration(max_time)
    with render.progress("Reading the backup"):
        found = Backups().find(location, backup_id)
    header = found.header
    passwords.check_offline(header)  # refused before the user types anything
    inp = SecretInput()
    pattern = inp.read("password pattern", "What you remember of the password (hidden): ")
    built = patterns.Space(pattern, typos)
    search = passwords.PasswordSearch(built, header)
    jobs = jobs or passwords.default_jobs(header)
    search_id = runner.describe(
        "password", header.backup_id, hashlib.sha256(found.data).hexdigest(), pattern, str(typos)
    )
    seconds_needed, rate = _estimate(search, jobs, smallest=0)
    if estimate:
        body = {"candidates": built.count, "survivors": built.count, "rate": rate,
                "seconds": seconds_needed}  # fmt: skip
        if json_out:
            emit_json(body)
        else:
            _show_estimate(body)
        return
    _confirm_time(seconds_needed, limit_seconds, built.count, rate, max_time, json_out)
    path = runner.checkpoint_path("password")
    start = runner.load_checkpoint(path, search_id, built.count) if resume else 0
    outcome = _run(search, start, jobs, False, path, search_id, built.count)
    _settle(outcome, built.count, path)
    first = outcome.found[0] if outcome.found else None
    revealed = first.candidate if first else None
    fingerprint = None
    if revealed is not None:  # the payload checked too, not only the slot
        opened = open_envelope(found.data, Password(revealed))
        fingerprint = getattr(opened.payload, "fingerprint", None)
    if json_out:
        emit_json(
            {
                "found": revealed is not None,
                "password": revealed,
                "backup_id": header.backup_id,
                "fingerprint": fingerprint,
                "candidates": built.count,
                "checked": outcome.checked,
                "seconds": round(outcome.seconds, 3),
            }
        )
    elif revealed is not None:
        took = render.duration(outcome.seconds)
        out.print(f"[bold green]Found[/] after {outcome.checked:,} candidates ({took}).")
        out.print(f"The password of backup {render.short_id(header.backup_id)}: "
                  f"[bold]{escape(revealed)}[/]")  # fmt: skip
        held = f"; it holds wallet [cyan]{fingerprint}[/]" if fingerprint else ""
        out.print(f"It opens the backup and its content is intact{held}.")
        out.print(
            "Write it down now, or change it to one you will remember "
            "(seedguard backup change-password)."
        )
    else:
        out.print(
            f"Not found: none of the {built.count:,} candidates opens the backup "
            f"({render.duration(outcome.seconds)}). Widen the pattern or --typos."
        )
    if revealed is None:
        raise typer.Exit(1)

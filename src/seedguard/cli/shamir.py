"""`seedguard shamir split|combine`: SLIP-39 shares (docs/social.md).

Two modes, named wherever shares are shown. `bip39` splits the entropy of an existing BIP-39
phrase: combining gives back the same phrase and wallet. `slip39` makes a native SLIP-39
wallet (as Trezor does): the master secret is the BIP-32 seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from seedguard.cli import render
from seedguard.cli.render import emit_json, err, out
from seedguard.cli.secrets_input import SecretInput
from seedguard.errors import DiskError, InputError, SeedguardError, UsageError
from seedguard.fs import write_private_file
from seedguard.mnemonic import slip39
from seedguard.mnemonic.slip39 import GroupSpec
from seedguard.social import shares as shares_mod
from seedguard.social.shares import Mode

app = typer.Typer(
    help="Split a secret into SLIP-39 shares, and combine them.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ModeOpt = Annotated[
    str,
    typer.Option(
        "--mode",
        help="bip39: shares of an existing BIP-39 phrase's entropy (the same wallet back). "
        "slip39: a new native SLIP-39 wallet, as hardware wallets make them.",
    ),
]

BIP39_WARNING = (
    "BIP-39 MODE: these shares hold the entropy of your BIP-39 phrase. Combining them (with "
    "seedguard or any SLIP-39 tool) gives back that phrase and that wallet. A hardware wallet "
    "that restores them as a native SLIP-39 backup would open a DIFFERENT wallet: restore the "
    "phrase instead."
)
SLIP39_NOTE = (
    "SLIP-39 MODE: a native SLIP-39 wallet. Restore it on a device that supports SLIP-39 "
    "(Trezor, and others), with the same passphrase."
)


def parse_mode(value: str) -> Mode:
    if value not in ("bip39", "slip39"):
        raise UsageError(f"--mode is bip39 or slip39, not {value!r}.")
    return value  # type: ignore[return-value]


def _scheme(
    threshold: int | None, shares: int | None, groups: list[str], group_threshold: int | None
) -> tuple[int, list[GroupSpec]]:
    if groups:
        if threshold is not None or shares is not None:
            raise UsageError("Give either --threshold/--shares (one group) or --group, not both.")
        return group_threshold or 1, [GroupSpec.parse(g) for g in groups]
    if threshold is None or shares is None:
        raise UsageError("Give --threshold T --shares N, or one --group T/N per group.")
    if group_threshold not in (None, 1):
        raise UsageError("--group-threshold needs --group options.")
    return 1, [GroupSpec(threshold, shares)]


@app.command("split")
def split(
    threshold: Annotated[
        int | None, typer.Option("--threshold", help="Shares needed to recover (one group).")
    ] = None,
    shares: Annotated[int | None, typer.Option("--shares", help="Shares to make.")] = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", metavar="T/N", help="A group of N shares, T of them needed."),
    ] = None,
    group_threshold: Annotated[
        int | None, typer.Option("--group-threshold", help="Groups needed to recover.")
    ] = None,
    mode: ModeOpt = "bip39",
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="bip39 mode: the wallet's BIP-39 passphrase (not stored in the shares; for "
            "the fingerprint). slip39 mode: the SLIP-39 passphrase that protects the secret.",
        ),
    ] = False,
    bits: Annotated[int, typer.Option("--bits", help="slip39 mode: 128 or 256.")] = 128,
    cards: Annotated[
        Path | None,
        typer.Option(
            "--cards",
            metavar="FOLDER",
            help="Also write a printable PNG and PDF card per share here (a new 0700 folder "
            "is made; nothing is overwritten).",
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option("--name", help="A guardian's name for each card, in share order."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Split a secret into SLIP-39 shares. bip39 mode reads the phrase (then the passphrase)
    from a prompt or stdin; slip39 mode makes a new master secret."""
    chosen = parse_mode(mode)
    group_threshold_, groups = _scheme(threshold, shares, group or [], group_threshold)
    inp = SecretInput()
    phrase = None
    if chosen == "bip39":
        phrase = inp.read("recovery phrase", "Recovery phrase (hidden): ")
    label = "Passphrase (hidden): " if chosen == "bip39" else "SLIP-39 passphrase (hidden): "
    secret = inp.read("passphrase", label) if passphrase else ""
    made, fingerprint = shares_mod.split(
        chosen, groups, group_threshold_, phrase=phrase, passphrase=secret, bits=bits
    )
    written = _write_cards(cards, name or [], chosen, groups, group_threshold_, made)
    if json_out:
        value: dict[str, Any] = {"mode": chosen, "groups": made, "fingerprint": fingerprint}
        if cards is not None:
            value["cards"] = [str(p) for p in written]
        emit_json(value)
        return
    out.print(
        Panel(BIP39_WARNING if chosen == "bip39" else SLIP39_NOTE, border_style="yellow"),
    )
    for g, (spec, group_shares) in enumerate(zip(groups, made, strict=True), 1):
        for m, share in enumerate(group_shares, 1):
            title = (
                f"{chosen.upper()} MODE · group {g} of {len(groups)} · share {m} of {spec.count} "
                f"({spec.threshold} needed)"
            )
            out.print(
                Panel(render.words_table(share.split(), columns=4), title=title, expand=False)
            )
    need = f"{group_threshold_} of the {len(groups)} groups" if len(groups) > 1 else "the group"
    out.print(f"Wallet fingerprint: [bold cyan]{fingerprint}[/]. To recover: {need}.")
    if written:
        out.print(f"Cards written ({len(written)} files, mode 0600) in {escape(str(cards))}.")


def _write_cards(
    folder: Path | None,
    names: list[str],
    mode: Mode,
    groups: list[GroupSpec],
    group_threshold: int,
    made: list[list[str]],
) -> list[Path]:
    total = sum(len(g) for g in made)
    if folder is None:
        if names:
            raise UsageError("--name labels cards: give --cards FOLDER too.")
        return []
    if names and len(names) != total:
        raise UsageError(f"Give one --name per share ({total}), or none.")
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty: give a new folder for the cards.")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except NotADirectoryError:
        raise InputError(f"{folder} cannot be a folder (a file is in the way).") from None
    except OSError as exc:
        raise DiskError(f"Cannot create {folder}: {exc.strerror}; no card was written.") from None
    written: list[Path] = []
    try:
        _write_each_card(folder, mode, groups, made, group_threshold, names, written)
    except SeedguardError as exc:  # a partial set helps no one and blocks the retry
        for path in written:
            path.unlink(missing_ok=True)
        raise type(exc)(f"{exc.message} The cards written before it were removed.") from None
    return written


def _write_each_card(
    folder: Path,
    mode: Mode,
    groups: list[GroupSpec],
    made: list[list[str]],
    group_threshold: int,
    names: list[str] | None,
    written: list[Path],
) -> None:
    from seedguard.social import cards

    n = 0
    for g, (spec, shares) in enumerate(zip(groups, made, strict=True), 1):
        for m, share in enumerate(shares, 1):
            card = cards.Card(
                mode,
                tuple(share.split()),
                g,
                len(groups),
                group_threshold,
                m,
                spec.count,
                spec.threshold,
                names[n] if names else "",
            )
            n += 1
            stem = folder / f"share-g{g}-m{m}"
            for suffix, data in ((".png", cards.png(card)), (".pdf", cards.pdf(card))):
                write_private_file(stem.with_suffix(suffix), data)
                written.append(stem.with_suffix(suffix))


def _read_shares(inp: SecretInput, scanned: list[str]) -> tuple[list[str], slip39.Recovery | None]:
    """Shares scanned from images, then from stdin lines, or one at a time at a terminal
    with progress after each."""
    if not inp.interactive:
        return [*scanned, *inp.rest("share")], None
    recovery = slip39.Recovery()
    entered: list[str] = []
    for share in scanned:
        recovery.add(share)
        entered.append(share)
    while not recovery.progress().complete:
        share = inp.read("share", f"Share {len(entered) + 1} (hidden): ")
        try:
            progress = recovery.add(share)
        except slip39.Slip39Error as exc:
            err.print(f"[red]✗[/] {escape(exc.message)}")
            continue
        entered.append(share)
        for g in progress.groups:
            need = "?" if g.threshold is None else str(g.threshold)
            mark = "[green]✓[/]" if g.complete else " "
            err.print(f"  {mark} group {g.group}: {g.entered} of {need}")
        err.print(f"  {progress.groups_complete} of {progress.group_threshold} groups complete")
    return entered, recovery


def _scan(path: Path) -> str:
    """The share in the QR code of an image (zxing-cpp reads it)."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            found = [code.text for code in zxingcpp.read_barcodes(image)]
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except (UnidentifiedImageError, OSError):
        raise InputError(f"{path} is not an image seedguard can read (PNG or JPEG).") from None
    shares = [text for text in found if len(text.split()) >= slip39.MIN_WORDS]
    if len(shares) != 1:
        raise InputError(
            f"{path}: found {len(shares)} share QR codes, not one; photograph one card, "
            "square on, in good light."
        )
    return shares[0]


def recovered_json(recovered: shares_mod.Recovered) -> dict[str, Any]:
    if recovered.mnemonic is not None:
        return {"mnemonic": recovered.mnemonic, "fingerprint": recovered.fingerprint}
    assert recovered.master_secret is not None
    return {"master_secret": recovered.master_secret.hex(), "fingerprint": recovered.fingerprint}


@app.command("combine")
def combine(
    mode: ModeOpt = "bip39",
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="Ask for the passphrase (on stdin: the first line, before the shares).",
        ),
    ] = False,
    qr: Annotated[
        list[Path] | None,
        typer.Option(
            "--qr",
            metavar="IMAGE",
            help="A photo or scan (PNG, JPEG) of a share card's QR code (repeat for more).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Combine SLIP-39 shares: one per line on stdin, typed one at a time at a prompt, or
    scanned from share cards' QR codes."""
    chosen = parse_mode(mode)
    scanned = [_scan(path) for path in qr or []]
    inp = SecretInput()
    secret_passphrase = inp.read("passphrase", "Passphrase (hidden): ") if passphrase else ""
    shares, _ = _read_shares(inp, scanned)
    value = recovered_json(shares_mod.combine(chosen, shares, secret_passphrase))
    if json_out:
        emit_json(value)
        return
    out.print("[bold red]The recovered secret is on screen: make sure no one is watching.[/]")
    if chosen == "bip39":
        out.print(render.words_table(value["mnemonic"].split()))
    else:
        out.print(f"Master secret: {value['master_secret']}")
    out.print(f"Wallet fingerprint: [bold cyan]{value['fingerprint']}[/]")


# --- shamir repair ----------------------------------------------------------------------------


@app.command("repair")
def repair(
    others: Annotated[
        int,
        typer.Option("--others", help="Also read N other shares of the group (a second check)."),
    ] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Repair a share with one wrong word, or up to two unknown ones (?), by its checksum.

    The share comes from a hidden prompt or stdin (line 1); with --others N, N more shares
    of the same group follow, one per line. Exit 0 when exactly one share fits, 1 when none
    or several do.
    """
    from seedguard.repair import shares as share_repair

    if not 0 <= others <= 16:
        raise UsageError(f"--others must be 0 to 16, not {others}.")
    inp = SecretInput()
    damaged = inp.read("share", "Damaged share, ? for an unknown word (hidden): ")
    given = [inp.read("share", f"Other share {n + 1} (hidden): ") for n in range(others)]
    result = share_repair.repair(damaged, given)
    found = len(result.shares) == 1
    if json_out:
        emit_json(
            {
                "found": found,
                "share": result.shares[0] if found else None,
                "positions": list(result.positions),
                "fitting": len(result.shares),
                "candidates": result.candidates,
                "checked": result.checked,
                "seconds": round(result.seconds, 3),
            }
        )
    elif found:
        where = ", ".join(str(p) for p in result.positions) or "none: the share was right"
        out.print(f"[bold green]Repaired[/] (word {where}):")
        out.print(render.words_table(result.shares[0].split(), columns=4))
    elif result.shares:
        err.print(
            f"{len(result.shares)} shares fit: give another share of the group with --others "
            "to tell them apart."
        )
    else:
        err.print(
            "No share fits: more words are wrong than the checksum can repair; check the "
            "written share word by word."
        )
    if not found:
        raise typer.Exit(1)

"""`seedguard demo` (and `make run`): the end-to-end walkthrough on a throwaway wallet."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.rule import Rule

from seedguard import wallet
from seedguard.backup import Backups, Password, bip39_payload
from seedguard.cli import render
from seedguard.cli.render import emit_json, err, out
from seedguard.mnemonic import bip39, seedqr


@dataclass(frozen=True)
class BackupRun:
    backup_id: str
    locations: list[str]
    found: list[str]
    restored_fingerprint: str
    addresses_match: bool


def _demo_password() -> str:
    """Four random words, capitalised, and two digits: strong, and made up fresh each time."""
    words = [secrets.choice(bip39.wordlist("english").words).capitalize() for _ in range(4)]
    return "-".join(words) + f"-{secrets.randbelow(90) + 10}"


def _backup_walkthrough(mnemonic: str, proof: wallet.WalletProof, status: object) -> BackupRun:
    """Back up to two folders, lose the device (a fresh home), find the backups, restore."""
    root = Path(tempfile.mkdtemp(prefix="seedguard-demo-"))
    try:
        report = getattr(status, "update", lambda _: None)
        password = Password(_demo_password())
        phone = Backups(root / "phone", report=report)
        places = [str(root / "icloud-drive"), str(root / "usb-stick")]
        made = phone.create(bip39_payload(mnemonic), password, places, label="demo wallet")
        new_phone = Backups(root / "new-phone", report=report)
        found = [h.backup_id for h in new_phone.list_backups(places[1])[0]]
        opened = new_phone.restore(places[1], password)
        restored = opened.payload.mnemonic  # type: ignore[union-attr]
        again = wallet.prove(restored, count=3, change=False)
        return BackupRun(
            made.backup_id,
            [r.location for r in made.locations if r.ok],
            found,
            again.fingerprint,
            again == proof,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def demo(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Walk through every capability on a throwaway wallet. Never fund it."""
    created = wallet.create(12)
    words = created.mnemonic.split()
    proof = wallet.prove(created.mnemonic, count=3, change=False)

    # A typical mistake: one word miswritten. The check names it and the closest words.
    typo_at = 4
    typo = words[typo_at][:-1] + ("a" if words[typo_at][-1] != "a" else "e")
    mistyped = " ".join([*words[:typo_at], typo, *words[typo_at + 1 :]])
    caught = bip39.check(mistyped)

    # The restore: from the words alone, as written on paper, with the first four letters.
    typed = " ".join(w[:4] for w in words)
    restored = bip39.validate(typed)
    again = wallet.prove(restored.mnemonic, count=3, change=False)
    matches = again == proof

    other = wallet.fingerprint(created.mnemonic, "demo passphrase")
    digits = seedqr.encode_standard(created.mnemonic)
    with err.status("Encrypted backup: deriving keys with Argon2id (256 MiB)…") as status:
        backup = _backup_walkthrough(created.mnemonic, proof, status)
    matches = matches and backup.addresses_match

    if json_out:
        emit_json(
            {
                "mnemonic": created.mnemonic,
                "fingerprint": created.fingerprint,
                "typo_caught": render.check_json(caught),
                "restored_fingerprint": again.fingerprint,
                "addresses_match": matches,
                "passphrase_fingerprint": other,
                "seedqr_digits": digits,
                "backup": {
                    "backup_id": backup.backup_id,
                    "locations": backup.locations,
                    "found_on_new_device": backup.found,
                    "restored_fingerprint": backup.restored_fingerprint,
                    "addresses_match": backup.addresses_match,
                },
            }
        )
        raise typer.Exit(0 if matches else 1)

    out.print(Rule("seedguard walkthrough"))
    out.print("[bold red]DEMO WALLET: these words are shown on screen. Never send funds to it.[/]")
    out.print(Rule("1. A new wallet", align="left"))
    out.print(render.words_table(words))
    out.print(
        f"Wallet fingerprint: [bold cyan]{created.fingerprint}[/] "
        "(the first 4 bytes of HASH160 of the BIP-32 master public key)"
    )
    render.show_proof(proof, header=False)

    out.print(Rule("2. Its SeedQR (Standard, scan it with a SeedSigner)", align="left"))
    out.print(render.qr_text(seedqr.qr_code(created.mnemonic).matrix))
    out.print(f"Digits: {digits}")

    out.print(Rule("3. A miswritten word is caught, never silently corrected", align="left"))
    out.print(f"Word {typo_at + 1} written as [bold]{typo}[/]:")
    for problem in caught.problems:
        out.print(f"  • {escape(problem.describe())}")

    out.print(Rule("4. Restore from the paper copy (four letters per word)", align="left"))
    out.print(typed)
    out.print(f"Restored fingerprint: [bold cyan]{again.fingerprint}[/]")
    verdict = "[green]✓ match[/]" if matches else "[red]✗ DO NOT MATCH[/]"
    out.print(f"Fingerprint and first addresses of every account: {verdict}")
    out.print(
        f"The same words with a passphrase open another wallet: fingerprint "
        f"[bold cyan]{other}[/]. Back up the passphrase too."
    )
    out.print(Rule("5. Encrypted backup in two folders; the phone is lost", align="left"))
    out.print(f"Backup {backup.backup_id} sealed with a backup password (Argon2id, 256 MiB) in:")
    for location in backup.locations:
        out.print(f"  • {escape(location)}  [green]✓ written, read back[/]")
    out.print(
        f"A new phone (empty registry) lists the USB stick and finds {len(backup.found)} backup; "
        f"the password restores wallet [bold cyan]{backup.restored_fingerprint}[/]."
    )
    verdict = "[green]✓ match[/]" if backup.addresses_match else "[red]✗ DO NOT MATCH[/]"
    out.print(f"Fingerprint and first addresses after the restore: {verdict}")
    out.print(Rule())
    out.print(
        "Next: `seedguard seed new`, `seedguard seed check`, `seedguard backup create --to ...`, "
        "`seedguard backup status` (`seedguard --help`)."
    )
    if not matches:
        raise typer.Exit(1)

"""`seedguard demo` (and `make run`): the end-to-end walkthrough on a throwaway wallet."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.rule import Rule

from seedguard import wallet
from seedguard.cli import render
from seedguard.cli.render import emit_json, out
from seedguard.mnemonic import bip39, seedqr


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
    out.print(Rule())
    out.print(
        "Next: `seedguard seed new`, `seedguard seed check`, `seedguard seed restore` "
        "(`seedguard --help`)."
    )
    if not matches:
        raise typer.Exit(1)

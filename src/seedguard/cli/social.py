"""`seedguard social ...`: the owner's side of social recovery (docs/social.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seedguard.cli.render import emit_json, out
from seedguard.cli.secrets_input import SecretInput
from seedguard.cli.shamir import BIP39_WARNING, SLIP39_NOTE, ModeOpt, parse_mode
from seedguard.social.setup import setup as make_setup

app = typer.Typer(help="Social recovery: shares sealed to trusted guardians.", no_args_is_help=True)


@app.command("setup")
def setup(
    guardian: Annotated[
        list[str],
        typer.Option("--guardian", metavar="CODE", help="A guardian's code (repeat for each)."),
    ],
    threshold: Annotated[int, typer.Option("--threshold", help="Guardians needed to recover.")],
    out_dir: Annotated[
        Path,
        typer.Option("--out", metavar="FOLDER", help="Where to write the sealed shares (0700)."),
    ],
    mode: ModeOpt = "bip39",
    label: Annotated[
        str, typer.Option("--label", help="A name the guardians will see, e.g. your name.")
    ] = "",
    passphrase: Annotated[
        bool,
        typer.Option("--passphrase", help="The wallet's passphrase (as in `shamir split`)."),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Split the wallet among guardians, one SLIP-39 share each, sealed so that only that
    guardian can open it; hand each file to its guardian."""
    chosen = parse_mode(mode)
    inp = SecretInput()
    phrase = (
        inp.read("recovery phrase", "Recovery phrase (hidden): ") if chosen == "bip39" else None
    )
    secret = inp.read("passphrase", "Passphrase (hidden): ") if passphrase else ""
    made = make_setup(
        guardian, threshold, out_dir, mode=chosen, phrase=phrase, passphrase=secret, label=label
    )
    if json_out:
        emit_json(
            {
                "mode": made.mode,
                "fingerprint": made.fingerprint,
                "threshold": made.threshold,
                "guardians": [
                    {"fingerprint": d.guardian, "file": str(d.path)} for d in made.deliveries
                ],
            }
        )
        return
    out.print(BIP39_WARNING if chosen == "bip39" else SLIP39_NOTE)
    table = Table(title=f"{made.threshold} of {len(made.deliveries)} guardians recover the wallet")
    table.add_column("guardian (compare the fingerprint by phone)")
    table.add_column("sealed share: give this file to that guardian")
    for d in made.deliveries:
        table.add_row(d.guardian, escape(str(d.path)))
    out.print(table)
    out.print(f"Wallet fingerprint: [bold cyan]{made.fingerprint}[/].")

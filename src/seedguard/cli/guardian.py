"""`seedguard guardian ...`: a guardian's side of social recovery (docs/social.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel

from seedguard.cli import render
from seedguard.cli.backup import read_new_password
from seedguard.cli.render import emit_json, out
from seedguard.cli.secrets_input import SecretInput
from seedguard.errors import InputError, UsageError
from seedguard.fs import read_bounded
from seedguard.social import relay as relays
from seedguard.social import sealed
from seedguard.social.guardian import Guardian, check_code, fingerprint

app = typer.Typer(help="Be a guardian: hold a share of someone's wallet.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _show_code(code: str) -> None:
    out.print("[bold]GUARDIAN CODE[/]: give it to the wallet's owner")
    out.print(code, soft_wrap=True)  # whole, never split: it is copied
    out.print(
        f"Fingerprint: [bold cyan]{fingerprint(code)}[/]. Read it to the owner by phone or in "
        "person: their screen must show the same before they seal a share to you."
    )


RelayOpt = Annotated[
    str | None,
    typer.Option(
        "--relay",
        metavar="URL",
        help="A seedguard server that relays shares, e.g. https://host:port.",
    ),
]


@app.command("init")
def init(relay: RelayOpt = None, json_out: JsonOpt = False) -> None:
    """Make this device's guardian identity (an age X25519 key pair), kept encrypted under a
    guardian passphrase, and print the guardian code. With --relay, also open a mailbox there
    for owners to deposit shares in (its id joins the code)."""
    guardian = Guardian.at()
    if guardian.exists:
        raise InputError(
            "This device already has a guardian identity: `seedguard guardian code` shows it."
        )
    secret = read_new_password(SecretInput(), [], "guardian passphrase")
    guardian.create(secret.text)
    if relay is not None:
        relays.open_mailbox(relay, guardian)
    code = guardian.code()
    if json_out:
        emit_json({"code": code, "fingerprint": fingerprint(code)})
        return
    _show_code(code)


@app.command("show")
def show(
    code: Annotated[
        str, typer.Argument(help="A guardian code (age1...), as the guardian gave it.")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Print a guardian code's fingerprint, to compare with the guardian by phone before
    sealing a share to that code. Needs nothing but the code."""
    checked = check_code(code)
    if json_out:
        emit_json({"code": checked, "fingerprint": fingerprint(checked)})
        return
    out.print(f"Fingerprint: [bold cyan]{fingerprint(checked)}[/]", soft_wrap=True)
    out.print("The guardian's own screen (`seedguard guardian code`) must show the same.")


@app.command("code")
def code(json_out: JsonOpt = False) -> None:
    """Show this device's guardian code and its fingerprint (no passphrase needed)."""
    value = Guardian.at().code()
    if json_out:
        emit_json({"code": value, "fingerprint": fingerprint(value)})
        return
    _show_code(value)


@app.command("approve")
def approve(
    relay: Annotated[str, typer.Option("--relay", metavar="URL", help="The relay server.")],
    request: Annotated[
        str, typer.Option("--request", metavar="CODE", help="The code read to you.")
    ],
    owner: Annotated[
        str | None,
        typer.Option("--for", metavar="LABEL", help="Whose share, when you hold several."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Help a recovery: show who asks and when, then re-seal your share to their request."""
    guardian = Guardian.at()
    box = guardian.mailbox()
    if box is None:
        raise InputError("This guardian has no mailbox on a relay: nothing to approve with.")
    info = relays.describe(relay, request)
    code = relays.show_code(str(info["code"]))
    if not json_out:
        out.print(
            f"Request [bold]{code}[/] from [bold]{escape(str(info['label']))}[/], opened "
            f"{render.when(float(info['created']))}; {info['approvals']} approval(s) so far.",
            soft_wrap=True,
        )
        out.print("Approve only if the owner asked you by phone or in person, just now.")
    inp = SecretInput()
    if not yes:
        if not inp.interactive:
            raise UsageError("Approving needs --yes when no one can answer a question.")
        if inp.read("answer", "Approve? Type yes: ", hidden=False).strip().lower() != "yes":
            raise InputError("Not approved.")
    secret = inp.read("guardian passphrase", "Guardian passphrase (hidden): ")
    done = relays.approve(relay, request, guardian.identity(secret), box[1], owner)
    if json_out:
        emit_json({"code": code, "owner": done.label, "approvals": done.approvals})
        return
    out.print(
        f"[green]✓[/] Your share of {escape(done.label) or 'the wallet'} is on its way, re-sealed "
        f"to the request's key; {done.approvals} approval(s). The owner can still cancel."
    )


@app.command("open")
def open_share(
    file: Annotated[Path, typer.Argument(help="The sealed share the owner handed over.")],
    json_out: JsonOpt = False,
) -> None:
    """Open a sealed share with the guardian passphrase and show its words (to type or read
    on the owner's new device)."""
    data = read_bounded(file, sealed.MAX_BYTES, "a sealed share")
    secret = SecretInput().read("guardian passphrase", "Guardian passphrase (hidden): ")
    item = sealed.open_sealed(data, Guardian.at().identity(secret))
    if json_out:
        emit_json(
            {
                "share": item.share,
                "mode": item.mode,
                "label": item.label,
                "member": item.member,
                "members": item.members,
                "threshold": item.threshold,
                "created": item.created,
            }
        )
        return
    out.print("[bold red]A share is on screen: show it only to its owner.[/]")
    title = (
        f"{item.mode.upper()} MODE · {escape(item.label) or 'a wallet'} · share {item.member} "
        f"of {item.members} ({item.threshold} needed)"
    )
    out.print(Panel(render.words_table(item.share.split(), columns=4), title=title, expand=False))

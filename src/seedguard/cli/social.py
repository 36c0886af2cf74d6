"""`seedguard social ...`: the owner's side of social recovery (docs/social.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seedguard import wallet
from seedguard.cli import render
from seedguard.cli.render import emit_json, out
from seedguard.cli.secrets_input import SecretInput
from seedguard.cli.shamir import BIP39_WARNING, SLIP39_NOTE, ModeOpt, parse_mode, recovered_json
from seedguard.errors import InputError, UsageError
from seedguard.social import relay as relays
from seedguard.social.guardian import check_code, fingerprint
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
        Path | None,
        typer.Option("--out", metavar="FOLDER", help="Where to write the sealed shares (0700)."),
    ] = None,
    relay: Annotated[
        str | None,
        typer.Option(
            "--relay", metavar="URL", help="Deposit each sealed share in its guardian's mailbox."
        ),
    ] = None,
    delay: Annotated[
        str,
        typer.Option(
            "--delay",
            metavar="DURATION",
            help="With --relay: how long a recovery waits, so you can cancel it (30s, 10m, 48h, "
            "2d).",
        ),
    ] = "48h",
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
    if inp.interactive:  # nothing is sealed before the user has compared every fingerprint
        _confirm_guardians(guardian)
    made = make_setup(
        guardian,
        threshold,
        out_dir,
        mode=chosen,
        phrase=phrase,
        passphrase=secret,
        label=label,
        relay=relay,
        delay=render.parse_duration(delay),
    )
    if json_out:
        emit_json(
            {
                "mode": made.mode,
                "fingerprint": made.fingerprint,
                "threshold": made.threshold,
                "delay_hours": made.delay / 3600 if made.delay is not None else None,
                "guardians": [
                    {
                        "fingerprint": d.guardian,
                        "file": str(d.path) if d.path else None,
                        "deposit": d.deposit,
                    }
                    for d in made.deliveries
                ],
            }
        )
        return
    out.print(BIP39_WARNING if chosen == "bip39" else SLIP39_NOTE)
    out.print(
        f"[bold]{made.threshold} of {len(made.deliveries)} guardians recover the wallet.[/] "
        "Compare each guardian's fingerprint by phone; give each file to its guardian.",
        soft_wrap=True,
    )
    for d in made.deliveries:
        out.print(f"  guardian [bold]{d.guardian}[/]", soft_wrap=True)
        where = escape(str(d.path)) if d.path else "in the guardian's mailbox"
        out.print(f"      sealed share: {where}", soft_wrap=True)
    out.print(f"Wallet fingerprint: [bold cyan]{made.fingerprint}[/].")


def _confirm_guardians(codes: list[str]) -> None:
    out.print("Compare each guardian's fingerprint with that guardian, by phone or in person:")
    for code in codes:
        out.print(
            f"  [bold cyan]{fingerprint(check_code(code))}[/]  {escape(code)}", soft_wrap=True
        )
    answer = typer.prompt(
        "Do all fingerprints match what the guardians read to you? Type yes", err=True
    )
    if answer.strip().lower() != "yes":
        raise InputError("Nothing was sealed: check the guardian codes, then run it again.")


recover = typer.Typer(help="Recover a wallet with guardians' help, or stop a recovery.")
app.add_typer(recover, name="recover")
RelayOpt = Annotated[str, typer.Option("--relay", metavar="URL", help="The relay server.")]
CodeOpt = Annotated[str, typer.Option("--request", metavar="CODE", help="The request's code.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@recover.command("start")
def recover_start(
    relay: RelayOpt,
    label: Annotated[
        str, typer.Option("--label", help="Who asks, as the guardians will see it.")
    ] = "a new device",
    json_out: JsonOpt = False,
) -> None:
    """On a new device: open a recovery request and get the code to read to each guardian."""
    code = relays.show_code(relays.start(relay, label))
    if json_out:
        emit_json({"code": code})
        return
    out.print(f"Request code: [bold]{code}[/]")
    out.print(
        "Call each guardian and read them the code; they run `seedguard guardian approve`. "
        "When enough have approved and the owner's delay has passed, run "
        "`seedguard social recover finish` here."
    )


@recover.command("status")
def recover_status(relay: RelayOpt, request: CodeOpt, json_out: JsonOpt = False) -> None:
    """A request's state: waiting, delayed (and until when), released, or cancelled."""
    info = relays.describe(relay, request)
    info["code"] = relays.show_code(str(info["code"]))
    if json_out:
        emit_json(render.iso_times(info))
        return
    line = f"Request {info['code']}: {info['state']}, {info['approvals']} approval(s)"
    release_at = info.get("release_at")
    if info["state"] == "delayed" and isinstance(release_at, int | float):
        left = release_at - time.time()
        local = time.strftime("%H:%M", time.localtime(release_at))
        line += (
            f"; releases in {render.duration(left)}, at {local} local "
            "(`seedguard social recover cancel` on the owner's devices stops it)"
        )
    out.print(line + ".", soft_wrap=True)


@recover.command("cancel")
def recover_cancel(
    relay: RelayOpt,
    request: Annotated[
        str | None, typer.Option("--request", metavar="CODE", help="Only this request.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """On any of the owner's devices: stop recovery requests for this wallet."""
    codes = [relays.show_code(c) for c in relays.cancel(relay, request)]
    if json_out:
        emit_json({"cancelled": codes})
        return
    out.print(f"Cancelled {len(codes)} request(s): {', '.join(codes) or 'none was open'}.")


@recover.command("finish")
def recover_finish(
    relay: RelayOpt,
    request: CodeOpt,
    passphrase: Annotated[
        bool, typer.Option("--passphrase", help="The wallet's passphrase (for the fingerprint).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """On the new device: fetch the re-sealed shares (after the delay), combine them, and
    show the fingerprint and first addresses."""
    del relay  # the request remembers its relay
    secret = SecretInput().read("passphrase", "Passphrase (hidden): ") if passphrase else ""
    recovered = relays.finish(request, secret)
    value = recovered_json(recovered)
    proof = None
    if recovered.mnemonic is not None:
        proof = wallet.prove(recovered.mnemonic, secret, count=3)
        value.update(render.proof_json(proof))
    if json_out:
        emit_json(value)
        return
    out.print("[bold red]The recovered secret is on screen: make sure no one is watching.[/]")
    if proof is not None:
        out.print(render.words_table(str(value["mnemonic"]).split()))
        render.show_proof(proof)
    else:
        out.print(f"Master secret: {value['master_secret']}")
        out.print(f"Wallet fingerprint: [bold cyan]{value['fingerprint']}[/]")


@app.command("webhook")
def webhook(
    relay: RelayOpt,
    url: Annotated[
        str | None, typer.Option("--url", help="Where the server POSTs each event (https://).")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop posting events.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Have the relay POST this wallet owner's events (recovery requested, approved,
    cancelled) to a URL, besides keeping them for `social notifications`."""
    if (url is None) == (not off):
        raise UsageError("Give --url URL, or --off.")
    relays.set_webhook(relay, None if off else url)
    if json_out:
        emit_json({"webhook": None if off else url})
        return
    out.print("Webhook removed." if off else f"Events will also be posted to {escape(str(url))}.")


@app.command("notifications")
def notifications(
    relay: RelayOpt,
    after: Annotated[int, typer.Option("--after", help="Only events after this id.")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Events for this wallet's owner: recovery requested, approved, cancelled."""
    events = relays.notifications(relay, after)
    for event in events:
        if isinstance(event.get("code"), str):
            event["code"] = relays.show_code(event["code"])
    if json_out:
        emit_json({"notifications": render.iso_times(events)})
        return
    for event in events:
        when = f", {render.when(event['created'])}" if "created" in event else ""
        out.print(f"{event['id']}: {event['event']} (request {event.get('code')}{when})")

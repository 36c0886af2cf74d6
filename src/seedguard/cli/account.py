"""`seedguard account ...`: this device's account on a seedguard server, and its devices."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from seedguard.cli import render
from seedguard.cli.render import emit_json, out
from seedguard.client import client_for

app = typer.Typer(help="This device's account on a seedguard server.", no_args_is_help=True)

ServerOpt = Annotated[
    str,
    typer.Option("--server", metavar="URL", help="The server, e.g. https://vault.example.org:443."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _when(stamp: float | None) -> str:
    return "" if stamp is None else render.when(stamp)


@app.command("show")
def show(server: ServerOpt, json_out: JsonOpt = False) -> None:
    """The account and its devices (registers this device on first use)."""
    info = client_for(server).account_info()
    if json_out:
        emit_json(render.iso_times(info))
        return
    out.print(f"Account [bold]{info['account']}[/] on {client_for(server).server}", soft_wrap=True)
    for device in info["devices"]:
        mark = " (this device)" if device["current"] else ""
        out.print(f"  device [bold]{device['id']}[/]{mark}", soft_wrap=True)
        rows = [("added", _when(device["created"]))]
        if device["revoked"] is not None:
            rows.append(("revoked", _when(device["revoked"])))
        render.fields(rows, indent=4)


@app.command("revoke")
def revoke(
    device: Annotated[str, typer.Argument(help="The device id (from `account show`).")],
    server: ServerOpt,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a device. This device: at once. Another device: after the account's delay,
    announced to every device (a thief with one phone must not lock the owner out); at once
    right after restoring a backup on this device, whose recovery credential proves you."""
    client_for(server).revoke(device)
    if json_out:
        emit_json({"revoked": device})
    else:
        out.print(f"Device {device} is revoked.")


@app.command("pending")
def pending(server: ServerOpt, json_out: JsonOpt = False) -> None:
    """Actions a device of this account asked for that wait for the account's delay (a
    device revoked, a delay shortened, a cloud share re-created...): check each one."""
    items = client_for(server).request("GET", "/v1/account/pending").json()["pending"]
    if json_out:
        emit_json({"pending": render.iso_times(items)})
        return
    if not items:
        out.print("Nothing is pending on this account.")
        return
    for item in items:
        out.print(f"  [bold]{item['id']}[/]: {escape(str(item['what']))}", soft_wrap=True)
        render.fields(
            [
                ("target", escape(str(item["target"]))),
                ("asked by device", str(item["requested_by"])),
                ("happens", _when(item["release_at"])),
            ],
            indent=4,
        )
    out.print("Not yours? Stop it from this device: seedguard account cancel ID --server ...")


@app.command("cancel")
def cancel(
    server: ServerOpt,
    action: Annotated[
        str | None, typer.Argument(help="The pending action's id (default: every one).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Stop a pending action (or all of them), from any device of the account."""
    body = {"id": action}
    cancelled = client_for(server).request("POST", "/v1/account/pending/cancel", json=body).json()
    ids = list(cancelled["cancelled"])
    if json_out:
        emit_json({"cancelled": ids})
    elif ids:
        out.print(
            f"Cancelled {len(ids)} pending action{'s' if len(ids) != 1 else ''}: {', '.join(ids)}."
        )
    else:
        out.print("Nothing was pending (or that id is not pending any more).")

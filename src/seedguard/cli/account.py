"""`seedguard account ...`: this device's account on a seedguard server, and its devices."""

from __future__ import annotations

import datetime
from typing import Annotated

import typer
from rich.table import Table

from seedguard.cli.render import emit_json, out
from seedguard.client import client_for

app = typer.Typer(help="This device's account on a seedguard server.", no_args_is_help=True)

ServerOpt = Annotated[
    str,
    typer.Option(
        "--server", metavar="URL", help="The server: http(s)://host:port or seedguard+https://..."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("show")
def show(server: ServerOpt, json_out: JsonOpt = False) -> None:
    """The account and its devices (registers this device on first use)."""
    info = client_for(server).account_info()
    if json_out:
        emit_json(info)
        return
    out.print(f"Account [bold]{info['account']}[/] on {client_for(server).server}")
    table = Table()
    for column in ("device", "added", "revoked", ""):
        table.add_column(column)
    for device in info["devices"]:
        table.add_row(
            device["id"],
            _when(device["created"]),
            _when(device["revoked"]),
            "this device" if device["current"] else "",
        )
    out.print(table)


@app.command("revoke")
def revoke(
    device: Annotated[str, typer.Argument(help="The device id (from `account show`).")],
    server: ServerOpt,
    json_out: JsonOpt = False,
) -> None:
    """Revoke a lost device: its sessions end at once and it can no longer sign in."""
    client_for(server).revoke(device)
    if json_out:
        emit_json({"revoked": device})
    else:
        out.print(f"Device {device} is revoked.")

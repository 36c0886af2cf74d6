"""`seedguard mpc ...`: a 2-of-3 FROST wallet with shares on this device, a seedguard server
and an encrypted cloud backup (docs/mpc.md).

Secrets come from a hidden prompt, or from standard input when it is not a terminal, one per
line: the backup password first, then (only where there is no OS keyring) an optional device
PIN. `mpc sign` reads the device PIN, if the share has one, as its only line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import segno
import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from seedguard.backup.recovery_key import from_words, to_words
from seedguard.cli import render
from seedguard.cli.backup import read_new_password
from seedguard.cli.render import emit_json, err, out, progress
from seedguard.cli.reveal import reveal_words
from seedguard.cli.secrets_input import SecretInput
from seedguard.cli.seed import Network
from seedguard.client.mpc import MpcServer
from seedguard.envelope import Password, RecoveryKey
from seedguard.envelope.sealing import Secret
from seedguard.errors import InputError, PendingError, UsageError
from seedguard.fs import read_bounded, write_private_file
from seedguard.hd.slip132 import Network as NetworkName
from seedguard.home import home as seedguard_home
from seedguard.mpc import addresses, psbt
from seedguard.mpc.shares import DeviceStore, group_key, keyring_available
from seedguard.mpc.wallet import MpcWallets, WalletInfo
from seedguard.threshold.keys import GroupKey

app = typer.Typer(
    help="An MPC wallet: a 2-of-3 FROST key split between this device, a seedguard server and "
    "an encrypted cloud backup. The key never exists whole.",
    no_args_is_help=True,
)

ServerOpt = Annotated[
    str,
    typer.Option(
        "--server", metavar="URL", help="The seedguard server, e.g. http://127.0.0.1:8765."
    ),
]
CloudOpt = Annotated[
    str,
    typer.Option(
        "--cloud",
        metavar="LOCATION",
        help="Where the cloud share's encrypted backup lives: a (synced) folder, "
        "s3://bucket/prefix, webdav+https://host/path or seedguard+https://host:port.",
    ),
]
WalletOpt = Annotated[
    str, typer.Option("--wallet", metavar="ID", help="The wallet id (or a unique prefix).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
RecoveryKeyOpt = Annotated[
    bool,
    typer.Option(
        "--recovery-key/--no-recovery-key",
        help="Make a recovery key (twelve words to keep offline) that opens the cloud backup "
        "without the server: the way to the emergency exit if the server is gone. On by "
        "default; --no-recovery-key leaves a hardened wallet dependent on its server.",
    ),
]


@contextlib.contextmanager
def _wallets(first: str) -> Iterator[MpcWallets]:
    with progress(first) as report:
        yield MpcWallets(report=report)


def _new_pin(inp: SecretInput) -> str | None:
    """A device PIN for the share, where no OS keyring holds its key (None: no PIN)."""
    if keyring_available():
        return None
    if not inp.interactive:
        return inp.optional("device PIN") or None
    err.print(
        "No OS keyring here: choose a device PIN to encrypt this device's share "
        "(empty: a key file beside it, protected only by file permissions)."
    )
    pin = inp.read("device PIN", "Device PIN (hidden): ")
    if pin and inp.read("device PIN", "Repeat the device PIN (hidden): ") != pin:
        raise InputError("The two PINs differ: run the command again.")
    return pin or None


def _pin_for(inp: SecretInput, wallet: str) -> str | None:
    store = DeviceStore()
    if store.protection(store.find(wallet)) != "pin":
        return None
    return inp.read("device PIN", "Device PIN (hidden): ")


def _show(info: WalletInfo, title: str, shown: bool = False) -> None:
    out.print(f"[bold]{title}[/]")
    rows = [("wallet", render.short_id(info.wallet_id))]
    if info.label:
        rows.append(("label", escape(info.label)))
    rows += [
        ("address", f"[bold]{info.address}[/]" + (f" ({info.first.path})" if info.derived else "")),
        ("descriptor", escape(info.descriptor)),
        ("threshold key", info.key.public_key.hex()),
        ("output key", info.first.output_key.hex()),
        ("cloud share", escape(info.cloud_location)),
        ("cloud backup", render.short_id(info.cloud_backup_id)),
    ]
    render.fields(rows)
    if info.recovery == "kept":
        out.print("The cloud backup still opens with the recovery key you typed (re-wrapped).")
    if info.recovery_key is not None and not shown:
        _show_recovery_key(SecretInput(), info.recovery_key)
    _tell_exit(info)


def _show_recovery_key(inp: SecretInput, key: RecoveryKey) -> None:
    reveal_words(
        inp,
        to_words(key).split(),
        title="CLOUD BACKUP RECOVERY KEY (not a wallet phrase)",
        subtitle="opens the cloud backup without the server: keep it offline",
        what="recovery key",
    )


def _info_json(info: WalletInfo) -> dict[str, object]:
    value = info.as_dict()
    if info.recovery_key is not None:
        value["recovery_key"] = to_words(info.recovery_key)
    value["emergency_exit"] = _exit_sentence(info, markup=False)
    return value


def _exit_sentence(info: WalletInfo, markup: bool = True) -> str:
    """One sentence: how the user leaves without the server, given the cloud backup's slots."""

    def code(text: str) -> str:
        return f"[bold]{text}[/]" if markup else f"`{text}`"

    command = (
        f"seedguard mpc export-key --wallet {render.short_id(info.wallet_id)} --cloud LOCATION"
    )
    if info.hardened_by is None:
        return (
            f"Without the server: {code(command)} rebuilds the key offline from this device's "
            "share and the cloud backup (its password opens it without any server)."
        )
    if info.recovery != "none":
        return (
            f"Without the server: {code(command + ' --with-recovery-key')} rebuilds the key "
            "offline from this device's share and the cloud backup, opened by its recovery key."
        )
    return (
        f"No recovery key: the cloud backup opens only with the help of "
        f"{escape(info.hardened_by) if markup else info.hardened_by}; "
        "if that server is gone for good, this wallet's funds cannot be moved. Add one with "
        "`seedguard backup add-recovery-key`."
    )


def _tell_exit(info: WalletInfo) -> None:
    sentence = _exit_sentence(info)
    if info.hardened_by is not None and info.recovery == "none":
        err.print(Panel(sentence, title="[bold red]WARNING[/]", border_style="red", expand=False))
    else:
        out.print(sentence)


@app.command("create")
def create(
    server: ServerOpt,
    cloud: CloudOpt,
    label: Annotated[str | None, typer.Option(help="A name for the wallet.")] = None,
    network: Annotated[
        Network, typer.Option("--network", help="The Bitcoin network of its addresses.")
    ] = Network.mainnet,
    recovery_key: RecoveryKeyOpt = True,
    no_harden: Annotated[
        bool,
        typer.Option(
            "--no-harden",
            help="Seal the cloud share with the password alone (no server-enforced guess limit).",
        ),
    ] = False,
    allow_raw_signing: Annotated[
        bool,
        typer.Option(
            "--allow-raw-signing",
            help="Let the server co-sign raw 32-byte hashes (`mpc sign`), which it cannot "
            "check. Off: it co-signs only transactions it reads (`mpc sign-psbt`). Turning "
            "it on later waits for the account's delay.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Make a wallet by distributed key generation with the server.

    No party ever holds the key (ChillDKG). The cloud share is sealed under a new backup
    password, written and read back before this device keeps its own share.
    """
    inp = SecretInput()
    password = read_new_password(inp, [label] if label else [], "backup password")
    pin = _new_pin(inp)
    with _wallets("Generating the key with the server") as wallets:
        info = wallets.create(
            server,
            cloud,
            password,
            label=label,
            network=network.value,
            pin=pin,
            recovery_key=recovery_key,
            harden=not no_harden,
            raw_signing=allow_raw_signing,
        )
    if json_out:
        emit_json(_info_json(info))
    else:
        _show(info, "MPC wallet created")


@app.command("sign")
def sign(
    wallet: WalletOpt,
    message: Annotated[
        str, typer.Option("--message", metavar="HEX", help="The 32-byte sighash, in hex.")
    ],
    path: Annotated[
        str | None,
        typer.Option(
            "--path",
            metavar="C/I",
            help="The address to sign for: 0/I receive, 1/I change (`mpc addresses`). "
            "Default: 0/0, or an older wallet's index-free address.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign a 32-byte sighash with the server: a BIP-340 signature for the output key of one
    of the wallet's addresses."""
    try:
        data = bytes.fromhex(message)
    except ValueError:
        raise UsageError("--message takes hex digits (64 of them for a sighash).") from None
    if len(data) != 32:
        raise UsageError(f"--message must be 32 bytes (64 hex digits), not {len(data)} bytes.")
    _, _, _, derived = _public_key_of(wallet)
    where = _path(path) if path is not None else (0, 0) if derived else None
    pin = _pin_for(SecretInput(), wallet)
    signature, output_key = MpcWallets().sign(wallet, data, pin, where)
    if json_out:
        emit_json(
            {
                "signature": signature.hex(),
                "output_key": output_key.hex(),
                "path": None if where is None else f"{where[0]}/{where[1]}",
            }
        )
    else:
        out.print(f"signature   {signature.hex()}")
        out.print(f"output key  {output_key.hex()}")
        out.print("[green]✓[/] verified with libsecp256k1 (BIP-340)")


@app.command("recover")
def recover(
    server: ServerOpt,
    cloud: CloudOpt,
    backup_id: Annotated[
        str | None, typer.Option("--id", help="The cloud backup's id, if several are there.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Recover the wallet on a new device from the cloud share and the server.

    This device's share is rebuilt from the cloud share (backup password) and the server's,
    then all three shares are refreshed so the lost device's share stops working; the new
    cloud backup is written and read back, and the account's other devices are revoked. When
    the cloud backup has a recovery key, type it to keep it working (or press Enter for a new
    one, shown and confirmed before the old backup is removed). Standard input: the password,
    the device PIN where asked, then the recovery key line (empty: a new key).
    """
    inp = SecretInput()
    password = Password(inp.read("backup password", "Backup password (hidden): "))
    pin = _new_pin(inp)
    confirmed: list[RecoveryKey] = []

    with progress("Recovering the wallet") as report:

        def keep() -> RecoveryKey | None:
            if not inp.interactive:
                words = inp.optional("recovery key") or ""
            else:
                with report.paused():
                    err.print(
                        "The cloud backup also opens with a recovery key. Type its twelve words "
                        "to keep that key working, or press Enter to get a new one."
                    )
                    words = inp.read("recovery key", "Recovery key (hidden, Enter for new): ")
            return from_words(words) if words.strip() else None

        def confirm(key: RecoveryKey) -> None:
            if inp.interactive and not json_out:  # shown and confirmed before the old is gone
                with report.paused():
                    _show_recovery_key(inp, key)
                confirmed.append(key)

        info = MpcWallets(report=report).recover(
            server,
            cloud,
            password,
            pin=pin,
            backup_id=backup_id,
            keep_recovery_key=keep,
            confirm_recovery_key=confirm,
        )
    if json_out:
        emit_json(_info_json(info))
    else:
        _show(info, "MPC wallet recovered; shares refreshed", shown=bool(confirmed))
        out.print("The lost device is revoked and its share no longer signs.")


@app.command("repair-cloud")
def repair_cloud(
    wallet: WalletOpt,
    cloud: CloudOpt,
    recovery_key: RecoveryKeyOpt = True,
    with_recovery_key: Annotated[
        bool,
        typer.Option(
            "--with-recovery-key",
            help="Prove yourself to the server with the lost cloud backup's recovery key "
            "instead of its password.",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Password forgotten: ask the server to allow it after the account's delay "
            "(announced to every device, cancellable); run the command again after it.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-create a lost cloud share from this device's and the server's shares.

    Neither share is sent (a repairable threshold scheme). This gives the device two shares,
    so the server first wants proof that a thief with the phone lacks: the cloud backup's
    password (one counted attempt), its recovery key, or, with --wait, the account's delay.
    The new cloud share is sealed under that backup password at the --cloud location.
    """
    if with_recovery_key and wait:
        raise UsageError("Choose --with-recovery-key or --wait, not both.")
    inp = SecretInput()
    old_key = None
    if with_recovery_key:
        old_key = from_words(
            inp.read("recovery key", "The lost cloud backup's recovery key, twelve words: ")
        )
    password = read_new_password(inp, [], "backup password")
    pin = _pin_for(inp, wallet)
    with _wallets("Repairing the cloud share") as wallets:
        info = wallets.repair_cloud(
            wallet,
            cloud,
            password,
            pin=pin,
            recovery_key=recovery_key,
            old_recovery_key=old_key,
            wait=wait,
        )
    if json_out:
        emit_json(_info_json(info))
    else:
        _show(info, "Cloud share re-created")


WARNING = (
    "[bold red]EMERGENCY EXIT[/]: this rebuilds the wallet's whole private key from this "
    "device's share and the cloud share, and prints it. Anyone who sees it can take the funds. "
    "Use it only to sweep the funds with another wallet (the server is gone, or you are "
    "leaving), on an offline computer, and never type it into a website."
)


@app.command("export-key")
def export_key(
    wallet: WalletOpt,
    cloud: CloudOpt,
    with_recovery_key: Annotated[
        bool,
        typer.Option(
            "--with-recovery-key",
            help="Open the cloud backup with its recovery key (works without the server).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Emergency exit: rebuild the private key from the device and cloud shares.

    Prints the untweaked internal key as WIF, and the descriptor tr(xprv/<0;1>/*) that spends
    every derived address (an older wallet also gets tr(WIF) for its index-free address), so
    any Taproot wallet can sweep the funds without the server. A loud warning comes first.
    """
    err.print(Panel(WARNING, expand=False))
    inp = SecretInput()
    if inp.interactive and err.input("Type EXPORT to go on: ").strip() != "EXPORT":
        raise UsageError("Nothing was exported.")
    secret: Secret
    if with_recovery_key:
        secret = from_words(inp.read("recovery key", "Recovery key, twelve words (hidden): "))
    else:
        secret = Password(inp.read("backup password", "Backup password (hidden): "))
    pin = _pin_for(inp, wallet)
    with _wallets("Opening the cloud share") as wallets:
        exported = wallets.export_key(wallet, cloud, secret, pin)
    if json_out:
        emit_json(
            {
                "wif": exported.wif,
                "private_key": exported.private_key.hex(),
                "descriptors": exported.descriptors,
            }
        )
        return
    out.print("[bold red]Private key (secret!)[/]")
    render.fields(
        [
            ("WIF", f"[bold]{exported.wif}[/]"),
            ("descriptor", escape(exported.descriptor)),
            *([("index-free", escape(exported.index_free))] if exported.index_free else []),
            ("address", exported.address),
        ]
    )
    out.print(
        "Import the descriptor into a wallet that supports Taproot descriptors (Bitcoin Core: "
        "importdescriptors) and sweep the funds to a new wallet."
    )


@app.command("status")
def status(
    offline: Annotated[
        bool, typer.Option("--offline", help="Read only this device's files; call no server.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Can each MPC wallet on this device still sign and recover? Its server's view (the same
    epoch, or recovered on another device), its cloud backup (present, intact, what opens it,
    attempts left) and a verdict. Reads no secret and counts no attempt. Exit 1 when a wallet
    cannot sign or recover, 3 when a server or location could not be asked."""
    with progress("Checking the wallets") as report:
        rows = MpcWallets(report=report).status(check=not offline)
    levels = [r.get("level", "ok") for r in rows]
    code = 1 if "bad" in levels else 3 if "unknown" in levels else 0
    if json_out:
        emit_json({"wallets": rows})
    elif not rows:
        out.print("No MPC wallet on this device: `seedguard mpc create` makes one.")
    for r in rows if not json_out else []:
        title = f"Wallet [bold]{render.short_id(r['wallet_id'])}[/]"
        if r["label"]:
            title += f" {escape(r['label'])}"
        level = r.get("level")
        if level:
            style = {"ok": "green", "due": "yellow", "warning": "yellow"}.get(level, "red")
            title += f": [{style}]{level}[/]"
        out.print(title, soft_wrap=True)
        out.print(f"  address      {r['address']}", soft_wrap=True)
        out.print(f"  server       {escape(r['server'])} (epoch {r['epoch']})", soft_wrap=True)
        cloud = r["cloud_backup"]
        out.print(
            f"  cloud share  {escape(cloud['location'])} "
            f"(backup {render.short_id(cloud['backup_id'])})",
            soft_wrap=True,
        )
        out.print(f"  share key    {r['protection']}")
        if "verdict" in r:
            out.print(f"  → {escape(r['verdict'])}", soft_wrap=True)
    if code:
        raise typer.Exit(code)


def _path(text: str) -> tuple[int, int]:
    chain, slash, index = text.partition("/")
    if not slash or chain not in ("0", "1") or not index.isdigit() or int(index) > 2**31 - 1:
        raise UsageError(f"--path takes 0/I (receive) or 1/I (change), not {text!r}.")
    return int(chain), int(index)


def _public_key_of(wallet: str) -> tuple[str, GroupKey, NetworkName, bool]:
    store = DeviceStore()
    wallet_id = store.find(wallet)
    fields = store.public(wallet_id)
    network: NetworkName = "testnet" if fields["network"] == "testnet" else "mainnet"
    return wallet_id, group_key(fields), network, fields.get("derivation") == "bip328"


@app.command("addresses")
def addresses_command(
    wallet: WalletOpt,
    change: Annotated[
        bool, typer.Option("--change", help="Change addresses (1/i) instead of receive (0/i).")
    ] = False,
    start: Annotated[int, typer.Option("--from", metavar="I", help="The first index.")] = 0,
    count: Annotated[
        int, typer.Option("--count", metavar="N", help="How many addresses (1 to 1000).")
    ] = 10,
    json_out: JsonOpt = False,
) -> None:
    """The wallet's Taproot addresses, derived from its threshold key: receive at 0/i, change
    at 1/i (docs/mpc.md). Reads only this device's public data: no secret, no server.

    A wallet made before addresses were derived lists its index-free address first."""
    wallet_id, key, network, derived = _public_key_of(wallet)
    found = addresses.listing(key, network, derived, change, start, count)
    if json_out:
        emit_json({"wallet_id": wallet_id, "addresses": [a.as_dict() for a in found]})
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("path")
    table.add_column("address", no_wrap=True, overflow="fold")
    for a in found:
        table.add_row(a.path or "index-free", a.address)
    out.print(table)
    if not derived and found and found[0].path is None:
        out.print(
            "index-free: this wallet's first address, made before addresses were derived; "
            "it stays yours."
        )


@app.command("descriptor")
def descriptor_command(
    wallet: WalletOpt,
    qr: Annotated[
        bool, typer.Option("--qr/--no-qr", help="Also show the descriptor as a QR code.")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """The wallet's watch-only output descriptor, tr([fingerprint]xpub/<0;1>/*), for Bitcoin
    Core, Sparrow or BDK: they then see every address and balance, and can build
    transactions for `seedguard mpc sign-psbt`. Public data only: it cannot spend."""
    wallet_id, key, network, derived = _public_key_of(wallet)
    found = addresses.descriptors(key, network, derived)
    if json_out:
        emit_json(
            {
                "wallet_id": wallet_id,
                **found.as_dict(),
                "importdescriptors": found.importdescriptors(),
            }
        )
        return
    render.fields(
        [
            ("descriptor", escape(found.multipath)),
            ("receive", escape(found.receive)),
            ("change", escape(found.change)),
            *([("index-free", escape(found.index_free))] if found.index_free else []),
        ]
    )
    out.print(
        "Bitcoin Core: `importdescriptors` with the receive and change descriptors "
        "(`seedguard mpc descriptor --json` prints the request); Sparrow: File > New Wallet > "
        "Watch Only, and scan or paste the multipath descriptor."
    )
    if qr and out.is_terminal:
        out.print(render.qr_text(segno.make_qr(found.multipath, error="L").matrix))


@app.command("sign-psbt")
def sign_psbt(
    wallet: WalletOpt,
    source: Annotated[
        str,
        typer.Argument(
            metavar="[FILE|-]",
            help="The PSBT: a file (binary or base64), or - for one base64 line on standard "
            "input (a device PIN, if any, on the next line).",
        ),
    ] = "-",
    finalize: Annotated[
        bool,
        typer.Option(
            "--finalize", help="When every input is signed, print the raw transaction instead."
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Sign without asking (needed when stdin is not a terminal)."),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Sign the spend that waited for the delay (over the wallet's limit), kept "
            "on this device when the server held it.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Sign a PSBT's inputs that are this wallet's (Taproot key path), with the server.

    Shows first what it pays: each output's address and amount, which are the wallet's own
    change (derived from the wallet's key, not guessed), the fee and fee rate, and warnings
    (a fee above 5% or 100 sat/vB, a sighash type other than DEFAULT/ALL). Inputs of other
    wallets are left alone and listed. Refused: an input without its previous output."""
    inp = SecretInput()
    held = _held_path(wallet)
    if resume:
        if not held.exists():
            raise UsageError("No spend of this wallet is waiting on this device.")
        data = read_bounded(held, psbt.MAX_PSBT_BYTES, "a held PSBT")
    elif source == "-":
        if inp.interactive:
            raise UsageError(
                "Give the PSBT as a file, or pipe it in: `... | seedguard mpc sign-psbt -`."
            )
        data = inp.read("PSBT", "PSBT (base64): ", hidden=False).encode()
    else:
        try:
            data = read_bounded(Path(source), psbt.MAX_PSBT_BYTES, "a PSBT")
        except FileNotFoundError:
            raise UsageError(f"No such file: {source}.") from None
    wallet_id, key, network, _ = _public_key_of(wallet)
    parsed = psbt.load(data)
    plan = psbt.plan(parsed, key, network)
    if not json_out:
        _show_plan(plan)
    if not yes:
        if not (inp.interactive and err.is_terminal):
            raise UsageError("Check the summary, then run again with --yes to sign.")
        if err.input("Sign? Type yes: ").strip().lower() != "yes":
            raise UsageError("Nothing was signed.")
    pin = _pin_for(inp, wallet)
    try:
        with progress(f"Signing {len(plan.owned)} input(s) with the server"):
            signatures = MpcWallets().sign_psbt(wallet_id, parsed, plan, pin)
    except PendingError as exc:
        held.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        held.unlink(missing_ok=True)  # an older held spend: this one replaces it
        write_private_file(held, psbt.to_base64(parsed).encode())
        raise PendingError(
            exc.message.replace(
                "Run the same command again",
                "Run `seedguard mpc sign-psbt --resume` (the PSBT is kept on this device)",
            ),
            exc.pending,
        ) from None
    if resume:
        held.unlink(missing_ok=True)
    for owned, signature in zip(plan.owned, signatures, strict=True):
        psbt.add_signature(parsed, owned, signature)
    done = psbt.finalize(parsed) if finalize else None
    encoded = psbt.to_base64(parsed)
    if json_out:
        emit_json(
            {
                "psbt": encoded,
                "signed_inputs": [o.index for o in plan.owned],
                "complete": done is not None or psbt.complete(parsed),
                "tx": None if done is None else done[0],
                "txid": None if done is None else done[1],
                "fee": plan.fee,
                "fee_rate": round(plan.fee_rate, 2),
                "outputs": [o.as_dict() for o in plan.outputs],
                "foreign_inputs": plan.foreign,
                "warnings": plan.warnings,
            }
        )
        return
    if done is not None:
        err.print(f"[green]✓[/] signed and finalized: txid {done[1]}")
        out.print(done[0], soft_wrap=True)
    else:
        if finalize:
            err.print("Not finalized: inputs of another wallet are still unsigned.")
        err.print(f"[green]✓[/] signed input(s) {', '.join(str(o.index) for o in plan.owned)}")
        out.print(encoded, soft_wrap=True)


def _held_path(wallet: str) -> Path:
    """Where a spend the server held for the delay waits on this device (public data)."""
    return seedguard_home() / "mpc" / "held" / f"{DeviceStore().find(wallet)}.psbt"


def _show_plan(plan: psbt.Plan) -> None:
    table = Table(box=None, pad_edge=False, title="This transaction pays", title_justify="left")
    table.add_column("output")
    table.add_column("address", overflow="fold")
    table.add_column("amount (sat)", justify="right")
    table.add_column("")
    for j, o in enumerate(plan.outputs):
        table.add_row(str(j), o.address, f"{o.amount:,}", "your change" if o.change else "")
    err.print(table)
    err.print(
        f"fee {plan.fee:,} sat ({plan.fee_rate:.1f} sat/vB); leaves the wallet: {plan.sent:,} sat"
    )
    err.print(f"signing inputs {', '.join(str(o.index) for o in plan.owned)}")
    if plan.foreign:
        err.print(f"not this wallet's (left alone): {', '.join(map(str, plan.foreign))}")
    for warning in plan.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def _server_of(wallet: str) -> tuple[str, str]:
    store = DeviceStore()
    wallet_id = store.find(wallet)
    return wallet_id, str(store.public(wallet_id)["server"])


def _address_script(address: str, network: NetworkName) -> str:
    from embit.script import address_to_scriptpubkey

    try:
        script = address_to_scriptpubkey(address)
    except Exception:
        raise UsageError(f"{address!r} is not a Bitcoin address.") from None
    prefix = ("bc1", "1", "3") if network == "mainnet" else ("tb1", "m", "n", "2")
    if not address.lower().startswith(prefix):
        raise UsageError(f"{address} is not a {network} address.")
    return bytes(script.data).hex()


def _script_address(script: str, network: NetworkName) -> str:
    from embit.networks import NETWORKS
    from embit.script import Script

    try:
        return str(
            Script(bytes.fromhex(script)).address(
                NETWORKS["main" if network == "mainnet" else "test"]
            )
        )
    except Exception:
        return f"script:{script}"


@app.command("policy")
def policy_command(
    wallet: WalletOpt,
    daily_limit: Annotated[
        str | None,
        typer.Option(
            "--daily-limit",
            metavar="SATS|none",
            help="What may leave the wallet in any 24 hours, in satoshis (change and "
            "allowlisted destinations do not count); `none` for no limit.",
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow", metavar="ADDRESS", help="Add a destination that bypasses the limit."
        ),
    ] = None,
    disallow: Annotated[
        list[str] | None,
        typer.Option("--disallow", metavar="ADDRESS", help="Remove an allowlisted destination."),
    ] = None,
    raw_signing: Annotated[
        bool | None,
        typer.Option(
            "--allow-raw-signing/--no-raw-signing",
            help="Whether the server co-signs raw hashes (`mpc sign`), which it cannot check.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show or change the server's spending policy for this wallet.

    Tightening (a lower limit, fewer destinations, raw signing off) applies at once. Loosening
    waits for the account's delay: it is announced to every device and the webhook, any device
    can cancel it (`mpc cancel`), and running the same command again after the delay applies
    it. A spend over the limit waits the same way (`mpc sign-psbt --resume`)."""
    wallet_id, server = _server_of(wallet)
    _, _, network, _ = _public_key_of(wallet)
    srv = MpcServer(server)
    current = srv.policy(wallet_id)
    changing = daily_limit is not None or allow or disallow or raw_signing is not None
    if changing:
        wanted = {k: current[k] for k in ("daily_limit", "allowlist", "raw_signing")}
        if daily_limit is not None:
            if daily_limit.lower() == "none":
                wanted["daily_limit"] = None
            elif daily_limit.isdigit():
                wanted["daily_limit"] = int(daily_limit)
            else:
                raise UsageError("--daily-limit takes a number of satoshis, or none.")
        scripts = list(wanted["allowlist"])
        for address in allow or []:
            script = _address_script(address, network)
            if script not in scripts:
                scripts.append(script)
        for address in disallow or []:
            script = _address_script(address, network)
            if script in scripts:
                scripts.remove(script)
        wanted["allowlist"] = scripts
        if raw_signing is not None:
            wanted["raw_signing"] = raw_signing
        current = srv.set_policy(wallet_id, wanted)
    shown = {
        "wallet_id": wallet_id,
        "daily_limit": current["daily_limit"],
        "allowlist": [_script_address(s, network) for s in current["allowlist"]],
        "raw_signing": current["raw_signing"],
        "spent_24h": current["spent_24h"],
    }
    if json_out:
        emit_json(shown)
        return
    limit = current["daily_limit"]
    render.fields(
        [
            ("daily limit", "none" if limit is None else f"{limit:,} sat per 24 hours"),
            ("spent (24 h)", f"{current['spent_24h']:,} sat"),
            ("allowlist", ", ".join(shown["allowlist"]) or "none"),
            ("raw signing", "allowed" if current["raw_signing"] else "off (PSBTs only)"),
        ]
    )


def _wallet_pending(wallet_id: str, server: str) -> list[dict[str, object]]:
    from seedguard.client import client_for

    items = client_for(server).request("GET", "/v1/account/pending").json()["pending"]
    return [i for i in items if i.get("target") == wallet_id]


@app.command("pending")
def pending_command(wallet: WalletOpt, json_out: JsonOpt = False) -> None:
    """What waits for the delay on this wallet: spends over its limit and policy changes
    that loosen it. Not yours? `seedguard mpc cancel` from any device stops it."""
    wallet_id, server = _server_of(wallet)
    items = _wallet_pending(wallet_id, server)
    if json_out:
        emit_json({"pending": render.iso_times(items)})
        return
    if not items:
        out.print("Nothing is pending on this wallet.")
        return
    for item in items:
        out.print(f"  [bold]{item['id']}[/]: {escape(str(item['what']))}", soft_wrap=True)
        render.fields(
            [
                ("asked by device", str(item["requested_by"])),
                ("happens", render.when(float(str(item["release_at"])))),
            ],
            indent=4,
        )
    out.print("Not yours? Stop it: seedguard mpc cancel --wallet ID [ACTION]")


@app.command("cancel")
def cancel_command(
    wallet: WalletOpt,
    action: Annotated[
        str | None,
        typer.Argument(help="The pending action's id (default: every one on this wallet)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Stop a pending spend or policy change of this wallet, from any device of the account."""
    from seedguard.client import client_for

    wallet_id, server = _server_of(wallet)
    targets = [action] if action else [str(i["id"]) for i in _wallet_pending(wallet_id, server)]
    client = client_for(server)
    ids: list[str] = []
    for target in targets:
        answer = client.request("POST", "/v1/account/pending/cancel", json={"id": target})
        ids += list(answer.json()["cancelled"])
    if json_out:
        emit_json({"cancelled": ids})
    elif ids:
        out.print(f"Cancelled: {', '.join(ids)}.")
    else:
        out.print("Nothing was pending on this wallet (or that id is not pending any more).")


MessageOpt = Annotated[
    str, typer.Option("--message", metavar="TEXT", help="The message (UTF-8), as signed.")
]


@app.command("sign-message")
def sign_message(
    wallet: WalletOpt,
    address: Annotated[
        str, typer.Option("--address", metavar="ADDRESS", help="One of the wallet's addresses.")
    ],
    message: MessageOpt,
    json_out: JsonOpt = False,
) -> None:
    """Prove this wallet controls an address: a BIP-322 simple signature of a message, co-signed
    by the server (which sees that nothing is spent). Wallets such as Sparrow verify it."""
    pin = _pin_for(SecretInput(), wallet)
    with progress("Signing the message with the server"):
        signature = MpcWallets().sign_message(wallet, address, message.encode(), pin)
    if json_out:
        emit_json({"address": address, "message": message, "signature": signature})
    else:
        out.print(signature, soft_wrap=True)


@app.command("verify-message")
def verify_message(
    address: Annotated[str, typer.Option("--address", metavar="ADDRESS", help="The address.")],
    message: MessageOpt,
    signature: Annotated[
        str, typer.Option("--signature", metavar="BASE64", help="The BIP-322 simple signature.")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Check a BIP-322 simple signature for a Taproot address (no wallet or server needed).
    Exit 1 when it is not valid."""
    from seedguard.mpc import messages

    valid = messages.verify_simple(address, message.encode(), signature)
    if json_out:
        emit_json({"address": address, "valid": valid})
    else:
        out.print("[green]✓[/] valid" if valid else "[red]✗[/] not a valid signature for it")
    if not valid:
        raise typer.Exit(1)

"""`seedguard backup ...`: encrypted backups in folders, S3 and WebDAV (docs/backup.md).

Secrets come from a hidden prompt, or from standard input lines when it is not a terminal:
create reads the phrase (then the passphrase with --passphrase) then the password; verify and
restore the password (or the recovery key); change-password the old then the new password.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from seedguard import wallet
from seedguard.backup import Backups, LocationResult, bip39_payload, password_policy
from seedguard.backup.health import BackupHealth
from seedguard.backup.recovery_key import from_words, to_words
from seedguard.cli import render
from seedguard.cli import repair as repair_cli
from seedguard.cli.render import emit_json, err, out, progress
from seedguard.cli.reveal import reveal_words
from seedguard.cli.secrets_input import SecretInput
from seedguard.envelope import (
    Bip39Payload,
    Header,
    MpcSharePayload,
    Opened,
    Password,
    RawPayload,
    RecoveryKey,
    Secret,
    Slip39SharePayload,
    armor,
)
from seedguard.errors import (
    AmbiguousBackupError,
    PasswordPolicyError,
    SeedguardError,
    UsageError,
)
from seedguard.fs import write_private_file

app = typer.Typer(
    help="Encrypted backups of a recovery phrase in folders, S3 and WebDAV.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
IdOpt = Annotated[
    str | None,
    typer.Option("--id", metavar="ID", help="The backup id (a unique prefix will do)."),
]
RecoveryOpt = Annotated[
    bool,
    typer.Option(
        "--with-recovery-key",
        help="Open with the backup's recovery key (twelve words) instead of its password.",
    ),
]
# The spelling before --with-recovery-key, kept so that scripts do not break.
OldRecoveryOpt = Annotated[bool, typer.Option("--recovery-key", hidden=True)]
FromOpt = Annotated[
    str,
    typer.Option(
        "--from",
        metavar="LOCATION",
        help="A folder, file:///path, s3://bucket/prefix, webdav+https://host/path, "
        "seedguard+https://host:port, or one backup file.",
    ),
]
NEW_PASSWORD_TRIES = 5


@contextlib.contextmanager
def _progress(first: str) -> Iterator[Backups]:
    """Backups whose progress reports drive a spinner on a terminal."""
    with progress(first) as report:
        yield Backups(report=report)


def read_new_password(inp: SecretInput, user_inputs: list[str], what: str) -> Password:
    """Non-interactive: one line, checked. Interactive: asked twice, strength shown, re-asked
    until acceptable (the policy has no override)."""
    if not inp.interactive:
        text = inp.read(what, "")
        password_policy.check(text, user_inputs, what)
        return Password(text)
    for _ in range(NEW_PASSWORD_TRIES):
        text = inp.read(what, f"New {what} (hidden): ")
        try:
            strength = password_policy.check(text, user_inputs, what)
        except PasswordPolicyError as exc:
            err.print(f"[red]✗[/] {escape(exc.message)}", soft_wrap=True)
            continue
        err.print(
            f"Strength: [green]{strength.label}[/] (about 10^{strength.guesses_log10:.0f} guesses)"
        )
        if inp.read(what, f"Repeat the {what} (hidden): ") != text:
            err.print("[red]✗[/] The two entries differ; start again.")
            continue
        return Password(text)
    raise PasswordPolicyError(f"No acceptable {what} after {NEW_PASSWORD_TRIES} tries.")


def _choose(exc: AmbiguousBackupError, inp: SecretInput) -> str:
    """On a terminal, the user picks one of several hardened backups; else the error stands."""
    if not (inp.interactive and err.is_terminal) or not exc.choices:
        raise exc
    err.print(escape(exc.message), soft_wrap=True)
    for i, h in enumerate(exc.choices, 1):
        slot = h.server_slot()
        where = f", hardened by {slot.server}" if slot else ""
        label = f" {h.label}" if h.label else ""
        err.print(
            f"  {i}. {render.short_id(h.backup_id)}{escape(label)} "
            f"({h.kind}, made {h.created}{where})"
        )
    answer = err.input("Which backup (number)? ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(exc.choices):
        raise UsageError("No backup was chosen: run it again with --id.")
    chosen: str = exc.choices[int(answer) - 1].backup_id
    return chosen


def _opened_note(opened: Opened) -> None:
    slot = opened.header.server_slot()
    if slot is not None and opened.kek_slot == "server":
        err.print(
            f"Opened with the help of {escape(slot.server)} (one counted guess, now reset: the "
            "full number of attempts is left).",
            soft_wrap=True,
        )


def _read_secret(inp: SecretInput, recovery: bool) -> Secret:
    if recovery:
        return from_words(inp.read("recovery key", "Recovery key, twelve words (hidden): "))
    return Password(inp.read("backup password", "Backup password (hidden): "))


def _show_locations(results: tuple[LocationResult, ...] | list[LocationResult]) -> None:
    """One line per location, printed whole; a failure's reason on the next line."""
    for r in results:
        if r.ok and r.note:
            out.print(f"  [yellow]![/] {escape(r.location)}: written, read back", soft_wrap=True)
            out.print(f"      {escape(r.note)}", soft_wrap=True)
        elif r.ok:
            out.print(f"  [green]✓[/] {escape(r.location)}: written, read back", soft_wrap=True)
        else:
            out.print(f"  [red]✗[/] {escape(r.location)}: failed", soft_wrap=True)
            out.print(f"      {escape(r.error or '')}", soft_wrap=True)


def _finish(results: tuple[LocationResult, ...] | list[LocationResult], verb: str) -> None:
    failed = [r for r in results if not r.ok]
    unrecorded = [r for r in results if r.ok and r.note]
    if failed:
        err.print(
            f"[red]error:[/] {len(failed)} of {len(results)} locations could not be {verb}.",
            soft_wrap=True,
        )
        raise typer.Exit(max(r.exit_code for r in failed))
    if unrecorded:
        err.print(
            f"[red]error:[/] every copy was written and read back, but this device could not "
            f"record {len(unrecorded)} of them in its registry: {escape(unrecorded[0].note or '')}",
            soft_wrap=True,
        )
        raise typer.Exit(3)


# --- create -----------------------------------------------------------------------------------


@app.command("create")
def create(
    to: Annotated[
        list[str],
        typer.Option("--to", metavar="LOCATION", help="Where to keep a copy (repeat for more)."),
    ],
    label: Annotated[
        str | None,
        typer.Option("--label", help="A short name, readable WITHOUT the password."),
    ] = None,
    passphrase: Annotated[
        bool,
        typer.Option("--passphrase", help="The wallet has a BIP-39 passphrase: back it up too."),
    ] = False,
    recovery_key: Annotated[
        bool,
        typer.Option(
            "--recovery-key",
            help="Also make a recovery key (twelve words to keep offline) that opens the backup.",
        ),
    ] = False,
    harden: Annotated[
        str | None,
        typer.Option(
            "--harden",
            metavar="SERVER",
            help="Let this seedguard server limit password guesses (https://host:port): the "
            "backup then opens only with its help. Default for a backup kept on a server.",
        ),
    ] = None,
    no_harden: Annotated[
        bool,
        typer.Option("--no-harden", help="Do not harden a backup kept on a seedguard server."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Encrypt a recovery phrase with a backup password and write it to every location."""
    inp = SecretInput()
    phrase = inp.read("recovery phrase", "Recovery phrase (hidden): ")
    secret = inp.read("passphrase", "Passphrase (hidden): ") if passphrase else ""
    payload = bip39_payload(phrase, secret)
    inputs = [*payload.mnemonic.split(), *(label.split() if label else [])]
    password = read_new_password(inp, inputs, "backup password")
    key = RecoveryKey.generate() if recovery_key else None
    with _progress("Sealing") as backups:
        result = backups.create(
            payload, password, to, label=label, recovery_key=key, harden=harden, plain=no_harden
        )
    if json_out:
        value: dict[str, Any] = {
            "backup_id": result.backup_id,
            "fingerprint": result.fingerprint,
            "locations": [r.as_dict() for r in result.locations],
        }
        if result.hardened_by:
            value["hardened_by"] = result.hardened_by
        if key is not None:
            value["recovery_key"] = to_words(key)
        emit_json(value)
    else:
        out.print(
            f"Backup [bold]{render.short_id(result.backup_id)}[/] "
            f"of wallet [cyan]{result.fingerprint}[/]"
        )
        _show_locations(result.locations)
        if result.hardened_by:
            out.print(
                f"Hardened by [bold]{escape(result.hardened_by)}[/]: a wrong password counts "
                "there, and the backup opens only while that server is reachable"
                + (
                    ". The recovery key opens it without the server."
                    if key
                    else ". Without a recovery key (--recovery-key) it depends on that server."
                )
            )
        if key is not None and any(r.ok for r in result.locations):
            reveal_words(
                inp,
                to_words(key).split(),
                title="BACKUP RECOVERY KEY (not a wallet phrase)",
                subtitle="opens this backup without its password: keep it offline",
                what="recovery key",
            )
        out.print("Check the copies every month or two: [bold]seedguard backup status[/].")
    _finish(result.locations, "written")


# --- list -------------------------------------------------------------------------------------


def _kdf_json(header: Header) -> dict[str, Any] | None:
    params = header.password_kdf()
    if params is None:
        return None
    return {"algorithm": "argon2id", **params.as_dict()}


@app.command("list")
def list_(location: FromOpt, json_out: JsonOpt = False) -> None:
    """The backups at a location, newest first. Needs no password."""
    headers, problems = Backups().list_backups(location)
    if json_out:
        emit_json(
            {
                "backups": [
                    {
                        "backup_id": h.backup_id,
                        "label": h.label,
                        "kind": h.kind,
                        "created": h.created,
                        "kdf": _kdf_json(h),
                        "recovery_key": h.has_recovery_key(),
                        "hardened_by": slot.server if (slot := h.server_slot()) else None,
                    }
                    for h in headers
                ],
                "unreadable": [{"name": n, "error": e} for n, e in problems],
            }
        )
        return
    for name, problem in problems:
        err.print(f"[yellow]warning:[/] {escape(name)}: {escape(problem)}", soft_wrap=True)
    if not headers:
        out.print(f"No seedguard backups at {escape(location)}.")
        return
    for h in headers:
        params = h.password_kdf()
        slot = h.server_slot()
        title = f"[bold]{render.short_id(h.backup_id)}[/]" + (
            f"  {escape(h.label)}" if h.label else ""
        )
        out.print(title, soft_wrap=True)
        rows = [("kind", h.kind), ("created", f"{h.created} ({render.when(h.created)})")]
        rows.append(("key derivation", params.describe() if params else "none"))
        if slot is not None:
            rows.append(("hardened by", escape(slot.server)))
        rows.append(("recovery key", "yes" if h.has_recovery_key() else "no"))
        render.fields(rows)


# --- verify -----------------------------------------------------------------------------------


@app.command("verify")
def verify(
    location: FromOpt,
    backup_id: IdOpt = None,
    recovery: RecoveryOpt = False,
    old_recovery: OldRecoveryOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Open a backup in memory and check it; changes nothing in the store."""
    inp = SecretInput()
    secret = _read_secret(inp, recovery or old_recovery)
    try:
        try:
            with _progress("Opening") as backups:
                opened = backups.verify(location, secret, backup_id)
        except AmbiguousBackupError as exc:
            chosen = _choose(exc, inp)
            with _progress("Opening") as backups:
                opened = backups.verify(location, secret, chosen)
    except SeedguardError as exc:
        if not json_out:
            raise
        err.print(f"[red]error:[/] {escape(exc.message)}", soft_wrap=True)
        failed: dict[str, Any] = {
            "ok": False,
            "backup_id": backup_id,
            "fingerprint": None,
            "error": exc.message,
        }
        left = getattr(exc, "attempts_left", None)
        if left is not None:
            failed["attempts_left"] = left
        emit_json(failed)
        raise typer.Exit(exc.exit_code) from None
    fingerprint = getattr(opened.payload, "fingerprint", None)
    for note in backups.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if json_out:
        value: dict[str, Any] = {
            "ok": True,
            "backup_id": opened.header.backup_id,
            "fingerprint": fingerprint,
        }
        if backups.notes:
            value["notes"] = backups.notes
        emit_json(value)
        return
    _opened_note(opened)
    out.print(
        f"[green]✓[/] Backup {opened.header.backup_id} opens and is intact"
        + (f"; it holds wallet [cyan]{fingerprint}[/]." if fingerprint else ".")
    )


# --- status -----------------------------------------------------------------------------------


LEVEL_STYLE = {"ok": "green", "due": "yellow", "warning": "yellow", "unknown": "red", "bad": "red"}
COPY_MARK = {"ok": "[green]✓[/]", "pending": "[yellow]…[/]"}


def status_json(rows: list[BackupHealth]) -> dict[str, Any]:
    worst = max((r.exit_code for r in rows), default=0)
    return {"healthy": worst == 0, "backups": [r.as_dict() for r in rows]}


def show_health(rows: list[BackupHealth]) -> None:
    """One block per backup; every location, id and date printed whole (never cut)."""
    for r in rows:
        e = r.entry
        name = f"Backup [bold]{render.short_id(e.backup_id)}[/]"
        if e.label:
            name += f" {escape(e.label)}"
        if e.fingerprint:
            name += f", wallet [cyan]{e.fingerprint}[/]"
        style = LEVEL_STYLE[r.level]
        out.print(f"{name}: [{style}]{r.state}[/]", soft_wrap=True)
        ways = r.ways()
        if r.key is not None and r.key.attempts_left is not None:
            ways = [
                f"{w} ({r.key.attempts_left} of {r.key.max_attempts} attempts left)"
                if w.startswith("password")
                else w
                for w in ways
            ]
        out.print(f"  opens with: {escape(', '.join(ways) or 'unknown')}", soft_wrap=True)
        for c in r.copies:
            mark = COPY_MARK.get(c.state, "[red]✗[/]")
            out.print(f"  {mark} {escape(c.location)}", soft_wrap=True)
            when = f"verified {render.when(c.verified)}" if c.verified else "never verified"
            if c.verify_due:
                when = f"[yellow]{when}: verify due[/]"
            line = f"{c.state}, {when}"
            if c.detail:
                line += f"; {escape(c.detail)}"
            out.print(f"      {line}", soft_wrap=True)
        out.print(f"  [{style}]→[/] {escape(r.verdict)}", soft_wrap=True)
    if any(c.verify_due for r in rows for c in r.copies):
        out.print("Run [bold]seedguard backup verify --from LOCATION[/] for each due copy.")


@app.command("status")
def status(json_out: JsonOpt = False) -> None:
    """Can I still recover? For every registered backup: each copy (present, intact, last
    verified), what opens it (password, recovery key, a server-hardened password with the
    attempts left) and a verdict. Needs no password and counts no attempt. Exit 1 when a
    backup is lost, destroyed, missing or locked; 3 when a location or server could not be
    asked; 0 otherwise (one location only, or a verify due, is a warning)."""
    with _progress("Checking locations") as backups:
        rows = backups.health()
    if json_out:
        emit_json(status_json(rows))
    elif not rows:
        out.print("No backups are registered on this device (`seedguard backup create`).")
    else:
        show_health(rows)
    worst = max((r.exit_code for r in rows), default=0)
    if worst:
        raise typer.Exit(worst)


# --- restore ----------------------------------------------------------------------------------


def _restored_json(opened: Opened, count: int) -> dict[str, Any]:
    payload = opened.payload
    base: dict[str, Any] = {"backup_id": opened.header.backup_id, "kind": payload.kind}
    if isinstance(payload, Bip39Payload):
        proof = wallet.prove(payload.mnemonic, payload.passphrase, count=count)
        value = {"mnemonic": payload.mnemonic, **render.proof_json(proof), **base}
        if payload.passphrase:
            value["passphrase"] = payload.passphrase
        return value
    if isinstance(payload, Slip39SharePayload):
        return {**base, "share": payload.share, "fingerprint": payload.fingerprint}
    if isinstance(payload, MpcSharePayload):
        return {**base, "share": payload.share.hex(), "fingerprint": payload.fingerprint}
    assert isinstance(payload, RawPayload)
    return {**base, "data": payload.data.hex()}


@app.command("restore")
def restore(
    location: FromOpt,
    backup_id: IdOpt = None,
    recovery: RecoveryOpt = False,
    old_recovery: OldRecoveryOpt = False,
    count: Annotated[int, typer.Option("--count", help="Addresses per chain to compare.")] = 3,
    revoke: Annotated[
        bool,
        typer.Option(
            "--revoke-other-devices",
            help="A device was lost: join this device to the backup's server accounts and "
            "revoke every other device there.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Open a backup (found by itself when --id is left out) and show the phrase, its
    fingerprint and first addresses to compare with the wallet's."""
    if not 1 <= count <= 100:
        raise UsageError("--count takes 1 to 100.")
    inp = SecretInput()
    secret = _read_secret(inp, recovery or old_recovery)
    try:
        with _progress("Opening") as backups:
            opened = backups.restore(location, secret, backup_id, revoke_other_devices=revoke)
    except AmbiguousBackupError as exc:
        chosen = _choose(exc, inp)
        with _progress("Opening") as backups:
            opened = backups.restore(location, secret, chosen, revoke_other_devices=revoke)
    for note in backups.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    value = _restored_json(opened, count)
    if opened.payload.accounts:  # the seedguard server accounts this backup can rejoin
        value["servers"] = [a.server for a in opened.payload.accounts]
    if json_out:
        emit_json(value)
        return
    payload = opened.payload
    _opened_note(opened)
    out.print(
        f"Restored backup [bold]{render.short_id(opened.header.backup_id)}[/] "
        f"from {escape(location)}."
    )
    if isinstance(payload, Bip39Payload):
        if inp.interactive and out.is_terminal:
            err.input("Press Enter to show the recovery phrase (make sure no one can see it): ")
        out.print("[bold red]Your recovery phrase is on screen: make sure no one is watching.[/]")
        out.print(render.words_table(payload.mnemonic.split()))
        if payload.passphrase:
            out.print(f"Passphrase: {escape(payload.passphrase)}")
        proof = wallet.prove(payload.mnemonic, payload.passphrase, count=count)
        render.show_proof(proof)
        out.print("Compare these addresses with the ones your wallet shows.")
    else:
        out.print_json(data=value)


# --- change-password --------------------------------------------------------------------------


@app.command("change-password")
def change_password(
    backup_id: IdOpt = None,
    recovery: RecoveryOpt = False,
    old_recovery: OldRecoveryOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-wrap every copy under a new password. Each new copy is written and read back before
    the old one is replaced; afterwards the old password opens nothing."""
    inp = SecretInput()
    old: Secret
    if recovery or old_recovery:
        old = from_words(inp.read("recovery key", "Recovery key, twelve words (hidden): "))
    else:
        old = Password(inp.read("old password", "Current backup password (hidden): "))
    new = read_new_password(inp, [], "backup password")
    with _progress("Reading the copies") as backups:
        full_id, results = backups.change_password(old, new, backup_id)
    if json_out:
        emit_json({"backup_id": full_id, "locations": [r.as_dict() for r in results]})
    else:
        out.print(f"Backup [bold]{render.short_id(full_id)}[/]: new password")
        _show_locations(results)
        out.print(
            "[dim]A sync service's own file history (Dropbox, iCloud, Nextcloud versions) may "
            "still hold the old copy: delete those versions there.[/]"
        )
    _finish(results, "re-wrapped (they still open with the old password)")


# --- delete -----------------------------------------------------------------------------------


@app.command("delete")
def delete(
    at: Annotated[str, typer.Option("--at", metavar="LOCATION", help="Where to delete it.")],
    backup_id: Annotated[str, typer.Option("--id", metavar="ID", help="The backup id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete one backup from one location (every version the store keeps)."""
    backups = Backups()
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("Deleting a backup needs --yes when no one can confirm it.")
        entry = backups.registry.get(backup_id)
        others = [c.location for c in entry.copies] if entry else []
        warning = (
            "It is the only copy this device knows of."
            if len(others) <= 1
            else f"This device knows {len(others) - 1} other copies."
        )
        if not typer.confirm(f"Delete backup {backup_id} at {at}? {warning}", err=True):
            raise typer.Exit(1)
    full_id = backups.delete(at, backup_id)
    if json_out:
        emit_json({"backup_id": full_id, "location": at, "deleted": True})
    else:
        out.print(f"Deleted backup {render.short_id(full_id)} at {escape(at)}.")


# --- export -----------------------------------------------------------------------------------


@app.command("export")
def export(
    location: FromOpt,
    backup_id: IdOpt = None,
    armored: Annotated[
        bool, typer.Option("--armor", help="Text (base64 between BEGIN/END lines) to print.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this new file (mode 0600).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy one backup out of a location as a file or as armored text (still encrypted)."""
    if output is None and not armored:
        raise UsageError("Binary output needs --output FILE; use --armor to print text.")
    found = Backups().find(location, backup_id)
    backup_id = found.header.backup_id
    body = armor(found.data).encode("ascii") if armored else found.data
    if output is None:
        if json_out:
            emit_json({"backup_id": backup_id, "armored": body.decode()})
        else:
            sys.stdout.write(body.decode())
        return
    write_private_file(output, body)
    if json_out:
        emit_json({"backup_id": backup_id, "output": str(output)})
    else:
        out.print(f"Wrote backup {backup_id} to {escape(str(output))}.")


# --- copy, keys, recovery-key slots -----------------------------------------------------------


@app.command("copy")
def copy(
    to: Annotated[
        str, typer.Option("--to", metavar="LOCATION", help="The new location for a copy.")
    ],
    backup_id: IdOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Put a copy of a registered backup at one more location (no password: the bytes of a
    copy that is as this device wrote or verified it, written and read back). Repairs a
    location that failed or was lost without making a new backup."""
    with _progress("Copying") as backups:
        result = backups.copy_to(to, backup_id)
        full_id = backups.registry.find(backup_id).backup_id
    if json_out:
        emit_json({"backup_id": full_id, **result.as_dict()})
    else:
        out.print(f"Backup [bold]{render.short_id(full_id)}[/]: copied", soft_wrap=True)
        _show_locations([result])


@app.command("keys")
def keys(backup_id: IdOpt = None, json_out: JsonOpt = False) -> None:
    """The key slots of a registered backup: what opens it (password and its key derivation,
    a server-hardened password with the attempts left, a recovery key). Needs no password."""
    with _progress("Reading the backup") as backups:
        entry, header = backups.header_of(backup_id)
        key = backups.key_state(header)
    slots: list[dict[str, Any]] = []
    params = header.password_kdf()
    slot = header.server_slot()
    if slot is not None:
        slots.append(
            {
                "type": "server",
                "server": slot.server,
                "kdf": _kdf_json(header),
                "state": key.state if key else None,
                "attempts_left": key.attempts_left if key else None,
            }
        )
    elif params is not None:
        slots.append({"type": "password", "kdf": _kdf_json(header)})
    if header.has_recovery_key():
        slots.append({"type": "recovery"})
    if json_out:
        emit_json({"backup_id": entry.backup_id, "slots": slots})
        return
    out.print(f"Backup [bold]{render.short_id(entry.backup_id)}[/]", soft_wrap=True)
    for item in slots:
        if item["type"] == "server":
            left = item["attempts_left"]
            state = f"{item['state']}, {left} attempts left" if left is not None else item["state"]
            out.print(
                f"  password, hardened by {escape(item['server'])} ({state}); "
                f"{params.describe() if params else ''}",
                soft_wrap=True,
            )
        elif item["type"] == "password":
            out.print(f"  password; {params.describe() if params else ''}", soft_wrap=True)
        else:
            out.print("  recovery key (twelve words, opens it without the password or a server)")
    if not header.has_recovery_key():
        out.print("  no recovery key: `seedguard backup add-recovery-key` adds one")


def _slot_change(backup_id: str | None, key: RecoveryKey | None, json_out: bool, verb: str) -> None:
    inp = SecretInput()
    password = Password(inp.read("backup password", "Backup password (hidden): "))
    with _progress("Reading the copies") as backups:
        full_id, results = backups.set_recovery_key(password, key, backup_id)
    written = any(r.ok for r in results)
    if json_out:
        value: dict[str, Any] = {"backup_id": full_id, "locations": [r.as_dict() for r in results]}
        if key is not None and written:
            value["recovery_key"] = to_words(key)
        emit_json(value)
    else:
        out.print(
            f"Backup [bold]{render.short_id(full_id)}[/]: recovery key {verb}", soft_wrap=True
        )
        _show_locations(results)
        if key is not None and written:
            reveal_words(
                inp,
                to_words(key).split(),
                title="BACKUP RECOVERY KEY (not a wallet phrase)",
                subtitle="opens this backup without its password: keep it offline",
                what="recovery key",
            )
        if key is None:
            out.print(
                "[dim]Copies kept elsewhere (a sync service's history) still open with the old "
                "recovery key: delete those versions there.[/]"
            )
    _finish(
        results, f"changed ({'the copies there are as before' if written else 'nothing changed'})"
    )


@app.command("add-recovery-key")
def add_recovery_key(backup_id: IdOpt = None, json_out: JsonOpt = False) -> None:
    """Add a new recovery key (twelve words) to a backup, at every location, crash-safe as
    change-password: it then opens without its password and without its server. A backup
    that had one gets a new one; the old words stop opening the copies seedguard rewrote."""
    _slot_change(backup_id, RecoveryKey.generate(), json_out, "added")


@app.command("remove-recovery-key")
def remove_recovery_key(
    backup_id: IdOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove a backup's recovery key at every location; the password (which must open the
    backup) stays the only way in, so a server-hardened backup then opens only with its
    server."""
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("Removing a recovery key needs --yes when no one can confirm it.")
        if not typer.confirm(
            "Remove the recovery key? A hardened backup then depends on its server.", err=True
        ):
            raise typer.Exit(1)
    _slot_change(backup_id, None, json_out, "removed")


# --- repair-password --------------------------------------------------------------------------

app.command("repair-password")(repair_cli.backup_repair_password)

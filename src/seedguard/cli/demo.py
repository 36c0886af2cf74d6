"""`seedguard demo` (and `make run`): the end-to-end walkthrough on a throwaway wallet."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
from seedguard.envelope import open_envelope
from seedguard.errors import SeedguardError, UnreachableError, WrongSecretError
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


@dataclass(frozen=True)
class ServerRun:
    server: str
    backup_id: str
    copy_alone_opens: bool
    attempts_left: list[int]
    restored_fingerprint: str
    addresses_match: bool


@contextlib.contextmanager
def _local_server(root: Path) -> Iterator[str]:
    """`seedguard server run` on SQLite in `root`, on a free loopback port."""
    import httpx

    from seedguard.server import db

    url = f"sqlite:///{root / 'server' / 'seedguard.db'}"
    db.migrate(url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "seedguard", "server", "run", "--port", str(port)]
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*command, "--database", url, "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SEEDGUARD_HOME": str(root / "server")},
    )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(address + "/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise UnreachableError(f"The demo server did not start (see {root}/server.log).")
            time.sleep(0.1)
        yield address
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        log.close()


def _server_walkthrough(mnemonic: str, proof: wallet.WalletProof, status: object) -> ServerRun:
    """Harden a backup with a local server; a thief's copy does not open; wrong passwords
    count down; the right one restores on a new phone."""
    root = Path(tempfile.mkdtemp(prefix="seedguard-demo-server-"))
    try:
        report = getattr(status, "update", lambda _: None)
        password = Password(_demo_password())
        with _local_server(root) as server:
            phone = Backups(root / "phone", report=report)
            cloud = str(root / "cloud-drive")
            made = phone.create(bip39_payload(mnemonic), password, [cloud], harden=server)
            (stolen,) = (root / "cloud-drive").iterdir()
            try:
                open_envelope(stolen.read_bytes(), password)  # the right password, no server
                alone = True
            except WrongSecretError:
                alone = False
            new_phone = Backups(root / "new-phone", report=report)
            left = []
            for _ in range(2):
                try:
                    new_phone.restore(cloud, Password(_demo_password()))
                except WrongSecretError as exc:
                    left.append(exc.attempts_left if exc.attempts_left is not None else -1)
            opened = new_phone.restore(cloud, password)
        restored = opened.payload.mnemonic  # type: ignore[union-attr]
        again = wallet.prove(restored, count=3, change=False)
        return ServerRun(server, made.backup_id, alone, left, again.fingerprint, again == proof)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class MpcRun:
    server: str
    wallet_id: str
    address: str
    output_key: str
    first_signature_valid: bool
    recovered_address: str
    second_signature_valid: bool
    lost_device_refused: str
    recovery_key: str  # what `mpc recover` did with the recovery key: kept, new or none
    exit_without_server: bool  # the key rebuilt offline, server stopped, gives the address


def _mpc_walkthrough(status: object) -> MpcRun:
    """A 2-of-3 FROST wallet with a local server: made without a dealer, signs, the phone is
    lost, the cloud share and the server recover it (shares refreshed), it signs again."""
    from seedguard.mpc.wallet import MpcWallets
    from seedguard.threshold.keys import verify

    root = Path(tempfile.mkdtemp(prefix="seedguard-demo-mpc-"))
    try:
        report = getattr(status, "update", lambda _: None)
        password = Password(_demo_password())
        with _local_server(root) as server:
            cloud = str(root / "cloud-drive")
            phone = MpcWallets(root / "phone", report=report)
            made = phone.create(
                server, cloud, password, label="demo MPC wallet", raw_signing=True
            )  # the demo signs a raw 32-byte hash
            message = secrets.token_bytes(32)
            first, output_key = phone.sign(made.wallet_id, message)
            new_phone = MpcWallets(root / "new-phone", report=report)
            again = new_phone.recover(
                server, cloud, password, keep_recovery_key=lambda: made.recovery_key
            )
            second, _ = new_phone.sign(again.wallet_id, message)
            try:
                phone.sign(made.wallet_id, message)
                refused = "it still signed"
            except SeedguardError as exc:
                refused = exc.message
        # The server is gone: the emergency exit, with the recovery key kept through recovery.
        exported = new_phone.export_key(again.wallet_id, cloud, made.recovery_key or password)
        return MpcRun(
            server,
            made.wallet_id,
            made.address,
            output_key.hex(),
            verify(first, message, output_key),
            again.address,
            verify(second, message, output_key),
            refused,
            again.recovery,
            exported.address == made.address,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class SharesRun:
    shares: list[str]
    combined_fingerprint: str
    wrong_word_found: int | None


def _shares_walkthrough(mnemonic: str) -> SharesRun:
    """2-of-3 SLIP-39 shares of the phrase (bip39 mode); one share lost; the other two give
    the same wallet back; a miswritten word in a share is pointed at."""
    from seedguard.mnemonic import slip39
    from seedguard.social import shares as modes

    [shares], _ = modes.split("bip39", [slip39.GroupSpec(2, 3)], phrase=mnemonic)
    back = modes.combine("bip39", [shares[2], shares[0]])
    words = shares[1].split()
    words[5] = slip39.WORDS[(slip39.INDEX[words[5]] + 1) % 1024]
    try:
        slip39.decode(" ".join(words))
        found = None
    except slip39.Slip39Error as exc:
        found = exc.positions[0] if exc.positions else None
    return SharesRun(shares, back.fingerprint, found)


def miswrite(word: str) -> str:
    """The word with its last letter changed to one that makes no word (nor a word's prefix):
    another real word would pass the check one time in sixteen, and the demo would show
    nothing caught."""
    english = bip39.wordlist("english")
    return next(t for t in (word[:-1] + c for c in "aeiouyzxq") if english.lookup(t) is None)


def demo(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Walk through every capability on a throwaway wallet. Never fund it."""
    from seedguard import extras

    extras.require("server")  # its last parts run a local server: say so before the first
    created = wallet.create(12)
    words = created.mnemonic.split()
    proof = wallet.prove(created.mnemonic, count=3, change=False)

    # A typical mistake: one word miswritten. The check names it and the closest words.
    typo_at = 4
    typo = miswrite(words[typo_at])
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
    with err.status("Starting a local seedguard server…") as status:
        try:
            hardened = _server_walkthrough(created.mnemonic, proof, status)
        except SeedguardError as exc:
            raise SeedguardError(
                f"The server part of the walkthrough failed: {exc.message}"
            ) from None
    shares = _shares_walkthrough(created.mnemonic)
    with err.status("MPC wallet: key generation with a local server…") as status:
        try:
            mpc = _mpc_walkthrough(status)
        except SeedguardError as exc:
            raise SeedguardError(f"The MPC part of the walkthrough failed: {exc.message}") from None
    mpc_ok = mpc.first_signature_valid and mpc.second_signature_valid
    mpc_ok = mpc_ok and mpc.recovered_address == mpc.address and mpc.exit_without_server
    matches = matches and backup.addresses_match and hardened.addresses_match and mpc_ok
    matches = matches and shares.combined_fingerprint == created.fingerprint
    matches = matches and not hardened.copy_alone_opens

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
                "shares": {
                    "mode": "bip39",
                    "shares": shares.shares,
                    "combined_fingerprint": shares.combined_fingerprint,
                    "wrong_word_found_at": shares.wrong_word_found,
                },
                "hardened_backup": {
                    "server": hardened.server,
                    "backup_id": hardened.backup_id,
                    "copy_alone_opens": hardened.copy_alone_opens,
                    "attempts_left_after_wrong_passwords": hardened.attempts_left,
                    "restored_fingerprint": hardened.restored_fingerprint,
                    "addresses_match": hardened.addresses_match,
                },
                "mpc": {
                    "server": mpc.server,
                    "wallet_id": mpc.wallet_id,
                    "address": mpc.address,
                    "output_key": mpc.output_key,
                    "first_signature_valid": mpc.first_signature_valid,
                    "recovered_address": mpc.recovered_address,
                    "second_signature_valid": mpc.second_signature_valid,
                    "lost_device_refused": mpc.lost_device_refused,
                    "recovery_key": mpc.recovery_key,
                    "exit_without_server": mpc.exit_without_server,
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
    out.print(Rule("6. A server that allows 10 guesses, then destroys the key", align="left"))
    out.print(
        f"A local seedguard server ({hardened.server}, SQLite) hardens backup "
        f"{hardened.backup_id}: its key needs the password AND the server's OPRF key."
    )
    verdict = "[red]✗ it opened[/]" if hardened.copy_alone_opens else "[green]✓ it stays shut[/]"
    out.print(f"A thief's copy of the file, tried with the right password offline: {verdict}")
    for n, left in enumerate(hardened.attempts_left, 1):
        out.print(f"Wrong password #{n} on the new phone: [yellow]{left} attempts left[/]")
    out.print(
        f"The right password restores wallet [bold cyan]{hardened.restored_fingerprint}[/] "
        "and resets the count."
    )
    verdict = "[green]✓ match[/]" if hardened.addresses_match else "[red]✗ DO NOT MATCH[/]"
    out.print(f"Fingerprint and first addresses after the restore: {verdict}")
    out.print(Rule("7. Social recovery: three SLIP-39 shares, any two recover", align="left"))
    out.print("BIP39 MODE: the shares hold this phrase's entropy (the same wallet comes back).")
    for n, share in enumerate(shares.shares, 1):
        out.print(f"  Share {n} of 3: {' '.join(share.split()[:4])} … (20 words)")
    verdict = (
        "[green]✓ same wallet[/]"
        if shares.combined_fingerprint == created.fingerprint
        else "[red]✗ ANOTHER WALLET[/]"
    )
    out.print(
        f"Share 2 is lost; shares 3 and 1 give back wallet "
        f"[bold cyan]{shares.combined_fingerprint}[/]: {verdict}"
    )
    out.print(
        f"A miswritten word in share 2 is pointed at (word {shares.wrong_word_found}), never "
        "corrected. Guardians, sealed shares and the relay: `seedguard guardian --help`."
    )
    out.print(Rule("8. An MPC wallet: a 2-of-3 key that never exists whole", align="left"))
    out.print(
        f"The phone and a local server ({mpc.server}) made wallet {mpc.wallet_id[:12]} by "
        "ChillDKG: shares for the phone, the server and the cloud backup; no one held the key."
    )
    out.print(f"Address: [bold]{mpc.address}[/]")
    verdict = "[green]✓ valid[/]" if mpc.first_signature_valid else "[red]✗ INVALID[/]"
    out.print(f"Phone + server sign a message (BIP-445 FROST, BIP-340 check): {verdict}")
    verdict = (
        "[green]✓ same address[/]" if mpc.recovered_address == mpc.address else "[red]✗ ANOTHER[/]"
    )
    out.print(
        f"The phone is lost. The cloud share and the server recover it on a new phone, shares "
        f"refreshed: {verdict}"
    )
    verdict = "[green]✓ valid[/]" if mpc.second_signature_valid else "[red]✗ INVALID[/]"
    out.print(f"The new phone + server sign again: {verdict}")
    out.print(f"The lost phone tries to sign: [yellow]{escape(mpc.lost_device_refused)}[/]")
    verdict = "[green]✓ same address[/]" if mpc.exit_without_server else "[red]✗ FAILED[/]"
    out.print(
        f"The recovery key made with the wallet was {mpc.recovery_key} through the recovery. "
        f"The server is stopped; the emergency exit rebuilds the key offline from the new "
        f"phone's share and the cloud backup, opened by that recovery key: {verdict}"
    )
    out.print(Rule())
    out.print(
        "Next: `seedguard seed new`, `seedguard seed check`, `seedguard backup create --to ...`, "
        "`seedguard backup status`, `seedguard server run`, `seedguard shamir split`, "
        "`seedguard mpc create` "
        "(`seedguard --help`)."
    )
    if not matches:
        raise typer.Exit(1)

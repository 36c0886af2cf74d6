"""The owner's side: split a secret among guardians, one share each, sealed to each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seedguard.errors import InputError, UsageError
from seedguard.fs import write_private_file
from seedguard.mnemonic import slip39
from seedguard.social import relay as relays
from seedguard.social import sealed
from seedguard.social.guardian import check_code, fingerprint, mailbox_of
from seedguard.social.shares import Mode, split


@dataclass(frozen=True)
class Delivery:
    guardian: str  # the guardian's fingerprint
    path: Path | None  # the sealed file, when written
    deposit: str | None = None  # the relay deposit, when deposited


@dataclass(frozen=True)
class Setup:
    mode: Mode
    fingerprint: str
    threshold: int
    deliveries: tuple[Delivery, ...]
    delay: float | None = None


def setup(
    codes: list[str],
    threshold: int,
    out: Path | None,
    *,
    mode: Mode = "bip39",
    phrase: str | None = None,
    passphrase: str = "",
    label: str = "",
    relay: str | None = None,
    delay: float | None = None,
    home: Path | None = None,
) -> Setup:
    """Split (a phrase's entropy, or a new SLIP-39 master secret) into one share per guardian,
    threshold of them needed, and seal each share to its guardian: written as files in `out`,
    and/or deposited in each guardian's mailbox on `relay` (with the owner's delay)."""
    if out is None and relay is None:
        raise UsageError("Say where the sealed shares go: --out FOLDER, --relay URL, or both.")
    checked = [check_code(c) for c in codes]
    if relay is not None:
        missing = [fingerprint(c) for c in checked if mailbox_of(c) is None]
        if missing:
            raise UsageError(
                f"Guardian {missing[0]} has no mailbox on a relay: ask them for the code that "
                "`seedguard guardian init --relay URL` (or `guardian code`) prints."
            )
    if len(set(checked)) != len(checked):
        raise UsageError("The same guardian code was given twice: each guardian gets one share.")
    if len(checked) < 2:
        raise UsageError("Name at least two guardians (--guardian CODE for each).")
    if not 2 <= threshold <= len(checked):
        raise UsageError(
            f"--threshold must be 2 to {len(checked)} (the number of guardians), not {threshold}."
        )
    [shares], print_fingerprint = split(
        mode, [slip39.GroupSpec(threshold, len(checked))], phrase=phrase, passphrase=passphrase
    )
    targets: list[Path | None] = [
        out / f"{fingerprint(code)}{sealed.SUFFIX}" if out is not None else None for code in checked
    ]
    clashes = [str(t) for t in targets if t is not None and t.exists()]
    if clashes:
        raise InputError(f"{clashes[0]} already exists: choose another --out folder.")
    applied = None
    if relay is not None:
        applied = relays.set_delay(relay, delay if delay is not None else 48 * 3600, home)
    if out is not None:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = sealed.now()
    deliveries = []
    for member, (code, share, target) in enumerate(zip(checked, shares, targets, strict=True), 1):
        item = sealed.SealedShare(
            share, mode, label, 1, 1, 1, member, len(checked), threshold, created
        )
        data = sealed.seal(item, code)
        if target is not None:
            write_private_file(target, data)
        deposit_id = None
        if relay is not None:
            mailbox = mailbox_of(code)
            assert mailbox is not None
            deposit_id = relays.deposit(relay, mailbox, data, home)
        deliveries.append(Delivery(fingerprint(code), target, deposit_id))
    return Setup(mode, print_fingerprint, threshold, tuple(deliveries), applied)

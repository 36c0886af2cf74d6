"""The owner's side: split a secret among guardians, one share each, sealed to each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from seedguard import wallet
from seedguard.errors import InputError, UsageError
from seedguard.fs import write_private_file
from seedguard.hd import bip32
from seedguard.mnemonic import bip39, slip39
from seedguard.social import sealed
from seedguard.social.guardian import check_code, fingerprint

Mode = Literal["bip39", "slip39"]


@dataclass(frozen=True)
class Delivery:
    guardian: str  # the guardian's fingerprint
    path: Path


@dataclass(frozen=True)
class Setup:
    mode: Mode
    fingerprint: str
    threshold: int
    deliveries: tuple[Delivery, ...]


def setup(
    codes: list[str],
    threshold: int,
    out: Path,
    *,
    mode: Mode = "bip39",
    phrase: str | None = None,
    passphrase: str = "",
    label: str = "",
) -> Setup:
    """Split (a phrase's entropy, or a new SLIP-39 master secret) into one share per guardian,
    threshold of them needed, and write each share sealed to its guardian in `out`."""
    checked = [check_code(c) for c in codes]
    if len(set(checked)) != len(checked):
        raise UsageError("The same guardian code was given twice: each guardian gets one share.")
    if len(checked) < 2:
        raise UsageError("Name at least two guardians (--guardian CODE for each).")
    if not 2 <= threshold <= len(checked):
        raise UsageError(
            f"--threshold must be 2 to {len(checked)} (the number of guardians), not {threshold}."
        )
    if mode == "bip39":
        if phrase is None:
            raise UsageError("bip39 mode needs the phrase to split.")
        full = bip39.validate(phrase).mnemonic
        secret, slip_passphrase = bip39.validate(full).entropy, ""
        print_fingerprint = wallet.fingerprint(full, passphrase)
    else:
        secret, slip_passphrase = slip39.new_master_secret(), passphrase
        print_fingerprint = bip32.master_key(secret).fingerprint.hex()
    [shares] = slip39.split(secret, [slip39.GroupSpec(threshold, len(checked))], 1, slip_passphrase)
    targets = [out / f"{fingerprint(code)}{sealed.SUFFIX}" for code in checked]
    clashes = [str(t) for t in targets if t.exists()]
    if clashes:
        raise InputError(f"{clashes[0]} already exists: choose another --out folder.")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = sealed.now()
    deliveries = []
    for member, (code, share, target) in enumerate(zip(checked, shares, targets, strict=True), 1):
        item = sealed.SealedShare(
            share, mode, label, 1, 1, 1, member, len(checked), threshold, created
        )
        write_private_file(target, sealed.seal(item, code))
        deliveries.append(Delivery(fingerprint(code), target))
    return Setup(mode, print_fingerprint, threshold, tuple(deliveries))

"""A guardian's identity: an X25519 key pair in the age format (through pyrage, the Rust age
implementation), kept on the guardian's device encrypted under a passphrase (age's scrypt
mode). The public half is the guardian code an owner seals a share to; a short fingerprint of
it is read aloud to compare codes out of band."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pyrage import DecryptError, IdentityError, RecipientError, passphrase, x25519

from seedguard import home as homes
from seedguard.errors import InputError, UsageError, WrongSecretError
from seedguard.fs import write_private_file

FOLDER = "guardian"
IDENTITY = "identity.age"  # the secret key, encrypted under the guardian's passphrase
CODE = "code.txt"  # the public key (not secret), so the code can be shown without a passphrase


MAILBOX = "mailbox.json"  # {"relay", "mailbox"} once the guardian opened one on a relay


def recipient(code: str) -> str:
    """The age recipient part of a guardian code (`age1...` or `age1...:<mailbox>`)."""
    return check_code(code).split(":", 1)[0]


def mailbox_of(code: str) -> str | None:
    parts = check_code(code).split(":", 1)
    return parts[1] if len(parts) == 2 else None


def fingerprint(code: str) -> str:
    """Eight letters and digits from SHA-256 of the code, to read aloud: "K7QM-2XDA"."""
    digest = hashlib.sha256(recipient(code).encode()).digest()
    text = base64.b32encode(digest[:5]).decode()
    return f"{text[:4]}-{text[4:]}"


def check_code(code: str) -> str:
    """A guardian code is an age X25519 recipient (age1...), with `:<mailbox id>` when the
    guardian has a mailbox on a relay."""
    text = code.strip()
    key, _, mailbox = text.partition(":")
    try:
        x25519.Recipient.from_str(key)
        if mailbox and not re.fullmatch(r"[0-9a-f]{32}", mailbox):
            raise ValueError
    except (RecipientError, ValueError):
        raise UsageError(
            f"{text[:12]!r}... is not a guardian code: ask the guardian for the code that "
            "`seedguard guardian init` printed (it starts with age1)."
        ) from None
    return text


@dataclass(frozen=True)
class Guardian:
    folder: Path

    @classmethod
    def at(cls, home: Path | None = None) -> Guardian:
        return cls((home or homes.home()) / FOLDER)

    @property
    def exists(self) -> bool:
        return (self.folder / IDENTITY).exists()

    def create(self, secret: str) -> str:
        """Make the identity; returns the guardian code. Never replaces an existing one."""
        if self.exists:
            raise InputError(
                f"This device already has a guardian identity ({self.folder}): shares sealed "
                "to it would be lost if it were replaced. Show its code with `guardian code`."
            )
        identity = x25519.Identity.generate()
        code = str(identity.to_public())
        homes.ensure(self.folder.parent)
        homes.ensure(self.folder)
        sealed = passphrase.encrypt(str(identity).encode(), secret)
        write_private_file(self.folder / IDENTITY, sealed)
        write_private_file(self.folder / CODE, code.encode() + b"\n")
        return code

    def code(self) -> str:
        try:
            key = check_code((self.folder / CODE).read_text())
        except FileNotFoundError:
            raise InputError(
                "This device has no guardian identity: run `seedguard guardian init`."
            ) from None
        box = self.mailbox()
        return f"{key}:{box[1]}" if box else key

    def mailbox(self) -> tuple[str, str] | None:
        """(relay, mailbox id) when this guardian has a mailbox on a relay."""
        try:
            raw = json.loads((self.folder / MAILBOX).read_text())
            return str(raw["relay"]), str(raw["mailbox"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{self.folder / MAILBOX} is damaged.") from None

    def set_mailbox(self, relay: str, mailbox: str) -> None:
        data = json.dumps({"relay": relay, "mailbox": mailbox}).encode() + b"\n"
        homes.write_atomic(self.folder / MAILBOX, data)

    def identity(self, secret: str) -> x25519.Identity:
        try:
            sealed = (self.folder / IDENTITY).read_bytes()
        except FileNotFoundError:
            raise InputError(
                "This device has no guardian identity: run `seedguard guardian init`."
            ) from None
        try:
            return x25519.Identity.from_str(passphrase.decrypt(sealed, secret).decode())
        except DecryptError:
            raise WrongSecretError("Wrong guardian passphrase.") from None
        except (IdentityError, UnicodeDecodeError, ValueError):
            raise InputError(f"{self.folder / IDENTITY} is damaged.") from None

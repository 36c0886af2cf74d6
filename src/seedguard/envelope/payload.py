"""What an envelope seals: a typed secret, padded so its size does not tell 12 words from 24.

Plaintext layout: a 4-byte big-endian length, that many bytes of canonical JSON, then zero
bytes up to a multiple of PAD_BLOCK. The wallet fingerprint travels in here, never in clear.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field, replace
from typing import Any

from seedguard.envelope.header import b64, canonical_json, unb64
from seedguard.errors import EnvelopeError

PAD_BLOCK = 256
MAX_PLAINTEXT = 1024 * 1024
FINGERPRINT = re.compile(r"^[0-9a-f]{8}$")


@dataclass(frozen=True, repr=False)
class AccountCredential:
    """A seedguard server account's recovery credential (256 random bits): with it a new
    device joins the account after the old one is lost. Kept only inside backups."""

    server: str
    account: str
    credential: bytes

    def as_dict(self) -> dict[str, str]:
        return {"account": self.account, "credential": b64(self.credential), "server": self.server}

    def __repr__(self) -> str:
        return f"AccountCredential(server={self.server!r}, account={self.account!r}, ***)"


Accounts = tuple[AccountCredential, ...]


@dataclass(frozen=True, repr=False)
class Bip39Payload:
    """A BIP-39 phrase, its optional passphrase, and the fingerprint of the wallet they open."""

    mnemonic: str
    passphrase: str
    fingerprint: str
    accounts: Accounts = field(default=(), compare=True)
    kind = "bip39"

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fingerprint": self.fingerprint, "mnemonic": self.mnemonic}
        if self.passphrase:
            out["passphrase"] = self.passphrase
        return out

    def __repr__(self) -> str:
        return f"Bip39Payload(fingerprint={self.fingerprint!r}, ...)"


@dataclass(frozen=True, repr=False)
class Slip39SharePayload:
    """One SLIP-39 share (its words); the fingerprint when the wallet is known."""

    share: str
    fingerprint: str | None = None
    accounts: Accounts = field(default=(), compare=True)
    kind = "slip39-share"

    def fields(self) -> dict[str, Any]:
        return _with_fingerprint({"share": self.share}, self.fingerprint)

    def __repr__(self) -> str:
        return f"Slip39SharePayload(fingerprint={self.fingerprint!r}, ...)"


@dataclass(frozen=True, repr=False)
class MpcSharePayload:
    """One share of an MPC key (opaque bytes defined by `seedguard.mpc`)."""

    share: bytes
    fingerprint: str | None = None
    accounts: Accounts = field(default=(), compare=True)
    kind = "mpc-share"

    def fields(self) -> dict[str, Any]:
        return _with_fingerprint({"share": b64(self.share)}, self.fingerprint)

    def __repr__(self) -> str:
        return f"MpcSharePayload(fingerprint={self.fingerprint!r}, ...)"


@dataclass(frozen=True, repr=False)
class RawPayload:
    """Any bytes the caller wants sealed."""

    data: bytes
    accounts: Accounts = field(default=(), compare=True)
    kind = "raw"

    def fields(self) -> dict[str, Any]:
        return {"data": b64(self.data)}

    def __repr__(self) -> str:
        return f"RawPayload({len(self.data)} bytes)"


Payload = Bip39Payload | Slip39SharePayload | MpcSharePayload | RawPayload


def _with_fingerprint(fields: dict[str, Any], fingerprint: str | None) -> dict[str, Any]:
    if fingerprint is not None:
        fields["fingerprint"] = fingerprint
    return fields


def encode(payload: Payload) -> bytes:
    fields: dict[str, Any] = {"kind": payload.kind, **payload.fields()}
    if payload.accounts:
        fields["accounts"] = [a.as_dict() for a in payload.accounts]
    body = canonical_json(fields)
    if len(body) > MAX_PLAINTEXT:
        raise EnvelopeError(f"The secret is larger than {MAX_PLAINTEXT // 1024} KiB.")
    framed = struct.pack(">I", len(body)) + body
    return framed + bytes(-len(framed) % PAD_BLOCK)


def _bad(detail: str) -> EnvelopeError:
    return EnvelopeError(f"The backup opened but its content is malformed ({detail}).")


def _str(raw: dict[str, Any], key: str, required: bool = True) -> Any:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(f"{key} is missing")
    return value


def _fp(raw: dict[str, Any], required: bool) -> Any:
    value = _str(raw, "fingerprint", required)
    if value is not None and not FINGERPRINT.match(value):
        raise _bad("the fingerprint is malformed")
    return value


def _accounts(raw: Any) -> Accounts:
    if not isinstance(raw, list) or len(raw) > 16:
        raise _bad("the account list is malformed")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"account", "credential", "server"}:
            raise _bad("an account entry is malformed")
        out.append(
            AccountCredential(
                _str(item, "server"),
                _str(item, "account"),
                unb64(item["credential"], "a credential", 32),
            )
        )
    return tuple(out)


def with_accounts(payload: Payload, accounts: Accounts) -> Payload:
    """The payload carrying `accounts` (merged by server: the newest credential wins)."""
    merged = {a.server: a for a in payload.accounts}
    merged.update({a.server: a for a in accounts})
    return replace(payload, accounts=tuple(merged[k] for k in sorted(merged)))


def decode(plaintext: bytes, kind: str) -> Payload:
    """Parse a decrypted plaintext; `kind` is the header's, which the payload must repeat."""
    if len(plaintext) < 4 or len(plaintext) % PAD_BLOCK:
        raise _bad("bad padding")
    (size,) = struct.unpack(">I", plaintext[:4])
    if size > len(plaintext) - 4 or any(plaintext[4 + size :]):
        raise _bad("bad padding")
    try:
        raw = json.loads(plaintext[4 : 4 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _bad("not JSON") from None
    if not isinstance(raw, dict) or raw.get("kind") != kind:
        raise _bad("its kind differs from the header's")
    allowed = {
        "bip39": {"kind", "mnemonic", "passphrase", "fingerprint", "accounts"},
        "slip39-share": {"kind", "share", "fingerprint", "accounts"},
        "mpc-share": {"kind", "share", "fingerprint", "accounts"},
        "raw": {"kind", "data", "accounts"},
    }[kind]
    if not set(raw) <= allowed:
        raise _bad("unexpected fields")
    try:
        accounts = _accounts(raw.get("accounts", []))
        if kind == "bip39":
            passphrase = raw.get("passphrase", "")
            if not isinstance(passphrase, str):
                raise _bad("the passphrase is malformed")
            return Bip39Payload(_str(raw, "mnemonic"), passphrase, _fp(raw, True), accounts)
        if kind == "slip39-share":
            return Slip39SharePayload(_str(raw, "share"), _fp(raw, False), accounts)
        if kind == "mpc-share":
            share = unb64(_str(raw, "share"), "the share")
            return MpcSharePayload(share, _fp(raw, False), accounts)
        return RawPayload(unb64(raw.get("data", ""), "the data"), accounts)
    except EnvelopeError as exc:  # unb64 speaks of the header; this is the sealed content
        if "content is malformed" in exc.message:
            raise
        raise _bad("bytes that are not base64url") from None

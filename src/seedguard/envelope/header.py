"""The envelope header: what a backup reveals without its password (docs/formats/envelope.md).

Canonical JSON (sorted keys, no spaces, UTF-8, integers and strings only) so that the exact
bytes can serve as associated data: a header that parses but does not re-encode to the same
bytes is refused. KDF parameters are bounded here, before any KDF can run.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from seedguard.errors import EnvelopeError

PAYLOAD_KINDS = ("bip39", "slip39-share", "mpc-share", "raw")
MAX_SLOTS = 8
MAX_LABEL_CHARS = 64
SALT_BYTES = 16
# Matched with fullmatch: `$` would accept a trailing newline.
ID_PATTERN = re.compile(r"[0-9a-f]{32}")
CREATED_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
# What any header value may be (slots of unknown types included): JSON objects, arrays,
# integers within 64 bits and strings of Unicode scalar values, nested at most this deep.
MAX_DEPTH = 8
MAX_INT_DIGITS = 19
INT_BOUND = 2**63

# What a file may ask of the machine that opens it. Checked before Argon2id runs.
MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
MAX_ITERATIONS = 32
MAX_PARALLELISM = 64


@dataclass(frozen=True)
class Argon2idParams:
    """Argon2id cost: memory in KiB, passes, lanes (RFC 9106 m, t, p)."""

    memory_kib: int
    iterations: int
    parallelism: int

    def describe(self) -> str:
        return f"Argon2id m={self.memory_kib // 1024} MiB t={self.iterations} p={self.parallelism}"

    def as_dict(self) -> dict[str, int]:
        return {"m": self.memory_kib, "t": self.iterations, "p": self.parallelism}

    def check_bounds(self) -> None:
        """Refuse parameters no legitimate backup uses, before the KDF allocates anything."""
        m, t, p = self.memory_kib, self.iterations, self.parallelism
        if not 1 <= p <= MAX_PARALLELISM:
            raise EnvelopeError(
                f"The backup asks for Argon2id parallelism {p}; seedguard accepts 1 to "
                f"{MAX_PARALLELISM}. The file is damaged or not made by seedguard."
            )
        if not 8 * p <= m <= MAX_MEMORY_KIB:
            raise EnvelopeError(
                f"The backup asks for {_size(m)} of Argon2id memory; seedguard accepts "
                f"{_size(8 * p)} to {_size(MAX_MEMORY_KIB)}. The file is damaged or hostile."
            )
        if not 1 <= t <= MAX_ITERATIONS:
            raise EnvelopeError(
                f"The backup asks for {t} Argon2id passes; seedguard accepts 1 to "
                f"{MAX_ITERATIONS}. The file is damaged or hostile."
            )


def _size(kib: int) -> str:
    if kib >= 1024 * 1024:
        return f"{kib / (1024 * 1024):g} GiB"
    if kib >= 1024:
        return f"{kib / 1024:g} MiB"
    return f"{kib} KiB"


@dataclass(frozen=True)
class PasswordSlot:
    """The data key wrapped under Argon2id(password, salt)."""

    kdf: Argon2idParams
    salt: bytes
    nonce: bytes
    wrapped: bytes
    type: str = field(default="password", init=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kdf": {"alg": "argon2id", **self.kdf.as_dict(), "salt": b64(self.salt)},
            "nonce": b64(self.nonce),
            "type": self.type,
            "wrapped": b64(self.wrapped),
        }


@dataclass(frozen=True)
class RecoverySlot:
    """The data key wrapped under HKDF-SHA256(recovery key, salt): the key is 128 random bits."""

    salt: bytes
    nonce: bytes
    wrapped: bytes
    type: str = field(default="recovery", init=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kdf": {"alg": "hkdf-sha256", "salt": b64(self.salt)},
            "nonce": b64(self.nonce),
            "type": self.type,
            "wrapped": b64(self.wrapped),
        }


SERVER_KDF = "argon2id+oprf-ristretto255-sha512"
MAX_SERVER_CHARS = 300
SERVER_PATTERN = re.compile(r"https?://[A-Za-z0-9.\[\]:-]+:[0-9]{1,5}")


@dataclass(frozen=True)
class ServerSlot:
    """The data key wrapped under a key derived from Argon2id(password, salt) and the RFC 9497
    OPRF output of the server's per-backup key; `handle` lets the server find that key."""

    server: str
    handle: bytes
    kdf: Argon2idParams
    salt: bytes
    nonce: bytes
    wrapped: bytes
    type: str = field(default="server", init=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "handle": b64(self.handle),
            "kdf": {"alg": SERVER_KDF, **self.kdf.as_dict(), "salt": b64(self.salt)},
            "nonce": b64(self.nonce),
            "server": self.server,
            "type": self.type,
            "wrapped": b64(self.wrapped),
        }


@dataclass(frozen=True)
class OtherSlot:
    """A slot of a kind this version does not open (room for later kinds): kept verbatim."""

    type: str
    fields: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.fields)


Slot = PasswordSlot | RecoverySlot | ServerSlot | OtherSlot


@dataclass(frozen=True)
class Header:
    backup_id: str
    kind: str
    created: str
    label: str | None
    nonce: bytes
    slots: tuple[Slot, ...]

    def as_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "created": self.created,
            "id": self.backup_id,
            "kind": self.kind,
            "nonce": b64(self.nonce),
            "slots": [slot.as_dict() for slot in self.slots],
        }
        if self.label is not None:
            value["label"] = self.label
        return value

    def encode(self) -> bytes:
        return canonical_json(self.as_dict())

    def password_kdf(self) -> Argon2idParams | None:
        for slot in self.slots:
            if isinstance(slot, PasswordSlot | ServerSlot):
                return slot.kdf
        return None

    def server_slot(self) -> ServerSlot | None:
        return next((s for s in self.slots if isinstance(s, ServerSlot)), None)

    def has_recovery_key(self) -> bool:
        return any(isinstance(slot, RecoverySlot) for slot in self.slots)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise _damaged(f"{what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _damaged(f"{what} is not base64url") from None
    if size is not None and len(data) != size:
        raise _damaged(f"{what} has {len(data)} bytes instead of {size}")
    return data


def _damaged(detail: str) -> EnvelopeError:
    return EnvelopeError(f"The backup header is damaged ({detail}): use another copy.")


def check_label(label: str) -> str:
    """Labels are short NFC text without control characters; they are readable by anyone."""
    label = unicodedata.normalize("NFC", label.strip())
    if not label:
        raise EnvelopeError("The label is empty: leave it out or give some text.")
    if len(label) > MAX_LABEL_CHARS:
        raise EnvelopeError(f"The label is longer than {MAX_LABEL_CHARS} characters.")
    if any(unicodedata.category(c)[0] == "C" for c in label):
        raise EnvelopeError("The label holds control characters: use plain text.")
    return label


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _damaged("a key appears twice")
    return dict(pairs)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _damaged("an integer is out of range")
    return int(text)


def _no_float(text: str) -> Any:
    raise _damaged(f"{text[:12]!r} is not an integer or a string")


def _check_value(value: Any, depth: int) -> None:
    """Only what the format allows, anywhere in the header: objects, arrays, 64-bit integers
    and strings of Unicode scalar values (a lone surrogate from a `\\ud800` escape is not one),
    at most MAX_DEPTH deep. No null, no booleans, no floats."""
    if depth > MAX_DEPTH:
        raise _damaged("it is nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, depth + 1)
            _check_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, depth + 1)
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _damaged("a string is not valid UTF-8 text") from None
    elif type(value) is int:
        if not -INT_BOUND <= value < INT_BOUND:
            raise _damaged("an integer is out of range")
    else:
        raise _damaged(f"a value of type {type(value).__name__} is not allowed")


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise _damaged(f"{what} is not an integer")
    return value


def _parse_slot(raw: Any, index: int) -> Slot:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise _damaged(f"key slot {index + 1} has no type")
    kind = raw["type"]
    if kind == "server":
        return _parse_server_slot(raw, index)
    if kind not in ("password", "recovery"):
        return OtherSlot(kind, tuple(sorted(raw.items())))
    if set(raw) != {"kdf", "nonce", "type", "wrapped"} or not isinstance(raw["kdf"], dict):
        raise _damaged(f"key slot {index + 1} has unexpected fields")
    kdf = raw["kdf"]
    nonce = unb64(raw["nonce"], "a slot nonce", 24)
    wrapped = unb64(raw["wrapped"], "a wrapped key", 48)
    salt = unb64(kdf.get("salt"), "a salt", SALT_BYTES)
    if kind == "password":
        if set(kdf) != {"alg", "m", "t", "p", "salt"} or kdf["alg"] != "argon2id":
            raise EnvelopeError(
                "The password slot uses a KDF this version does not know: update seedguard."
            )
        params = Argon2idParams(_int(kdf["m"], "m"), _int(kdf["t"], "t"), _int(kdf["p"], "p"))
        params.check_bounds()
        return PasswordSlot(params, salt, nonce, wrapped)
    if set(kdf) != {"alg", "salt"} or kdf["alg"] != "hkdf-sha256":
        raise EnvelopeError(
            "The recovery-key slot uses a KDF this version does not know: update seedguard."
        )
    return RecoverySlot(salt, nonce, wrapped)


def parse_server_slot(raw: Any) -> ServerSlot:
    """A server-hardened slot from its JSON form (as kept in an MPC device file)."""
    if not isinstance(raw, dict) or raw.get("type") != "server":
        raise _damaged("the server-hardened slot is malformed")
    return _parse_server_slot(raw, 0)


def _parse_server_slot(raw: dict[str, Any], index: int) -> ServerSlot:
    fields = {"handle", "kdf", "nonce", "server", "type", "wrapped"}
    if set(raw) != fields or not isinstance(raw["kdf"], dict):
        raise _damaged(f"key slot {index + 1} has unexpected fields")
    kdf = raw["kdf"]
    if set(kdf) != {"alg", "m", "t", "p", "salt"} or kdf["alg"] != SERVER_KDF:
        raise EnvelopeError(
            "The server-hardened slot uses a KDF this version does not know: update seedguard."
        )
    server = raw["server"]
    if (
        not isinstance(server, str)
        or len(server) > MAX_SERVER_CHARS
        or not SERVER_PATTERN.fullmatch(server)
    ):
        raise _damaged("the hardening server's address is malformed")
    params = Argon2idParams(_int(kdf["m"], "m"), _int(kdf["t"], "t"), _int(kdf["p"], "p"))
    params.check_bounds()
    return ServerSlot(
        server=server,
        handle=unb64(raw["handle"], "a hardening handle", 32),
        kdf=params,
        salt=unb64(kdf["salt"], "a salt", SALT_BYTES),
        nonce=unb64(raw["nonce"], "a slot nonce", 24),
        wrapped=unb64(raw["wrapped"], "a wrapped key", 48),
    )


def parse_header(data: bytes) -> Header:
    """Parse and validate header bytes; refuse anything not in canonical form."""
    try:
        raw = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_int=_bounded_int,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise _damaged("not JSON") from None
    _check_value(raw, 0)
    if not isinstance(raw, dict):
        raise _damaged("not an object")
    allowed = {"created", "id", "kind", "label", "nonce", "slots"}
    if not {"created", "id", "kind", "nonce", "slots"} <= set(raw) <= allowed:
        raise _damaged("unexpected or missing fields")
    backup_id, kind, created = raw["id"], raw["kind"], raw["created"]
    if not isinstance(backup_id, str) or not ID_PATTERN.fullmatch(backup_id):
        raise _damaged("the backup id is malformed")
    if kind not in PAYLOAD_KINDS:
        raise EnvelopeError(
            f"The backup holds a kind of secret this version does not know ({str(kind)[:20]!r}): "
            "update seedguard."
        )
    if not isinstance(created, str) or not CREATED_PATTERN.fullmatch(created):
        raise _damaged("the creation time is malformed")
    label = raw.get("label")
    if label is not None and (not isinstance(label, str) or check_label(label) != label):
        raise _damaged("the label is malformed")
    slots = raw["slots"]
    if not isinstance(slots, list) or not 1 <= len(slots) <= MAX_SLOTS:
        raise _damaged("the key slots are malformed")
    header = Header(
        backup_id=backup_id,
        kind=kind,
        created=created,
        label=label,
        nonce=unb64(raw["nonce"], "the payload nonce", 24),
        slots=tuple(_parse_slot(slot, i) for i, slot in enumerate(slots)),
    )
    if header.encode() != data:
        raise _damaged("not in canonical form")
    return header

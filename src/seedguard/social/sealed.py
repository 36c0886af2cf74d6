"""One SLIP-39 share sealed to one guardian (age encryption to the guardian's X25519 key).

The plaintext is canonical JSON: the share's words and what the guardian should know to
recognise it (the owner's label, the mode, the group and member numbers, the thresholds).
Only the guardian's identity opens it; the file name is the guardian's fingerprint.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pyrage import DecryptError, EncryptError, decrypt, encrypt, x25519

from seedguard.errors import InputError, WrongSecretError
from seedguard.mnemonic import slip39
from seedguard.parsing import parse_json
from seedguard.social.guardian import recipient

FORMAT = "seedguard-sealed-share/1"
SUFFIX = ".sgshare"
MAX_BYTES = 64 * 1024


@dataclass(frozen=True, repr=False)
class SealedShare:
    share: str
    mode: str  # bip39 | slip39
    label: str
    group: int  # 1-based
    groups: int
    group_threshold: int
    member: int  # 1-based
    members: int
    threshold: int
    created: str

    def __repr__(self) -> str:
        return f"SealedShare(label={self.label!r}, group={self.group}, member={self.member}, ***)"


def seal(item: SealedShare, code: str) -> bytes:
    slip39.decode(item.share)  # never seal something that is not a share
    body = json.dumps({"format": FORMAT, **asdict(item)}, sort_keys=True).encode()
    try:
        return bytes(encrypt(body, [x25519.Recipient.from_str(recipient(code))]))
    except EncryptError as exc:
        raise InputError(f"Could not seal the share: {exc}.") from None


def open_sealed(data: bytes, identity: x25519.Identity) -> SealedShare:
    if len(data) > MAX_BYTES:
        raise InputError("That file is too large to be a sealed share.")
    try:
        body = decrypt(data, [identity])
    except DecryptError:
        raise WrongSecretError(
            "This sealed share is not for this guardian (or the file is damaged)."
        ) from None
    fields = parse_json(
        _SealedShareJson, body, "The sealed share opened but its content is malformed."
    )
    item = SealedShare(**fields.model_dump(exclude={"format"}))
    slip39.decode(item.share)
    return item


class _SealedShareJson(BaseModel):
    """The plaintext of a sealed share, every field typed and bounded (anyone who knows a
    guardian's public code can seal anything to it)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    format: Literal["seedguard-sealed-share/1"]
    share: Annotated[str, Field(min_length=1, max_length=2000)]
    mode: Literal["bip39", "slip39"]
    label: Annotated[str, Field(max_length=200)]
    group: Annotated[int, Field(ge=1, le=16)]
    groups: Annotated[int, Field(ge=1, le=16)]
    group_threshold: Annotated[int, Field(ge=1, le=16)]
    member: Annotated[int, Field(ge=1, le=16)]
    members: Annotated[int, Field(ge=1, le=16)]
    threshold: Annotated[int, Field(ge=1, le=16)]
    created: Annotated[
        str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
    ]


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

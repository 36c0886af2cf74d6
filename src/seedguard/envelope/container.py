"""The byte layout of an envelope and its armored text form (docs/formats/envelope.md).

    "SGENV" | version (1 byte) | header length (u32 BE) | header | ciphertext | SHA-256

The SHA-256 trailer covers every byte before it. It is not a MAC (anyone can recompute it);
it tells accidental damage (a cut-off upload, a flipped bit) apart from a wrong password
before any key is derived. Authenticity comes from the AEAD tags.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from seedguard.envelope.header import Header, parse_header
from seedguard.errors import EnvelopeError

MAGIC = b"SGENV"
VERSION = 1
PREFIX_BYTES = len(MAGIC) + 1 + 4
DIGEST_BYTES = 32
MAX_HEADER_BYTES = 64 * 1024
MAX_ENVELOPE_BYTES = 2 * 1024 * 1024
MIN_CIPHERTEXT = 256 + 16

ARMOR_BEGIN = "-----BEGIN SEEDGUARD BACKUP-----"
ARMOR_END = "-----END SEEDGUARD BACKUP-----"
ARMOR_WIDTH = 64


@dataclass(frozen=True)
class Container:
    header: Header
    aad: bytes  # magic, version, length and header: the payload's associated data
    ciphertext: bytes


def frame(header: Header, ciphertext_for: bytes) -> bytes:
    """Serialise; `ciphertext_for` must have been sealed with `prefix(header)` as AAD."""
    body = prefix(header) + ciphertext_for
    return body + hashlib.sha256(body).digest()


def prefix(header: Header) -> bytes:
    encoded = header.encode()
    if len(encoded) > MAX_HEADER_BYTES:
        raise EnvelopeError("The backup header would exceed 64 KiB: use a shorter label.")
    return MAGIC + bytes([VERSION]) + struct.pack(">I", len(encoded)) + encoded


def unframe(data: bytes) -> Container:
    """Split and check an envelope (binary or armored); no key is needed or derived."""
    data = binary(data)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError("This file is too large to be a seedguard backup.")
    if len(data) < PREFIX_BYTES or not data.startswith(MAGIC):
        raise EnvelopeError("This is not a seedguard backup (its first bytes are wrong).")
    version = data[len(MAGIC)]
    if version != VERSION:
        raise EnvelopeError(
            f"This backup uses envelope version {version}; this seedguard reads version "
            f"{VERSION}. Update seedguard to open it."
        )
    (header_len,) = struct.unpack(">I", data[len(MAGIC) + 1 : PREFIX_BYTES])
    end = PREFIX_BYTES + header_len
    if header_len > MAX_HEADER_BYTES or len(data) < end + MIN_CIPHERTEXT + DIGEST_BYTES:
        raise EnvelopeError("The backup is cut short or damaged: use another copy.")
    body, digest = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if hashlib.sha256(body).digest() != digest:
        raise EnvelopeError(
            "The backup is damaged: its checksum does not match (a cut-off upload or a "
            "changed byte). Use another copy."
        )
    header = parse_header(data[PREFIX_BYTES:end])
    return Container(header, data[:end], data[end:-DIGEST_BYTES])


def armor(data: bytes) -> str:
    """The text form: base64 in lines of 64 characters between BEGIN and END lines."""
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + ARMOR_WIDTH] for i in range(0, len(text), ARMOR_WIDTH)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


_ARMOR = re.compile(re.escape(ARMOR_BEGIN) + r"(.*?)" + re.escape(ARMOR_END), re.DOTALL)


def binary(data: bytes) -> bytes:
    """The binary form of `data`, which may be binary or armored (with text around it)."""
    if data.startswith(MAGIC):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError(
            "This is not a seedguard backup (neither binary nor armored)."
        ) from None
    match = _ARMOR.search(text)
    if match is None:
        raise EnvelopeError(
            f"This is not a seedguard backup: no {ARMOR_BEGIN} ... {ARMOR_END} block found."
        )
    body = "".join(match.group(1).split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(
            "The armored backup has characters that are not base64: check the pasted text."
        ) from None

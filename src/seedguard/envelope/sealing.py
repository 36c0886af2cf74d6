"""Sealing and opening: a random data key encrypts the payload, key slots wrap the data key.

A password change re-wraps the password slot and leaves the data key and every other slot
(the recovery key's, later the server's) as they are. The payload's associated data is the
whole header, slots included, so a change to any slot is caught when the payload opens; the
payload is re-sealed under the same data key with a fresh random nonce on every re-wrap.
"""

from __future__ import annotations

import os
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from seedguard.envelope import container
from seedguard.envelope import payload as payloads
from seedguard.envelope.header import (
    SALT_BYTES,
    Argon2idParams,
    Header,
    PasswordSlot,
    RecoverySlot,
    Slot,
    check_label,
)
from seedguard.envelope.payload import Payload
from seedguard.errors import EnvelopeError, WrongSecretError
from seedguard.primitives import aead, kdf

RECOVERY_KEY_BYTES = 16
RECOVERY_INFO = b"seedguard/envelope/v1/recovery-slot"

DEFAULT_KDF = Argon2idParams(memory_kib=256 * 1024, iterations=3, parallelism=4)
# The least a new backup may use (OWASP's floor for Argon2id: 19 MiB, two passes).
MINIMUM_KDF = Argon2idParams(memory_kib=19 * 1024, iterations=2, parallelism=1)


@dataclass(frozen=True, repr=False)
class Password:
    """A backup password. Compared and hashed in its NFC form (RFC 8265 OpaqueString)."""

    text: str

    def encoded(self) -> bytes:
        return unicodedata.normalize("NFC", self.text).encode("utf-8")

    def __repr__(self) -> str:
        return "Password(***)"


@dataclass(frozen=True, repr=False)
class RecoveryKey:
    """The 128-bit key of a recovery slot (shown to the user as twelve words)."""

    key: bytes

    @classmethod
    def generate(cls) -> RecoveryKey:
        return cls(secrets.token_bytes(RECOVERY_KEY_BYTES))

    def __repr__(self) -> str:
        return "RecoveryKey(***)"


Secret = Password | RecoveryKey
KdfHook = Callable[[Argon2idParams], None]  # told before each Argon2id run (progress display)


def check_new_kdf(params: Argon2idParams) -> None:
    params.check_bounds()
    if params.memory_kib < MINIMUM_KDF.memory_kib or params.iterations < MINIMUM_KDF.iterations:
        raise EnvelopeError(
            f"{params.describe()} is too cheap for a new backup: use at least "
            f"{MINIMUM_KDF.memory_kib // 1024} MiB and {MINIMUM_KDF.iterations} passes."
        )


def _slot_aad(backup_id: str, slot_type: str) -> bytes:
    return container.MAGIC + bytes([container.VERSION]) + f"slot:{slot_type}:{backup_id}".encode()


def _password_kek(password: Password, salt: bytes, params: Argon2idParams, hook: KdfHook) -> bytes:
    params.check_bounds()
    hook(params)
    return kdf.argon2id(
        password.encoded(),
        salt,
        memory_kib=params.memory_kib,
        iterations=params.iterations,
        parallelism=params.parallelism,
    )


def _recovery_kek(key: RecoveryKey, salt: bytes) -> bytes:
    return kdf.hkdf_sha256(key.key, salt=salt, info=RECOVERY_INFO)


def _no_hook(_: Argon2idParams) -> None:
    return None


@dataclass(frozen=True, repr=False)
class Opened:
    """An envelope opened in memory: its header, its payload, and the keys to re-wrap it."""

    header: Header
    payload: Payload
    data_key: bytes = field(repr=False)
    # The password slot's key, cached so a freshly written copy is checked without a KDF run.
    password_kek: bytes | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Opened(backup_id={self.header.backup_id!r}, kind={self.header.kind!r})"

    def confirms(self, data: bytes) -> bool:
        """True when `data` is this envelope's bytes: parses, unwraps and decrypts to the same
        payload (used to check a copy read back from a store, without deriving a key again)."""
        try:
            box = container.unframe(data)
            if box.header != self.header:
                return False
            if self.password_kek is not None:
                slot = next(s for s in box.header.slots if isinstance(s, PasswordSlot))
                aad = _slot_aad(box.header.backup_id, slot.type)
                if aead.open_(self.password_kek, slot.nonce, slot.wrapped, aad) != self.data_key:
                    return False
            plain = aead.open_(self.data_key, box.header.nonce, box.ciphertext, box.aad)
            return payloads.decode(plain, box.header.kind) == self.payload
        except (EnvelopeError, aead.AuthenticationFailed, StopIteration):
            return False

    def rewrap(
        self, new_password: Password, params: Argon2idParams = DEFAULT_KDF, hook: KdfHook = _no_hook
    ) -> tuple[bytes, Opened]:
        """A new envelope, same id and data key, whose password slot opens with `new_password`
        only. Other slots are kept; the payload is re-sealed with a fresh nonce."""
        check_new_kdf(params)
        slot, kek = _new_password_slot(
            self.header.backup_id, self.data_key, new_password, params, hook
        )
        slots = tuple(slot if isinstance(s, PasswordSlot) else s for s in self.header.slots)
        if not any(isinstance(s, PasswordSlot) for s in slots):
            slots = (slot, *slots)
        header = replace(self.header, nonce=aead.random_nonce(), slots=slots)
        return _seal_payload(header, self.payload, self.data_key, kek)


def _new_password_slot(
    backup_id: str, data_key: bytes, password: Password, params: Argon2idParams, hook: KdfHook
) -> tuple[PasswordSlot, bytes]:
    salt = os.urandom(SALT_BYTES)
    kek = _password_kek(password, salt, params, hook)
    nonce = aead.random_nonce()
    wrapped = aead.seal(kek, nonce, data_key, _slot_aad(backup_id, "password"))
    return PasswordSlot(params, salt, nonce, wrapped), kek


def _seal_payload(
    header: Header, payload: Payload, data_key: bytes, kek: bytes | None
) -> tuple[bytes, Opened]:
    aad = container.prefix(header)
    ciphertext = aead.seal(data_key, header.nonce, payloads.encode(payload), aad)
    return container.frame(header, ciphertext), Opened(header, payload, data_key, kek)


def new_backup_id() -> str:
    return secrets.token_hex(16)


def seal(
    payload: Payload,
    password: Password,
    *,
    params: Argon2idParams = DEFAULT_KDF,
    recovery_key: RecoveryKey | None = None,
    label: str | None = None,
    backup_id: str | None = None,
    created: str | None = None,
    hook: KdfHook = _no_hook,
) -> tuple[bytes, Opened]:
    """Seal `payload` under a fresh data key; returns the envelope and its opened form."""
    check_new_kdf(params)
    backup_id = backup_id or new_backup_id()
    data_key = secrets.token_bytes(aead.KEY_BYTES)
    slot, kek = _new_password_slot(backup_id, data_key, password, params, hook)
    slots: list[Slot] = [slot]
    if recovery_key is not None:
        salt = os.urandom(SALT_BYTES)
        nonce = aead.random_nonce()
        wrapped = aead.seal(
            _recovery_kek(recovery_key, salt), nonce, data_key, _slot_aad(backup_id, "recovery")
        )
        slots.append(RecoverySlot(salt, nonce, wrapped))
    header = Header(
        backup_id=backup_id,
        kind=payload.kind,
        created=created or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        label=check_label(label) if label is not None else None,
        nonce=aead.random_nonce(),
        slots=tuple(slots),
    )
    return _seal_payload(header, payload, data_key, kek)


def inspect(data: bytes) -> Header:
    """The header of an envelope (binary or armored), checked; needs no password."""
    return container.unframe(data).header


def open_envelope(data: bytes, secret: Secret, hook: KdfHook = _no_hook) -> Opened:
    """Open with a password or a recovery key.

    Raises WrongSecretError when no slot of that kind opens, EnvelopeError when the file is
    damaged or was tampered with (a slot opened but the payload did not).
    """
    box = container.unframe(data)
    header = box.header
    data_key: bytes | None = None
    kek: bytes | None = None
    if isinstance(secret, Password):
        slots = [s for s in header.slots if isinstance(s, PasswordSlot)]
        if not slots:
            raise WrongSecretError("This backup has no password slot.")
        for slot in slots:
            candidate = _password_kek(secret, slot.salt, slot.kdf, hook)
            data_key = _unwrap(candidate, slot, header.backup_id)
            if data_key is not None:
                kek = candidate
                break
        if data_key is None:
            raise WrongSecretError("Wrong password: it does not open this backup.")
    else:
        rslots = [s for s in header.slots if isinstance(s, RecoverySlot)]
        if not rslots:
            raise WrongSecretError(
                "This backup was made without a recovery key: open it with its password."
            )
        for rslot in rslots:
            data_key = _unwrap(_recovery_kek(secret, rslot.salt), rslot, header.backup_id)
            if data_key is not None:
                break
        if data_key is None:
            raise WrongSecretError("Wrong recovery key: it does not open this backup.")
    try:
        plain = aead.open_(data_key, header.nonce, box.ciphertext, box.aad)
    except aead.AuthenticationFailed:
        raise EnvelopeError(
            "The backup was altered: the key opened but the content failed its authentication "
            "check. Do not trust this copy; use another one."
        ) from None
    return Opened(header, payloads.decode(plain, header.kind), data_key, kek)


def _unwrap(kek: bytes, slot: PasswordSlot | RecoverySlot, backup_id: str) -> bytes | None:
    try:
        key = aead.open_(kek, slot.nonce, slot.wrapped, _slot_aad(backup_id, slot.type))
    except aead.AuthenticationFailed:
        return None
    return key if len(key) == aead.KEY_BYTES else None

"""Sealing and opening: a random data key encrypts the payload, key slots wrap the data key.

A password change re-wraps the password slot (or the server-hardened slot) and leaves the data
key and every other slot as they are. The payload's associated data is the
whole header, slots included, so a change to any slot is caught when the payload opens; the
payload is re-sealed under the same data key with a fresh random nonce on every re-wrap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from seedguard.envelope import container
from seedguard.envelope import payload as payloads
from seedguard.envelope.header import (
    SALT_BYTES,
    Argon2idParams,
    Header,
    PasswordSlot,
    RecoverySlot,
    ServerSlot,
    Slot,
    check_label,
)
from seedguard.envelope.payload import Payload
from seedguard.errors import (
    EnvelopeError,
    HardeningKeyDestroyedError,
    SeedguardError,
    WrongSecretError,
)
from seedguard.primitives import aead, kdf, oprf

RECOVERY_KEY_BYTES = 16
RECOVERY_INFO = b"seedguard/envelope/v1/recovery-slot"
SERVER_INFO = b"seedguard/envelope/v1/server-slot"
PROOF_INFO = b"seedguard/envelope/v1/server-proof"

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


class OprfService(Protocol):
    """The server side of a hardened slot, reached over the network (seedguard.backup)."""

    def create(self, server: str, blinded: bytes) -> tuple[bytes, bytes]:
        """A new per-backup key: (handle, evaluated element)."""
        ...

    def register(self, server: str, handle: bytes, verifier: bytes) -> None: ...

    def evaluate(self, server: str, handle: bytes, blinded: bytes) -> tuple[bytes, int]:
        """(evaluated element, attempts left); counts one attempt."""
        ...

    def prove(self, server: str, handle: bytes, proof: bytes) -> None: ...


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


def _server_keys(argon: bytes, output: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """(slot key, proof) from the Argon2id output and the OPRF output together: neither alone
    gives either, so a stolen envelope needs the server, and a stolen server needs Argon2id."""
    ikm = argon + output
    return (
        kdf.hkdf_sha256(ikm, salt=salt, info=SERVER_INFO),
        kdf.hkdf_sha256(ikm, salt=salt, info=PROOF_INFO),
    )


def _new_server_slot(
    backup_id: str,
    data_key: bytes,
    password: Password,
    params: Argon2idParams,
    hook: KdfHook,
    server: str,
    service: OprfService,
) -> tuple[ServerSlot, bytes]:
    salt = os.urandom(SALT_BYTES)
    argon = _password_kek(password, salt, params, hook)
    state = oprf.blind(password.encoded())
    handle, evaluated = service.create(server, state.blinded_element)
    kek, proof = _server_keys(argon, _finalize(state, evaluated), salt)
    service.register(server, handle, hashlib.sha256(proof).digest())
    nonce = aead.random_nonce()
    wrapped = aead.seal(kek, nonce, data_key, _slot_aad(backup_id, "server"))
    return ServerSlot(server, handle, params, salt, nonce, wrapped), kek


def _finalize(state: oprf.Blind, evaluated: bytes) -> bytes:
    try:
        return oprf.finalize(state, evaluated)
    except oprf.OprfError:
        raise EnvelopeError("The hardening server answered with a malformed element.") from None


def destroyed_advice(has_recovery_key: bool | None) -> str:
    """What is left once a backup's hardening key is gone, by the backup's real slots."""
    if has_recovery_key:
        return "Only its recovery key opens it now (--with-recovery-key)."
    if has_recovery_key is None:
        return "Only a recovery key, if the backup has one, opens it now."
    return (
        "It has no recovery key, so no one can open it now: make a new backup from the "
        "wallet, or restore another backup."
    )


def _evaluate_server_slot(
    slot: ServerSlot,
    backup_id: str,
    password: Password,
    hook: KdfHook,
    service: OprfService,
    has_recovery_key: bool | None = None,
) -> tuple[bytes, bytes, bytes]:
    """(data key, slot key, proof) after one counted evaluation; WrongSecretError (with the
    attempts left) when the password does not unwrap the slot."""
    argon = _password_kek(password, slot.salt, slot.kdf, hook)
    state = oprf.blind(password.encoded())
    try:
        evaluated, left = service.evaluate(slot.server, slot.handle, state.blinded_element)
    except HardeningKeyDestroyedError as exc:
        raise HardeningKeyDestroyedError(
            f"{exc.message} {destroyed_advice(has_recovery_key)}"
        ) from None
    kek, proof = _server_keys(argon, _finalize(state, evaluated), slot.salt)
    data_key = _unwrap(kek, slot, backup_id)
    if data_key is None:
        if left <= 0:
            raise WrongSecretError(
                f"Wrong password, and that was the last attempt: the server at {slot.server} "
                f"has destroyed this backup's key. {destroyed_advice(has_recovery_key)}",
                attempts_left=0,
            )
        raise WrongSecretError(
            f"Wrong password: {left} attempt{'s' if left != 1 else ''} left before the "
            f"server at {slot.server} destroys this backup's key.",
            attempts_left=left,
        )
    return data_key, kek, proof


def server_slot_proof(
    slot: ServerSlot, backup_id: str, password: Password, hook: KdfHook, service: OprfService
) -> bytes:
    """The proof that the password opens this hardened slot (SHA-256 of it is the server's
    verifier), made with one counted evaluation and checked here first by unwrapping the
    slot: what a device shows the server to re-create an MPC cloud share (docs/mpc.md)."""
    return _evaluate_server_slot(slot, backup_id, password, hook, service)[2]


def _open_server_slot(
    slot: ServerSlot,
    backup_id: str,
    password: Password,
    hook: KdfHook,
    service: OprfService,
    has_recovery_key: bool,
) -> tuple[bytes, bytes]:
    data_key, kek, proof = _evaluate_server_slot(
        slot, backup_id, password, hook, service, has_recovery_key
    )
    # Opened all the same if the proof cannot be delivered: the attempt stays counted until
    # the next good open.
    with contextlib.suppress(SeedguardError):
        service.prove(slot.server, slot.handle, proof)
    return data_key, kek


@dataclass(frozen=True, repr=False)
class Opened:
    """An envelope opened in memory: its header, its payload, and the keys to re-wrap it."""

    header: Header
    payload: Payload
    data_key: bytes = field(repr=False)
    # The password (or server) slot's key, cached so a freshly written copy is checked
    # without a KDF run or a server round trip.
    password_kek: bytes | None = field(default=None, repr=False)
    kek_slot: str = "password"

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
                slot = next(s for s in box.header.slots if s.type == self.kek_slot)
                assert isinstance(slot, PasswordSlot | ServerSlot)
                aad = _slot_aad(box.header.backup_id, slot.type)
                if aead.open_(self.password_kek, slot.nonce, slot.wrapped, aad) != self.data_key:
                    return False
            plain = aead.open_(self.data_key, box.header.nonce, box.ciphertext, box.aad)
            return payloads.decode(plain, box.header.kind) == self.payload
        except (EnvelopeError, aead.AuthenticationFailed, StopIteration):
            return False

    def rewrap(
        self,
        new_password: Password,
        params: Argon2idParams = DEFAULT_KDF,
        hook: KdfHook = _no_hook,
        service: OprfService | None = None,
    ) -> tuple[bytes, Opened]:
        """A new envelope, same id and data key, whose password slot opens with `new_password`
        only. A hardened envelope gets a new server slot (a new key on the same server). Other
        slots are kept; the payload is re-sealed with a fresh nonce."""
        check_new_kdf(params)
        backup_id = self.header.backup_id
        hardened = self.header.server_slot()
        new: PasswordSlot | ServerSlot
        if hardened is not None:
            if service is None:
                raise EnvelopeError("This backup is server-hardened: a server must re-wrap it.")
            new, kek = _new_server_slot(
                backup_id, self.data_key, new_password, params, hook, hardened.server, service
            )
        else:
            new, kek = _new_password_slot(backup_id, self.data_key, new_password, params, hook)
        kept = [s for s in self.header.slots if not isinstance(s, PasswordSlot | ServerSlot)]
        header = replace(self.header, nonce=aead.random_nonce(), slots=(new, *kept))
        return _seal_payload(header, self.payload, self.data_key, kek, new.type)

    def with_recovery_key(self, recovery_key: RecoveryKey | None) -> tuple[bytes, Opened]:
        """The same envelope (id, data key, password or server slot) with its recovery-key
        slot replaced by one for `recovery_key`, or removed (None). The payload is re-sealed
        with a fresh nonce. A copy kept elsewhere with the old slot still opens with the old
        key, as an old copy does after a password change."""
        if recovery_key is None and not any(
            isinstance(s, PasswordSlot | ServerSlot) for s in self.header.slots
        ):
            raise EnvelopeError("The recovery key is this backup's only slot: it cannot go.")
        kept: list[Slot] = [s for s in self.header.slots if not isinstance(s, RecoverySlot)]
        if recovery_key is not None:
            kept.append(_recovery_slot(self.header.backup_id, self.data_key, recovery_key))
        header = replace(self.header, nonce=aead.random_nonce(), slots=tuple(kept))
        return _seal_payload(header, self.payload, self.data_key, self.password_kek, self.kek_slot)


def _recovery_slot(backup_id: str, data_key: bytes, recovery_key: RecoveryKey) -> RecoverySlot:
    salt = os.urandom(SALT_BYTES)
    nonce = aead.random_nonce()
    kek = _recovery_kek(recovery_key, salt)
    wrapped = aead.seal(kek, nonce, data_key, _slot_aad(backup_id, "recovery"))
    return RecoverySlot(salt, nonce, wrapped)


def _new_password_slot(
    backup_id: str, data_key: bytes, password: Password, params: Argon2idParams, hook: KdfHook
) -> tuple[PasswordSlot, bytes]:
    salt = os.urandom(SALT_BYTES)
    kek = _password_kek(password, salt, params, hook)
    nonce = aead.random_nonce()
    wrapped = aead.seal(kek, nonce, data_key, _slot_aad(backup_id, "password"))
    return PasswordSlot(params, salt, nonce, wrapped), kek


def _seal_payload(
    header: Header, payload: Payload, data_key: bytes, kek: bytes | None, kek_slot: str
) -> tuple[bytes, Opened]:
    aad = container.prefix(header)
    ciphertext = aead.seal(data_key, header.nonce, payloads.encode(payload), aad)
    return container.frame(header, ciphertext), Opened(header, payload, data_key, kek, kek_slot)


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
    harden: str | None = None,
    service: OprfService | None = None,
) -> tuple[bytes, Opened]:
    """Seal `payload` under a fresh data key; returns the envelope and its opened form.

    With `harden` (a server address) the password slot is a server-hardened slot instead: the
    password opens the envelope only with the help of that server (`service`)."""
    check_new_kdf(params)
    backup_id = backup_id or new_backup_id()
    data_key = secrets.token_bytes(aead.KEY_BYTES)
    first: PasswordSlot | ServerSlot
    if harden is not None:
        if service is None:
            raise EnvelopeError("A server-hardened backup needs the server's OPRF service.")
        first, kek = _new_server_slot(backup_id, data_key, password, params, hook, harden, service)
    else:
        first, kek = _new_password_slot(backup_id, data_key, password, params, hook)
    slots: list[Slot] = [first]
    if recovery_key is not None:
        slots.append(_recovery_slot(backup_id, data_key, recovery_key))
    header = Header(
        backup_id=backup_id,
        kind=payload.kind,
        created=created or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        label=check_label(label) if label is not None else None,
        nonce=aead.random_nonce(),
        slots=tuple(slots),
    )
    return _seal_payload(header, payload, data_key, kek, first.type)


def inspect(data: bytes) -> Header:
    """The header of an envelope (binary or armored), checked; needs no password."""
    return container.unframe(data).header


def open_envelope(
    data: bytes, secret: Secret, hook: KdfHook = _no_hook, service: OprfService | None = None
) -> Opened:
    """Open with a password or a recovery key; a server-hardened slot needs `service`.

    Raises WrongSecretError when no slot of that kind opens, EnvelopeError when the file is
    damaged or was tampered with (a slot opened but the payload did not).
    """
    box = container.unframe(data)
    header = box.header
    data_key: bytes | None = None
    kek: bytes | None = None
    kek_slot = "password"
    if isinstance(secret, Password):
        slots = [s for s in header.slots if isinstance(s, PasswordSlot)]
        hardened = header.server_slot()
        if not slots and hardened is None:
            raise WrongSecretError("This backup has no password slot.")
        for slot in slots:
            candidate = _password_kek(secret, slot.salt, slot.kdf, hook)
            data_key = _unwrap(candidate, slot, header.backup_id)
            if data_key is not None:
                kek = candidate
                break
        if data_key is None and hardened is not None:
            if service is None:
                raise WrongSecretError(
                    f"This backup is hardened by the seedguard server at {hardened.server}: "
                    "its password opens it only with that server's help."
                )
            data_key, kek = _open_server_slot(
                hardened, header.backup_id, secret, hook, service, header.has_recovery_key()
            )
            kek_slot = "server"
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
    return Opened(header, payloads.decode(plain, header.kind), data_key, kek, kek_slot)


def password_unwraps(header: Header, password: Password, hook: KdfHook = _no_hook) -> bool:
    """True when `password` unwraps one of the header's offline password slots: one Argon2id
    run per slot with the slot's own parameters, no server asked. What a password repair
    tries per candidate; `open_envelope` still checks the payload of the one that fits."""
    return any(
        _unwrap(_password_kek(password, slot.salt, slot.kdf, hook), slot, header.backup_id)
        is not None
        for slot in header.slots
        if isinstance(slot, PasswordSlot)
    )


def _unwrap(
    kek: bytes, slot: PasswordSlot | RecoverySlot | ServerSlot, backup_id: str
) -> bytes | None:
    try:
        key = aead.open_(kek, slot.nonce, slot.wrapped, _slot_aad(backup_id, slot.type))
    except aead.AuthenticationFailed:
        return None
    return key if len(key) == aead.KEY_BYTES else None

"""The seedguard envelope: a typed secret sealed under a random data key, wrapped in key slots.

Byte layout: docs/formats/envelope.md. `seal` and `open_envelope` are the safe entry points.
"""

from seedguard.envelope.container import armor, binary
from seedguard.envelope.header import Argon2idParams, Header
from seedguard.envelope.payload import (
    Bip39Payload,
    MpcSharePayload,
    Payload,
    RawPayload,
    Slip39SharePayload,
)
from seedguard.envelope.sealing import (
    DEFAULT_KDF,
    MINIMUM_KDF,
    Opened,
    Password,
    RecoveryKey,
    Secret,
    check_new_kdf,
    inspect,
    new_backup_id,
    open_envelope,
    password_unwraps,
    seal,
)

__all__ = [
    "DEFAULT_KDF",
    "MINIMUM_KDF",
    "Argon2idParams",
    "Bip39Payload",
    "Header",
    "MpcSharePayload",
    "Opened",
    "Password",
    "Payload",
    "RawPayload",
    "RecoveryKey",
    "Secret",
    "Slip39SharePayload",
    "armor",
    "binary",
    "check_new_kdf",
    "inspect",
    "new_backup_id",
    "open_envelope",
    "password_unwraps",
    "seal",
]

"""Encrypted backups: seal a secret with a backup password and keep copies in many places.

backups = Backups()                       # the registry in $SEEDGUARD_HOME
result = backups.create(bip39_payload(phrase), Password(pw), ["~/Dropbox/seedguard"])
opened = backups.restore("~/Dropbox/seedguard", Password(pw))
"""

from seedguard.backup.lifecycle import (
    Backups,
    CopyStatus,
    CreateResult,
    LocationResult,
    bip39_payload,
)
from seedguard.backup.password_policy import Strength
from seedguard.backup.registry import Registry
from seedguard.envelope import Password, RecoveryKey

__all__ = [
    "Backups",
    "CopyStatus",
    "CreateResult",
    "LocationResult",
    "Password",
    "RecoveryKey",
    "Registry",
    "Strength",
    "bip39_payload",
]

"""The one error hierarchy: every error carries the sentence its user reads.

The CLI maps these classes to exit codes in one place (`seedguard.cli.main`): 1 when the input
or the password was wrong, 2 for a usage error, 3 when a store or server could not be reached.
Messages never contain a secret.
"""

from __future__ import annotations

from typing import Any


class SeedguardError(Exception):
    """Base class. `str(error)` is a complete, user-facing sentence."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(SeedguardError):
    """The input (a phrase, a key, a file) or the password was wrong."""

    exit_code = 1


class UsageError(SeedguardError):
    """The command was called the wrong way (options, missing terminal, ...)."""

    exit_code = 2


class AmbiguousBackupError(UsageError):
    """Several backups at a location could be meant, and trying the wrong one would cost
    something (a server's guess): `choices` holds their headers, for the user to pick one."""

    def __init__(self, message: str, choices: list[Any]) -> None:
        super().__init__(message)
        self.choices = choices


class MissingExtraError(UsageError):
    """A command needs an optional part of seedguard that is not installed (seedguard.extras
    names it and the `pip install` line)."""


class UnreachableError(SeedguardError):
    """A store or a server could not be reached."""

    exit_code = 3


class MnemonicError(InputError):
    """A recovery phrase is not valid; `problems` lists each problem found."""

    def __init__(self, message: str, problems: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class EntropyError(InputError):
    """User-supplied entropy (hex, dice, coins) is malformed or too short."""


class ExtendedKeyError(InputError):
    """An extended key (xpub/xprv and their SLIP-132 cousins) is invalid."""


class DerivationError(InputError):
    """A BIP-32 derivation path is malformed, or a derivation hit an invalid key."""


class SeedQRError(InputError):
    """A SeedQR payload (digits or compact bytes) is malformed."""


class EnvelopeError(InputError):
    """A backup file is not a seedguard envelope, is damaged, or asks for too much."""


class HardeningKeyDestroyedError(InputError):
    """The server destroyed the backup's OPRF key: the password can no longer open it."""


class WrongSecretError(InputError):
    """The password (or recovery key) does not open the backup; for a server-hardened backup,
    `attempts_left` is what the server still allows before it destroys the key."""

    def __init__(self, message: str, attempts_left: int | None = None) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class PasswordPolicyError(InputError):
    """A new backup password is too short or too guessable; `feedback` says how to improve."""

    def __init__(self, message: str, feedback: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.feedback = feedback


class BackupMissingError(InputError):
    """The backup is not at the location (deleted, moved, or another account)."""


class BusyError(SeedguardError):
    """Another seedguard process is changing the same backup."""

    exit_code = 1


class StoreError(UnreachableError):
    """A store could not be reached or refused access (network, credentials, bucket)."""


class DiskError(UnreachableError):
    """A file on this machine could not be written: a full disk, a read-only mount, no
    permission. The message says what was written and what was not."""


class PendingError(InputError):
    """The server recorded the action but holds it for the account's delay (a device without
    proof asked): it is announced to every device, and happens if run again after
    `release_at` unless one of them cancels it."""

    def __init__(self, message: str, pending: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.pending = pending or {}

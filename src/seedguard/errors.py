"""The one error hierarchy: every error carries the sentence its user reads.

The CLI maps these classes to exit codes in one place (`seedguard.cli.main`): 1 when the input
or the password was wrong, 2 for a usage error, 3 when a store or server could not be reached.
Messages never contain a secret.
"""

from __future__ import annotations


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

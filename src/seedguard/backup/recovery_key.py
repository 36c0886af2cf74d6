"""The recovery key of a backup as twelve BIP-39 words (128 bits and a 4-bit checksum), so a
miswritten word is caught, as with a recovery phrase. It is not a wallet phrase."""

from __future__ import annotations

from seedguard.envelope import RecoveryKey
from seedguard.errors import InputError, MnemonicError
from seedguard.mnemonic import bip39


def to_words(key: RecoveryKey) -> str:
    return bip39.entropy_to_mnemonic(key.key, "english")


def from_words(text: str) -> RecoveryKey:
    try:
        result = bip39.validate(text, "english")
    except MnemonicError as exc:
        raise InputError(f"That is not a valid recovery key: {exc.message}") from None
    entropy = result.entropy
    if len(entropy) != 16:
        raise InputError(
            f"A recovery key has 12 words, not {len(bip39.split_words(text))}: "
            "is this the wallet's phrase instead?"
        )
    return RecoveryKey(entropy)

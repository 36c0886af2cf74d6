"""The two modes of SLIP-39 shares, in one place (docs/social.md).

`bip39`: the shares hold the entropy of an existing BIP-39 phrase; combining gives back that
phrase, and its passphrase (not stored in the shares) names the wallet. `slip39`: a native
SLIP-39 wallet; the master secret, under the SLIP-39 passphrase, is the BIP-32 seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from seedguard import wallet
from seedguard.errors import UsageError
from seedguard.hd import bip32
from seedguard.mnemonic import bip39, slip39

Mode = Literal["bip39", "slip39"]
BIP39_ENTROPY_BYTES = (16, 20, 24, 28, 32)


@dataclass(frozen=True, repr=False)
class Recovered:
    mode: Mode
    fingerprint: str
    mnemonic: str | None = None  # bip39 mode
    master_secret: bytes | None = None  # slip39 mode

    def __repr__(self) -> str:
        return f"Recovered(mode={self.mode!r}, fingerprint={self.fingerprint!r}, ***)"


def split(
    mode: Mode,
    groups: Sequence[slip39.GroupSpec],
    group_threshold: int = 1,
    *,
    phrase: str | None = None,
    passphrase: str = "",
    bits: int = 128,
) -> tuple[list[list[str]], str]:
    """(shares per group, wallet fingerprint): of `phrase` in bip39 mode, of a new master
    secret of `bits` in slip39 mode."""
    if mode == "bip39":
        if phrase is None:
            raise UsageError("bip39 mode needs the phrase to split.")
        checked = bip39.validate(phrase)
        made = slip39.split(checked.entropy, groups, group_threshold)
        return made, wallet.fingerprint(checked.mnemonic, passphrase)
    secret = slip39.new_master_secret(bits)
    made = slip39.split(secret, groups, group_threshold, passphrase)
    return made, bip32.master_key(secret).fingerprint.hex()


def combine(mode: Mode, shares: Sequence[str], passphrase: str = "") -> Recovered:
    if mode == "bip39":
        entropy = slip39.combine(shares)
        if len(entropy) not in BIP39_ENTROPY_BYTES:
            raise UsageError(
                f"These shares hold {len(entropy)} bytes, which is no BIP-39 phrase: use "
                "--mode slip39."
            )
        phrase = bip39.entropy_to_mnemonic(entropy)
        return Recovered(mode, wallet.fingerprint(phrase, passphrase), mnemonic=phrase)
    secret = slip39.combine(shares, passphrase)
    return Recovered(mode, bip32.master_key(secret).fingerprint.hex(), master_secret=secret)

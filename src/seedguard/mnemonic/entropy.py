"""Entropy a person supplies: hex, dice rolls or coin flips.

The arithmetic is simple enough to check by hand (docs/seed.md walks through it):

- Hex: the hex digits are the entropy itself, 32 digits for 12 words up to 64 for 24.
- Coin flips: exactly ENT flips (128 for 12 words), heads = 1, tails = 0, first flip = most
  significant bit. Word k's index is flips 11k-10 .. 11k read as a binary number; the last
  word also carries the checksum.
- Dice rolls (a six-sided die, faces 1 to 6): at least ceil(ENT / log2 6) rolls, so that the
  rolls carry at least ENT bits (50 rolls for 12 words, 99 for 24); the entropy is the first
  ENT bits of SHA-256 of the rolls written as ASCII digits, the method of Coldcard and
  SeedSigner: `printf %s 16345... | sha256sum`, then keep the first ENT/4 hex digits.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from seedguard.errors import EntropyError
from seedguard.mnemonic.bip39 import WORD_COUNTS
from seedguard.primitives.hashes import sha256

_SEPARATORS = re.compile(r"[\s,;]+")


def entropy_bits(words: int) -> int:
    """ENT for a phrase of `words` words."""
    if words not in WORD_COUNTS:
        raise EntropyError(f"A phrase has 12, 15, 18, 21 or 24 words, not {words}.")
    return words * 32 // 3


def dice_rolls_needed(words: int) -> int:
    """ceil(ENT / log2(6)): 50, 62, 75, 87, 99 rolls for 12 .. 24 words."""
    return math.ceil(entropy_bits(words) / math.log2(6))


def from_hex(text: str, words: int | None = None) -> bytes:
    """Entropy from hex digits; `words` defaults to what the length gives."""
    digits = _SEPARATORS.sub("", text).lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]*", digits):
        raise EntropyError("The entropy must be hex digits (0-9, a-f) only.")
    lengths = {entropy_bits(w) // 4: w for w in WORD_COUNTS}
    wanted = entropy_bits(words) // 4 if words else None
    if len(digits) not in lengths or (wanted and len(digits) != wanted):
        need = str(wanted) if wanted else "32, 40, 48, 56 or 64"
        raise EntropyError(f"Give {need} hex digits of entropy, not {len(digits)}.")
    return bytes.fromhex(digits)


def from_coins(text: str, words: int = 12) -> bytes:
    """Entropy from exactly ENT coin flips: H/1 = 1, T/0 = 0, first flip first."""
    flips = _SEPARATORS.sub("", text).upper()
    if not re.fullmatch(r"[HT01]*", flips):
        raise EntropyError("Coin flips are H or T (or 1 or 0), one per flip.")
    bits = entropy_bits(words)
    if len(flips) != bits:
        raise EntropyError(f"{words} words need exactly {bits} coin flips; you gave {len(flips)}.")
    binary = flips.replace("H", "1").replace("T", "0")
    _refuse_biased(binary, bits, "coin flips")
    return int(binary, 2).to_bytes(bits // 8, "big")


def from_dice(text: str, words: int = 12) -> bytes:
    """Entropy from at least ceil(ENT / log2 6) rolls of a six-sided die (faces 1-6)."""
    rolls = _SEPARATORS.sub("", text)
    if not re.fullmatch(r"[1-6]*", rolls):
        raise EntropyError("Dice rolls are the digits 1 to 6, one per roll.")
    need = dice_rolls_needed(words)
    if len(rolls) < need:
        raise EntropyError(f"{words} words need at least {need} dice rolls; you gave {len(rolls)}.")
    _refuse_biased(rolls, len(rolls), "dice rolls")
    return sha256(rolls.encode("ascii"))[: entropy_bits(words) // 8]


def _refuse_biased(symbols: str, count: int, what: str) -> None:
    # A fair source almost never (p < 1e-8 at these lengths) gives one symbol over 3/4 of
    # the time for coins, or over half for a die; a stuck die or a lazy hand does.
    limit = 0.75 if what == "coin flips" else 0.5
    _, most = Counter(symbols).most_common(1)[0]
    if most > limit * count:
        raise EntropyError(
            f"These {what} repeat one value {most} times out of {count}: that is not random. "
            "Roll or flip again."
        )


def rolls_to_pick(choices: int) -> int:
    """How many die rolls `pick_by_dice` reads to choose one of `choices` items."""
    rolls = 1
    while 6**rolls < choices:
        rolls += 1
    return rolls


def pick_by_dice(text: str, choices: int) -> int | None:
    """One of `choices` items (0-based), uniformly, from die rolls ("3 5 1" or "351"):
    `rolls_to_pick(choices)` rolls read as a base-6 number; a number past the largest
    multiple of `choices` is refused (None: roll again), so no item is more likely."""
    if choices < 1:
        raise ValueError("choices must be positive")
    digits = [c for c in text if not c.isspace() and c not in ",-"]
    need = rolls_to_pick(choices)
    if len(digits) != need or any(d not in "123456" for d in digits):
        raise EntropyError(f"Type exactly {need} die rolls, each 1 to 6.")
    number = 0
    for d in digits:
        number = number * 6 + int(d) - 1
    limit = (6**need // choices) * choices
    return number % choices if number < limit else None

"""Repairing a SLIP-39 share by its own checksum.

RS1024 (SLIP-39's checksum) is a Reed-Solomon code with distance 4 over 10-bit symbols: it
corrects one wrong word whose position is unknown, and two words whose positions are known
(`?`, or a token that is not a SLIP-39 word). Every candidate is checked by the checksum and
by the share's own fields (`slip39.decode`); the group's other shares, where given, must
agree on the identifier, the iteration exponent and the group parameters.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from seedguard.errors import InputError
from seedguard.mnemonic import slip39

MAX_UNKNOWN = 2


@dataclass(frozen=True)
class ShareRepair:
    shares: tuple[str, ...]  # every share that fits (one when the repair is certain)
    positions: tuple[int, ...]  # 1-based positions that were unknown or changed
    candidates: int
    checked: int
    seconds: float


def _fits(indices: list[int], others: Sequence[slip39.ShareInfo]) -> str | None:
    mnemonic = " ".join(slip39.WORDS[i] for i in indices)
    try:
        info = slip39.decode(mnemonic)
    except InputError:
        return None
    for other in others:
        if (other.identifier, other.extendable, other.iteration_exponent,
                other.group_threshold, other.group_count) != (
                info.identifier, info.extendable, info.iteration_exponent,
                info.group_threshold, info.group_count):  # fmt: skip
            return None
        if other.group_index == info.group_index and other.member_index == info.member_index:
            return None  # the same share twice is not another member
    return mnemonic


def _valid_checksum(indices: list[int]) -> bool:
    extendable = bool(indices[1] >> 4 & 1)
    return slip39._residue(indices, extendable) == 1


def repair(text: str, others: Sequence[str] = ()) -> ShareRepair:
    """Every share that `text` (one token per word; `?` for an unknown word) may have been."""
    began = time.perf_counter()
    tokens = text.lower().split()
    if len(tokens) < slip39.MIN_WORDS:
        raise InputError(
            f"A SLIP-39 share has at least {slip39.MIN_WORDS} words; this one has {len(tokens)}: "
            "write ? for a word that is missing."
        )
    known = [other for other in (slip39.decode(o) for o in others)]
    indices: list[int] = []
    unknown: list[int] = []
    for n, token in enumerate(tokens):
        index = slip39.INDEX.get(token, slip39.PREFIXES.get(token))
        if index is None:
            unknown.append(n)
            index = 0
        indices.append(index)
    if len(unknown) > MAX_UNKNOWN:
        raise InputError(
            f"{len(unknown)} words are unknown or not SLIP-39 words: the checksum can restore "
            f"at most {MAX_UNKNOWN}; find the others on the written share."
        )
    found: list[str] = []
    checked = 0
    if unknown:
        count = 1024 ** len(unknown)
        for values in itertools.product(range(1024), repeat=len(unknown)):
            checked += 1
            for p, v in zip(unknown, values, strict=True):
                indices[p] = v
            if _valid_checksum(indices):
                share = _fits(indices, known)
                if share is not None:
                    found.append(share)
        positions = tuple(p + 1 for p in unknown)
    else:
        count = len(indices) * 1023 + 1
        checked = 1
        if _valid_checksum(indices) and (share := _fits(indices, known)) is not None:
            found.append(share)
            positions = ()
        else:
            changed: list[int] = []
            for p in slip39.likely_wrong_words(indices):
                original = indices[p - 1]
                for v in range(1024):
                    if v == original:
                        continue
                    checked += 1
                    indices[p - 1] = v
                    if _valid_checksum(indices) and (share := _fits(indices, known)):
                        found.append(share)
                        changed.append(p)
                indices[p - 1] = original
            positions = tuple(dict.fromkeys(changed))
    return ShareRepair(
        tuple(dict.fromkeys(found)), positions, count, checked, time.perf_counter() - began
    )

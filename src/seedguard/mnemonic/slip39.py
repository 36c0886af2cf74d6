"""SLIP-39: Shamir's Secret-Sharing for Mnemonic Codes (satoshilabs/slips slip-0039.md).

The cryptographic core (the Feistel cipher, splitting over GF(256), the share layout, RS1024)
is the reference implementation, trezor/python-shamir-mnemonic. This module adds what a person
typing shares needs: words read leniently (unique four-letter prefixes), one-line errors that
name the exact problem, the position of the likely wrong word when a checksum fails (never the
correction), and incremental recovery that reports each group's progress and refuses a
duplicate share or a share of another set.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein
from shamir_mnemonic import shamir
from shamir_mnemonic import wordlist as reference_words
from shamir_mnemonic.constants import (
    CUSTOMIZATION_STRING_EXTENDABLE,
    CUSTOMIZATION_STRING_ORIG,
    METADATA_LENGTH_WORDS,
    MIN_STRENGTH_BITS,
)
from shamir_mnemonic.recovery import RecoveryState
from shamir_mnemonic.share import Share
from shamir_mnemonic.utils import MnemonicError as ReferenceError

from seedguard.errors import InputError, UsageError

WORDS: tuple[str, ...] = tuple(reference_words.WORDLIST)
INDEX: dict[str, int] = dict(reference_words.WORD_INDEX_MAP)
MAX_SHARES = 16  # per group, and groups per set (4-bit fields)
MIN_WORDS = 20
PRINTABLE = set(string.printable) - set(string.whitespace) | {" "}


class Slip39Error(InputError):
    """A share, a set of shares, or a scheme is not valid; the message says which and why."""

    def __init__(self, message: str, positions: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.positions = positions  # 1-based word positions the message points at


def _prefixes() -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in WORDS:
        for n in range(4, len(word)):
            counts[word[:n]] = counts.get(word[:n], 0) + 1
    return {
        word[:n]: i
        for i, word in enumerate(WORDS)
        for n in range(4, len(word))
        if counts[word[:n]] == 1
    }


PREFIXES = _prefixes()


@dataclass(frozen=True)
class GroupSpec:
    """A group of `count` shares of which `threshold` recover the group."""

    threshold: int
    count: int

    @classmethod
    def parse(cls, text: str) -> GroupSpec:
        try:
            threshold, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise UsageError(f"A group is THRESHOLD/COUNT, as in 2/3, not {text!r}.") from None
        return cls(threshold, count)


def check_passphrase(passphrase: str) -> bytes:
    """SLIP-39 passphrases are printable ASCII (codes 32 to 126)."""
    bad = sorted({c for c in passphrase if c not in PRINTABLE})
    if bad:
        raise UsageError(
            "A SLIP-39 passphrase may hold only printable ASCII (letters, digits, punctuation, "
            f"spaces); it contains {len(bad)} other character{'s' if len(bad) > 1 else ''}."
        )
    return passphrase.encode("ascii")


def check_scheme(group_threshold: int, groups: Sequence[GroupSpec]) -> None:
    if not 1 <= len(groups) <= MAX_SHARES:
        raise UsageError(f"A scheme has 1 to {MAX_SHARES} groups, not {len(groups)}.")
    if not 1 <= group_threshold <= len(groups):
        raise UsageError(
            f"The group threshold must be 1 to {len(groups)} (the number of groups), "
            f"not {group_threshold}."
        )
    for n, group in enumerate(groups, 1):
        if not 1 <= group.count <= MAX_SHARES:
            raise UsageError(f"Group {n} has {group.count} shares; give 1 to {MAX_SHARES}.")
        if not 1 <= group.threshold <= group.count:
            raise UsageError(
                f"Group {n}'s threshold must be 1 to {group.count}, not {group.threshold}."
            )
        if group.threshold == 1 and group.count > 1:
            raise UsageError(
                f"Group {n} is 1-of-{group.count}: that is {group.count} copies of one share, "
                "which SLIP-39 forbids. Use 1/1, or a threshold of 2 or more."
            )


def check_secret(secret: bytes) -> None:
    if len(secret) * 8 < MIN_STRENGTH_BITS or len(secret) % 2:
        raise UsageError(
            f"A master secret has at least {MIN_STRENGTH_BITS // 8} bytes and an even number "
            f"of them, not {len(secret)}."
        )


def split(
    secret: bytes,
    groups: Sequence[GroupSpec],
    group_threshold: int = 1,
    passphrase: str = "",
    *,
    extendable: bool = True,
    iteration_exponent: int = 1,
) -> list[list[str]]:
    """One list of share mnemonics per group. New sets are made extendable (the spec's
    recommendation); both kinds are accepted when combining."""
    check_secret(secret)
    check_scheme(group_threshold, groups)
    if not 0 <= iteration_exponent <= 15:
        raise UsageError(f"The iteration exponent is 0 to 15, not {iteration_exponent}.")
    # The reference's generate_mnemonics, with the words made by `encode` (a faster checksum).
    encrypted = shamir.EncryptedMasterSecret.from_master_secret(
        secret,
        check_passphrase(passphrase),
        shamir._random_identifier(),
        extendable,
        iteration_exponent,
    )
    made = shamir.split_ems(group_threshold, [(g.threshold, g.count) for g in groups], encrypted)
    return [[encode(share) for share in group] for group in made]


def encode(share: Share) -> str:
    """A share's words (spec § Format of the share mnemonic), with its RS1024 checksum."""
    id_exp = share.identifier << 5 | int(share.extendable) << 4 | share.iteration_exponent
    params = (
        share.group_index << 16
        | (share.group_threshold - 1) << 12
        | (share.group_count - 1) << 8
        | share.index << 4
        | (share.member_threshold - 1)
    )
    value_words = -(-len(share.value) * 8 // 10)
    value = int.from_bytes(share.value, "big")
    data = [
        id_exp >> 10,
        id_exp & 1023,
        params >> 10,
        params & 1023,
        *(value >> 10 * i & 1023 for i in reversed(range(value_words))),
    ]
    residue = polymod([0, 0, 0], polymod(data, _START[share.extendable])) ^ 1
    checksum = [residue >> 20 & 1023, residue >> 10 & 1023, residue & 1023]
    return " ".join(WORDS[i] for i in (*data, *checksum))


def new_master_secret(bits: int = 128) -> bytes:
    if bits not in (128, 256):
        raise UsageError(f"A new master secret has 128 or 256 bits, not {bits}.")
    return secrets.token_bytes(bits // 8)


# -- reading shares --------------------------------------------------------------------------


def _suggest(token: str) -> list[str]:
    scored = sorted(WORDS, key=lambda w: (Levenshtein.distance(token, w), w))
    return [w for w in scored[:3] if Levenshtein.distance(token, w) <= 2]


def words_of(mnemonic: str) -> list[int]:
    """Word indices of a share; full words or unique prefixes of four or more letters."""
    tokens = mnemonic.lower().split()
    indices: list[int] = []
    unknown: list[str] = []
    positions: list[int] = []
    for position, token in enumerate(tokens, 1):
        index = INDEX.get(token, PREFIXES.get(token))
        if index is None:
            hint = _suggest(token)
            also = f" (did you mean {' or '.join(hint)}?)" if hint else ""
            unknown.append(f"word {position} {token!r} is not in the SLIP-39 wordlist{also}")
            positions.append(position)
        else:
            indices.append(index)
    if unknown:
        more = f" ({len(unknown) - 1} more unknown)" if len(unknown) > 1 else ""
        raise Slip39Error(unknown[0][0].upper() + unknown[0][1:] + more + ".", tuple(positions))
    return indices


# RS1024 (the spec's checksum) with the generator folded into a 1024-entry table, and the
# customization string's state computed once: the reference's bit-by-bit loop made reading
# shares slower than the reference itself. Checked against it in tests.
_GEN = (
    0xE0E040, 0x1C1C080, 0x3838100, 0x7070200, 0xE0E0009,
    0x1C0C2412, 0x38086C24, 0x3090FC48, 0x21B1F890, 0x3F3F120,
)  # fmt: skip


def _fold(top: int) -> int:
    out = 0
    for i in range(10):
        if top >> i & 1:
            out ^= _GEN[i]
    return out


_TABLE = tuple(_fold(top) for top in range(1024))


def polymod(values: Sequence[int], chk: int = 1) -> int:
    for v in values:
        chk = ((chk & 0xFFFFF) << 10) ^ v ^ _TABLE[chk >> 20]
    return chk


_START = {
    False: polymod(CUSTOMIZATION_STRING_ORIG),
    True: polymod(CUSTOMIZATION_STRING_EXTENDABLE),
}


def _residue(values: Sequence[int], extendable: bool) -> int:
    return polymod(values, _START[extendable])


def likely_wrong_words(indices: Sequence[int]) -> list[int]:
    """1-based positions where changing that one word would make the checksum valid.

    RS1024 is linear: changing word p by e (a 10-bit XOR) changes the residue by a value that
    is linear in e, so each position needs ten residues, not a thousand trial checksums.
    The flag that selects the checksum's customization string lives in word 2; a change
    there is tried under both strings.
    """
    found = []
    for p in range(len(indices)):
        for extendable in (False, True):
            base = _residue(indices, extendable)
            zero = list(indices)
            zero[p] = 0
            origin = _residue(zero, extendable)
            basis = []
            for bit in range(10):
                probe = list(zero)
                probe[p] = 1 << bit
                basis.append(_residue(probe, extendable) ^ origin)
            target = base ^ 1  # the residue change that makes the checksum valid
            acc = 0
            for step in range(1, 1024):  # every non-zero e, in Gray-code order
                acc ^= basis[(step & -step).bit_length() - 1]
                if acc == target:
                    candidate = list(indices)
                    candidate[p] ^= step ^ (step >> 1)
                    # the flag in word 2 must agree with the string the checksum used
                    if bool(candidate[1] >> 4 & 1) == extendable and p + 1 not in found:
                        found.append(p + 1)
                    break
    return found


@dataclass(frozen=True)
class ShareInfo:
    """What a share's words say about it (the spec's fields), without any secret."""

    identifier: int
    extendable: bool
    iteration_exponent: int
    group_index: int  # 0-based, as in the spec
    group_threshold: int
    group_count: int
    member_index: int
    member_threshold: int
    words: int
    share: Share = field(repr=False, compare=False)


def decode(mnemonic: str) -> ShareInfo:
    """Parse and check one share; errors name the word or the field at fault."""
    indices = words_of(mnemonic)
    if len(indices) < MIN_WORDS:
        raise Slip39Error(
            f"A SLIP-39 share has at least {MIN_WORDS} words (20 for a 128-bit secret, 33 for "
            f"256 bits); this one has {len(indices)}."
        )
    extendable = bool(indices[1] >> 4 & 1)
    if _residue(indices, extendable) != 1:
        where = likely_wrong_words(indices)
        if len(where) == 1:
            raise Slip39Error(
                f"The share's checksum fails: word {where[0]} is the likely mistake (check it "
                "against the written share).",
                (where[0],),
            )
        raise Slip39Error(
            "The share's checksum fails: more than one word is wrong, or words are missing "
            "or swapped. Check the share word by word."
        )
    share = _share(indices, extendable)
    return ShareInfo(
        share.identifier,
        share.extendable,
        share.iteration_exponent,
        share.group_index,
        share.group_threshold,
        share.group_count,
        share.index,
        share.member_threshold,
        len(indices),
        share,
    )


def _share(indices: Sequence[int], extendable: bool) -> Share:
    """The share's fields (spec § Format of the share mnemonic); the checksum is checked."""
    padding = (10 * (len(indices) - METADATA_LENGTH_WORDS)) % 16
    if padding > 8:
        raise Slip39Error(
            f"A share of {len(indices)} words cannot exist (20 words for a 128-bit secret, "
            "33 for 256 bits): words are missing or extra."
        )
    id_exp = indices[0] << 10 | indices[1]
    params = indices[2] << 10 | indices[3]
    group_index, group_threshold, group_count, member_index, member_threshold = (
        params >> shift & 15 for shift in (16, 12, 8, 4, 0)
    )
    if group_count < group_threshold:
        raise Slip39Error("The share says its group threshold exceeds its group count.")
    value = 0
    for index in indices[4:-3]:
        value = value << 10 | index
    size = (10 * (len(indices) - METADATA_LENGTH_WORDS) - padding + 7) // 8
    if value >> (size * 8):
        raise Slip39Error("The share's padding bits are not zero: the share is damaged.")
    return Share(
        id_exp >> 5,
        extendable,
        id_exp & 15,
        group_index,
        group_threshold + 1,
        group_count + 1,
        member_index,
        member_threshold + 1,
        value.to_bytes(size, "big"),
    )


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text.endswith(".") else text + "."


# -- recovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupProgress:
    group: int  # 1-based for people
    entered: int
    threshold: int | None  # None until a share of the group is entered
    complete: bool


@dataclass(frozen=True)
class Progress:
    groups: tuple[GroupProgress, ...]
    groups_complete: int
    group_threshold: int
    complete: bool


class Recovery:
    """Shares entered one at a time, in any order, checked as they come."""

    def __init__(self) -> None:
        self._state = RecoveryState()
        self._first: ShareInfo | None = None

    def add(self, mnemonic: str) -> Progress:
        self._add(decode(mnemonic))
        return self.progress()

    def _add(self, info: ShareInfo) -> None:
        first = self._first
        if first is not None:
            if info.identifier != first.identifier or info.extendable != first.extendable:
                raise Slip39Error(
                    "This share belongs to another set of shares (its identifier differs): "
                    "it cannot be combined with the shares entered so far."
                )
            if (info.group_threshold, info.group_count, info.iteration_exponent) != (
                first.group_threshold,
                first.group_count,
                first.iteration_exponent,
            ):
                raise Slip39Error(
                    "This share's group threshold or group count differs from the other "
                    "shares of its set: one of them is damaged."
                )
        if info.share in self._state:
            raise Slip39Error(
                f"This share was already entered (group {info.group_index + 1}, member "
                f"{info.member_index + 1}); enter a different one."
            )
        group = self._state.groups.get(info.group_index)
        if group and group.member_threshold() != info.member_threshold:
            raise Slip39Error(
                f"This share's member threshold ({info.member_threshold}) differs from the "
                f"other shares of group {info.group_index + 1}: one of them is damaged."
            )
        try:
            self._state.add_share(info.share)
        except ReferenceError as exc:
            raise Slip39Error(f"This share does not fit: {_reason(exc)}") from None
        self._first = self._first or info

    def progress(self) -> Progress:
        first = self._first
        if first is None:
            return Progress((), 0, 0, False)
        groups = []
        for index in range(first.group_count):
            entered, threshold = self._state.group_status(index)
            groups.append(
                GroupProgress(
                    index + 1,
                    entered,
                    threshold if threshold > 0 else None,
                    self._state.group_is_complete(index),
                )
            )
        return Progress(
            tuple(groups),
            self._state.groups_complete(),
            first.group_threshold,
            self._state.is_complete(),
        )

    def recover(self, passphrase: str = "") -> bytes:
        if not self._state.is_complete():
            progress = self.progress()
            raise Slip39Error(
                f"Not enough shares yet: {progress.groups_complete} of the "
                f"{progress.group_threshold} groups needed are complete."
            )
        try:
            return bytes(self._state.recover(check_passphrase(passphrase)))
        except ReferenceError as exc:
            raise Slip39Error(f"The shares do not combine: {_reason(exc)}") from None


def combine(mnemonics: Sequence[str], passphrase: str = "") -> bytes:
    """The master secret from enough shares (extra shares are fine)."""
    if not mnemonics:
        raise Slip39Error("No shares were given.")
    recovery = Recovery()
    for n, mnemonic in enumerate(mnemonics, 1):
        try:
            recovery._add(decode(mnemonic))  # the progress report is for people typing
        except Slip39Error as exc:
            if "already entered" in exc.message:
                continue  # a repeated share adds nothing, and hurts nothing
            raise Slip39Error(f"Share {n}: {exc.message}", exc.positions) from None
    return recovery.recover(passphrase)

"""The candidate space of a damaged phrase: every phrase the damage could have come from,
in an order that tries the most likely first, each with an index.

The space is a list of families. A family fixes the structure of the repair (which written
words were extra, where the missing ones go, which pairs were exchanged, which words were
miswritten) and leaves, per position of the phrase, the words that position may hold; its
candidates are the product of those choices (or, for `unscramble`, every order of the words
times that product). Families are ordered by the number of changes they make, so a phrase
with one typo is tried before any with two. A candidate's index is its family's offset plus
its rank in the family: a checkpoint is one integer, never a word.

Duplicates: a missing word never repeats the written word that follows it (inserting "ball"
before "ball" or after it gives one phrase: only the later is kept); an extra word is never
dropped when the next kept word is the same word; pairs of equal words are never exchanged;
a miswritten word's alternatives exclude the word as written. `unscramble` takes each
distinct order once.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from seedguard.errors import InputError, UsageError
from seedguard.mnemonic.bip39 import WORD_COUNTS, Wordlist
from seedguard.repair import checksum
from seedguard.repair.grammar import Slot
from seedguard.repair.words import close_words

MAX_FAMILIES = 2_000_000
ALL_WORDS = tuple(range(2048))


@dataclass(frozen=True)
class Damage:
    """What may be wrong with the written phrase (see docs/repair.md)."""

    length: int | None = None  # the phrase's real length, when known
    missing: int = 0  # words left out, at unknown positions
    extra: int = 0  # words written twice or by mistake
    swaps: int = 0  # at most this many pairs exchanged (any two positions)
    adjacent_swaps: int = 0  # at most this many neighbouring pairs exchanged
    unscramble: bool = False  # every word known, their order not
    typos: int = 0  # at most this many words replaced by a close word
    big_typos: int = 0  # at most this many words that may be any word


@dataclass
class Family:
    """One structure of repair: per final position, the word indices it may hold."""

    choices: tuple[tuple[int, ...], ...]
    changes: int
    permute: bool = False
    count: int = 0
    _shift: tuple[int, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        product = math.prod(len(c) for c in self.choices)
        self.count = product * (_distinct_orders(self.choices) if self.permute else 1)


def _distinct_orders(choices: Sequence[tuple[int, ...]]) -> int:
    counts: dict[tuple[int, ...], int] = {}
    for c in choices:
        counts[c] = counts.get(c, 0) + 1
    total = math.factorial(len(choices))
    for n in counts.values():
        total //= math.factorial(n)
    return total


def _nth_order(items: list[int], rank: int) -> list[int]:
    """The `rank`-th distinct permutation (lexicographic) of a multiset of slot ids."""
    pool = sorted(items)
    out: list[int] = []
    while pool:
        for value in sorted(set(pool)):
            rest = list(pool)
            rest.remove(value)
            counts: dict[int, int] = {}
            for v in rest:
                counts[v] = counts.get(v, 0) + 1
            block = math.factorial(len(rest))
            for n in counts.values():
                block //= math.factorial(n)
            if rank < block:
                out.append(value)
                pool = rest
                break
            rank -= block
    return out


def _next_order(order: list[int]) -> bool:
    """The next distinct permutation in place (Narayana's algorithm); False after the last."""
    i = len(order) - 2
    while i >= 0 and order[i] >= order[i + 1]:
        i -= 1
    if i < 0:
        return False
    j = len(order) - 1
    while order[j] <= order[i]:
        j -= 1
    order[i], order[j] = order[j], order[i]
    order[i + 1 :] = reversed(order[i + 1 :])
    return True


@dataclass
class Space:
    """Every candidate phrase of a damage, most likely first, each with an index."""

    length: int
    families: list[Family]
    wordlist: Wordlist
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        total = 0
        self._starts = []
        for family in self.families:
            self._starts.append(total)
            total += family.count
        self.count = total

    @property
    def checksum_ratio(self) -> int:
        """One candidate in this many passes the BIP-39 checksum."""
        return 1 << (self.length // 3)

    @property
    def survivors(self) -> int:
        return -(-self.count // self.checksum_ratio)

    def family_at(self, index: int) -> tuple[int, Family]:
        n = bisect.bisect_right(self._starts, index) - 1
        return self._starts[n], self.families[n]

    def valid(self, start: int, stop: int) -> Iterator[tuple[int, tuple[int, ...]]]:
        """(index, word indices) of every candidate in [start, stop) that passes the
        checksum, in index order."""
        stop = min(stop, self.count)
        n = max(0, bisect.bisect_right(self._starts, start) - 1)
        while start < stop and n < len(self.families):
            base = self._starts[n]
            family = self.families[n]
            end = min(stop, base + family.count)
            if family.count:
                for offset, words in _family_valid(family, start - base, end - base):
                    yield base + offset, words
            start = end
            n += 1

    def phrase(self, words: Sequence[int]) -> str:
        return self.wordlist.join(words)


ROW_MIN = 64  # a position with fewer choices is filtered by hashlib: no row worth laying out


@functools.lru_cache(maxsize=64)  # a chunk of a family is one call: its row is laid out once
def _row(values: tuple[int, ...], length: int) -> checksum.Row | None:
    """The compiled filter's layout of one position's choices, or None without numba."""
    return checksum.Row(values, length) if checksum.available() else None


def _family_valid(family: Family, lo: int, hi: int) -> Iterator[tuple[int, tuple[int, ...]]]:
    choices = family.choices
    length = len(choices)
    cs = length // 3
    mask = (1 << cs) - 1
    top = 8 - cs
    nbytes = (length * 11 - cs) // 8
    sha256 = hashlib.sha256
    if family.permute:
        product = math.prod(len(c) for c in choices)
        order_rank, rest = divmod(lo, product)
        ids = {c: n for n, c in enumerate(dict.fromkeys(choices))}
        kinds = list(dict.fromkeys(choices))
        order = _nth_order([ids[c] for c in choices], order_rank)
        index = order_rank * product
        while index < hi:
            slots = tuple(kinds[k] for k in order)
            for offset, words in _product_valid(slots, rest, min(product, hi - index)):
                yield index + offset, words
            rest = 0
            index += product
            if not _next_order(order):
                return
        return
    # The position with the most choices varies fastest: one big inner loop, not many small.
    inner = max(range(length), key=lambda p: len(choices[p]))
    shifts = [11 * (length - 1 - p) for p in range(length)]
    inner_values = [w << shifts[inner] for w in choices[inner]]
    radix = len(choices[inner])
    outer_positions = [p for p in range(length) if p != inner]
    outer_radices = [len(choices[p]) for p in outer_positions]
    first, skip = divmod(lo, radix)
    last = -(-hi // radix)
    row = _row(tuple(inner_values), length) if radix >= ROW_MIN else None
    for outer in range(first, last):
        rem = outer
        base = 0
        picks: list[int] = [0] * length
        for p, r in zip(reversed(outer_positions), reversed(outer_radices), strict=True):
            rem, digit = divmod(rem, r)
            word = choices[p][digit]
            picks[p] = word
            base |= word << shifts[p]
        start = skip if outer == first else 0
        end = min(radix, hi - outer * radix)
        if row is not None:
            inner_choices = choices[inner]
            for k in row.passing(base, start, end).tolist():
                picks[inner] = inner_choices[k]
                yield outer * radix + k, tuple(picks)
            continue
        for k in range(start, end):
            value = base | inner_values[k]
            if sha256((value >> cs).to_bytes(nbytes, "big")).digest()[0] >> top == value & mask:
                picks[inner] = choices[inner][k]
                yield outer * radix + k, tuple(picks)


def _product_valid(
    slots: tuple[tuple[int, ...], ...], lo: int, hi: int
) -> Iterator[tuple[int, tuple[int, ...]]]:
    yield from _family_valid(Family(slots, 0), lo, hi)


def _canonical_deletions(slots: Sequence[Slot], dropped: tuple[int, ...]) -> bool:
    kept = [n for n in range(len(slots)) if n not in dropped]
    for d in dropped:
        after = next((k for k in kept if k > d), None)
        if after is not None and slots[d].fixed and slots[after].exact == slots[d].exact:
            return False
    return True


def _pair_sets(
    n: int, most: int, adjacent: bool, slots: Sequence[Slot]
) -> list[tuple[tuple[int, int], ...]]:
    pairs = [
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if (j == i + 1 or not adjacent)
        and not (slots[i].fixed and slots[j].fixed and slots[i].exact == slots[j].exact)
    ]
    out: list[tuple[tuple[int, int], ...]] = [()]
    for k in range(1, most + 1):
        for combo in itertools.combinations(pairs, k):
            flat = [x for p in combo for x in p]
            if len(set(flat)) == len(flat):
                out.append(combo)
    return out


def build(slots: list[Slot], wl: Wordlist, damage: Damage) -> Space:
    """The space of `damage` applied to the written `slots`."""
    written = len(slots)
    missing, extra = damage.missing, damage.extra
    length = damage.length
    if length is None:
        length = written + missing - extra
    elif not missing and not extra:
        missing, extra = max(0, length - written), max(0, written - length)
    if length not in WORD_COUNTS:
        raise UsageError(
            f"{written} written words with --missing {missing} and --extra {extra} make "
            f"{length}: a phrase has 12, 15, 18, 21 or 24 words (give --length)."
        )
    if written + missing - extra != length:
        raise UsageError(
            f"{written} written words, --missing {missing} and --extra {extra} do not make "
            f"the {length} words of --length."
        )
    if damage.unscramble and (missing or extra or damage.swaps or damage.adjacent_swaps):
        raise UsageError(
            "--unscramble already tries every order: use it without --missing, --extra or swaps."
        )
    families: list[Family] = []
    plain = [n for n, s in enumerate(slots) if s.exact is not None]
    for dropped in itertools.combinations(range(written), extra):
        if not _canonical_deletions(slots, dropped):
            continue
        kept = [n for n in range(written) if n not in dropped]
        kept_plain = [n for n in plain if n in kept]
        swap_sets = (
            [()]
            if damage.unscramble
            else _pair_sets(len(kept), damage.swaps, False, [slots[k] for k in kept])
        )
        if damage.adjacent_swaps and not damage.swaps:
            swap_sets = _pair_sets(len(kept), damage.adjacent_swaps, True, [slots[k] for k in kept])
        for typo_count in range(min(damage.typos, len(kept_plain)) + 1):
            for typo_set in itertools.combinations(kept_plain, typo_count):
                free = [n for n in kept_plain if n not in typo_set]
                for big_count in range(min(damage.big_typos, len(free)) + 1):
                    for big_set in itertools.combinations(free, big_count):
                        per_slot = []
                        for n in kept:
                            slot = slots[n]
                            if n in typo_set:
                                assert slot.exact is not None
                                per_slot.append(close_words(wl.normalized[slot.exact], wl))
                            elif n in big_set:
                                per_slot.append(tuple(w for w in ALL_WORDS if w != slot.exact))
                            else:
                                per_slot.append(slot.choices)
                        if any(not c for c in per_slot):
                            continue
                        base_changes = typo_count + big_count
                        for swap_set in swap_sets:
                            order = list(range(len(kept)))
                            for i, j in swap_set:
                                order[i], order[j] = order[j], order[i]
                            arranged = [per_slot[k] for k in order]
                            nexts = [slots[kept[k]] for k in order]
                            for inserted in itertools.combinations(range(length), missing):
                                final: list[tuple[int, ...]] = []
                                source = iter(zip(arranged, nexts, strict=True))
                                pending: list[int] = []
                                for pos in range(length):
                                    if pos in inserted:
                                        final.append(ALL_WORDS)
                                        pending.append(pos)
                                    else:
                                        choice, slot = next(source)
                                        if slot.fixed and pending:
                                            banned = slot.exact
                                            for q in pending:
                                                final[q] = tuple(
                                                    w for w in ALL_WORDS if w != banned
                                                )
                                        pending = []
                                        final.append(choice)
                                families.append(
                                    Family(
                                        tuple(final),
                                        base_changes + len(swap_set),
                                        permute=damage.unscramble,
                                    )
                                )
                                if len(families) > MAX_FAMILIES:
                                    raise UsageError(
                                        "This damage has too many shapes to search: lower "
                                        "--typos, --swaps or --missing, or write ? where a "
                                        "word is unknown."
                                    )
    if not families:
        raise InputError("No phrase fits this damage: check the words and the flags.")
    families.sort(key=lambda f: f.changes)  # stable: within a cost, the order built above
    return Space(length, families, wl)

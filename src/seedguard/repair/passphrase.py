"""Candidate passphrases (or passwords) from what the user remembers.

The pattern: literal text, `{Correct|correct}` alternatives for a part, and wildcards for
characters: `%d` a digit, `%a` a lowercase letter, `%A` an uppercase one, `%s` a symbol
(printable ASCII punctuation or a space), with a count as `%2d` or a range as `%1,3d`; `%%` is
a percent sign, `\\{`, `\\}` and `\\|` are literal braces and bars.

On each candidate the pattern gives, a typo model (`typos` at most): one character's case
changed, one deleted, one inserted, one replaced by a neighbouring key, two neighbours
exchanged, one key repeated, and the whole text typed with caps lock on. Candidates come in
order of the number of typos, duplicates removed; each has an index (the checkpoint).
"""

from __future__ import annotations

import bisect
import itertools
import math
import string
from collections.abc import Iterator
from dataclasses import dataclass, field

from seedguard.errors import InputError, UsageError
from seedguard.repair.words import _keyboard

CLASSES = {
    "d": string.digits,
    "a": string.ascii_lowercase,
    "A": string.ascii_uppercase,
    "s": string.punctuation + " ",
}
INSERTABLE = string.ascii_letters + string.digits + string.punctuation + " "
MAX_BASE = 5_000_000
MAX_TOTAL = 500_000_000


def _too_many(count: int) -> UsageError:
    return UsageError(
        f"The pattern expands to {count:,} candidates: narrow its wildcards (at most {MAX_BASE:,})."
    )


def _parts(pattern: str) -> list[list[str]]:
    """The pattern as a list of parts, each the list of strings it may be.

    The size is checked before a part is written out: `%8a` alone would be 26^8 strings.
    """
    parts: list[list[str]] = []
    size = 1
    literal: list[str] = []
    i = 0

    def add(options: list[str]) -> None:
        nonlocal size
        parts.append(options)
        size *= len(options)
        if size > MAX_BASE:
            raise _too_many(size)

    def flush() -> None:
        if literal:
            parts.append(["".join(literal)])
            literal.clear()

    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "{}|\\%":
            literal.append(pattern[i + 1])
            i += 2
            continue
        if ch == "{":
            end = i + 1
            options, current = [], []
            while end < len(pattern) and pattern[end] != "}":
                if pattern[end] == "\\" and end + 1 < len(pattern):
                    current.append(pattern[end + 1])
                    end += 2
                    continue
                if pattern[end] == "|":
                    options.append("".join(current))
                    current = []
                else:
                    current.append(pattern[end])
                end += 1
            if end >= len(pattern):
                raise InputError(
                    "A { in the pattern is not closed: write {one|two}, or \\{ for a brace."
                )
            options.append("".join(current))
            flush()
            add(list(dict.fromkeys(options)))
            i = end + 1
            continue
        if ch == "}" or ch == "|":
            raise InputError(f"A {ch} outside {{...}}: write \\{ch} for the character itself.")
        if ch == "%":
            j = i + 1
            if j < len(pattern) and pattern[j] == "%":
                literal.append("%")
                i = j + 1
                continue
            digits = ""
            while j < len(pattern) and (pattern[j].isdigit() or pattern[j] == ","):
                digits += pattern[j]
                j += 1
            if j >= len(pattern) or pattern[j] not in CLASSES:
                raise InputError(
                    "A % in the pattern must be followed by d, a, A or s (with a count like "
                    "%2d or %1,3d), or be written %%."
                )
            low, _, high = digits.partition(",")
            try:
                lo = int(low) if low else 1
                hi = int(high) if high else lo
            except ValueError:
                raise InputError(f"%{digits}{pattern[j]}: write a count as %2d or %1,3d.") from None
            if not 0 <= lo <= hi <= 8:
                raise InputError(f"%{digits}{pattern[j]}: a count from 0 to 8, low to high.")
            chars = CLASSES[pattern[j]]
            flush()
            count = size * sum(len(chars) ** n for n in range(lo, hi + 1))
            if count > MAX_BASE:
                raise _too_many(count)
            add(["".join(p) for n in range(lo, hi + 1) for p in itertools.product(chars, repeat=n)])
            i = j + 1
            continue
        literal.append(ch)
        i += 1
    flush()
    return parts or [[""]]


def _one_typo(text: str) -> Iterator[str]:
    """Every text one typo away, in a fixed order (duplicates included)."""
    if any(c.isalpha() for c in text):
        yield text.swapcase()  # caps lock
    for i, ch in enumerate(text):
        if ch.isalpha():
            yield text[:i] + ch.swapcase() + text[i + 1 :]
    for i in range(len(text)):
        yield text[:i] + text[i + 1 :]
    for i in range(len(text) - 1):
        yield text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    for i, ch in enumerate(text):
        yield text[:i] + ch + text[i:]  # a key repeated
    keys = _keyboard()
    for i, ch in enumerate(text):
        for other in sorted(keys.get(ch.lower(), ())):
            yield text[:i] + (other.upper() if ch.isupper() else other) + text[i + 1 :]
    for i in range(len(text) + 1):
        for ch in INSERTABLE:
            yield text[:i] + ch + text[i:]


def _one_typo_bound(n: int) -> int:
    """At most how many texts `_one_typo` gives for a text of n characters."""
    neighbours = max((len(v) for v in _keyboard().values()), default=0)
    return 1 + n + n + max(n - 1, 0) + n + neighbours * n + (n + 1) * len(INSERTABLE)


@dataclass
class Space:
    """Candidates by index: every pattern expansion, then each one's typos (one, then two)."""

    pattern: str
    typos: int = 0
    count: int = 0
    _parts: list[list[str]] = field(default_factory=list, repr=False)
    _base: int = 0
    _levels: list[list[int]] = field(default_factory=list, repr=False)  # per level: cumulative
    _starts: list[int] = field(default_factory=list, repr=False)
    _memo: tuple[tuple[int, int], list[str]] = field(default=((-1, -1), []), repr=False)

    def __post_init__(self) -> None:
        if not 0 <= self.typos <= 2:
            raise UsageError(f"--typos must be 0, 1 or 2, not {self.typos}.")
        self._parts = _parts(self.pattern)
        base = 1
        for p in self._parts:
            base *= len(p)
        self._base = base
        estimate = self._estimate()
        if estimate > MAX_TOTAL:
            raise UsageError(
                f"About {estimate:,} candidates (more than {MAX_TOTAL:,}): lower --typos or "
                "narrow the pattern."
            )
        self._starts = [0]
        total = base
        self._levels = []
        for level in range(1, self.typos + 1):
            cumulative = []
            running = 0
            for b in range(base):
                running += len(self._variants(self._expand(b), level))
                cumulative.append(running)
                if total + running > MAX_TOTAL:
                    raise UsageError(
                        f"More than {MAX_TOTAL:,} candidates: lower --typos or narrow the pattern."
                    )
            self._starts.append(total)
            self._levels.append(cumulative)
            total += running
        self.count = total

    def _estimate(self) -> int:
        """About how many candidates, from the lengths alone: before the index is built.

        Per text of length n, one typo gives at most `_one_typo_bound(n)` variants; k typos
        about that to the k-th power over k! (the same typos in another order). The index
        itself counts exactly, but for a pattern too wide that takes minutes to refuse.
        """
        lengths: dict[int, int] = {0: 1}  # total length -> how many expansions have it
        for part in self._parts:
            here: dict[int, int] = {}
            for option in part:
                here[len(option)] = here.get(len(option), 0) + 1
            combined: dict[int, int] = {}
            for a, ca in lengths.items():
                for b, cb in here.items():
                    combined[a + b] = combined.get(a + b, 0) + ca * cb
            lengths = combined
        total = 0
        for n, count in lengths.items():
            bound = _one_typo_bound(n)
            total += count * sum(bound**k // math.factorial(k) for k in range(self.typos + 1))
        return total

    def _expand(self, index: int) -> str:
        out = []
        for part in reversed(self._parts):
            index, digit = divmod(index, len(part))
            out.append(part[digit])
        return "".join(reversed(out))

    def _variants(self, text: str, level: int) -> list[str]:
        seen = {text}
        current = [text]
        for _ in range(level):
            nxt = []
            for t in current:
                for v in _one_typo(t):
                    if v not in seen:
                        seen.add(v)
                        nxt.append(v)
            current = nxt
        return current

    @property
    def survivors(self) -> int:
        return self.count

    def valid(self, start: int, stop: int) -> Iterator[tuple[int, str]]:
        stop = min(stop, self.count)
        index = start
        while index < stop:
            if index < self._base:
                yield index, self._expand(index)
                index += 1
                continue
            level = bisect.bisect_right(self._starts, index) - 1
            offset = index - self._starts[level]
            cumulative = self._levels[level - 1]
            b = bisect.bisect_right(cumulative, offset)
            before = cumulative[b - 1] if b else 0
            if self._memo[0] != (b, level):  # the next call most often wants the same list
                self._memo = ((b, level), self._variants(self._expand(b), level))
            variants = self._memo[1]
            for k in range(offset - before, len(variants)):
                if index >= stop:
                    return
                yield index, variants[k]
                index += 1

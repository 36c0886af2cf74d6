"""Close words: what a miswritten word may have been.

Three kinds of closeness, ranked together: the edit distance with transpositions (OSA, from
rapidfuzz), a substitution between neighbouring keys costing less than any other, and the
confusions people make when writing words down that Trezor describes in its list of commonly
misspelled backup words (a letter more or less at the start, "able"/"cable"/"table"; the same
letters in another order, "add"/"dad"; a longer word ending in the shorter one). The
groups are derived from the wordlist by those rules, not copied.
"""

from __future__ import annotations

from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from seedguard.mnemonic.bip39 import Wordlist, _common_prefix, wordlist

_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


@cache
def _keyboard() -> dict[str, frozenset[str]]:
    """Each key's neighbours on a QWERTY keyboard (same row, and the rows above and below)."""
    where = {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    out: dict[str, frozenset[str]] = {}
    # Each row sits half a key right of the one above: above, keys c and c+1 touch key c;
    # below, keys c-1 and c.
    touching = {0: (-1, 1), -1: (0, 1), 1: (-1, 0)}
    for ch, (r, c) in where.items():
        out[ch] = frozenset(
            other
            for other, (r2, c2) in where.items()
            if r2 - r in touching and c2 - c in touching[r2 - r]
        )
    return out


def keyboard_neighbours(a: str, b: str) -> bool:
    return b in _keyboard().get(a, frozenset())


def _substitution_cost(token: str, word: str) -> float:
    """For words of the same length one letter apart: 0.5 if the two keys are neighbours."""
    if len(token) != len(word):
        return 1.0
    diff = [(x, y) for x, y in zip(token, word, strict=True) if x != y]
    if len(diff) == 1 and keyboard_neighbours(*diff[0]):
        return 0.5
    return 1.0


def confusable(a: str, b: str) -> bool:
    """Words a person writing them down may take for one another."""
    if a == b:
        return False
    if sorted(a) == sorted(b):
        return True
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) <= 2 and len(short) >= 3 and long_.endswith(short)


def close_words(token: str, wl: Wordlist, distance: int = 2) -> tuple[int, ...]:
    """Indices of the words `token` may have been, closest first, the token itself excluded:
    edit distance up to `distance` (1 where either word has three letters or fewer), and the
    confusable words at any distance. Ranked by a cost in which a keyboard neighbour's
    substitution and a confusion count half; ties keep the longer shared beginning first."""
    return _close(token, wl.language, distance)


@cache
def _close(token: str, language: str, distance: int) -> tuple[int, ...]:
    wl = wordlist(language)
    scored: dict[int, float] = {}
    for _, dist, index in process.extract(
        token, wl.normalized, scorer=OSA.distance, score_cutoff=distance, limit=None
    ):
        word = wl.normalized[index]
        # One edit only where either word is three letters or fewer: the same rule both ways,
        # so a word miswritten as another is found from it whichever was the longer.
        if dist == 0 or (dist > 1 and min(len(token), len(word)) <= 3):
            continue
        cost = float(dist)
        if dist == 1:
            cost = _substitution_cost(token, word)
        scored[index] = cost
    for index, word in enumerate(wl.normalized):
        if confusable(token, word):
            scored[index] = min(scored.get(index, 9.0), 0.5)
    return tuple(
        sorted(
            scored,
            key=lambda i: (scored[i], -_common_prefix(token, wl.normalized[i]), i),
        )
    )

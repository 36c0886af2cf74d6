"""The damaged phrase, one token per word, as data.

    word          a word, possibly miswritten (a word not in the list must be repaired)
    ?             an unknown word at this position
    ab*           a word known by its first letters
    {one|two}     a word known to be one of a few

Each token becomes a Slot: the word indices it may stand for, most likely first, and whether
it was written as a plain word (only plain words take part in typo repairs and in the
duplicate rules of missing and extra words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seedguard.errors import InputError
from seedguard.mnemonic.bip39 import Wordlist, detect_language, nfkd, wordlist
from seedguard.repair.words import close_words

UNKNOWN = "?"
_WORD = re.compile(r"^[^\s?*{}|]+$")


@dataclass(frozen=True)
class Slot:
    """What one written token may stand for."""

    token: str
    choices: tuple[int, ...]  # word indices, most likely first
    exact: int | None  # the word index when the token is a valid word as written

    @property
    def fixed(self) -> bool:
        return self.exact is not None and len(self.choices) == 1


def _slot(token: str, position: int, wl: Wordlist) -> Slot:
    where = f"word {position}"
    if token == UNKNOWN:
        return Slot(token, tuple(range(2048)), None)
    if token.startswith("{") or token.endswith("}"):
        if not (token.startswith("{") and token.endswith("}")) or len(token) < 3:
            raise InputError(f"{where}: {token!r} is not a list; write it as {{word1|word2}}.")
        options: list[int] = []
        for option in token[1:-1].split("|"):
            index = wl.lookup(option)
            if index is None:
                raise InputError(
                    f"{where}: {option!r} in {token!r} is not a word of the {wl.language} list."
                )
            if index not in options:
                options.append(index)
        return Slot(token, tuple(options), None)
    if token.endswith("*") and token.count("*") == 1 and _WORD.match(token[:-1]):
        prefix = token[:-1]
        found = tuple(i for i, w in enumerate(wl.normalized) if w.startswith(prefix))
        if not found:
            raise InputError(f"{where}: no word of the {wl.language} list starts with {prefix!r}.")
        return Slot(token, found, None)
    if not _WORD.match(token):
        raise InputError(
            f"{where}: {token!r} is not a word, ?, a prefix like ab* or a list like {{a|b}}."
        )
    index = wl.lookup(token)
    if index is not None:
        return Slot(token, (index,), index)
    near = close_words(token, wl)
    if not near:
        raise InputError(
            f"{where}: {token!r} is not close to any word of the {wl.language} list; "
            "write ? for an unknown word."
        )
    return Slot(token, near, None)


def parse(text: str, language: str | None = None) -> tuple[list[Slot], Wordlist]:
    """The slots of a damaged phrase (whitespace-separated tokens, NFKD, case-folded)."""
    tokens = [t.lower() for t in nfkd(text).split()]
    if not tokens:
        raise InputError("The damaged phrase is empty: give its words, ? for an unknown one.")
    if len(tokens) > 48:
        raise InputError(f"{len(tokens)} tokens: a phrase has at most 24 words.")
    if language is None:
        plain = [t for t in tokens if _WORD.match(t)]
        language = detect_language(plain) or "english"
    wl = wordlist(language)
    return [_slot(t, n + 1, wl) for n, t in enumerate(tokens)], wl

"""BIP-39: mnemonic code for generating deterministic keys.

Names follow the specification (bitcoin/bips bip-0039.mediawiki): ENT is the entropy length in
bits, CS = ENT / 32 the checksum length, MS = (ENT + CS) / 11 the number of words.

Beyond the specification, this module checks a phrase the way a person needs it checked: it
never corrects silently; it reports each problem (an unknown word, a wrong word count, a word
from another language, a bad checksum) with the closest valid words.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

from seedguard.errors import MnemonicError, UsageError
from seedguard.primitives.hashes import pbkdf2_hmac_sha512, sha256

# python-mnemonic ships the ten wordlists of the BIP plus Russian and Turkish; the order here
# breaks ties in language detection (English and French share 100 words, the two Chinese
# lists share 1275).
LANGUAGES: tuple[str, ...] = (
    "english",
    "chinese_simplified",
    "chinese_traditional",
    "czech",
    "french",
    "italian",
    "japanese",
    "korean",
    "portuguese",
    "spanish",
    "russian",
    "turkish",
)
WORD_COUNTS: tuple[int, ...] = (12, 15, 18, 21, 24)
PBKDF2_ROUNDS = 2048
IDEOGRAPHIC_SPACE = "\u3000"
# In alphabetic wordlists a word may be entered by a prefix of at least this many letters
# when no other word starts with it (the English list guarantees four letters suffice).
PREFIX_LENGTH = 4
_NO_PREFIXES = frozenset({"chinese_simplified", "chinese_traditional", "japanese", "korean"})
MAX_SUGGESTIONS = 5
MAX_ANALYSED_WORDS = 48  # beyond this, only the word count is reported

ProblemKind = Literal[
    "unknown-word", "ambiguous-prefix", "word-count", "checksum", "mixed-language"
]


def nfkd(text: str) -> str:
    return unicodedata.normalize("NFKD", text)


@dataclass(frozen=True)
class Wordlist:
    """One language's 2048 words, as published and NFKD-normalized, with fast lookups."""

    language: str
    words: tuple[str, ...]
    normalized: tuple[str, ...]
    index: Mapping[str, int]
    prefixes: Mapping[str, int]

    @property
    def separator(self) -> str:
        """The space between words on output (BIP-39 asks for U+3000 in Japanese)."""
        return IDEOGRAPHIC_SPACE if self.language == "japanese" else " "

    def lookup(self, token: str) -> int | None:
        """Index of an NFKD token: the word itself or its unique prefix, else None."""
        found = self.index.get(token)
        return found if found is not None else self.prefixes.get(token)

    def join(self, indices: Iterable[int]) -> str:
        return self.separator.join(self.words[i] for i in indices)


def _unique_prefixes(words: Sequence[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, word in enumerate(words):
        for k in range(PREFIX_LENGTH, len(word)):
            prefix = word[:k]
            seen[prefix] = -1 if prefix in seen else i
    full = set(words)
    return {p: i for p, i in seen.items() if i >= 0 and p not in full}


@cache
def wordlist(language: str) -> Wordlist:
    """The wordlist of `language` (one of LANGUAGES)."""
    if language not in LANGUAGES:
        raise UsageError(f"Unknown language {language!r}: choose one of {', '.join(LANGUAGES)}.")
    text = (resources.files("mnemonic") / "wordlist" / f"{language}.txt").read_text("utf-8")
    words = tuple(w.strip() for w in text.splitlines() if w.strip())
    if len(words) != 2048:  # pragma: no cover - a broken installation
        raise RuntimeError(f"the {language} wordlist has {len(words)} words, not 2048")
    normalized = tuple(nfkd(w) for w in words)
    index = {w: i for i, w in enumerate(normalized)}
    prefixes = {} if language in _NO_PREFIXES else _unique_prefixes(normalized)
    return Wordlist(language, words, normalized, index, prefixes)


@cache
def _word_languages() -> Mapping[str, tuple[str, ...]]:
    """Every NFKD word of every list, mapped to the languages that contain it."""
    table: dict[str, list[str]] = {}
    for language in LANGUAGES:
        for word in wordlist(language).normalized:
            table.setdefault(word, []).append(language)
    return {w: tuple(langs) for w, langs in table.items()}


def split_words(phrase: str) -> list[str]:
    """NFKD-normalize and split on any whitespace (ASCII, U+3000, tabs, newlines)."""
    return nfkd(phrase).split()


# --- entropy <-> mnemonic -------------------------------------------------------------------


def checksum_bits(entropy: bytes) -> int:
    """The CS = ENT/32 first bits of SHA-256(entropy), as an integer."""
    cs = len(entropy) * 8 // 32
    return sha256(entropy)[0] >> (8 - cs)


def _check_entropy_length(entropy: bytes) -> None:
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise MnemonicError(
            f"Entropy must be 128, 160, 192, 224 or 256 bits, not {len(entropy) * 8}."
        )


def entropy_to_indices(entropy: bytes) -> list[int]:
    _check_entropy_length(entropy)
    cs = len(entropy) * 8 // 32
    bits = int.from_bytes(entropy, "big") << cs | checksum_bits(entropy)
    count = (len(entropy) * 8 + cs) // 11
    return [(bits >> (11 * (count - 1 - i))) & 0x7FF for i in range(count)]


def entropy_to_mnemonic(entropy: bytes, language: str = "english") -> str:
    """The mnemonic sentence for `entropy` (16 to 32 bytes, a multiple of 4)."""
    return wordlist(language).join(entropy_to_indices(entropy))


def _split_indices(indices: Sequence[int]) -> tuple[bytes, int, int]:
    """(entropy, checksum found in the words, checksum the entropy demands)."""
    acc = 0
    for i in indices:
        acc = acc << 11 | i
    cs = len(indices) * 11 // 33
    entropy = (acc >> cs).to_bytes(cs * 4, "big")
    return entropy, acc & ((1 << cs) - 1), checksum_bits(entropy)


def indices_valid(indices: Sequence[int]) -> bool:
    if len(indices) not in WORD_COUNTS:
        return False
    _, found, wanted = _split_indices(indices)
    return found == wanted


def generate(words: int = 12, language: str = "english") -> str:
    """A new random mnemonic of `words` words from the OS random generator."""
    if words not in WORD_COUNTS:
        raise UsageError(f"A phrase has 12, 15, 18, 21 or 24 words, not {words}.")
    return entropy_to_mnemonic(secrets.token_bytes(words * 4 // 3), language)


def to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + NFKD(passphrase)).

    As in the specification this does not validate the phrase; `check` it first, and pass the
    phrase with full words (`CheckResult.mnemonic`), not the prefixes a user may have typed.
    """
    return pbkdf2_hmac_sha512(
        nfkd(mnemonic).encode("utf-8"),
        b"mnemonic" + nfkd(passphrase).encode("utf-8"),
        PBKDF2_ROUNDS,
    )


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a phrase. Positions are 1-based.

    For kind "checksum", each suggestion is "N:word" (replace word N by word) or "N<->M"
    (swap the neighbouring words N and M); either makes the checksum valid.
    """

    kind: ProblemKind
    position: int | None = None
    word: str | None = None
    suggestions: tuple[str, ...] = ()
    detail: str = ""  # the sentence for "word-count" problems

    def as_dict(self) -> dict[str, object]:
        """The JSON form of `seedguard seed check --json`."""
        return {
            "kind": self.kind,
            "position": self.position,
            "word": self.word,
            "suggestions": list(self.suggestions),
        }

    def describe(self, reveal: bool = True) -> str:
        """One line for a person. With reveal=False the line names positions only, never a
        word of the phrase nor a word close to one: fit for an exception message."""
        hint = ""
        if reveal and self.suggestions:
            hint = f" Did you mean {_or_list(self.suggestions)}?"
        shown = f" ({self.word!r})" if reveal else ""
        if self.kind == "unknown-word":
            return f"Word {self.position}{shown} is not in the wordlist.{hint}"
        if self.kind == "ambiguous-prefix":
            if not reveal:
                return f"Word {self.position} is the start of several words: type more letters."
            listed = ", ".join(self.suggestions[:12]) + (
                " ..." if len(self.suggestions) > 12 else ""
            )
            return (
                f"Word {self.position}{shown} is ambiguous: it starts {len(self.suggestions)} "
                f"words ({listed}). Type more letters."
            )
        if self.kind == "mixed-language":
            return f"Word {self.position}{shown} is from another language's wordlist.{hint}"
        if self.kind == "word-count":
            return self.detail or "The phrase must have 12, 15, 18, 21 or 24 words."
        fixes = [describe_fix(s) for s in self.suggestions] if reveal else []
        more = f" Close words that would make it valid: {'; '.join(fixes)}." if fixes else ""
        if reveal and not fixes:
            more = " No single close word fixes it; `seedguard seed last-word` lists last words."
        return "The checksum does not match: at least one word is wrong or out of order." + more


def _or_list(items: Sequence[str]) -> str:
    quoted = [repr(s) for s in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def describe_fix(suggestion: str) -> str:
    """ "4:year" → "word 4 → 'year'"; "5<->6" → "swap words 5 and 6"."""
    if "<->" in suggestion:
        a, b = suggestion.split("<->")
        return f"swap words {a} and {b}"
    position, word = suggestion.split(":", 1)
    return f"word {position} → {word!r}"


@dataclass(frozen=True)
class CheckResult:
    """The verdict on a phrase: valid or not, the language, the words, every problem."""

    valid: bool
    language: str | None
    words: int
    problems: tuple[Problem, ...] = ()
    indices: tuple[int, ...] = field(default=(), repr=False)

    @property
    def mnemonic(self) -> str:
        """The phrase with full words, as published in its wordlist (valid phrases only)."""
        if not self.valid or self.language is None:
            raise MnemonicError(self.summary(), self.problems)
        return wordlist(self.language).join(self.indices)

    @property
    def entropy(self) -> bytes:
        if not self.valid:
            raise MnemonicError(self.summary(), self.problems)
        return _split_indices(self.indices)[0]

    def summary(self) -> str:
        """One line: the first problem, and how many more there are."""
        if self.valid:
            return f"Valid {self.words}-word {self.language} phrase."
        first = self.problems[0].describe(reveal=False)
        rest = len(self.problems) - 1
        more = f" ({rest} more problem{'s' if rest > 1 else ''}.)" if rest else ""
        return f"{first}{more} Run `seedguard seed check` for details and suggestions."


def _resolve(tokens: Sequence[str], wl: Wordlist) -> list[int | None]:
    return [wl.lookup(t) for t in tokens]


def _word_problems(tokens: Sequence[str], wl: Wordlist) -> tuple[list[int], list[Problem]]:
    """The indices of the words `wl` knows, and a problem for each word it does not."""
    indices: list[int] = []
    problems: list[Problem] = []
    elsewhere = _word_languages()
    for position, token in enumerate(tokens, start=1):
        index = wl.lookup(token)
        if index is not None:
            indices.append(index)
            continue
        starts = [w for w in wl.normalized if w.startswith(token)] if token else []
        if len(starts) > 1:  # a prefix of several words: say so, and list them
            problems.append(Problem("ambiguous-prefix", position, token, tuple(starts)))
            continue
        kind: ProblemKind = "mixed-language" if token in elsewhere else "unknown-word"
        problems.append(Problem(kind, position, token, tuple(suggest_words(token, wl))))
    return indices, problems


def _fast_exact(tokens: Sequence[str]) -> CheckResult | None:
    """The common case: every word exact in one list, checksum good."""
    for language in _word_languages().get(tokens[0], ()):
        wl = wordlist(language)
        idx = wl.index
        try:
            indices = tuple(idx[t] for t in tokens)
        except KeyError:
            continue
        if indices_valid(indices):
            return CheckResult(True, language, len(tokens), (), indices)
    return None


def detect_language(tokens: Sequence[str]) -> str | None:
    """The language whose list holds most of the tokens (ties: the one whose checksum holds,
    then LANGUAGES order), or None when no list holds any."""
    best: list[tuple[int, bool, int, str]] = []
    for order, language in enumerate(LANGUAGES):
        resolved = _resolve(tokens, wordlist(language))
        hits = sum(i is not None for i in resolved)
        if hits:
            complete = [i for i in resolved if i is not None]
            ok = hits == len(tokens) and indices_valid(complete)
            best.append((hits, ok, -order, language))
    return max(best)[3] if best else None


def check(phrase: str, language: str | None = None) -> CheckResult:
    """Check a phrase and report every problem; never corrects silently.

    `language` forces a wordlist; by default the language is detected.
    """
    tokens = split_words(phrase)
    if not tokens:
        problem = Problem("word-count", detail="The phrase is empty: enter 12 to 24 words.")
        return CheckResult(False, language, 0, (problem,))
    if language is None:
        fast = _fast_exact(tokens)
        if fast is not None:
            return fast
        language = detect_language(tokens)
    wl = wordlist(language or "english")
    problems: list[Problem] = []
    if len(tokens) not in WORD_COUNTS:
        problems.append(
            Problem(
                "word-count",
                detail=f"The phrase has {len(tokens)} words; "
                "a BIP-39 phrase has 12, 15, 18, 21 or 24.",
            )
        )
    if len(tokens) > MAX_ANALYSED_WORDS:  # not a phrase: say so, skip the per-word search
        return CheckResult(False, language, len(tokens), tuple(problems))
    indices, word_problems = _word_problems(tokens, wl)
    problems += word_problems
    if not problems and not indices_valid(indices):
        problems.append(Problem("checksum", suggestions=tuple(checksum_fixes(indices, wl))))
    if problems:
        return CheckResult(False, language, len(tokens), tuple(problems))
    return CheckResult(True, language, len(tokens), (), tuple(indices))


def validate(phrase: str, language: str | None = None) -> CheckResult:
    """`check`, raising MnemonicError (with every problem attached) unless valid."""
    result = check(phrase, language)
    if not result.valid:
        raise MnemonicError(result.summary(), result.problems)
    return result


def suggest_words(token: str, wl: Wordlist, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Closest valid words: those the token starts, then by edit distance (with swaps)."""
    out = [w for w in wl.normalized if w.startswith(token)][:limit] if token else []
    if len(out) < limit:
        cutoff = 1 if len(token) <= 3 else 2
        near = process.extract(
            token, wl.normalized, scorer=OSA.distance, score_cutoff=cutoff, limit=None
        )
        # Equally close words: the one that shares the longer beginning first ("yelow":
        # "yellow" before "below"); people miswrite the ends of words more than the starts.
        near.sort(key=lambda n: (n[1], -_common_prefix(token, n[0]), n[2]))
        for word, _, _ in near:
            if word not in out:
                out.append(word)
            if len(out) == limit:
                break
    return [wl.words[wl.index[w]] for w in out]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def checksum_fixes(indices: Sequence[int], wl: Wordlist, distance: int = 2) -> list[str]:
    """Single-word replacements among close words, and swaps of neighbours, that make the
    checksum valid. Returned as "N:word" and "N<->M" (1-based)."""
    fixes: list[str] = []
    current = list(indices)
    for pos, index in enumerate(indices):
        near = process.extract(
            wl.normalized[index],
            wl.normalized,
            scorer=OSA.distance,
            score_cutoff=distance,
            limit=None,
        )
        for _, dist, candidate in sorted(near, key=lambda n: (n[1], n[2])):
            if dist == 0:
                continue
            current[pos] = candidate
            if indices_valid(current):
                fixes.append(f"{pos + 1}:{wl.words[candidate]}")
        current[pos] = index
    for pos in range(len(indices) - 1):
        if indices[pos] == indices[pos + 1]:
            continue
        current[pos], current[pos + 1] = current[pos + 1], current[pos]
        if indices_valid(current):
            fixes.append(f"{pos + 1}<->{pos + 2}")
        current[pos], current[pos + 1] = current[pos + 1], current[pos]
    return fixes


def last_word_candidates(first_words: str, language: str | None = None) -> list[str]:
    """Every word that completes `first_words` (11, 14, 17, 20 or 23 words) into a valid
    phrase: 2^(11-CS) of them, 128 for 12 words and 8 for 24."""
    tokens = split_words(first_words)
    total = len(tokens) + 1
    if total not in WORD_COUNTS:
        raise MnemonicError(
            f"Give all words but the last: 11, 14, 17, 20 or 23 words, not {len(tokens)}."
        )
    if language is None:
        language = detect_language(tokens) or "english"
    wl = wordlist(language)
    indices, problems = _word_problems(tokens, wl)
    if problems:
        raise MnemonicError(problems[0].describe(reveal=False), tuple(problems))
    acc = 0
    for i in indices:
        acc = acc << 11 | i
    cs = total * 11 // 33
    free = 11 - cs  # entropy bits carried by the last word
    ent_bytes = cs * 4
    out = []
    for tail in range(1 << free):
        entropy = (acc << free | tail).to_bytes(ent_bytes, "big")
        out.append(wl.words[tail << cs | checksum_bits(entropy)])
    return out

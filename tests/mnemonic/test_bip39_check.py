"""Checking a phrase: every problem reported precisely, nothing corrected silently."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.errors import MnemonicError, UsageError
from seedguard.mnemonic import bip39

ABOUT = "abandon " * 11 + "about"
LEGAL = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def test_valid_phrase() -> None:
    result = bip39.check(ABOUT)
    assert (result.valid, result.language, result.words, result.problems) == (
        True,
        "english",
        12,
        (),
    )
    assert result.entropy == bytes(16)


def test_unknown_word_names_position_and_closest_words() -> None:
    result = bip39.check(LEGAL.replace("sausage", "sasuage"))
    assert not result.valid
    (problem,) = result.problems
    assert (problem.kind, problem.position, problem.word) == ("unknown-word", 6, "sasuage")
    assert problem.suggestions[0] == "sausage"


def test_edit_distance_suggestions_include_swapped_letters() -> None:
    problem = bip39.check(LEGAL.replace("winner", "winenr")).problems[0]
    assert problem.position == 2
    assert "winner" in problem.suggestions


def test_every_unknown_word_is_reported() -> None:
    words = LEGAL.split()
    words[0], words[7] = "lgeal", "xyzzyq"
    problems = bip39.check(" ".join(words)).problems
    assert [(p.kind, p.position) for p in problems] == [("unknown-word", 1), ("unknown-word", 8)]
    assert "legal" in problems[0].suggestions


@pytest.mark.parametrize("count", [0, 1, 11, 13, 25, 48])
def test_wrong_word_count(count: int) -> None:
    result = bip39.check(" ".join(["abandon"] * count))
    assert not result.valid
    assert result.words == count
    assert [p.kind for p in result.problems] == ["word-count"]
    assert result.problems[0].position is None


def test_far_too_many_words_reports_only_the_count() -> None:
    result = bip39.check("xyzzy " * 5000)
    assert [p.kind for p in result.problems] == ["word-count"]
    assert result.words == 5000


def test_bad_checksum_lists_single_word_fixes_that_are_valid() -> None:
    words = LEGAL.split()
    words[3] = "yard"  # close to "year", and the checksum no longer holds
    result = bip39.check(" ".join(words))
    assert [p.kind for p in result.problems] == ["checksum"]
    fixes = result.problems[0].suggestions
    assert "4:year" in fixes
    for fix in fixes:
        if "<->" in fix:
            continue
        position, word = fix.split(":")
        candidate = list(words)
        candidate[int(position) - 1] = word
        assert bip39.check(" ".join(candidate)).valid


def test_bad_checksum_suggests_swapping_neighbours() -> None:
    words = LEGAL.split()
    words[4], words[5] = words[5], words[4]
    fixes = bip39.check(" ".join(words)).problems[0].suggestions
    assert "5<->6" in fixes


def test_mixed_languages_are_reported_as_such() -> None:
    french = bip39.entropy_to_mnemonic(bytes(range(16)), "french").split()
    english = bip39.entropy_to_mnemonic(bytes(range(16)), "english").split()
    mixed = [*english[:11], french[11]]
    result = bip39.check(" ".join(mixed))
    assert result.language == "english"
    kinds = [(p.kind, p.position) for p in result.problems]
    assert kinds == [("mixed-language", 12)]


def test_unique_prefix_is_accepted_as_the_word() -> None:
    result = bip39.check(" ".join(w[:4] for w in LEGAL.split()))
    assert result.valid
    assert result.mnemonic == LEGAL
    # the seed comes from the full words, not from what was typed
    assert bip39.to_seed(result.mnemonic) == bip39.to_seed(LEGAL)


def test_ambiguous_short_prefix_says_so_and_lists_the_words() -> None:
    result = bip39.check(ABOUT.replace("about", "abo"))
    problem = result.problems[0]
    assert problem.kind == "ambiguous-prefix"
    assert problem.suggestions == ("about", "above")
    assert "ambiguous" in problem.describe()
    assert "about, above" in problem.describe()
    assert "abo" not in problem.describe(reveal=False)
    assert bip39.check(ABOUT.replace("about", "xyzq")).problems[0].kind == "unknown-word"


def test_any_whitespace_and_case_of_normalization() -> None:
    spaced = "\t abandon\u3000abandon  abandon\nabandon abandon abandon abandon abandon abandon "
    assert bip39.check(spaced + "abandon abandon about").valid
    spanish = bip39.entropy_to_mnemonic(bytes(16), "spanish")
    assert bip39.check(unicodedata.normalize("NFC", spanish)).valid
    assert bip39.check(unicodedata.normalize("NFKD", spanish)).valid


def test_japanese_with_ascii_spaces_is_valid() -> None:
    phrase = bip39.entropy_to_mnemonic(bytes(range(32)), "japanese")
    assert bip39.check(phrase.replace("\u3000", " ")).language == "japanese"


def test_forced_language() -> None:
    assert not bip39.check(ABOUT, "french").valid
    with pytest.raises(UsageError, match="Unknown language"):
        bip39.check(ABOUT, "klingon")


def test_validate_raises_without_revealing_words() -> None:
    with pytest.raises(MnemonicError) as info:
        bip39.validate(LEGAL.replace("sausage", "sausagf"))
    assert "sausag" not in str(info.value)
    assert "Word 6" in str(info.value)


@pytest.mark.parametrize(("words", "count"), [(12, 128), (15, 64), (18, 32), (21, 16), (24, 8)])
def test_last_word_candidates(words: int, count: int) -> None:
    first = " ".join(bip39.generate(words).split()[:-1])
    candidates = bip39.last_word_candidates(first)
    assert len(candidates) == len(set(candidates)) == count
    for word in candidates:
        assert bip39.check(f"{first} {word}").valid
    others = set(bip39.wordlist("english").words) - set(candidates)
    assert not any(bip39.check(f"{first} {w}").valid for w in list(others)[:200])


def test_last_word_rejects_wrong_count_and_unknown_words() -> None:
    with pytest.raises(MnemonicError, match="11, 14, 17, 20 or 23"):
        bip39.last_word_candidates("abandon " * 12)
    with pytest.raises(MnemonicError, match="Word 3"):
        bip39.last_word_candidates("abandon abandon abandun " + "abandon " * 8)


@pytest.mark.parametrize("language", bip39.LANGUAGES)
def test_generate_in_every_language(language: str) -> None:
    for words in bip39.WORD_COUNTS:
        phrase = bip39.generate(words, language)
        result = bip39.check(phrase)
        assert result.valid
        assert result.words == words
        assert bip39.check(phrase, language).valid


def test_generate_rejects_bad_count() -> None:
    with pytest.raises(UsageError):
        bip39.generate(13)


@given(
    st.binary(min_size=16, max_size=32).filter(lambda b: len(b) % 4 == 0),
    st.sampled_from(bip39.LANGUAGES),
)
@settings(max_examples=200, deadline=None)
def test_entropy_mnemonic_roundtrip(entropy: bytes, language: str) -> None:
    phrase = bip39.entropy_to_mnemonic(entropy, language)
    result = bip39.check(phrase, language)
    assert result.valid
    assert result.entropy == entropy
    assert result.words == len(entropy) * 3 // 4


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_check_never_raises_on_any_text(text: str) -> None:
    result = bip39.check(text)
    assert result.valid == (not result.problems)


@given(st.lists(st.sampled_from(bip39.wordlist("english").words), min_size=12, max_size=12))
@settings(max_examples=200, deadline=None)
def test_checksum_verdict_matches_the_definition(words: list[str]) -> None:
    wl = bip39.wordlist("english")
    indices = [wl.index[w] for w in words]
    acc = int("".join(f"{i:011b}" for i in indices), 2)
    entropy = (acc >> 4).to_bytes(16, "big")
    expected = bip39.sha256(entropy)[0] >> 4 == acc & 0xF
    # English forced: a phrase of words that French shares (adult, abandon...) may also be a
    # valid French phrase, which detection then rightly reports.
    assert bip39.check(" ".join(words), "english").valid == expected

"""Each kind of damage: a random wallet's phrase is damaged, then repaired through the
library, recognised by each kind of target; a wrong target exhausts the space and finds
nothing. Candidate counts against closed formulas; the most likely candidates come first."""

from __future__ import annotations

import math
import random
import secrets

import pytest

from seedguard.errors import InputError, UsageError
from seedguard.hd import accounts, bip32
from seedguard.mnemonic import bip39
from seedguard.repair import grammar, runner, space, targets
from seedguard.repair.words import close_words

OTHER = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"  # nobody's wallet here


def _distinct_phrase(words: int = 12) -> str:
    while True:
        phrase = bip39.generate(words)
        if len(set(phrase.split())) == words:
            return phrase


def _search(text: str, damage: space.Damage, target: targets.Targets) -> runner.Outcome:
    slots, wl = grammar.parse(text)
    built = space.build(slots, wl, damage)
    return runner.run(runner.PhraseSearch(built, targets.Matcher(target)), jobs=1)


def _repaired(phrase: str, text: str, damage: space.Damage, target: targets.Targets) -> None:
    found = _search(text, damage, target)
    assert found.found, "not found"
    slots, wl = grammar.parse(text)
    built = space.build(slots, wl, damage)
    assert built.phrase(found.found[0].candidate) == phrase
    wrong = _search(text, damage, targets.build([OTHER]))
    assert not wrong.found
    assert wrong.complete
    assert wrong.checked == built.count


def _address(phrase: str, standard: int, index: int = 0, change: bool = False) -> str:
    master = bip32.master_key(bip39.to_seed(phrase))
    acct = accounts.bitcoin_account(master, accounts.STANDARDS[standard], count=10)
    return (acct.change if change else acct.receive)[index]


def _count(text: str, damage: space.Damage) -> int:
    slots, wl = grammar.parse(text)
    return space.build(slots, wl, damage).count


def test_one_unknown_word_by_a_segwit_address() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    words[5] = "?"
    _repaired(phrase, " ".join(words), space.Damage(), targets.build([_address(phrase, 2, 4)]))
    assert _count(" ".join(words), space.Damage()) == 2048


def test_prefix_and_list_tokens_by_a_taproot_change_address() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    words[1] = words[1][:2] + "*"
    words[7] = "{" + "|".join(["abandon", "zoo", words[7]][:: random.choice((1, -1))]) + "}"
    target = targets.build([_address(phrase, 3, 9, change=True)])
    _repaired(phrase, " ".join(words), space.Damage(), target)


def test_a_missing_word_at_an_unknown_position_by_a_legacy_address() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    del words[secrets.randbelow(12)]
    damage = space.Damage(missing=1)
    _repaired(phrase, " ".join(words), damage, targets.build([_address(phrase, 0, 1)]))
    # 12 places for the word, 2048 words each, less the duplicates: a word inserted just
    # before the same word is the phrase with it inserted just after (11 such places).
    assert _count(" ".join(words), damage) == 12 * 2048 - 11


def test_an_extra_word_by_a_nested_segwit_address() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    at = secrets.randbelow(12)
    words.insert(at, words[at])  # a word written twice
    damage = space.Damage(extra=1)
    _repaired(phrase, " ".join(words), damage, targets.build([_address(phrase, 1, 0)]))
    # 13 words, one extra: dropping either copy of the doubled word is one candidate.
    assert _count(" ".join(words), damage) == 12


def test_swaps_by_an_account_key() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    i, j = random.sample(range(12), 2)
    words[i], words[j] = words[j], words[i]
    master = bip32.master_key(bip39.to_seed(phrase))
    xpub = accounts.bitcoin_account(master, accounts.STANDARDS[2]).xpub
    _repaired(phrase, " ".join(words), space.Damage(swaps=1), targets.build(accounts=[xpub]))
    length = 12
    assert _count(" ".join(words), space.Damage(swaps=1)) == length * (length - 1) // 2 + 1
    assert _count(" ".join(words), space.Damage(adjacent_swaps=1)) == length - 1 + 1
    # Two disjoint pairs: C(L,2)·C(L-2,2)/2 ways, plus the one-pair and no-pair ones.
    two = math.comb(12, 2) * math.comb(10, 2) // 2
    assert _count(" ".join(words), space.Damage(swaps=2)) == 1 + math.comb(12, 2) + two


def test_adjacent_swap_by_a_fingerprint() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    i = secrets.randbelow(11)
    words[i], words[i + 1] = words[i + 1], words[i]
    fingerprint = bip32.master_key(bip39.to_seed(phrase)).fingerprint.hex()
    target = targets.build(fingerprints=[fingerprint])
    _repaired(phrase, " ".join(words), space.Damage(adjacent_swaps=1), target)


def test_a_typo_by_an_ethereum_address() -> None:
    phrase = _distinct_phrase()
    wl = bip39.wordlist("english")
    words = phrase.split()
    # a word replaced by a close valid word (the miswriting that the checksum may not catch)
    for at in random.sample(range(12), 12):
        near = close_words(words[at], wl)
        if near:
            words[at] = wl.words[near[0]]
            break
    master = bip32.master_key(bip39.to_seed(phrase))
    eth = accounts.ethereum_account(master, count=3).receive[2]
    damage = space.Damage(typos=1)
    _repaired(phrase, " ".join(words), damage, targets.build([eth.lower()]))
    expected = 1 + sum(len(close_words(w, wl)) for w in words)
    assert _count(" ".join(words), damage) == expected


def test_close_words_are_close_both_ways() -> None:
    """A word miswritten as another valid word is found from the one written: the relation is
    symmetric (it was not for a three-letter word two edits from a longer one)."""
    wl = bip39.wordlist("english")
    sample = random.sample(range(2048), 150) + [wl.words.index(w) for w in ("act", "actor")]
    for a in sample:
        for b in close_words(wl.words[a], wl):
            assert a in close_words(wl.words[b], wl), (wl.words[a], wl.words[b])


def test_a_misspelled_word_is_repaired_from_close_words() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    at = next(n for n, w in enumerate(words) if len(w) >= 5)
    words[at] = words[at][:-1] + ("x" if words[at][-1] != "x" else "y")  # not a word
    target = targets.build([_address(phrase, 2)])
    _repaired(phrase, " ".join(words), space.Damage(), target)


def test_a_big_typo_may_be_any_word() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    at = secrets.randbelow(12)
    words[at] = next(w for w in ("zoo", "abandon", "ability") if w not in phrase.split())
    damage = space.Damage(big_typos=1)
    _repaired(phrase, " ".join(words), damage, targets.build([_address(phrase, 2)]))
    assert _count(" ".join(words), damage) == 1 + 12 * 2047


def test_unscramble_counts_and_order() -> None:
    phrase = _distinct_phrase()
    words = phrase.split()
    assert _count(phrase, space.Damage(unscramble=True)) == math.factorial(12)
    # A small shuffle (only the last four scrambled) sits within the first 4! orders: the
    # search over a prefix of the space finds it.
    scrambled = words[:8] + random.sample(words[8:], 4)
    slots, wl = grammar.parse(" ".join(scrambled))
    built = space.build(slots, wl, space.Damage(unscramble=True))
    orders = [built.phrase(c) for _, c in built.valid(0, 5_000)]
    assert len(orders) == len(set(orders))
    del phrase


def test_fewest_changes_first() -> None:
    phrase = _distinct_phrase()
    slots, wl = grammar.parse(phrase)
    built = space.build(slots, wl, space.Damage(typos=2, swaps=1))
    changes = [f.changes for f in built.families]
    assert changes == sorted(changes)
    assert changes[0] == 0
    assert next(built.valid(0, 1))[1] == tuple(wl.index[w] for w in phrase.split())


def test_bad_input() -> None:
    with pytest.raises(InputError, match="not a word"):
        grammar.parse("abandon a*b*c ?")
    with pytest.raises(InputError, match="not a word of the english list"):
        grammar.parse("{abandon|notaword} zoo")
    with pytest.raises(InputError, match="empty"):
        grammar.parse("   ")
    slots, wl = grammar.parse(" ".join(["abandon"] * 10))
    with pytest.raises(UsageError, match="12, 15, 18, 21 or 24"):
        space.build(slots, wl, space.Damage())
    with pytest.raises(UsageError, match="--length"):
        space.build(slots, wl, space.Damage(length=12, missing=1))
    with pytest.raises(InputError, match="not an address"):
        targets.build(["bc1notanaddress"])
    with pytest.raises(InputError, match="EIP-55"):
        targets.build(["0x52908400098527886E0F7030069857D2E4169EE7".replace("E", "e", 1)])
    with pytest.raises(InputError, match="fingerprint"):
        targets.build(fingerprints=["xyz"])

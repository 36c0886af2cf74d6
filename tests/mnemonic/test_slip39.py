"""SLIP-39: the 45 Trezor vectors, differential tests against shamir-mnemonic on random schemes,
split/combine properties, incremental recovery, and pointing at a wrong word."""

from __future__ import annotations

import itertools
import random

import pytest
import shamir_mnemonic
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.errors import UsageError
from seedguard.hd import bip32
from seedguard.mnemonic import slip39
from seedguard.mnemonic.slip39 import GroupSpec, Slip39Error
from tests.conftest import load_vectors


def _vectors() -> list[list[object]]:
    return list(load_vectors("slip39-trezor-vectors.json"))


def test_all_45_trezor_vectors() -> None:
    vectors = _vectors()
    assert len(vectors) == 45
    for description, mnemonics, secret, xprv in vectors:
        assert isinstance(mnemonics, list)
        if secret:
            recovered = slip39.combine(mnemonics, "TREZOR")
            assert recovered.hex() == secret, description
            assert str(bip32.master_key(recovered).serialize()) == xprv, description
        else:
            with pytest.raises(Slip39Error):
                slip39.combine(mnemonics, "TREZOR")


def test_the_reference_rejects_what_we_reject() -> None:
    for description, mnemonics, secret, _ in _vectors():
        if secret:
            continue
        with pytest.raises(shamir_mnemonic.MnemonicError):
            shamir_mnemonic.combine_mnemonics(mnemonics, b"TREZOR")  # type: ignore[arg-type]
        assert description


schemes = st.integers(1, 4).flatmap(
    lambda n: st.tuples(
        st.integers(1, n),
        st.lists(
            st.integers(1, 5).flatmap(
                lambda count: st.tuples(st.integers(2 if count > 1 else 1, count), st.just(count))
            ),
            min_size=n,
            max_size=n,
        ),
    )
)


@settings(max_examples=25, deadline=None)
@given(
    schemes,
    st.sampled_from([16, 32]),
    st.booleans(),
    st.text(alphabet="abcXYZ 019!", max_size=8),
    st.randoms(use_true_random=False),
)
def test_differential_against_shamir_mnemonic(
    scheme: tuple[int, list[tuple[int, int]]],
    size: int,
    extendable: bool,
    passphrase: str,
    rng: random.Random,
) -> None:
    group_threshold, groups = scheme
    secret = rng.randbytes(size)
    specs = [GroupSpec(t, n) for t, n in groups]
    ours = slip39.split(
        secret, specs, group_threshold, passphrase, extendable=extendable, iteration_exponent=0
    )
    theirs = shamir_mnemonic.generate_mnemonics(
        group_threshold, groups, secret, passphrase.encode(), extendable, 0
    )
    chosen = _enough(ours, groups, group_threshold, rng)
    assert shamir_mnemonic.combine_mnemonics(chosen, passphrase.encode()) == secret
    assert slip39.combine(_enough(theirs, groups, group_threshold, rng), passphrase) == secret
    assert slip39.combine(chosen, passphrase) == secret
    if (
        passphrase
    ):  # another passphrase gives another secret, never an error (plausible deniability)
        assert slip39.combine(chosen, passphrase + "x") != secret


def _enough(
    shares: list[list[str]], groups: list[tuple[int, int]], threshold: int, rng: random.Random
) -> list[str]:
    picked = rng.sample(range(len(groups)), threshold)
    chosen = [m for g in picked for m in rng.sample(shares[g], groups[g][0])]
    rng.shuffle(chosen)
    return chosen


def test_fewer_than_the_threshold_never_combine() -> None:
    secret = bytes(range(16))
    shares = slip39.split(secret, [GroupSpec(3, 5)], iteration_exponent=0)[0]
    for pair in itertools.combinations(shares, 2):
        with pytest.raises(Slip39Error, match="Not enough shares"):
            slip39.combine(list(pair))
    for triple in itertools.combinations(shares, 3):
        assert slip39.combine(list(triple)) == secret


def test_incremental_recovery_reports_progress_duplicates_and_strangers() -> None:
    secret = bytes(range(32))
    groups = [GroupSpec(2, 3), GroupSpec(1, 1), GroupSpec(3, 5)]
    shares = slip39.split(secret, groups, group_threshold=2, iteration_exponent=0)
    recovery = slip39.Recovery()
    first = recovery.add(shares[0][0])
    assert [(g.group, g.entered, g.threshold) for g in first.groups] == [
        (1, 1, 2),
        (2, 0, None),
        (3, 0, None),
    ]
    assert (first.groups_complete, first.group_threshold, first.complete) == (0, 2, False)
    with pytest.raises(Slip39Error, match="already entered"):
        recovery.add(shares[0][0])
    other_set = slip39.split(secret, groups, group_threshold=2, iteration_exponent=0)
    with pytest.raises(Slip39Error, match="another set"):
        recovery.add(other_set[0][1])
    assert recovery.add(shares[0][1]).groups_complete == 1
    with pytest.raises(Slip39Error, match="Not enough shares yet: 1 of the 2"):
        recovery.recover()
    done = recovery.add(shares[1][0])
    assert done.complete
    assert recovery.recover() == secret


def test_a_wrong_word_is_pointed_at_not_corrected() -> None:
    share = slip39.split(bytes(16), [GroupSpec(2, 3)], iteration_exponent=0)[0][0]
    words = share.split()
    for position in range(len(words)):
        wrong = list(words)
        wrong[position] = slip39.WORDS[(slip39.INDEX[wrong[position]] + 1 + position) % 1024]
        with pytest.raises(Slip39Error, match=f"word {position + 1} is the likely") as caught:
            slip39.decode(" ".join(wrong))
        assert caught.value.positions == (position + 1,)
        assert words[position] not in caught.value.message.split()  # no correction given


def test_swapped_words_and_unknown_words() -> None:
    words = slip39.split(bytes(16), [GroupSpec(2, 3)], iteration_exponent=0)[0][0].split()
    swapped = [words[0], words[1], words[2], words[4], words[3], *words[5:]]
    if swapped != words:
        with pytest.raises(Slip39Error, match="checksum fails"):
            slip39.decode(" ".join(swapped))
    typo = [*words[:3], words[3][:-1] + "q", *words[4:]]
    with pytest.raises(Slip39Error, match=r"Word 4 .* is not in the SLIP-39 wordlist") as caught:
        slip39.decode(" ".join(typo))
    assert caught.value.positions == (4,)
    with pytest.raises(Slip39Error, match="at least 20 words"):
        slip39.decode(" ".join(words[:12]))


def test_prefixes_of_four_letters_are_enough() -> None:
    share = slip39.split(bytes(16), [GroupSpec(1, 1)], iteration_exponent=0)[0][0]
    short = " ".join(w[:4] for w in share.split()).upper()
    assert slip39.decode(short).share.mnemonic() == share


@pytest.mark.parametrize(
    ("threshold", "groups", "message"),
    [
        (1, [GroupSpec(1, 3)], "1-of-3"),
        (2, [GroupSpec(2, 3)], "group threshold must be 1 to 1"),
        (1, [GroupSpec(4, 3)], "threshold must be 1 to 3"),
        (1, [GroupSpec(2, 17)], "1 to 16"),
        (1, [], "1 to 16 groups"),
    ],
)
def test_bad_schemes_are_usage_errors(
    threshold: int, groups: list[GroupSpec], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        slip39.split(bytes(16), groups, threshold)


def test_secrets_and_passphrases_are_checked() -> None:
    with pytest.raises(UsageError, match="at least 16 bytes"):
        slip39.split(bytes(15), [GroupSpec(1, 1)])
    with pytest.raises(UsageError, match="even number"):
        slip39.split(bytes(17), [GroupSpec(1, 1)])
    with pytest.raises(UsageError, match="printable ASCII"):
        slip39.split(bytes(16), [GroupSpec(1, 1)], passphrase="café")
    assert GroupSpec.parse("2/3") == GroupSpec(2, 3)
    with pytest.raises(UsageError, match="THRESHOLD/COUNT"):
        GroupSpec.parse("2-3")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1023), max_size=40), st.booleans())
def test_table_driven_rs1024_matches_the_reference(values: list[int], extendable: bool) -> None:
    from shamir_mnemonic import rs1024
    from shamir_mnemonic.constants import (
        CUSTOMIZATION_STRING_EXTENDABLE,
        CUSTOMIZATION_STRING_ORIG,
    )

    custom = CUSTOMIZATION_STRING_EXTENDABLE if extendable else CUSTOMIZATION_STRING_ORIG
    assert slip39._residue(values, extendable) == rs1024._polymod([*custom, *values])


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([16, 32]), st.randoms(use_true_random=False))
def test_share_fields_match_the_reference_parser(size: int, rng: random.Random) -> None:
    groups = [GroupSpec(2, 3), GroupSpec(3, 5)]
    for group in slip39.split(rng.randbytes(size), groups, 2, iteration_exponent=0):
        for mnemonic in group:
            assert slip39.decode(mnemonic).share == shamir_mnemonic.share.Share.from_mnemonic(
                mnemonic
            )


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([16, 20, 32]), st.booleans(), st.randoms(use_true_random=False))
def test_our_share_words_are_the_references(
    size: int, extendable: bool, rng: random.Random
) -> None:
    groups = [GroupSpec(2, 3), GroupSpec(1, 1)]
    for group in slip39.split(rng.randbytes(size), groups, 1, extendable=extendable):
        for mnemonic in group:
            share = shamir_mnemonic.share.Share.from_mnemonic(mnemonic)  # checks the checksum
            assert share.mnemonic() == mnemonic
            assert slip39.encode(share) == mnemonic

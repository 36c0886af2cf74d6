"""2-of-3 FROST signing in one process: signatures verified by libsecp256k1, every pair signs
and one share cannot, refresh and repair, the emergency exit, identifiable aborts."""

from __future__ import annotations

import itertools
import secrets

import pytest
from bip_utils import P2TRAddrEncoder
from coincurve import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.errors import InputError
from seedguard.hd.addresses import wif
from seedguard.mpc.shares import address
from seedguard.primitives.hashes import tagged_hash
from seedguard.primitives.secp256k1 import CURVE_ORDER, public_key, scalar_bytes
from seedguard.threshold import frost, refresh, repairable
from seedguard.threshold.keys import (
    CLOUD,
    DEVICE,
    SERVER,
    CulpritError,
    GroupKey,
    aggregate,
    interpolate_secret,
    sign_locally,
    verify,
)
from tests.mpc.helpers import local_dkg

KEY, SHARES, RECOVERY = local_dkg()
PAIRS = list(itertools.combinations((DEVICE, SERVER, CLOUD), 2))


def test_a_thousand_random_signatures_verify_with_libsecp256k1() -> None:
    for i in range(1000):
        pair = PAIRS[i % 3]
        message = secrets.token_bytes(32)
        signature = sign_locally(KEY, {p: SHARES[p] for p in pair}, message)
        assert verify(signature, message, KEY.output_key), (i, pair)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from(PAIRS))
def test_every_pair_signs(message: bytes, pair: tuple[int, int]) -> None:
    signature = sign_locally(KEY, {p: SHARES[p] for p in pair}, message)
    assert verify(signature, message, KEY.output_key)
    assert not verify(
        signature, bytes(32) if message != bytes(32) else b"\x01" * 32, KEY.output_key
    )


def test_all_three_sign_too() -> None:
    message = secrets.token_bytes(32)
    assert verify(sign_locally(KEY, SHARES, message), message, KEY.output_key)


@pytest.mark.parametrize("one", [DEVICE, SERVER, CLOUD])
def test_one_share_cannot_sign(one: int) -> None:
    message = secrets.token_bytes(32)
    with pytest.raises(InputError, match="Two shares"):
        sign_locally(KEY, {one: SHARES[one]}, message)
    # Nor by calling BIP-445 directly as a signer set of one: the threshold refuses it.
    secnonce, pubnonce = frost.nonce_gen(SHARES[one])
    session = frost.SessionContext(KEY.signers([one]), pubnonce, (KEY.taptweak,), (True,), message)
    with pytest.raises(frost.FrostError, match="between t and n"):
        frost.sign(secnonce, SHARES[one], one, session)
    # And a lone share used as if it were the key signs nothing valid.
    lone = PrivateKey(SHARES[one]).sign_schnorr(message)
    assert not verify(lone, message, KEY.output_key)


def test_output_key_and_address_match_bip_utils() -> None:
    # bip-utils applies BIP-86's tweak to the internal key: our FROST output key must agree.
    assert address(KEY) == P2TRAddrEncoder.EncodeKey(KEY.thresh_pk, hrp="bc")
    assert address(KEY, "testnet") == P2TRAddrEncoder.EncodeKey(KEY.thresh_pk, hrp="tb")


def test_key_generation_commits_to_an_unspendable_script_path() -> None:
    # ChillDKG's threshold key is Σ commitments + TapTweak(Σ commitments)·G; no party could
    # have hidden a script path in it, and our output tweak comes on top (BIP-341, no tree).
    assert KEY.output_key != KEY.public_key
    expected = tagged_hash("TapTweak", KEY.public_key)
    assert KEY.taptweak == expected


def test_a_bad_partial_signature_names_its_signer() -> None:
    message = secrets.token_bytes(32)
    ids = (DEVICE, SERVER)
    nonces = {i: frost.nonce_gen(SHARES[i]) for i in ids}
    pubnonces = [nonces[i][1] for i in ids]
    session = KEY.session(ids, frost.nonce_agg(pubnonces), message)
    psigs = [frost.sign(nonces[i][0], SHARES[i], i, session) for i in ids]
    forged = scalar_bytes(int.from_bytes(psigs[1], "big") + 1)
    with pytest.raises(CulpritError) as info:
        aggregate(KEY, ids, pubnonces, [psigs[0], forged], message)
    assert info.value.participant == SERVER
    assert "the server" in info.value.message


def test_a_tampered_nonce_commitment_is_refused_and_named() -> None:
    message = secrets.token_bytes(32)
    ids = (DEVICE, CLOUD)
    nonces = {i: frost.nonce_gen(SHARES[i]) for i in ids}
    real = [nonces[i][1] for i in ids]
    # Not a point at all: nonce aggregation names the sender's position.
    broken = b"\x04" + real[1][1:]
    with pytest.raises(frost.InvalidContributionError) as info:
        frost.nonce_agg([real[0], broken])
    assert (info.value.signer_index, info.value.contrib) == (1, "pubnonce")
    # A valid point, but not the one the signer used: its partial signature fails, named.
    session = KEY.session(ids, frost.nonce_agg(real), message)
    psigs = [frost.sign(nonces[i][0], SHARES[i], i, session) for i in ids]
    swapped = real[1][:33] + frost.nonce_gen(SHARES[CLOUD])[1][33:]
    with pytest.raises(CulpritError) as culprit:
        aggregate(KEY, ids, [real[0], swapped], psigs, message)
    assert culprit.value.participant in ids


def _refresh_all(key: GroupKey, shares: dict[int, bytes]) -> tuple[GroupKey, dict[int, bytes]]:
    dealers = [refresh.ZeroPolynomial.generate(2) for _ in range(2)]
    commitments = [list(d.commitment()) for d in dealers]
    new_key = GroupKey(
        key.thresh_pk,
        tuple(refresh.refreshed_pubshare(key.pubshares[i], commitments, i) for i in range(3)),
    )
    new = {}
    for i, s in shares.items():
        for d in dealers:
            refresh.verify_share(d.share_for(i), d.commitment(), i, "dealer")
        total = int.from_bytes(s, "big") + sum(d.share_for(i) for d in dealers)
        new[i] = scalar_bytes(total % CURVE_ORDER)
    return new_key, new


def test_refresh_keeps_the_key_and_makes_old_shares_useless() -> None:
    new_key, new = _refresh_all(KEY, SHARES)
    assert new_key.thresh_pk == KEY.thresh_pk
    assert new_key.output_key == KEY.output_key
    assert all(new[i] != SHARES[i] for i in range(3))
    message = secrets.token_bytes(32)
    for pair in PAIRS:
        assert verify(
            sign_locally(new_key, {p: new[p] for p in pair}, message), message, KEY.output_key
        )
    # The lost device's old share with the server's new one: the session aborts, naming the
    # stale participant, under either view of the public shares.
    mixed = {DEVICE: SHARES[DEVICE], SERVER: new[SERVER]}
    with pytest.raises((CulpritError, frost.FrostError)):
        sign_locally(new_key, mixed, message)
    with pytest.raises((CulpritError, frost.FrostError)):
        sign_locally(KEY, mixed, message)
    # And no interpolation of an old and a new share gives the key.
    with pytest.raises(InputError, match="do not rebuild"):
        interpolate_secret(KEY, mixed)


def test_a_tampered_refresh_share_names_its_dealer() -> None:
    dealer = refresh.ZeroPolynomial.generate(2)
    with pytest.raises(refresh.RefreshError) as info:
        refresh.verify_share(dealer.share_for(0) + 1, dealer.commitment(), 0, "the server")
    assert info.value.dealer == "the server"


@pytest.mark.parametrize("target", [DEVICE, SERVER, CLOUD])
def test_repair_gives_a_share_that_signs(target: int) -> None:
    helpers = sorted({DEVICE, SERVER, CLOUD} - {target})
    deltas = {
        h: repairable.repair_share_step_1(helpers, h, int.from_bytes(SHARES[h], "big"), target)
        for h in helpers
    }
    sigmas = [repairable.repair_share_step_2([deltas[src][h] for src in helpers]) for h in helpers]
    repaired = scalar_bytes(repairable.repair_share_step_3(sigmas))
    assert repaired == SHARES[target]
    assert public_key(repaired) == KEY.pubshares[target]
    message = secrets.token_bytes(32)
    other = helpers[0]
    signature = sign_locally(KEY, {target: repaired, other: SHARES[other]}, message)
    assert verify(signature, message, KEY.output_key)
    # What a helper sends reveals nothing alone: each delta is uniformly random.
    assert all(deltas[h][x] != int.from_bytes(SHARES[h], "big") for h in helpers for x in helpers)


def test_emergency_exit_rebuilds_a_key_that_spends() -> None:
    secret = interpolate_secret(KEY, {DEVICE: SHARES[DEVICE], CLOUD: SHARES[CLOUD]})
    assert public_key(secret) == KEY.thresh_pk
    assert interpolate_secret(KEY, {SERVER: SHARES[SERVER], CLOUD: SHARES[CLOUD]}) == secret
    # Any wallet importing tr(WIF) signs for the same output key (BIP-86 tweak of the key).
    import coincurve

    tweaked = coincurve.PrivateKey(secret)
    d = int.from_bytes(secret, "big")
    if public_key(secret)[0] == 3:
        d = CURVE_ORDER - d
    t = int.from_bytes(tagged_hash("TapTweak", KEY.public_key), "big")
    tweaked = coincurve.PrivateKey(scalar_bytes((d + t) % CURVE_ORDER))
    message = secrets.token_bytes(32)
    assert verify(tweaked.sign_schnorr(message), message, KEY.output_key)
    assert wif(secret).startswith(("K", "L"))


def test_the_exported_wif_decodes_with_bip_utils() -> None:
    from bip_utils import WifDecoder

    secret = interpolate_secret(KEY, {DEVICE: SHARES[DEVICE], CLOUD: SHARES[CLOUD]})
    decoded, _ = WifDecoder.Decode(wif(secret))
    assert bytes(decoded) == secret
    decoded, _ = WifDecoder.Decode(wif(secret, "testnet"), net_ver=b"\xef")
    assert bytes(decoded) == secret

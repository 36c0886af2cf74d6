"""ChillDKG end to end in one process, and tampered messages: each abort names its culprit."""

from __future__ import annotations

import secrets

import pytest

from seedguard.threshold import chilldkg, dkg_errors
from seedguard.threshold.keys import GroupKey
from tests.mpc.helpers import local_dkg


def _session() -> tuple[list[bytes], chilldkg.SessionParams, list]:
    hosts = [secrets.token_bytes(32) for _ in range(3)]
    params = chilldkg.SessionParams(tuple(chilldkg.hostpubkey_gen(h) for h in hosts), 2)
    first = [chilldkg.participant_step1(h, params, secrets.token_bytes(32)) for h in hosts]
    return hosts, params, first


def test_every_participant_and_the_coordinator_agree_and_recover() -> None:
    key, _shares, recovery = local_dkg()
    key.check()  # every pair of public shares interpolates to the threshold key
    output, params = chilldkg.coordinator_recover(recovery)
    assert GroupKey(output.thresh_pk, output.pubshares) == key
    assert params.t == 2
    assert len(params.hostpubkeys) == 3


def test_a_tampered_proof_of_possession_names_its_sender() -> None:
    hosts, params, first = _session()
    pmsgs = [pmsg for _, pmsg in first]
    forged = bytearray(pmsgs[1])
    forged[33 * 2 + 10] ^= 1  # inside participant 1's proof of possession
    _, cmsg1 = chilldkg.coordinator_step1([pmsgs[0], bytes(forged), pmsgs[2]], params)
    with pytest.raises(dkg_errors.FaultyParticipantOrCoordinatorError) as info:
        chilldkg.participant_step2(hosts[0], first[0][0], cmsg1, secrets.token_bytes(32))
    assert info.value.participant_id == 1


def test_a_tampered_encrypted_share_is_found_by_investigation() -> None:
    hosts, params, first = _session()
    pmsgs = [pmsg for _, pmsg in first]
    forged = bytearray(pmsgs[2])
    forged[-96] ^= 1  # participant 2's encrypted share for participant 0
    pmsgs[2] = bytes(forged)
    _, cmsg1 = chilldkg.coordinator_step1(pmsgs, params)
    with pytest.raises(dkg_errors.UnknownFaultyParticipantOrCoordinatorError) as unknown:
        chilldkg.participant_step2(hosts[0], first[0][0], cmsg1, secrets.token_bytes(32))
    cinvs = chilldkg.coordinator_investigate(pmsgs, params)
    with pytest.raises(dkg_errors.FaultyParticipantOrCoordinatorError) as info:
        chilldkg.participant_investigate(unknown.value, cinvs[0])
    assert info.value.participant_id == 2


def test_a_tampered_certificate_is_refused() -> None:
    hosts, params, first = _session()
    cstate, cmsg1 = chilldkg.coordinator_step1([p for _, p in first], params)
    second = [
        chilldkg.participant_step2(h, s, cmsg1, secrets.token_bytes(32))
        for h, (s, _) in zip(hosts, first, strict=True)
    ]
    sigs = [p for _, p in second]
    bad = bytearray(sigs[2])
    bad[40] ^= 1
    with pytest.raises(dkg_errors.FaultyParticipantError) as info:
        chilldkg.coordinator_finalize(cstate, [sigs[0], sigs[1], bytes(bad)])
    assert info.value.participant_id == 2
    cmsg2, _, _ = chilldkg.coordinator_finalize(cstate, sigs)
    with pytest.raises(dkg_errors.FaultyCoordinatorError):
        chilldkg.participant_finalize(second[0][0], cmsg2[:-64] + bytes(bad))


def test_a_tampered_vss_commitment_is_found_and_named() -> None:
    """A participant commits to one polynomial but deals shares of another: the receivers'
    shares fail the commitment, and the investigation names the dealer."""
    hosts, params, first = _session()
    pmsgs = [pmsg for _, pmsg in first]
    forged = bytearray(pmsgs[1])
    # Participant 1's commitment to its degree-1 coefficient: replaced by another point.
    other = chilldkg.hostpubkey_gen(secrets.token_bytes(32))
    forged[33:66] = other
    pmsgs[1] = bytes(forged)
    _, cmsg1 = chilldkg.coordinator_step1(pmsgs, params)
    with pytest.raises(dkg_errors.UnknownFaultyParticipantOrCoordinatorError) as unknown:
        chilldkg.participant_step2(hosts[0], first[0][0], cmsg1, secrets.token_bytes(32))
    cinvs = chilldkg.coordinator_investigate(pmsgs, params)
    with pytest.raises(dkg_errors.FaultyParticipantOrCoordinatorError) as info:
        chilldkg.participant_investigate(unknown.value, cinvs[0])
    assert info.value.participant_id == 1

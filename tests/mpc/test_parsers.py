"""Parsers of untrusted bytes (messages from the coordinator or the server, recovery data, a
cloud share, nonces) fail with seedguard's own errors, never with anything else."""

from __future__ import annotations

import contextlib
import json
import secrets

from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.errors import InputError
from seedguard.mpc.shares import ShareRecord
from seedguard.threshold import chilldkg, frost
from seedguard.threshold.dkg_errors import DkgError

HOSTS = [secrets.token_bytes(32) for _ in range(3)]
PARAMS = chilldkg.SessionParams(tuple(chilldkg.hostpubkey_gen(h) for h in HOSTS), 2)
STATE1, PMSG1 = chilldkg.participant_step1(HOSTS[0], PARAMS, secrets.token_bytes(32))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=800))
def test_coordinator_messages(data: bytes) -> None:
    with contextlib.suppress(DkgError):
        chilldkg.participant_step2(HOSTS[0], STATE1, data, secrets.token_bytes(32))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=900))
def test_recovery_data(data: bytes) -> None:
    with contextlib.suppress(DkgError):
        chilldkg.coordinator_recover(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=70), min_size=1, max_size=4))
def test_public_nonces(nonces: list[bytes]) -> None:
    culprit: int | None = -1
    try:
        aggregated = frost.nonce_agg(nonces)
    except frost.InvalidContributionError as exc:
        culprit = exc.signer_index
    else:
        assert len(aggregated) == 66
        return
    assert culprit is not None
    assert 0 <= culprit < len(nonces)


def _fields() -> st.SearchStrategy[dict[str, object]]:
    values = st.one_of(
        st.none(), st.integers(), st.text(max_size=70), st.lists(st.text(max_size=70))
    )
    keys = st.sampled_from(
        [
            "format",
            "wallet_id",
            "server",
            "network",
            "label",
            "epoch",
            "participant",
            "thresh_pk",
            "pubshares",
            "secshare",
        ]
    )
    return st.dictionaries(keys, values)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), _fields().map(lambda d: json.dumps(d).encode())))
def test_cloud_share_records(data: bytes) -> None:
    with contextlib.suppress(InputError):
        ShareRecord.from_bytes(data)

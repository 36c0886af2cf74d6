"""A whole ChillDKG session in one process (three participants and the coordinator)."""

from __future__ import annotations

import secrets

from seedguard.threshold import chilldkg
from seedguard.threshold.keys import GroupKey


def local_dkg(t: int = 2, n: int = 3) -> tuple[GroupKey, dict[int, bytes], bytes]:
    """(key, {participant: secret share}, recovery data)."""
    hosts = [secrets.token_bytes(32) for _ in range(n)]
    params = chilldkg.SessionParams(tuple(chilldkg.hostpubkey_gen(h) for h in hosts), t)
    first = [chilldkg.participant_step1(h, params, secrets.token_bytes(32)) for h in hosts]
    cstate, cmsg1 = chilldkg.coordinator_step1([pmsg for _, pmsg in first], params)
    second = [
        chilldkg.participant_step2(h, state, cmsg1, secrets.token_bytes(32))
        for h, (state, _) in zip(hosts, first, strict=True)
    ]
    cmsg2, output, recovery = chilldkg.coordinator_finalize(cstate, [p for _, p in second])
    shares = {}
    for i, (state2, _) in enumerate(second):
        mine, data = chilldkg.participant_finalize(state2, cmsg2)
        assert data == recovery
        assert mine.thresh_pk == output.thresh_pk
        assert mine.secshare is not None
        shares[i] = mine.secshare
    return GroupKey(output.thresh_pk, output.pubshares), shares, recovery

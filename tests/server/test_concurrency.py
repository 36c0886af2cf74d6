"""Concurrency across two server processes on one database: 50 concurrent wrong guesses at one
backup's key (exactly max-attempts are evaluated, the rest are refused, the key is gone for
good), then concurrent compare-and-swap writes and deletes (exactly one wins each)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.server.conftest import Device, database_url
from tests.servers import seedguard_server

LIMITS = ("--rate-per-ip", "0", "--rate-per-account", "0")


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_fifty_concurrent_guesses_on_two_processes(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_url(backend, tmp_path, request)
    with (
        seedguard_server(url, tmp_path, *LIMITS) as one,
        seedguard_server(url, tmp_path, *LIMITS, migrate=False) as two,
    ):
        owner = Device(one.url).register()
        handle, _ = owner.hardened_key(b"the right password")
        attackers = []
        for i in range(50):  # each guess from its own session, alternating processes
            attacker = Device(one.url if i % 2 else two.url, owner.key)
            assert attacker.sign_in().status_code == 200
            attackers.append(attacker)

        def guess(attacker: Device) -> int:
            return attacker.guess(handle, b"a wrong password").status_code

        with ThreadPoolExecutor(50) as pool:
            codes = list(pool.map(guess, attackers))
        assert codes.count(200) == 10, codes
        assert codes.count(410) == 40, codes
        assert owner.call("GET", "/v1/oprf/keys").json()["keys"] == []
        for url_ in (one.url, two.url):
            late = Device(url_, owner.key)
            late.sign_in()
            assert late.guess(handle, b"the right password").status_code == 410

        # Generations: 20 writers that all read generation 1, split across both processes.
        owner.call("PUT", "/v1/vault/race", content=b"0", headers={"If-None-Match": "*"})

        def write(attacker_index: int) -> int:
            writer = attackers[attacker_index]
            answer = writer.call(
                "PUT", "/v1/vault/race", content=b"%d" % attacker_index, headers={"If-Match": '"1"'}
            )
            return answer.status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(write, range(20)))
        assert sorted(codes) == [200] + [412] * 19, codes
        # Deletions: of 20 concurrent deletes of generation 2, one succeeds.
        with ThreadPoolExecutor(20) as pool:
            deletes = list(
                pool.map(
                    lambda a: (
                        a.call("DELETE", "/v1/vault/race", headers={"If-Match": '"2"'}).status_code
                    ),
                    attackers[:20],
                )
            )
        assert sorted(deletes) == [204] + [404] * 19, deletes

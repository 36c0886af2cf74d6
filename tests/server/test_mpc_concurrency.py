"""Two server processes on one database, concurrent signing requests: every server nonce signs
at most once (the DELETE that consumes it is in the signing transaction), and every signature
that comes out verifies."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedguard.client.mpc import MpcServer
from seedguard.envelope import Password
from seedguard.mpc.wallet import MpcWallets
from seedguard.threshold import frost, keys
from seedguard.threshold.keys import DEVICE, SERVER
from tests.conftest import make_home
from tests.server.conftest import b64, database_url, unb64
from tests.servers import seedguard_server

LIMITS = ("--rate-per-ip", "0", "--rate-per-account", "0")
RACERS = 4  # signing requests per nonce, alternating between the two processes


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_concurrent_signing_on_two_processes_never_reuses_a_nonce(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_url(backend, tmp_path, request)
    with (
        seedguard_server(url, tmp_path, *LIMITS) as one,
        seedguard_server(url, tmp_path, *LIMITS, migrate=False) as two,
    ):
        wallets = MpcWallets(make_home(tmp_path / "phone"))
        info = wallets.create(
            one.url, str(tmp_path / "cloud"), Password("Correct horse 42 staple"), raw_signing=True
        )
        record = wallets.store.load(info.wallet_id).record
        token = MpcServer(one.url, wallets.home).client.sign_in()  # valid on both processes
        headers = {"Authorization": f"Bearer {token}"}
        base = f"/v1/mpc/wallets/{info.wallet_id}"
        with httpx.Client(timeout=60, headers=headers) as http:
            made = http.post(one.url + base + "/nonces", json={"count": 16}).json()["nonces"]
            made += http.post(two.url + base + "/nonces", json={"count": 16}).json()["nonces"]

            def attempt(job: tuple[dict[str, str], int]) -> tuple[str, int, Any]:
                nonce, racer = job
                message = secrets.token_bytes(32)
                secnonce, pubnonce = frost.nonce_gen(record.secshare)
                answer = http.post(
                    (one.url, two.url)[racer % 2] + base + "/sign",
                    json={
                        "nonce_id": nonce["nonce_id"],
                        "message": b64(message),
                        "pubnonce": b64(pubnonce),
                    },
                )
                signed = None
                if answer.status_code == 200:
                    server_pubnonce = unb64(nonce["pubnonce"])
                    pubnonces = [pubnonce, server_pubnonce]
                    session = record.key.session(
                        (DEVICE, SERVER), frost.nonce_agg(pubnonces), message
                    )
                    psig = frost.sign(secnonce, record.secshare, DEVICE, session)
                    server_psig = unb64(answer.json()["psig"])
                    signed = (
                        keys.aggregate(
                            record.key, (DEVICE, SERVER), pubnonces, [psig, server_psig], message
                        ),
                        message,
                    )
                return nonce["nonce_id"], answer.status_code, signed

            jobs = [(nonce, racer) for nonce in made for racer in range(RACERS)]
            with ThreadPoolExecutor(32) as pool:
                results = list(pool.map(attempt, jobs))
    by_nonce: dict[str, list[int]] = {}
    for nonce_id, status, signed in results:
        by_nonce.setdefault(nonce_id, []).append(status)
        if signed is not None:
            signature, message = signed
            assert keys.verify(signature, message, info.key.output_key)
    assert len(by_nonce) == 32
    for nonce_id, statuses in by_nonce.items():
        assert sorted(statuses) == [200] + [409] * (RACERS - 1), (nonce_id, statuses)

"""The HTTP API against a real server process, on SQLite and on PostgreSQL: accounts and
devices, the vault's compare-and-swap, hardening keys, and what is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from coincurve import PrivateKey

from seedguard.primitives import oprf
from tests.server.conftest import Device, b64, unb64
from tests.servers import SeedguardServer, seedguard_server

# -- operations ---------------------------------------------------------------------------------


def test_health_metrics_and_openapi(server: SeedguardServer) -> None:
    http = httpx.Client(base_url=server.url)
    assert http.get("/healthz").json() == {"status": "ok"}
    schema = http.get("/openapi.json").json()
    assert {"/v1/auth/token", "/v1/vault/{name}", "/v1/oprf/evaluate"} <= set(schema["paths"])
    metrics = http.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'seedguard_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text


def test_malformed_bodies_get_a_clear_4xx(server: SeedguardServer, device: Device) -> None:
    http = device.http
    missing = http.post("/v1/auth/challenge", json={})
    assert missing.status_code == 422
    assert missing.json() == {"error": "Malformed request: public_key: Field required."}
    not_json = http.post(
        "/v1/auth/challenge", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    short = http.post("/v1/auth/challenge", json={"public_key": b64(b"\x02" * 10)})
    assert short.status_code == 400
    assert "33 bytes" in short.json()["error"]
    bad_point = http.post("/v1/auth/challenge", json={"public_key": b64(b"\x05" * 33)})
    assert bad_point.status_code == 400
    element = device.call("POST", "/v1/oprf/keys", json={"blinded_element": b64(b"\xff" * 32)})
    assert element.status_code == 400
    assert "not valid" in element.json()["error"]
    assert device.call("PUT", "/v1/vault/../x", content=b"x").status_code in (400, 404)


# -- accounts and devices ------------------------------------------------------------------------


def test_register_then_sign_in_again(server: SeedguardServer) -> None:
    device = Device(server.url).register()
    account = device.call("GET", "/v1/account").json()
    assert account["account"] == device.account
    assert [d["current"] for d in account["devices"]] == [True]
    again = Device(server.url, device.key)
    assert again.sign_in().status_code == 200
    assert again.account == device.account


def test_unknown_devices_need_to_register(server: SeedguardServer) -> None:
    response = Device(server.url).sign_in()
    assert response.status_code == 403
    assert "not registered" in response.json()["error"]


def test_a_challenge_is_used_once(server: SeedguardServer) -> None:
    device = Device(server.url)
    body = {**device.signed_challenge(), "new_account": True}
    assert device.http.post("/v1/auth/token", json=body).status_code == 200
    replay = device.http.post("/v1/auth/token", json=body)
    assert replay.status_code == 401
    assert "unknown, used or expired" in replay.json()["error"]


def test_a_signature_by_another_key_is_refused(server: SeedguardServer) -> None:
    device = Device(server.url)
    body = {**device.signed_challenge(key=PrivateKey()), "new_account": True}
    answer = device.http.post("/v1/auth/token", json=body)
    assert answer.status_code == 401
    assert "signature" in answer.json()["error"]


def test_tokens_are_required_and_checked(server: SeedguardServer, device: Device) -> None:
    http = device.http
    assert http.get("/v1/vault").status_code == 401
    forged = http.get("/v1/vault", headers={"Authorization": f"Bearer {b64(bytes(32))}"})
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == "Bearer"


def test_expired_tokens_are_refused(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import time

    from tests.server.conftest import database_url
    from tests.servers import seedguard_server

    work = tmp_path_factory.mktemp("ttl")
    url = database_url(backend, work, request)
    with seedguard_server(url, work, "--token-ttl", "1") as short:
        device = Device(short.url).register()
        assert device.call("GET", "/v1/vault").status_code == 200
        time.sleep(1.3)
        expired = device.call("GET", "/v1/vault")
        assert expired.status_code == 401
        assert "expired" in expired.json()["error"]


def test_recovery_credential_enrolls_a_new_device_and_revokes_the_lost_one(
    server: SeedguardServer,
) -> None:
    old = Device(server.url).register()
    credential = old.credential()
    assert old.call("PUT", "/v1/vault/a", content=b"x", headers={"If-None-Match": "*"}).is_success
    wrong = Device(server.url).sign_in(
        enroll={"account": old.account, "credential": b64(bytes(32))}
    )
    assert wrong.status_code == 403
    other = Device(server.url).register()
    foreign = Device(server.url).sign_in(
        enroll={"account": other.account, "credential": b64(credential)}
    )
    assert foreign.status_code == 403  # a credential opens only its own account
    new = Device(server.url)
    response = new.sign_in(
        enroll={"account": old.account, "credential": b64(credential), "revoke_others": True}
    )
    assert response.status_code == 200, response.text
    assert new.account == old.account
    assert new.call("GET", "/v1/vault/a").content == b"x"
    assert old.call("GET", "/v1/vault").status_code == 401
    again = Device(server.url, old.key).sign_in()
    assert again.status_code == 403
    assert "revoked" in again.json()["error"]
    devices = new.call("GET", "/v1/account").json()["devices"]
    assert [(d["revoked"] is None, d["current"]) for d in devices] == [(False, False), (True, True)]


def test_revoking_a_device_stops_its_token(server: SeedguardServer) -> None:
    first = Device(server.url).register()
    credential = first.credential()
    second = Device(server.url)
    assert second.sign_in(
        enroll={"account": first.account, "credential": b64(credential)}
    ).is_success
    assert second.call("GET", "/v1/vault").status_code == 200
    held = first.call("DELETE", f"/v1/account/devices/{second.device}")
    assert held.status_code == 202
    assert held.json()["pending"]["kind"] == "revoke-device"
    assert second.call("GET", "/v1/vault").status_code == 200  # held for the delay
    proven = first.call(
        "POST",
        f"/v1/account/devices/{second.device}/revoke",
        json={"credential": b64(credential)},
    )
    assert proven.status_code == 204
    assert second.call("GET", "/v1/vault").status_code == 401
    stranger = Device(server.url).register()
    assert stranger.call("DELETE", f"/v1/account/devices/{first.device}").status_code == 404


# -- vault ---------------------------------------------------------------------------------------


def test_vault_compare_and_swap(server: SeedguardServer, device: Device) -> None:
    put = device.call
    assert put("PUT", "/v1/vault/x.seedguard", content=b"one").status_code == 428
    created = put("PUT", "/v1/vault/x.seedguard", content=b"one", headers={"If-None-Match": "*"})
    assert created.json() == {"generation": 1}
    again = put("PUT", "/v1/vault/x.seedguard", content=b"two", headers={"If-None-Match": "*"})
    assert again.status_code == 412
    fetched = put("GET", "/v1/vault/x.seedguard")
    assert (fetched.content, fetched.headers["etag"]) == (b"one", '"1"')
    replaced = put("PUT", "/v1/vault/x.seedguard", content=b"two", headers={"If-Match": '"1"'})
    assert replaced.json() == {"generation": 2}
    stale = put("PUT", "/v1/vault/x.seedguard", content=b"three", headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current"] == 2
    assert put("GET", "/v1/vault/x.seedguard").content == b"two"
    assert put("DELETE", "/v1/vault/x.seedguard", headers={"If-Match": '"1"'}).status_code == 412
    assert put("DELETE", "/v1/vault/x.seedguard", headers={"If-Match": '"2"'}).status_code == 204
    assert put("GET", "/v1/vault/x.seedguard").status_code == 404


def test_concurrent_writers_one_generation_one_winner(
    server: SeedguardServer, device: Device
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    device.call("PUT", "/v1/vault/race", content=b"0", headers={"If-None-Match": "*"})

    def write(i: int) -> int:
        client = Device(server.url)
        client.token = device.token
        answer = client.call(
            "PUT", "/v1/vault/race", content=b"%d" % i, headers={"If-Match": '"1"'}
        )
        return answer.status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(write, range(16)))
    assert sorted(codes) == [200] + [412] * 15
    assert device.call("GET", "/v1/vault/race").headers["etag"] == '"2"'


def test_size_limit_and_quota(server: SeedguardServer, device: Device) -> None:
    big = bytes(700 * 1024)
    answer = device.call("PUT", "/v1/vault/big", content=big, headers={"If-None-Match": "*"})
    assert answer.status_code == 413
    chunk = bytes(520 * 1024)
    first = device.call("PUT", "/v1/vault/one", content=chunk, headers={"If-None-Match": "*"})
    assert first.status_code == 200
    second = device.call("PUT", "/v1/vault/two", content=chunk, headers={"If-None-Match": "*"})
    assert second.status_code == 413
    assert "full" in second.json()["error"]
    huge = device.call("PUT", "/v1/vault/huge", content=bytes(3 * 1024 * 1024))
    assert huge.status_code == 413
    listing = device.call("GET", "/v1/vault").json()
    assert (listing["used"], listing["quota"]) == (len(chunk), 1024 * 1024)


def test_another_accounts_vault_is_out_of_reach(server: SeedguardServer, device: Device) -> None:
    device.call("PUT", "/v1/vault/mine", content=b"secret", headers={"If-None-Match": "*"})
    other = Device(server.url).register()
    assert other.call("GET", "/v1/vault/mine").status_code == 404
    assert other.call("HEAD", "/v1/vault/mine").status_code == 404
    assert other.call("DELETE", "/v1/vault/mine").status_code == 404
    overwrite = other.call("PUT", "/v1/vault/mine", content=b"x", headers={"If-Match": '"1"'})
    assert overwrite.status_code == 412
    assert other.call("GET", "/v1/vault").json()["objects"] == []
    assert device.call("GET", "/v1/vault/mine").content == b"secret"


# -- hardening keys ------------------------------------------------------------------------------


def test_guesses_count_and_a_proof_resets_them(server: SeedguardServer, device: Device) -> None:
    handle, proof = device.hardened_key(b"right")
    lefts = [device.guess(handle, b"wrong").json()["attempts_left"] for _ in range(3)]
    assert lefts == [9, 8, 7]
    bad = device.call(
        "POST", "/v1/oprf/prove", json={"handle": b64(handle), "proof": b64(bytes(32))}
    )
    assert bad.status_code == 403
    good = device.call("POST", "/v1/oprf/prove", json={"handle": b64(handle), "proof": b64(proof)})
    assert good.json() == {"attempts_left": 10}
    assert device.guess(handle, b"wrong").json()["attempts_left"] == 9
    keys = device.call("GET", "/v1/oprf/keys").json()
    assert [k["failures"] for k in keys["keys"]] == [1]


def test_the_server_evaluates_with_the_key_the_client_saw(
    server: SeedguardServer, device: Device
) -> None:
    """The same input gives the same OPRF output at creation and at evaluation."""
    state = oprf.blind(b"pw")
    created = device.call(
        "POST", "/v1/oprf/keys", json={"blinded_element": b64(state.blinded_element)}
    ).json()
    first = oprf.finalize(state, unb64(created["evaluated_element"]))
    handle = created["handle"]
    not_ready = device.guess(unb64(handle), b"pw")
    assert not_ready.status_code == 409  # no verifier yet
    verifier = b64(hashlib.sha256(b"p" * 32).digest())
    device.call("POST", "/v1/oprf/keys/verifier", json={"handle": handle, "verifier": verifier})
    again = device.call(
        "POST", "/v1/oprf/keys/verifier", json={"handle": handle, "verifier": verifier}
    )
    assert again.status_code == 409
    state = oprf.blind(b"pw")
    answer = device.call(
        "POST",
        "/v1/oprf/evaluate",
        json={"handle": handle, "blinded_element": b64(state.blinded_element)},
    ).json()
    assert oprf.finalize(state, unb64(answer["evaluated_element"])) == first


def test_ten_wrong_guesses_destroy_the_key(server: SeedguardServer, device: Device) -> None:
    handle, proof = device.hardened_key(b"right")
    lefts = [device.guess(handle, b"wrong").json()["attempts_left"] for _ in range(10)]
    assert lefts == list(range(9, -1, -1))
    after = device.guess(handle, b"right")
    assert after.status_code == 410
    assert after.json()["destroyed"] is True
    assert "destroyed" in after.json()["error"]
    assert device.call("GET", "/v1/oprf/keys").json()["keys"] == []
    late = device.call("POST", "/v1/oprf/prove", json={"handle": b64(handle), "proof": b64(proof)})
    assert late.status_code == 410


def test_key_state_counts_nothing_and_says_destroyed(
    server: SeedguardServer, device: Device
) -> None:
    """Who holds the handle (it is in the backup's header) learns the key's state and the
    attempts left, and spends none; a stranger without it learns nothing; no token: 401."""
    handle, _proof = device.hardened_key(b"right")

    def state(who: Device, h: bytes) -> httpx.Response:
        return who.call("POST", "/v1/oprf/keys/state", json={"handle": b64(h)})

    assert state(device, handle).json() == {
        "state": "active",
        "attempts_left": 10,
        "max_attempts": 10,
    }
    for _ in range(3):
        state(device, handle)
    assert device.guess(handle, b"wrong").json()["attempts_left"] == 9  # nothing was counted
    other = Device(server.url).register()
    assert state(other, handle).json()["attempts_left"] == 9  # a holder of the file, anywhere
    assert state(other, bytes(32)).status_code == 404
    anonymous = httpx.post(f"{server.url}/v1/oprf/keys/state", json={"handle": b64(handle)})
    assert anonymous.status_code == 401
    for _ in range(9):
        device.guess(handle, b"wrong")
    assert state(device, handle).json() == {
        "state": "destroyed",
        "attempts_left": 0,
        "max_attempts": 10,
    }


def test_the_one_statement_evaluation_still_checks_the_session(tmp_path: Path) -> None:
    """The hot route counts the attempt and checks the token in one statement, once the token
    was seen: a token that expired meanwhile is refused there, and nothing is counted."""
    clock = tmp_path / "clock"
    clock.write_text("0")
    with seedguard_server(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--clock-file", str(clock)
    ) as server:
        device = Device(server.url).register()
        handle, _proof = device.hardened_key(b"right")
        for left in (9, 8):
            assert device.guess(handle, b"wrong").json()["attempts_left"] == left
        clock.write_text(str(24 * 3600))  # the session token expired
        refused = device.guess(handle, b"wrong")
        assert refused.status_code == 401, refused.text
        assert "expired" in refused.json()["error"]
        device.register()  # a new token
        state = device.call("POST", "/v1/oprf/keys/state", json={"handle": b64(handle)}).json()
        assert state["attempts_left"] == 8  # the refused guess counted nothing


def test_another_accounts_keys_are_out_of_reach(server: SeedguardServer, device: Device) -> None:
    handle, _proof = device.hardened_key(b"right")
    other = Device(server.url).register()
    assert other.call("GET", "/v1/oprf/keys").json()["keys"] == []
    deleted = other.call("POST", "/v1/oprf/keys/delete", json={"handle": b64(handle)})
    assert deleted.status_code == 404
    verifier = b64(hashlib.sha256(b"x").digest())
    hijack = other.call(
        "POST", "/v1/oprf/keys/verifier", json={"handle": b64(handle), "verifier": verifier}
    )
    assert hijack.status_code == 404
    # Without the handle (which only the envelope holds) nothing can be guessed.
    assert other.guess(bytes(32), b"right").status_code == 404
    assert device.call("GET", "/v1/oprf/keys").json()["keys"][0]["failures"] == 0
    owner = device.call("POST", "/v1/oprf/keys/delete", json={"handle": b64(handle)})
    assert owner.status_code == 204
    assert device.guess(handle, b"right").status_code == 404


def test_logs_hold_no_secret_or_body(server: SeedguardServer, device: Device) -> None:
    marker = b"BODY-MARKER-" + b"z" * 20
    device.call("PUT", "/v1/vault/logged", content=marker, headers={"If-None-Match": "*"})
    handle, proof = device.hardened_key(b"right")
    device.call("POST", "/v1/oprf/prove", json={"handle": b64(handle), "proof": b64(proof)})
    text = server.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(line.get("route") == "/v1/vault/{name}" for line in lines)
    for secret in (marker.decode(), device.token or "", b64(handle), b64(proof)):
        assert secret not in text

"""POST /v1/oprf/evaluate answers a well-formed request without FastAPI's dependency
resolution (hardening_routes.evaluate_fast) and hands everything else to the declared route.
Both ways must answer alike: each request below goes once with `application/json` (the fast
way, wherever it applies) and once with `application/json; charset=utf-8` (always the
declared route), against a real server process, and the answers must be the same.

The attempts each way spends are counted too: the guess limit must not depend on the way."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from seedguard.primitives import oprf
from tests.server.conftest import Device, b64, database_url
from tests.servers import seedguard_server

FAST = "application/json"
DECLARED = "application/json; charset=utf-8"


def _post(device: Device, content_type: str, body: bytes, token: str | None) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = token
    return device.http.post("/v1/oprf/evaluate", content=body, headers=headers)


def _element() -> str:
    return b64(oprf.blind(secrets.token_bytes(8)).blinded_element)


Case = Callable[[Device, bytes], tuple[bytes, str | None]]

CASES: dict[str, Case] = {
    "well-formed": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s"}' % (b64(h).encode(), _element().encode()),
        f"Bearer {d.token}",
    ),
    "no token": lambda d, h: (b'{"handle":"%s","blinded_element":"x"}' % b64(h).encode(), None),
    "another scheme": lambda d, h: (b"{}", f"Basic {d.token}"),
    "lower-case scheme": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s"}' % (b64(h).encode(), _element().encode()),
        f"bearer {d.token}",
    ),
    "malformed token": lambda d, h: (b"{}", "Bearer abc"),
    "token of no session": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s"}' % (b64(h).encode(), _element().encode()),
        "Bearer " + b64(secrets.token_bytes(32)),
    ),
    "not JSON": lambda d, h: (b"{handle", f"Bearer {d.token}"),
    "JSON, not an object": lambda d, h: (b"[1, 2]", f"Bearer {d.token}"),
    "a field missing": lambda d, h: (
        b'{"handle":"%s"}' % b64(h).encode(),
        f"Bearer {d.token}",
    ),
    "a field of the wrong type": lambda d, h: (
        b'{"handle":7,"blinded_element":"%s"}' % _element().encode(),
        f"Bearer {d.token}",
    ),
    "not base64url": lambda d, h: (
        b'{"handle":"a+b/","blinded_element":"%s"}' % _element().encode(),
        f"Bearer {d.token}",
    ),
    "a short handle": lambda d, h: (
        b'{"handle":"AAAA","blinded_element":"%s"}' % _element().encode(),
        f"Bearer {d.token}",
    ),
    "no such key": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s"}'
        % (b64(secrets.token_bytes(32)).encode(), _element().encode()),
        f"Bearer {d.token}",
    ),
    "not a group element": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s"}' % (b64(h).encode(), b64(b"\xff" * 32).encode()),
        f"Bearer {d.token}",
    ),
    "NaN in the body": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s","x":NaN}' % (b64(h).encode(), _element().encode()),
        f"Bearer {d.token}",
    ),
    "an extra field": lambda d, h: (
        b'{"handle":"%s","blinded_element":"%s","extra":1}'
        % (b64(h).encode(), _element().encode()),
        f"Bearer {d.token}",
    ),
}


def _shape(response: httpx.Response) -> tuple[int, object]:
    """Status and body, without what differs by design between two evaluations (the
    evaluated element is of a fresh blinded element; attempts_left falls by one)."""
    if response.status_code == 200:
        body = response.json()
        return 200, sorted(body)
    return response.status_code, response.json()


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_ways_answer_alike(device: Device, case: str) -> None:
    handle, _ = device.hardened_key(b"the right password")
    answers = []
    for content_type in (FAST, DECLARED):
        body, token = CASES[case](device, handle)
        answers.append(_shape(_post(device, content_type, body, token)))
    assert answers[0] == answers[1]


def test_both_ways_count_one_attempt_each(device: Device) -> None:
    handle, _ = device.hardened_key(b"the right password")
    left = []
    for content_type in (FAST, DECLARED, FAST, DECLARED):
        body, token = CASES["well-formed"](device, handle)
        response = _post(device, content_type, body, token)
        assert response.status_code == 200, response.text
        left.append(response.json()["attempts_left"])
    assert left == [left[0], left[0] - 1, left[0] - 2, left[0] - 3]


def test_a_refused_body_counts_no_attempt(device: Device) -> None:
    handle, _ = device.hardened_key(b"the right password")
    for case in ("not JSON", "a field missing", "not a group element", "a short handle"):
        body, token = CASES[case](device, handle)
        assert _post(device, FAST, body, token).status_code in (400, 422)
    answer = device.guess(handle, b"a guess")
    assert answer.status_code == 200, answer.text
    assert answer.json()["attempts_left"] == 9  # this server's limit is 10


def test_the_fast_way_is_installed(tmp_path: Path) -> None:
    from fastapi.routing import APIRoute

    from seedguard.server import db
    from seedguard.server.app import create_app
    from seedguard.server.settings import Settings

    url = f"sqlite:///{tmp_path / 'x.db'}"
    app = create_app(Settings(database_url=url), db.Database(url))
    route = next(r for r in app.routes if getattr(r, "path", "") == "/v1/oprf/evaluate")
    assert isinstance(route, APIRoute)
    assert route.app.__name__ == "evaluate_fast"
    assert app.routes[0] is route  # matched first


@pytest.fixture(params=["sqlite", "postgresql"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = database_url(request.param, tmp_path, request)
    with seedguard_server(url, tmp_path, "--rate-per-account", "40") as server:
        yield server.url


def test_a_refused_evaluation_spends_one_request_of_the_rate_limit(limited: str) -> None:
    """An evaluation that goes the long way (here: no such key) after the fast way admitted
    the account is counted once against the account's rate limit, not twice."""
    device = Device(limited).register()
    codes = []
    for _ in range(14):
        body, token = CASES["no such key"](device, b"")
        codes.append(_post(device, FAST, body, token).status_code)
    assert set(codes) <= {404, 429}
    # The burst is a quarter of 40 a minute: 10, less what signing in took.
    assert codes.count(404) >= 9, codes

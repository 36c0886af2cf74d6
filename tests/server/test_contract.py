"""The OpenAPI schema is the contract (issue 12, section 7): what /openapi.json declares is what
the server answers, checked by schemathesis against a real server process, with and without a
token. `make test` runs a small budget on SQLite; `make fuzz` a larger one on both databases
(SEEDGUARD_SCHEMATHESIS_EXAMPLES, SEEDGUARD_SCHEMATHESIS_DATABASES).

Threat: a caller without a token learns nothing about a route's body rules, and gets 401 with
`WWW-Authenticate`, whatever it sends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Device, b64, database_url
from tests.servers import SeedguardServer, seedguard_server

EXAMPLES = os.environ.get("SEEDGUARD_SCHEMATHESIS_EXAMPLES", "5")
DATABASES = os.environ.get("SEEDGUARD_SCHEMATHESIS_DATABASES", "sqlite").split(",")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")  # fmt: skip
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module", params=DATABASES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeedguardServer]:
    work = tmp_path_factory.mktemp(f"contract-{request.param}")
    options = ("--rate-per-ip", "1000000", "--rate-per-account", "1000000")
    with seedguard_server(database_url(request.param, work, request), work, *options) as server:
        yield server


def test_every_operation_declares_what_it_answers(live: SeedguardServer) -> None:
    schema = httpx.get(live.url + "/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "429" in responses, (method, path)
            for code, answer in responses.items():
                if code.startswith(("4", "5")):
                    assert answer["content"]["application/json"]["schema"] == error
            if "security" in operation:
                assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert {"400", "422"} <= set(responses), (method, path)
    put = schema["paths"]["/v1/vault/{name}"]["put"]
    assert put["requestBody"]["required"] is True
    assert {"412", "428"} <= set(put["responses"])
    handle = schema["components"]["schemas"]["HandleIn"]["properties"]["handle"]
    assert handle["minLength"] == handle["maxLength"] == 43


def test_a_call_without_a_good_token_is_refused_before_its_body_is_read(
    live: SeedguardServer,
) -> None:
    http = httpx.Client(base_url=live.url)
    for headers in ({}, {"Authorization": "Bearer x"}, {"Authorization": "Basic dXNlcg=="},
                    {"Authorization": "Bearer " + "A" * 44}):  # fmt: skip
        for body in ({"mailbox": "nope"}, None):
            if body is None:
                sent = http.post("/v1/social/deposits", content=b"{not json", headers=headers)
            else:
                sent = http.post("/v1/social/deposits", json=body, headers=headers)
            assert sent.status_code == 401, (headers, sent.text)
            assert sent.headers["www-authenticate"] == "Bearer"
            assert "mailbox" not in sent.text
            assert "json" not in sent.text.lower()
    unknown = http.post("/v1/social/mailboxes", headers={"Authorization": "Bearer " + "A" * 43})
    assert unknown.status_code == 401


def test_an_empty_sealed_share_is_a_400(live: SeedguardServer) -> None:
    guardian = Device(live.url).register()
    mailbox = guardian.call("POST", "/v1/social/mailboxes").json()["mailbox"]
    owner = Device(live.url).register()
    empty = owner.call("POST", "/v1/social/deposits", json={"mailbox": mailbox, "sealed": ""})
    assert empty.status_code == 400
    assert "empty" in empty.json()["error"]
    one = owner.call("POST", "/v1/social/deposits", json={"mailbox": mailbox, "sealed": b64(b"x")})
    assert one.status_code == 200


def _schemathesis(
    server: SeedguardServer, checks: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The token, if any, travels in a 0600 config file, not in argv."""
    options = [] if config is None else ["--config-file", str(config)]
    command = [str(SCHEMATHESIS), *options, "run", server.url + "/openapi.json", "--max-examples",
               EXAMPLES, "--checks", checks, "--generation-with-security-parameters", "false",
               "--generation-deterministic", "--no-color", "--max-failures", "5"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def test_schemathesis_finds_the_server_as_its_schema_says(
    live: SeedguardServer, tmp_path: Path
) -> None:
    anonymous = _schemathesis(live, CHECKS)
    assert anonymous.returncode == 0, anonymous.stdout[-8000:]
    device = Device(live.url).register()
    config = tmp_path / "schemathesis.toml"
    config.touch(mode=0o600)
    config.write_text(f'headers = {{ Authorization = "Bearer {device.token}" }}\n')
    signed_in = _schemathesis(live, CHECKS + ",ignored_auth", config)
    assert signed_in.returncode == 0, signed_in.stdout[-8000:]
    assert " passed" in signed_in.stdout

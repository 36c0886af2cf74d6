"""Server load on loopback: requests per second and latency for a 16 KiB vault write, a vault
read and an OPRF evaluation, beside the bare liveness endpoint of the same stack (FastAPI on
uvicorn, one process), on SQLite and on PostgreSQL.

The load generator is bounded (a fixed number of keep-alive connections, a fixed number of
requests) and speaks HTTP/1.1 over asyncio streams itself: an HTTP client library in Python
would be slower than the server and measure itself instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from seedguard.client import ServerClient
from seedguard.primitives import oprf

CONNECTIONS = 16
BARE_OPRF = "POST /v1/bench/oprf (the same body and multiplication, no token, no database)"
KEYS = 32  # OPRF keys the evaluations rotate over (each allows --max-attempts in a row)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Load:
    endpoint: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


RequestMaker = Callable[[int, int], bytes]  # (connection, sequence) -> raw request bytes


async def _connection(
    host: str, port: int, index: int, count: int, make: RequestMaker, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        for i in range(count):
            request = make(index, i)
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                errors += 1
                if errors == 1:
                    print(f"  first error: {status} {body[:200]!r}")
    finally:
        writer.close()
    return errors


def run_load(url: str | list[str], endpoint: str, make: RequestMaker, total: int) -> Load:
    """`total` requests over CONNECTIONS keep-alive connections; with several server URLs
    (processes sharing one database) the connections are dealt among them in turn."""
    urls = [url] if isinstance(url, str) else url
    places = [u.removeprefix("http://").rsplit(":", 1) for u in urls]

    async def main() -> tuple[float, list[float], int]:
        latencies: list[float] = []
        per = total // CONNECTIONS
        started = time.perf_counter()
        errors = await asyncio.gather(
            *(
                _connection(
                    places[c % len(places)][0], int(places[c % len(places)][1]), c, per, make,
                    latencies,
                )
                for c in range(CONNECTIONS)
            )
        )  # fmt: skip
        return time.perf_counter() - started, latencies, sum(errors)

    elapsed, latencies, errors = asyncio.run(main())
    latencies.sort()
    return Load(
        endpoint,
        len(latencies) / elapsed,
        statistics.median(latencies) * 1e3,
        latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        errors,
    )


def _request(method: str, path: str, token: str | None, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _json(method: str, path: str, token: str, text: str) -> bytes:
    return _request(method, path, token, text.encode(), Content_Type="application/json")


def measure(url: str, home: Path, total: int, rounds: int) -> list[Load]:
    """Each endpoint `rounds` times, interleaved (drift hits all alike): the median rate and
    the latency percentiles over every request."""
    client = ServerClient(url, home)
    token = client.sign_in()
    bare = _request("GET", "/livez", None)
    # Vault: each connection writes its own object, following its generation.
    payload = bytes(16 * 1024)
    generations = [0] * CONNECTIONS

    def write(connection: int, _: int) -> bytes:
        generation = generations[connection]
        generations[connection] += 1
        if generation == 0:
            precondition = {"If_None_Match": "*"}
        else:
            precondition = {"If_Match": f'"{generation}"'}
        return _request(
            "PUT",
            f"/v1/vault/bench-{connection}",
            token,
            payload,
            Content_Type="application/octet-stream",
            **precondition,
        )

    def read(connection: int, _: int) -> bytes:
        return _request("GET", f"/v1/vault/bench-{connection}", token)

    # OPRF: keys created and verified through the real client; requests rotate over them,
    # each with a fresh blinded element.
    handles = []
    for _ in range(KEYS):
        state = oprf.blind(b"benchmark password")
        answer = client.request(
            "POST", "/v1/oprf/keys", json={"blinded_element": _b64(state.blinded_element)}
        ).json()
        client.request(
            "POST",
            "/v1/oprf/keys/verifier",
            json={"handle": answer["handle"], "verifier": _b64(hashlib.sha256(b"p").digest())},
        )
        handles.append(answer["handle"])
    per = total // CONNECTIONS
    bodies = [
        [
            json.dumps(
                {
                    "handle": handles[(r * CONNECTIONS + c) % KEYS],
                    "blinded_element": _b64(oprf.blind(b"guess %d" % i).blinded_element),
                }
            )
            for i in range(per)
        ]
        for r in range(rounds)
        for c in range(CONNECTIONS)
    ]
    current = [0]

    def evaluate(connection: int, i: int) -> bytes:
        body = bodies[current[0] * CONNECTIONS + connection][i]
        return _json("POST", "/v1/oprf/evaluate", token, body)

    def bare_evaluate(connection: int, i: int) -> bytes:
        body = bodies[current[0] * CONNECTIONS + connection][i]
        return _json("POST", "/v1/bench/oprf", token, body)

    run_load(url, "warm-up", lambda c, i: bare, max(CONNECTIONS * 10, total // 4))
    plan: list[tuple[str, RequestMaker]] = [
        ("GET /livez (bare endpoint)", lambda c, i: bare),
        ("PUT /v1/vault/{name} (16 KiB)", write),
        ("GET /v1/vault/{name} (16 KiB)", read),
        (BARE_OPRF, bare_evaluate),
        ("POST /v1/oprf/evaluate", evaluate),
    ]
    runs: dict[str, list[Load]] = {name: [] for name, _ in plan}
    for r in range(rounds):
        current[0] = r
        for name, make in plan:
            runs[name].append(run_load(url, name, make, total))
    return [_merge(name, loads) for name, loads in runs.items()]


def _merge(name: str, loads: list[Load]) -> Load:
    return Load(
        name,
        statistics.median(load.rps for load in loads),
        statistics.median(load.p50_ms for load in loads),
        max(load.p99_ms for load in loads),
        sum(load.errors for load in loads),
    )


@contextlib.contextmanager
def _backend(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'bench.db'}"
        return
    from tests.servers import postgres_cluster

    with postgres_cluster() as cluster:
        yield cluster.create_database("bench")


def bench_server(kind: str, quick: bool) -> list[Load]:
    from tests.servers import seedguard_server

    total, rounds = (1600, 3) if quick else (3200, 5)
    options = (
        "--rate-per-ip", "0", "--rate-per-account", "0", "--max-attempts", "1000",
        "--bench-endpoint",
    )  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        _backend(kind, Path(tmp)) as database,
        seedguard_server(database, Path(tmp), *options) as server,
    ):
        home = Path(tmp) / "client"
        home.mkdir(mode=0o700)
        return measure(server.url, home, total, rounds)

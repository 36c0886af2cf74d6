"""Slow and hostile connections (issue 12, section 5), against a real server process.

Threat: anyone who can reach the port opens connections and sends a request a byte at a time,
or never finishes it, or announces a body it never sends. None of that may stop the server from
answering everyone else, or make one process hold more connections than its cap.
"""

from __future__ import annotations

import resource
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seedguard.server.serve import FD_RESERVE
from tests.server.conftest import database_url
from tests.servers import SeedguardServer, seedguard_server

CAP = 300
SLOW = 1100


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeedguardServer]:
    work = tmp_path_factory.mktemp(f"slow-{request.param}")
    options = ("--header-timeout", "2", "--body-timeout", "2", "--limit-concurrency", str(CAP),
               "--rate-per-ip", "100000")  # fmt: skip
    with seedguard_server(database_url(request.param, work, request), work, *options) as server:
        yield server


def _port(server: SeedguardServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _open_files(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _closed_by_server(sock: socket.socket, wait: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    got = b""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        poller = select.poll()  # select() stops at descriptor 1023
        poller.register(sock, select.POLLIN)
        if not poller.poll(max(0.0, end - time.monotonic()) * 1000):
            return None
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
    return None


def test_a_thousand_slow_connections_do_not_stop_normal_requests(
    guarded: SeedguardServer,
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SLOW + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, SLOW + 200), hard))
    answers: list[int] = []
    stop = threading.Event()

    def normal_client() -> None:
        while not stop.is_set():
            try:
                answers.append(httpx.get(guarded.url + "/livez", timeout=10).status_code)
            except httpx.HTTPError:
                answers.append(0)
            time.sleep(0.05)

    slow: list[socket.socket] = []
    worker = threading.Thread(target=normal_client)
    worker.start()
    try:
        for _ in range(SLOW):  # each starts a request and never finishes its headers
            sock = socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10)
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        held = _open_files(guarded.pid)
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join()
    try:
        assert answers, "no normal request was made"
        assert set(answers) == {200}, answers  # every normal request was answered
        assert held <= CAP + FD_RESERVE, f"the server held {held} files"
        outcomes = [_closed_by_server(sock, 15) for sock in slow]
        assert None not in outcomes  # every slow connection was closed: evicted or timed out
        timed_out = [o for o in outcomes if o]
        assert timed_out, "no connection reached the header deadline"
        assert all(o.startswith(b"HTTP/1.1 408 ") for o in timed_out)
    finally:
        for sock in slow:
            sock.close()
    assert httpx.get(guarded.url + "/livez").status_code == 200
    assert "Traceback" not in guarded.log.read_text()


def test_a_body_that_never_comes_gets_408(guarded: SeedguardServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/auth/challenge HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"public'
        )
        answer = _closed_by_server(sock, 15)
    assert answer is not None, "the server waited for ever"
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"error"' in answer
    assert httpx.get(guarded.url + "/livez").status_code == 200


def test_a_trickle_does_not_extend_the_header_deadline(guarded: SeedguardServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(guarded)), timeout=10) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 15:
            try:
                sock.sendall(b"X")  # one byte of a header every half second
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if _closed_by_server(sock, 0.5) is not None:
                closed = True
                break
    assert closed, "a client sending a byte at a time kept its connection"

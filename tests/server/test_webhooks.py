"""Webhooks cannot reach into the operator's network, and one account's slow endpoint cannot
hold up another account's alerts (issue 12, section 3). Real server processes, real sockets
on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedguard.server import webhooks
from tests.server.conftest import Device
from tests.servers import seedguard_server

HOUR = 3600


class Receiver:
    """An HTTP endpoint on loopback that records what it is sent; fails the first `fail`."""

    def __init__(self, fail: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.attempts += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.attempts <= fail:
                    self.send_response(500)
                else:
                    outer.received.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return None

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}/hook"

    def wait(self, count: int, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)


class Tarpit:
    """Accepts connections, reads the request, and answers one byte every half second, never
    finishing: a per-read timeout alone would wait forever."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.open = 0
        self.closed = 0
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/slow"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        self.open += 1
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                conn.sendall(bytes([byte]))
                time.sleep(0.5)
        except OSError:
            pass
        finally:
            self.closed += 1
            conn.close()


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[str]:
    options = ("--allow-http-webhooks", "--webhook-allow-network", "127.0.0.1/32",
               "--webhook-deadline", "2", "--min-recovery-delay", "1")  # fmt: skip
    with seedguard_server(f"sqlite:///{tmp_path / 'db' / 'server.db'}", tmp_path, *options) as s:
        yield s.url


def _alert(url: str, hook: str) -> Device:
    """An account whose webhook is `hook`, then an event for it (a held delay change)."""
    device = Device(url).register()
    assert device.call("PUT", "/v1/social/webhook", json={"url": hook}).status_code == 204
    held = device.call("PUT", "/v1/social/delay", json={"seconds": 2 * HOUR})
    assert held.status_code == 202
    return device


def test_private_and_loopback_hosts_are_refused(tmp_path: Path) -> None:
    options = ("--allow-http-webhooks",)
    with seedguard_server(f"sqlite:///{tmp_path / 'db' / 'x.db'}", tmp_path, *options) as s:
        device = Device(s.url).register()
        for url in (
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://10.1.2.3/x",
            "http://192.168.0.1/x",
            "http://100.64.0.1/x",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[fd00:ec2::254]/x",
            "http://0.0.0.0/x",
            "http://224.0.0.1/x",
        ):
            answer = device.call("PUT", "/v1/social/webhook", json={"url": url})
            assert answer.status_code == 400, url
            assert "does not call" in answer.json()["error"] or "resolve" in answer.json()["error"]


def test_the_address_is_checked_again_at_delivery() -> None:
    """A URL that passed when it was set (here: never checked) but resolves to loopback when
    the event is sent is not called."""
    receiver = Receiver()
    deliveries = webhooks.Deliveries(webhooks.Policy(deadline=2, attempts=1))
    deliveries.submit("account", receiver.url, {"event": "x"})
    allowed = webhooks.Deliveries(
        webhooks.Policy.from_settings(["127.0.0.1/32"], deadline=2, attempts=1)
    )
    allowed.submit("account", receiver.url, {"event": "y"})
    receiver.wait(1)
    time.sleep(0.5)
    assert receiver.received == [{"event": "y"}]


def test_a_tarpit_endpoint_does_not_delay_another_accounts_alert(relay: str) -> None:
    tarpit, receiver = Tarpit(), Receiver()
    _alert(relay, tarpit.url)
    deadline = time.monotonic() + 10
    while tarpit.open == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tarpit.open == 1
    _alert(relay, receiver.url)
    receiver.wait(1)
    assert [e["event"] for e in receiver.received] == ["action-pending"]
    assert tarpit.closed == 0  # the tarpit still holds the first account's delivery
    # The total deadline ends each attempt although bytes keep coming (then retries).
    deadline = time.monotonic() + 30
    while tarpit.closed == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tarpit.closed >= 1


def test_a_failed_delivery_is_retried(relay: str) -> None:
    receiver = Receiver(fail=1)
    _alert(relay, receiver.url)
    receiver.wait(1)
    assert receiver.attempts == 2
    assert [e["event"] for e in receiver.received] == ["action-pending"]

"""The whole ceremony through a real seedguard server (SQLite and PostgreSQL): an owner, three
guardians, threshold 2. Recovery succeeds after the delay (the server's clock is moved through
a file it reads), fails before it, fails after a cancel, and fails with one guardian. The
server's database holds no share in clear, and a stranger who approves first with another
owner's share binds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedguard import wallet
from tests.conftest import make_home, run_cli
from tests.server.conftest import database_url
from tests.servers import SeedguardServer, seedguard_server

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OTHER = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)
SECRET = "Granite-Otter-Lamp-51"
HOUR = 3600


@pytest.fixture(params=["sqlite", "postgresql"])
def relay(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SeedguardServer, Path]]:
    clock = tmp_path / "clock"
    clock.write_text("0")
    url = database_url(request.param, tmp_path, request)
    options = ("--clock-file", str(clock), "--min-recovery-delay", "1")
    with seedguard_server(url, tmp_path, *options) as server:
        yield server, clock


def sg(home: Path, *args: str, stdin: str = "", code: int = 0) -> Any:
    proc = run_cli(*args, "--json", stdin=stdin, env={"SEEDGUARD_HOME": str(home)})
    assert proc.returncode == code, (args, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_the_ceremony(relay: tuple[SeedguardServer, Path], tmp_path: Path) -> None:
    server, clock = relay
    url = server.location
    homes = {n: make_home(tmp_path / n) for n in ("dana", "erin", "ann", "bob", "cy", "new")}
    codes = {}
    for name in ("ann", "bob", "cy"):
        codes[name] = sg(homes[name], "guardian", "init", "--relay", url, stdin=f"{SECRET}\n")
        assert ":" in codes[name]["code"]  # the mailbox id joins the code
    guardians = [a for n in ("ann", "bob", "cy") for a in ("--guardian", codes[n]["code"])]
    setup = sg(homes["dana"], "social", "setup", *guardians, "--threshold", "2", "--relay", url,
               "--delay", "48h", "--label", "Dana", stdin=f"{PHRASE}\n")  # fmt: skip
    assert setup["delay_hours"] == 48
    assert all(g["deposit"] and g["file"] is None for g in setup["guardians"])
    # Erin, another owner, also chose Ann as a guardian.
    sg(homes["erin"], "social", "setup", "--guardian", codes["ann"]["code"], "--guardian",
       codes["cy"]["code"], "--threshold", "2", "--relay", url, "--label", "Erin",
       stdin=f"{OTHER}\n")  # fmt: skip

    def approve(guardian: str, code: str, owner: str = "Dana", ok: int = 0) -> Any:
        return sg(homes[guardian], "guardian", "approve", "--relay", url, "--request", code,
                  "--for", owner, "--yes", stdin=f"{SECRET}\n", code=ok)  # fmt: skip

    def finish(code: str, ok: int = 0) -> Any:
        return sg(homes["new"], "social", "recover", "finish", "--relay", url, "--request", code,
                  code=ok)  # fmt: skip

    # 1. Two guardians approve; nothing is released before the delay, everything after.
    first = sg(homes["new"], "social", "recover", "start", "--relay", url, "--label",
               "Dana's new phone")["code"]  # fmt: skip
    info = sg(homes["bob"], "social", "recover", "status", "--relay", url, "--request", first)
    assert (info["label"], info["state"], info["approvals"]) == ("Dana's new phone", "waiting", 0)
    assert finish(first, ok=1)["error"].endswith("No guardian has approved this request yet.")
    assert approve("ann", first)["approvals"] == 1
    assert approve("bob", first)["approvals"] == 2
    early = finish(first, ok=1)
    assert "after the owner's delay: 48.0 more hours" in early["error"]
    clock.write_text(str(47 * HOUR))
    assert "1.0 more hours" in finish(first, ok=1)["error"]
    clock.write_text(str(49 * HOUR))
    done = finish(first)
    assert not (homes["new"] / "recovery" / f"{first}.json").exists()  # its key is gone
    assert "did not start request" in finish(first, ok=1)["error"]
    assert done["mnemonic"] == PHRASE
    assert done["fingerprint"] == wallet.fingerprint(PHRASE)
    assert done["accounts"]["bip84"]["receive"]

    # 2. One guardian is not enough.
    second = sg(homes["new"], "social", "recover", "start", "--relay", url)["code"]
    approve("cy", second)
    clock.write_text(str(100 * HOUR))
    assert "Not enough shares" in finish(second, ok=1)["error"]

    # 3. The owner cancels from a registered device: nothing is released, ever.
    third = sg(homes["new"], "social", "recover", "start", "--relay", url)["code"]
    approve("ann", third)
    approve("bob", third)
    events = sg(homes["dana"], "social", "notifications", "--relay", url)["notifications"]
    assert [e["event"] for e in events if e["code"] == third] == [
        "recovery-requested",
        "recovery-approved",
        "recovery-approved",
    ]
    cancelled = sg(homes["dana"], "social", "recover", "cancel", "--relay", url)["cancelled"]
    assert third in cancelled
    clock.write_text(str(200 * HOUR))
    assert "cancelled" in finish(third, ok=1)["error"]
    assert "cancelled" in approve("cy", third, ok=1)["error"]

    # 4. A stranger who heard the code approves first with another owner's share (Ann, who
    # holds Erin's, plays the stranger): the request is not bound to Erin. Dana's guardians
    # still approve, a guardian counts once, and the new device gets Dana's wallet; Erin is
    # told and cancels only her own group.
    clock.write_text(str(300 * HOUR))
    fourth = sg(homes["new"], "social", "recover", "start", "--relay", url)["code"]
    assert approve("ann", fourth, "Erin")["approvals"] == 1
    assert approve("ann", fourth, "Dana")["approvals"] == 1
    assert approve("ann", fourth, "Dana")["approvals"] == 1  # again: still one
    assert approve("bob", fourth, "Dana")["approvals"] == 2
    told = sg(homes["erin"], "social", "notifications", "--relay", url)["notifications"]
    assert [e["event"] for e in told if e["code"] == fourth] == [
        "recovery-requested",
        "recovery-approved",
    ]
    assert sg(homes["erin"], "social", "recover", "cancel", "--relay", url, "--request",
              fourth)["cancelled"] == [fourth]  # fmt: skip
    clock.write_text(str(349 * HOUR))
    assert finish(fourth)["mnemonic"] == PHRASE

    # 5. A dump of the server's database holds sealed blobs only: no phrase word and no
    # owner's label (those are inside the sealed shares).
    dump = _dump(server.database)
    assert b"Dana's new phone" in dump  # the dump is real: the requester's own label is there
    for word in {*PHRASE.split(), *OTHER.split(), "Erin"}:
        assert word.encode() not in dump, word


def _dump(database: str) -> bytes:
    """Every value of every table, as a backup tool would see it."""
    import sqlalchemy as sa

    from seedguard.server import db

    engine = db.engine(database)
    chunks = []
    try:
        with engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                for row in conn.execute(sa.select(table)):
                    for value in row:
                        chunks.append(value if isinstance(value, bytes) else str(value).encode())
    finally:
        engine.dispose()
    return b"\n".join(chunks)


def test_a_guardian_reads_only_its_own_mailbox(relay: tuple[SeedguardServer, Path]) -> None:
    server, _ = relay
    from seedguard.client import client_for
    from seedguard.social import relay as relays
    from seedguard.social.guardian import Guardian

    def guardian(home: Path) -> tuple[Guardian, str]:
        g = Guardian.at(home)
        g.create(SECRET)
        return g, relays.open_mailbox(server.url, g, home)

    root = Path(server.log).parent
    ann, ann_box = guardian(make_home(root / "g-ann"))
    bob_home = make_home(root / "g-bob")
    guardian(bob_home)
    bob = client_for(server.url, bob_home)
    answer = bob._call("GET", f"/v1/social/mailboxes/{ann_box}",
                       headers={"Authorization": f"Bearer {bob.sign_in()}"}, ok=(404,))  # fmt: skip
    assert answer.status_code == 404
    assert ann.mailbox() == (server.url, ann_box)


def test_events_reach_the_owners_webhook(tmp_path: Path) -> None:
    import http.server
    import threading

    received: list[dict[str, Any]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return None

    hook = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        options = ("--allow-http-webhooks", "--webhook-allow-network", "127.0.0.0/8",
                   "--min-recovery-delay", "1")  # fmt: skip
        with seedguard_server(f"sqlite:///{tmp_path / 'db'}", tmp_path, *options) as server:
            url = server.location
            homes = {n: make_home(tmp_path / n) for n in ("dana", "ann", "bob", "new")}
            codes = [
                sg(homes[n], "guardian", "init", "--relay", url, stdin=f"{SECRET}\n")["code"]
                for n in ("ann", "bob")
            ]
            sg(homes["dana"], "social", "setup", "--guardian", codes[0], "--guardian", codes[1],
               "--threshold", "2", "--relay", url, stdin=f"{PHRASE}\n")  # fmt: skip
            target = f"http://127.0.0.1:{hook.server_port}/seedguard"
            refused = sg(homes["dana"], "social", "webhook", "--relay", url, "--url",
                         "ftp://x", code=1)  # fmt: skip
            assert "https://" in refused["error"]
            sg(homes["dana"], "social", "webhook", "--relay", url, "--url", target)
            shown = sg(homes["new"], "social", "recover", "start", "--relay", url)["code"]
            assert shown[4] == "-"  # XXXX-XXXX, as everywhere
            sg(
                homes["ann"],
                "guardian",
                "approve",
                "--relay",
                url,
                "--request",
                shown.lower(),
                "--yes",
                stdin=f"{SECRET}\n",
            )  # fmt: skip (any case, with or without the dash)
            code = shown.replace("-", "")  # the server's events carry the bare code
            sg(homes["dana"], "social", "recover", "cancel", "--relay", url)
            import time

            deadline = time.monotonic() + 10
            while len(received) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [(e["event"], e["code"]) for e in received] == [
                ("recovery-requested", code),
                ("recovery-approved", code),
                ("recovery-cancelled", code),
            ]
            assert all(set(e) == {"event", "code", "created"} for e in received)
    finally:
        hook.shutdown()

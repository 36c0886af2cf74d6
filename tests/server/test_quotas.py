"""Per-account quotas and paging (issue 12, section 4), against a real server process on SQLite
and PostgreSQL started with `--limit NAME=N` options.

Threat: any account (a stranger who registered, a thief with a phone) may call every route as
often as the rate limit allows. None of them may make the server hold more rows for it than the
operator's limits, make a read route load more than one page, or make one guardian count twice
for an owner.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Device, b64, database_url
from tests.servers import SeedguardServer, seedguard_server

AGE_KEY = "age1" + "q" * 58
SMALL = {"mailboxes": 2, "requests": 3, "owners-per-request": 2, "oprf-keys": 2, "wallets": 2,
         "pending-actions": 2, "notifications": 7, "page": 3}  # fmt: skip


class Clocked:
    def __init__(self, server: SeedguardServer, clock: Path) -> None:
        self.url = server.url
        self.server = server
        self.clock = clock

    def advance(self, seconds: float) -> None:
        self.clock.write_text(str(float(self.clock.read_text()) + seconds))


def _limits(limits: dict[str, int]) -> list[str]:
    return [part for name, n in limits.items() for part in ("--limit", f"{name}={n}")]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def small(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clocked]:
    work = tmp_path_factory.mktemp(f"quotas-{request.param}")
    clock = work / "clock"
    clock.write_text("1000000")
    url = database_url(request.param, work, request)
    options = ("--clock-file", str(clock), "--min-recovery-delay", "1", *_limits(SMALL))
    with seedguard_server(url, work, *options) as server:
        yield Clocked(server, clock)


def _refused(response: httpx.Response, name: str) -> str:
    assert response.status_code == 429, response.text
    message = str(response.json()["error"])
    assert f"`--limit {name}=N`" in message
    assert f"limit is {SMALL.get(name, 1000)}" in message
    return message


def _sealed() -> str:
    return b64(secrets.token_bytes(80))


def _deposit(owner: Device, mailbox: str) -> str:
    answer = owner.call(
        "POST", "/v1/social/deposits", json={"mailbox": mailbox, "sealed": _sealed()}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["deposit"])


def _mailbox(guardian: Device) -> str:
    answer = guardian.call("POST", "/v1/social/mailboxes")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["mailbox"])


def _request(requester: Device) -> httpx.Response:
    return requester.call(
        "POST", "/v1/social/requests", json={"label": "new phone", "public_key": AGE_KEY}
    )


def _approve(guardian: Device, code: str, deposit: str) -> httpx.Response:
    body = {"deposit": deposit, "resealed": _sealed()}
    return guardian.call("POST", f"/v1/social/requests/{code}/approvals", json=body)


def test_mailboxes_requests_and_oprf_keys_are_limited(small: Clocked) -> None:
    guardian = Device(small.url).register()
    assert len({_mailbox(guardian), _mailbox(guardian)}) == 2
    message = _refused(guardian.call("POST", "/v1/social/mailboxes"), "mailboxes")
    assert "reuse one" in message
    other = Device(small.url).register()  # a limit per account, not per server
    _mailbox(other)

    requester = Device(small.url).register()
    for _ in range(3):
        assert _request(requester).status_code == 200
    _refused(_request(requester), "requests")

    holder = Device(small.url).register()
    holder.hardened_key(b"one")
    holder.hardened_key(b"two")
    blinded = {"blinded_element": b64(secrets.token_bytes(32))}
    message = _refused(holder.call("POST", "/v1/oprf/keys", json=blinded), "oprf-keys")
    assert "`backup delete`" in message
    listed = holder.call("GET", "/v1/oprf/keys").json()["keys"]
    assert len(listed) == 2


def test_a_guardian_counts_once_per_owner_and_owners_per_request_are_limited(
    small: Clocked,
) -> None:
    guardian = Device(small.url).register()
    mailbox = _mailbox(guardian)
    owners = [Device(small.url).register() for _ in range(3)]
    first, second = _deposit(owners[0], mailbox), _deposit(owners[0], mailbox)
    others = [_deposit(owner, mailbox) for owner in owners[1:]]
    code = str(_request(Device(small.url).register()).json()["code"])

    assert _approve(guardian, code, first).json()["approvals"] == 1
    again = _approve(guardian, code, second)  # the same guardian, another share of the owner
    assert again.status_code == 200, again.text
    assert again.json()["approvals"] == 1
    info = guardian.call("GET", f"/v1/social/requests/{code}").json()
    assert info["approvals"] == 1
    events = owners[0].call("GET", "/v1/notifications").json()["notifications"]
    assert [e["event"] for e in events] == ["recovery-requested", "recovery-approved"]

    assert _approve(guardian, code, others[0]).status_code == 200
    message = _refused(_approve(guardian, code, others[1]), "owners-per-request")
    assert "open a new one" in message
    quiet = owners[2].call("GET", "/v1/notifications").json()["notifications"]
    assert quiet == []  # a refused approval told nobody anything


def test_notifications_keep_the_newest_and_page_with_a_cursor(small: Clocked) -> None:
    guardian = Device(small.url).register()
    mailbox = _mailbox(guardian)
    owner = Device(small.url).register()
    deposit = _deposit(owner, mailbox)
    codes = []
    for _ in range(5):  # two events each: requested, approved
        code = str(_request(Device(small.url).register()).json()["code"])
        assert _approve(guardian, code, deposit).status_code == 200
        codes.append(code)

    seen: list[dict[str, object]] = []
    after, pages = 0, 0
    while True:
        answer = owner.call("GET", "/v1/notifications", params={"after": after}).json()
        assert len(answer["notifications"]) <= SMALL["page"]
        seen += answer["notifications"]
        pages += 1
        if answer["next"] is None:
            break
        after = answer["next"]
    assert pages == 3
    assert len(seen) == SMALL["notifications"]  # ten events, the oldest three pruned
    ids = [e["id"] for e in seen]
    assert ids == sorted(set(ids))
    assert [e["code"] for e in seen[-2:]] == [codes[-1], codes[-1]]
    assert seen[0]["code"] == codes[1]  # request 1's approval and request 2 on


def test_pending_actions_are_limited(small: Clocked) -> None:
    owner = Device(small.url).register()
    credential = owner.credential()
    phones = [Device(small.url) for _ in range(2)]
    for phone in phones:
        enroll = {"account": owner.account, "credential": b64(credential)}
        assert phone.sign_in(enroll=enroll).status_code == 200
    assert owner.call("PUT", "/v1/social/delay", json={"seconds": 48 * 3600}).status_code == 200
    held = owner.call("PUT", "/v1/social/delay", json={"seconds": 2 * 3600})
    assert held.status_code == 202, held.text
    held = owner.call("DELETE", f"/v1/account/devices/{phones[0].device}")
    assert held.status_code == 202, held.text
    refused = owner.call("DELETE", f"/v1/account/devices/{phones[1].device}")
    assert "`account cancel`" in _refused(refused, "pending-actions")
    assert phones[1].call("GET", "/v1/vault").status_code == 200  # nothing happened to it
    cancelled = owner.call("POST", "/v1/account/pending/cancel", json={"id": None})
    assert cancelled.status_code == 200, cancelled.text
    held = owner.call("DELETE", f"/v1/account/devices/{phones[1].device}")
    assert held.status_code == 202, held.text


def test_wallets_are_limited_and_a_stale_key_generation_goes_after_an_hour(
    small: Clocked,
) -> None:
    owner = Device(small.url).register()
    made = [owner.call("POST", "/v1/mpc/wallets") for _ in range(2)]
    assert [m.status_code for m in made] == [200, 200]
    message = _refused(owner.call("POST", "/v1/mpc/wallets"), "wallets")
    assert "MPC wallets" in message
    left = made[0].json()["wallet_id"]

    small.advance(3601)
    assert owner.sign_in().status_code == 200  # the token may have expired meanwhile
    hostkeys = {"hostpubkeys": [b64(secrets.token_bytes(33))] * 3}
    late = owner.call("POST", f"/v1/mpc/wallets/{left}/dkg/1", json=hostkeys)
    assert late.status_code == 410, late.text
    assert "start a new one" in late.json()["error"]
    fresh = owner.call("POST", "/v1/mpc/wallets")  # the two stale ones are removed first
    assert fresh.status_code == 200, fresh.text
    listed = owner.call("GET", "/v1/mpc/wallets").json()["wallets"]
    assert [w["wallet_id"] for w in listed] == [fresh.json()["wallet_id"]]
    gone = owner.call("POST", f"/v1/mpc/wallets/{left}/dkg/1", json=hostkeys)
    assert gone.status_code == 404


def test_a_limit_option_is_checked(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    for bad in ("wallets=0", "wallets=x", "nope=3", "wallets=3\n"):
        proc = run_cli("server", "run", "--limit", bad, "--database", "sqlite:///x.db")
        assert proc.returncode == 2, proc.stderr
        assert "--limit takes NAME=N" in proc.stderr


# -- a thousand deposits into one mailbox ------------------------------------------------------

BULK = {"deposits-per-owner": 1000, "deposits-per-mailbox": 1000}
SEALED_BYTES = 16 * 1024


@pytest.fixture(params=["sqlite", "postgresql"])
def bulk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SeedguardServer]:
    url = database_url(request.param, tmp_path, request)
    with seedguard_server(url, tmp_path, "--rate-per-account", "100000", "--rate-per-ip",
                          "100000", *_limits(BULK)) as server:  # fmt: skip
        yield server


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_thousand_deposits_are_read_a_page_at_a_time(bulk: SeedguardServer) -> None:
    guardian = Device(bulk.url).register()
    mailbox = _mailbox(guardian)
    owner = Device(bulk.url).register()
    body = {"mailbox": mailbox, "sealed": b64(secrets.token_bytes(SEALED_BYTES))}
    made = []
    for _ in range(1000):
        answer = owner.call("POST", "/v1/social/deposits", json=body)
        assert answer.status_code == 200, answer.text
        made.append(answer.json()["deposit"])
    full = owner.call("POST", "/v1/social/deposits", json=body)
    assert full.status_code == 429
    assert "`--limit deposits-per-owner=N`" in full.json()["error"]
    stranger = Device(bulk.url).register()
    full = stranger.call("POST", "/v1/social/deposits", json=body)
    assert full.status_code == 429
    assert "ask the guardian for a new code" in full.json()["error"]

    before = _peak_rss_kib(bulk.pid)
    seen: list[str] = []
    after: str | None = None
    while True:
        params = {} if after is None else {"after": after}
        page = guardian.call("GET", f"/v1/social/mailboxes/{mailbox}", params=params).json()
        assert 0 < len(page["deposits"]) <= 100
        seen += [d["deposit"] for d in page["deposits"]]
        after = page["next"]
        if after is None:
            break
    assert seen == made  # oldest first, every one once
    # All 1,000 in one answer would take the server well over 16 MiB of bytes, base64 and JSON
    # (about 5x the 16 MiB stored); a page of 100 stays within a few MiB of its peak.
    grown = _peak_rss_kib(bulk.pid) - before
    assert grown < 24 * 1024, f"the server's peak memory grew by {grown} KiB"
    foreign = guardian.call("GET", f"/v1/social/mailboxes/{mailbox}", params={"after": "0" * 32})
    assert foreign.status_code == 400
    assert "start over" in foreign.json()["error"]

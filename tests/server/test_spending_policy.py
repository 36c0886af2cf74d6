"""The server checks what it co-signs (docs/mpc.md § The server as a guard), against real
server processes: it recomputes each sighash from the PSBT; a spend under the wallet's 24-hour
limit signs at once, one over it waits for the delay, is announced, can be cancelled from any
device and completes after the delay (injected clock); loosening the policy waits, tightening
does not; raw hashes are refused unless the owner allowed them; a PSBT changed after the
device computed its sighash gives no usable signature; and two processes on PostgreSQL racing
spends never let more than the limit leave."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedguard.client.mpc import MpcServer
from seedguard.envelope import Password
from seedguard.errors import InputError, PendingError, SeedguardError
from seedguard.mpc import psbt
from seedguard.mpc.wallet import MpcWallets
from seedguard.threshold import frost
from seedguard.threshold.keys import DEVICE, SERVER, CulpritError, aggregate
from tests.conftest import make_home, run_cli
from tests.mpc.helpers import local_dkg
from tests.mpc.test_psbt import FOREIGN, PAYEE, _funded_psbt
from tests.server.conftest import b64, database_url
from tests.servers import SeedguardServer, seedguard_server

PASSWORD = Password("Correct horse 42 staple")
DELAY_HOURS = 48  # the account's delay: its default, with --min-recovery-delay 48
LIMITS = ("--rate-per-ip", "0", "--rate-per-account", "0")


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[SeedguardServer, Path]]:
    clock = tmp_path / "clock"
    clock.write_text("0")
    options = ("--clock-file", str(clock), "--min-recovery-delay", str(DELAY_HOURS), *LIMITS)
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path, *options) as server:
        yield server, clock


def _wallet(server: SeedguardServer, tmp_path: Path, **kw: Any) -> tuple[MpcWallets, str]:
    wallets = MpcWallets(make_home(tmp_path / f"phone-{secrets.token_hex(2)}"))
    info = wallets.create(
        server.url,
        str(tmp_path / f"cloud-{secrets.token_hex(2)}"),
        PASSWORD,
        network="testnet",
        **kw,
    )
    return wallets, info.wallet_id


def _spend(
    wallets: MpcWallets, wallet_id: str, amounts: tuple[int, ...] = (60_000, 50_000)
) -> list[bytes]:
    """Sign BDK's PSBT paying 80,000 sat out of the wallet (70,000 + 10,000)."""
    key = wallets.store.load(wallet_id).record.key
    parsed = psbt.load(_funded_psbt(key, amounts).encode())
    plan = psbt.plan(parsed, key, "testnet")
    return wallets.sign_psbt(wallet_id, parsed, plan)


def _set(wallets: MpcWallets, wallet_id: str, **policy: Any) -> dict[str, Any]:
    record = wallets.store.load(wallet_id).record
    srv = MpcServer(record.server, wallets.home)
    current = srv.policy(wallet_id)
    wanted = {k: current[k] for k in ("daily_limit", "allowlist", "raw_signing")}
    return srv.set_policy(wallet_id, {**wanted, **policy})


def _advance(clock: Path, hours: float) -> None:
    clock.write_text(str(float(clock.read_text()) + hours * 3600))


def test_under_the_limit_signs_over_it_waits_then_completes(
    clocked: tuple[SeedguardServer, Path], tmp_path: Path
) -> None:
    server, clock = clocked
    wallets, wallet_id = _wallet(server, tmp_path)
    assert _set(wallets, wallet_id, daily_limit=100_000)["daily_limit"] == 100_000  # tightens
    assert len(_spend(wallets, wallet_id)) == 2  # 80,000 of 100,000
    srv = MpcServer(server.url, wallets.home)
    assert srv.policy(wallet_id)["spent_24h"] == 80_000
    with pytest.raises(PendingError) as held:
        _spend(wallets, wallet_id)  # another 80,000: over the limit
    now = time.time() + float(clock.read_text())
    assert held.value.pending["release_at"] == pytest.approx(now + DELAY_HOURS * 3600, abs=60)
    # Announced: the account's pending list names it; any device may cancel it.
    pending = srv.client.request("GET", "/v1/account/pending").json()["pending"]
    assert [p["kind"] for p in pending] == ["mpc-spend"]
    assert pending[0]["target"] == wallet_id
    srv.client.request("POST", "/v1/account/pending/cancel", json={"id": pending[0]["id"]})
    assert srv.client.request("GET", "/v1/account/pending").json()["pending"] == []
    _advance(clock, DELAY_HOURS + 1)
    assert srv.policy(wallet_id)["spent_24h"] == 0  # the 24-hour window rolled on
    assert len(_spend(wallets, wallet_id)) == 2  # fits again
    with pytest.raises(PendingError):
        _spend(wallets, wallet_id)


def test_a_held_spend_completes_after_the_delay(
    clocked: tuple[SeedguardServer, Path], tmp_path: Path
) -> None:
    server, clock = clocked
    wallets, wallet_id = _wallet(server, tmp_path)
    _set(wallets, wallet_id, daily_limit=50_000)
    key = wallets.store.load(wallet_id).record.key
    parsed = psbt.load(_funded_psbt(key).encode())
    plan = psbt.plan(parsed, key, "testnet")
    with pytest.raises(PendingError):
        wallets.sign_psbt(wallet_id, parsed, plan)
    _advance(clock, DELAY_HOURS - 1)
    with pytest.raises(PendingError):  # not yet
        wallets.sign_psbt(wallet_id, parsed, plan)
    _advance(clock, 2)
    signatures = wallets.sign_psbt(wallet_id, parsed, plan)  # the same spend, after the delay
    assert len(signatures) == 2


def test_loosening_waits_tightening_does_not(
    clocked: tuple[SeedguardServer, Path], tmp_path: Path
) -> None:
    server, clock = clocked
    wallets, wallet_id = _wallet(server, tmp_path)
    _set(wallets, wallet_id, daily_limit=10_000)
    for loosen in (
        {"daily_limit": 20_000},
        {"daily_limit": None},
        {"raw_signing": True},
        {"allowlist": ["0014" + "11" * 20]},
    ):
        with pytest.raises(PendingError):
            _set(wallets, wallet_id, **loosen)
    srv = MpcServer(server.url, wallets.home)
    assert srv.policy(wallet_id)["daily_limit"] == 10_000
    assert _set(wallets, wallet_id, daily_limit=5_000)["daily_limit"] == 5_000  # at once
    with pytest.raises(PendingError):
        _set(wallets, wallet_id, daily_limit=None)
    _advance(clock, DELAY_HOURS + 1)
    assert _set(wallets, wallet_id, daily_limit=None)["daily_limit"] is None  # after the delay


def test_an_allowlisted_destination_bypasses_the_limit(
    clocked: tuple[SeedguardServer, Path], tmp_path: Path
) -> None:
    server, clock = clocked
    wallets, wallet_id = _wallet(server, tmp_path)
    from embit.script import address_to_scriptpubkey

    scripts = [bytes(address_to_scriptpubkey(a).data).hex() for a in (PAYEE, FOREIGN)]
    with pytest.raises(PendingError):  # loosens: waits
        _set(wallets, wallet_id, allowlist=scripts)
    _advance(clock, DELAY_HOURS + 1)
    _set(wallets, wallet_id, allowlist=scripts)
    _set(wallets, wallet_id, daily_limit=1_000)
    assert len(_spend(wallets, wallet_id)) == 2  # every output allowlisted or change
    assert MpcServer(server.url, wallets.home).policy(wallet_id)["spent_24h"] == 0


def test_raw_hashes_are_refused_unless_allowed(sg_server: SeedguardServer, tmp_path: Path) -> None:
    wallets, wallet_id = _wallet(sg_server, tmp_path)
    with pytest.raises(SeedguardError, match="raw hashes"):
        wallets.sign(wallet_id, bytes(32), path=(0, 0))
    allowed, other = _wallet(sg_server, tmp_path, raw_signing=True)
    signature, _ = allowed.sign(other, bytes(32), path=(0, 0))
    assert len(signature) == 64


def test_a_psbt_changed_after_the_user_confirmed_is_refused(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    """The device (or malware on it) shows one transaction and sends the server another: the
    server's partial signature is for the transaction it read, so nothing valid comes out
    for the one the device hashed."""
    wallets, wallet_id = _wallet(sg_server, tmp_path)
    record = wallets.store.load(wallet_id).record
    key = record.key
    shown = psbt.load(_funded_psbt(key).encode())
    plan = psbt.plan(shown, key, "testnet")
    tampered = psbt.load(psbt.to_base64(shown).encode())
    tampered.outputs[0].value -= 1_000  # a different amount to one output
    srv = MpcServer(record.server, wallets.home)
    ids, server_pubnonces, _ = srv.nonces(wallet_id, 1)
    item = plan.owned[0]
    from seedguard.mpc import addresses

    child = None if item.path is None else addresses.child(key, *item.path)
    secnonce, pubnonce = frost.nonce_gen(
        record.secshare, key.pubshares[DEVICE], key.output_key_of(child), item.sighash
    )
    # The device says which sighash it computed (what the user confirmed): refused.
    with pytest.raises(InputError, match="changed after it was shown"):
        srv.sign_psbt(
            wallet_id,
            psbt.to_base64(tampered),
            [(item.index, ids[0], pubnonce)],
            {item.index: item.sighash},
        )
    # A client that leaves the sighash out gets a partial signature for the transaction the
    # server read (the refusal consumed no nonce), useless for the one the device hashed.
    psigs = srv.sign_psbt(wallet_id, psbt.to_base64(tampered), [(item.index, ids[0], pubnonce)])
    pubnonces = [pubnonce, server_pubnonces[0]]
    session = key.session((DEVICE, SERVER), frost.nonce_agg(pubnonces), item.sighash, child)
    mine = frost.sign(secnonce, record.secshare, DEVICE, session, verify=False)
    with pytest.raises(CulpritError):
        aggregate(key, (DEVICE, SERVER), pubnonces, [mine, psigs[item.index]], item.sighash, child)


def test_the_server_refuses_inputs_that_are_not_the_wallets(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    wallets, wallet_id = _wallet(sg_server, tmp_path)
    record = wallets.store.load(wallet_id).record
    srv = MpcServer(record.server, wallets.home)
    theirs = psbt.load(_funded_psbt(local_dkg()[0]).encode())  # another key's inputs
    ids, _, _ = srv.nonces(wallet_id, 1)
    _, pubnonce = frost.nonce_gen(record.secshare)
    with pytest.raises(InputError, match="this wallet's"):
        srv.sign_psbt(wallet_id, psbt.to_base64(theirs), [(0, ids[0], pubnonce)])


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_processes_racing_spends_never_exceed_the_limit(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = database_url(backend, tmp_path, request)
    with (
        seedguard_server(url, tmp_path, *LIMITS) as one,
        seedguard_server(url, tmp_path, *LIMITS, migrate=False) as two,
    ):
        wallets, wallet_id = _wallet(one, tmp_path)
        _set(wallets, wallet_id, daily_limit=250_000)  # three spends of 80,000 fit, not four
        record = wallets.store.load(wallet_id).record
        key = record.key
        jobs = []
        for n in range(8):
            parsed = psbt.load(_funded_psbt(key).encode())
            plan = psbt.plan(parsed, key, "testnet")
            jobs.append((n, psbt.to_base64(parsed), plan))

        token = MpcServer(one.url, wallets.home).client.sign_in()  # valid on both processes
        base = f"/v1/mpc/wallets/{wallet_id}"

        def attempt(job: tuple[int, str, psbt.Plan]) -> str:
            n, encoded, plan = job
            url = (one.url, two.url)[n % 2]
            with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
                made = http.post(url + base + "/nonces", json={"count": len(plan.owned)})
                inputs = [
                    {
                        "index": item.index,
                        "nonce_id": nonce["nonce_id"],
                        "pubnonce": b64(frost.nonce_gen(record.secshare)[1]),
                    }
                    for item, nonce in zip(plan.owned, made.json()["nonces"], strict=True)
                ]
                answer = http.post(
                    url + base + "/psbt/sign", json={"psbt": encoded, "inputs": inputs}
                )
            return {200: "signed", 202: "held"}.get(answer.status_code, str(answer.status_code))

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(attempt, jobs))
        assert results.count("signed") == 3, results
        assert results.count("held") == 5
        assert MpcServer(one.url, wallets.home).policy(wallet_id)["spent_24h"] == 240_000


def test_the_policy_commands(clocked: tuple[SeedguardServer, Path], tmp_path: Path) -> None:
    server, clock = clocked
    home = make_home(tmp_path / "home")
    env = {"SEEDGUARD_HOME": str(home)}

    def sg(*args: str, code: int = 0) -> Any:
        proc = run_cli(*args, "--json", stdin="Correct horse battery staple 42\n", env=env)
        assert proc.returncode == code, (proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        return json.loads(proc.stdout)

    created = sg(
        "mpc",
        "create",
        "--server",
        server.url,
        "--cloud",
        str(tmp_path / "c"),
        "--network",
        "testnet",
    )
    wallet = created["wallet_id"]
    shown = sg("mpc", "policy", "--wallet", wallet)
    assert shown == {
        "wallet_id": wallet,
        "daily_limit": None,
        "allowlist": [],
        "raw_signing": False,
        "spent_24h": 0,
    }
    assert (
        sg("mpc", "policy", "--wallet", wallet, "--daily-limit", "50000")["daily_limit"] == 50_000
    )
    refused = sg("mpc", "sign", "--wallet", wallet, "--message", "00" * 32, code=1)
    assert "raw hashes" in refused["error"]
    from seedguard.mpc.shares import DeviceStore, group_key

    store = DeviceStore(home)
    key = group_key(store.public(store.find(wallet)))
    file = tmp_path / "spend.psbt"
    file.write_text(_funded_psbt(key))
    held = sg("mpc", "sign-psbt", "--wallet", wallet, str(file), "--yes", code=1)
    assert "--resume" in held["error"]
    assert held["pending"]["kind"] == "mpc-spend"
    listed = sg("mpc", "pending", "--wallet", wallet)["pending"]
    assert [p["kind"] for p in listed] == ["mpc-spend"]
    _advance(clock, DELAY_HOURS + 1)
    done = sg("mpc", "sign-psbt", "--wallet", wallet, "--resume", "--yes", "--finalize")
    assert done["tx"] is not None
    assert sg("mpc", "policy", "--wallet", wallet)["spent_24h"] == 80_000
    none_left = sg("mpc", "sign-psbt", "--wallet", wallet, "--resume", "--yes", code=2)
    assert "waiting" in none_left["error"]
    # Loosening waits and can be cancelled from the pending list.
    sg("mpc", "policy", "--wallet", wallet, "--daily-limit", "none", code=1)
    assert sg("mpc", "cancel", "--wallet", wallet)["cancelled"]
    assert sg("mpc", "pending", "--wallet", wallet)["pending"] == []

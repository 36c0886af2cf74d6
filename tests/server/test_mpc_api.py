"""The server's MPC routes refuse what they must, on SQLite and PostgreSQL: another account's
wallet, key generation out of order, used or unknown nonces, malformed values, a refresh share
that does not match its commitment; and no share is stored in the clear."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from seedguard.client.mpc import MpcServer
from seedguard.envelope import Password
from seedguard.errors import InputError, SeedguardError
from seedguard.mpc.wallet import MpcWallets
from seedguard.primitives.secp256k1 import CURVE_ORDER, scalar_bytes
from seedguard.threshold import frost, keys, proofs, refresh
from seedguard.threshold.keys import CLOUD, DEVICE, SERVER
from tests.conftest import make_home
from tests.server.conftest import b64
from tests.servers import SeedguardServer

PASSWORD = Password("Correct horse battery staple 42")


@pytest.fixture(scope="module")
def made(
    server: SeedguardServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MpcWallets, str]:
    work = tmp_path_factory.mktemp("mpc-api")
    wallets = MpcWallets(make_home(work / "owner"))
    info = wallets.create(server.url, str(work / "cloud"), PASSWORD, raw_signing=True)
    return wallets, info.wallet_id


def test_another_account_sees_no_wallet(
    server: SeedguardServer, made: tuple[MpcWallets, str], tmp_path: Path
) -> None:
    _, wallet_id = made
    stranger = MpcServer(server.url, make_home(tmp_path / "stranger"))
    for call in (
        lambda: stranger.wallet(wallet_id),
        lambda: stranger.nonce(wallet_id),
        lambda: stranger.challenge(wallet_id),
        lambda: stranger.commit_refresh(wallet_id, 1),
    ):
        with pytest.raises(SeedguardError, match="does not exist"):
            call()


def test_key_generation_in_order_only(server: SeedguardServer, tmp_path: Path) -> None:
    srv = MpcServer(server.url, make_home(tmp_path / "device"))
    wallet_id, _ = srv.create(raw_signing=True)
    with pytest.raises(InputError, match="first key-generation round"):
        srv.dkg_round2(wallet_id, b"\x00" * 100)
    with pytest.raises(InputError, match="second key-generation round"):
        srv.dkg_finalize(wallet_id, b"\x00" * 192)
    wrong = [secrets.token_bytes(33) for _ in range(3)]
    with pytest.raises(InputError, match="this server's second"):
        srv.dkg_round1(wallet_id, wrong)
    with pytest.raises(InputError, match="not finished"):
        srv.nonce(wallet_id)


def test_nonces_are_one_use_and_bounded(
    server: SeedguardServer, made: tuple[MpcWallets, str]
) -> None:
    wallets, wallet_id = made
    record = wallets.store.load(wallet_id).record
    srv = MpcServer(server.url, wallets.home)
    nonce_id, _, _ = srv.nonce(wallet_id)
    _, pubnonce = frost.nonce_gen(record.secshare)
    with pytest.raises(InputError, match="already used"):
        srv.sign(wallet_id, "0" * 32, bytes(32), pubnonce)
    with pytest.raises(InputError, match="message"):
        srv.client.request(
            "POST",
            f"/v1/mpc/wallets/{wallet_id}/sign",
            json={"nonce_id": nonce_id, "message": "AAAA", "pubnonce": "AAAA"},
        )
    bad_nonce = b"\x05" + pubnonce[1:]
    with pytest.raises(InputError, match="device's public nonce"):
        srv.sign(wallet_id, nonce_id, bytes(32), bad_nonce)
    with pytest.raises(InputError, match="already used"):  # the refused request consumed it
        srv.sign(wallet_id, nonce_id, bytes(32), pubnonce)
    first, _, _ = srv.nonce(wallet_id)
    for _ in range(4):  # 64 more: the wallet keeps the newest 64, the first gives way
        srv.client.request("POST", f"/v1/mpc/wallets/{wallet_id}/nonces", json={"count": 16})
    with pytest.raises(InputError, match="already used"):
        srv.sign(wallet_id, first, bytes(32), pubnonce)
    signature, output_key = wallets.sign(wallet_id, bytes(32))
    assert keys.verify(signature, bytes(32), output_key)


def test_refresh_and_repair_refusals(server: SeedguardServer, made: tuple[MpcWallets, str]) -> None:
    wallets, wallet_id = made
    srv = MpcServer(server.url, wallets.home)
    device = wallets.store.load(wallet_id)
    cloud, _ = wallets._open_cloud(device.cloud_location, PASSWORD)
    mine = refresh.ZeroPolynomial.generate(2)
    bad_share = (mine.share_for(SERVER) + 1) % CURVE_ORDER
    challenge, epoch = srv.challenge(wallet_id)
    digest = proofs.request_digest(b"refresh", *mine.commitment(), scalar_bytes(bad_share))
    proven = {
        r.participant: proofs.prove_share(
            r.secshare, wallet_id, epoch, r.participant, challenge, "refresh", digest
        )
        for r in (device.record, cloud)
    }
    with pytest.raises(InputError, match="does not match its commitment"):
        srv.refresh(wallet_id, mine.commitment(), bad_share, challenge, proven)
    with pytest.raises(InputError, match="No refresh is pending"):
        srv.commit_refresh(wallet_id, 5)
    challenge, _ = srv.challenge(wallet_id)
    with pytest.raises(InputError, match="target"):
        srv.repair(wallet_id, SERVER, 1, bytes(33), challenge, {})
    body = {
        "target": 0,
        "delta": b64(CURVE_ORDER.to_bytes(32, "big")),
        "commitment": b64(bytes(33)),
        "challenge": b64(challenge),
        "proofs": {},
    }
    with pytest.raises(InputError, match="scalar"):
        srv.client.request("POST", f"/v1/mpc/wallets/{wallet_id}/repair", json=body)


def test_no_share_in_the_clear(server: SeedguardServer, made: tuple[MpcWallets, str]) -> None:
    if not server.database.startswith("sqlite"):
        pytest.skip("the SQLite file is read directly")
    wallets, wallet_id = made
    device = wallets.store.load(wallet_id).record
    cloud, _ = wallets._open_cloud(wallets.store.load(wallet_id).cloud_location, PASSWORD)
    # The server's share, from the two others (interpolated at x = 2).
    s0, s2 = (int.from_bytes(r.secshare, "big") for r in (device, cloud))
    lam0 = frost.derive_interpolating_value([DEVICE, CLOUD], DEVICE)
    lam2 = frost.derive_interpolating_value([DEVICE, CLOUD], CLOUD)
    # f(2) from f(1), f(3): f is linear, so f(2) = (f(1) + f(3)) / 2.
    s1 = (s0 + s2) * pow(2, -1, CURVE_ORDER) % CURVE_ORDER
    assert (lam0 * s0 + lam2 * s2) % CURVE_ORDER != s1  # sanity: f(0) is not f(2)
    path = Path(server.database.removeprefix("sqlite:///"))
    dump = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for share in (s0, s1, s2):
        assert scalar_bytes(share) not in dump


def test_signatures_are_counted_in_the_metrics(
    server: SeedguardServer, made: tuple[MpcWallets, str]
) -> None:
    import httpx

    wallets, wallet_id = made
    for _ in range(2):
        wallets.sign(wallet_id, secrets.token_bytes(32))
    metrics = httpx.get(server.url + "/metrics").text
    (line,) = [
        x for x in metrics.splitlines() if x.startswith("seedguard_mpc_partial_signatures_total ")
    ]
    assert float(line.split()[1]) >= 2
    assert "secshare" not in metrics

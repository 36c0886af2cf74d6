"""A stolen phone never obtains a second key share (issue 12), against a real server process on
SQLite and PostgreSQL whose clock the tests move through a file.

The thief holds a copy of the phone's files (its account key and its MPC device share, not
PIN-protected): everything `$SEEDGUARD_HOME` holds. The owner holds the cloud backup and its
password. Each attack is run for real; each legitimate flow passes the same server.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedguard.backup.lifecycle import Backups
from seedguard.client.mpc import MpcServer
from seedguard.client.session import ServerClient, b64, client_for, unb64
from seedguard.envelope import Password, RecoveryKey
from seedguard.errors import InputError, PendingError, SeedguardError, WrongSecretError
from seedguard.mpc.shares import ShareRecord
from seedguard.mpc.wallet import MpcWallets
from seedguard.primitives.secp256k1 import CURVE_ORDER, scalar_bytes
from seedguard.threshold import keys, proofs, repairable
from seedguard.threshold.keys import CLOUD, DEVICE, SERVER
from tests.conftest import make_home
from tests.server.conftest import database_url
from tests.servers import SeedguardServer, seedguard_server

PASSWORD = Password("Correct horse battery staple 42")
HOUR = 3600.0


class Guarded:
    def __init__(self, server: SeedguardServer, clock: Path) -> None:
        self.server = server
        self.url = server.url
        self.clock = clock

    def advance(self, hours: float) -> None:
        self.clock.write_text(str(float(self.clock.read_text()) + hours * HOUR))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Guarded]:
    work = tmp_path_factory.mktemp(f"theft-{request.param}")
    clock = work / "clock"
    clock.write_text("0")
    url = database_url(request.param, work, request)
    options = ("--clock-file", str(clock), "--min-recovery-delay", "1", "--allow-http-webhooks",
               "--webhook-allow-network", "127.0.0.1/32")  # fmt: skip
    with seedguard_server(url, work, *options) as server:
        yield Guarded(server, clock)


def _owner(guarded: Guarded, work: Path, **kw: Any) -> tuple[MpcWallets, str, Path]:
    phone = MpcWallets(make_home(work / "phone"))
    cloud = work / "cloud"
    info = phone.create(guarded.url, str(cloud), PASSWORD, raw_signing=True, **kw)
    return phone, info.wallet_id, cloud


def _steal(phone: MpcWallets, work: Path) -> MpcWallets:
    """The thief's copy of every file the phone holds."""
    shutil.copytree(phone.home, work / "thief")
    return MpcWallets(work / "thief")


def _repair_body(
    srv: MpcServer,
    record: ShareRecord,
    target: int,
    *,
    claim: int | None = None,
    delta_shift: int = 0,
    challenge: bytes | None = None,
    digest_of: bytes | None = None,
) -> tuple[dict[str, Any], dict[int, int]]:
    """A repair request built the way the client builds it, from `record`'s share, claiming
    to act for participant `claim` (default: the record's own)."""
    acting = record.participant if claim is None else claim
    helpers = sorted((SERVER, acting))
    deltas = repairable.repair_share_step_1(
        helpers, acting, int.from_bytes(record.secshare, "big"), target
    )
    sent = (deltas[SERVER] + delta_shift) % CURVE_ORDER
    commitment = proofs.commit(deltas[acting])
    if challenge is None:
        challenge, _ = srv.challenge(record.wallet_id)
    digest = proofs.request_digest(b"repair", bytes([target]), scalar_bytes(sent), commitment)
    proof = proofs.prove_share(
        record.secshare,
        record.wallet_id,
        record.epoch,
        acting,
        challenge,
        "repair",
        digest_of or digest,
    )
    body = {
        "target": target,
        "delta": b64(scalar_bytes(sent)),
        "commitment": b64(commitment),
        "challenge": b64(challenge),
        "proofs": {str(acting): b64(proof)},
    }
    return body, deltas


def _post(client: ServerClient, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.request("POST", path, json=body, ok=(202, 400, 403, 404, 409, 422))
    return response.status_code, response.json()


def _cloud_record(wallets: MpcWallets, cloud: Path) -> ShareRecord:
    record, _ = wallets._open_cloud(str(cloud), PASSWORD)
    return record


def test_a_stolen_phone_never_gets_the_server_share(guarded: Guarded, tmp_path: Path) -> None:
    phone, wallet_id, cloud = _owner(guarded, tmp_path)
    thief = _steal(phone, tmp_path)
    stolen = thief.store.load(wallet_id).record
    srv = MpcServer(guarded.url, thief.home)
    path = f"/v1/mpc/wallets/{wallet_id}/repair"
    answers = []

    # The call from the report: one repair as the cloud helper with delta 0.
    status, body = _post(srv.client, path, {"target": DEVICE, "delta": b64(bytes(32))})
    answers.append(body)
    assert status == 422
    # Playing the cloud helper with the device share: its proof does not verify as the cloud's.
    status, body = _post(srv.client, path, _repair_body(srv, stolen, DEVICE, claim=CLOUD)[0])
    answers.append(body)
    assert status == 403
    assert "the cloud backup's share" in body["error"]
    # A valid device proof does not stand in for the cloud helper.
    request, _ = _repair_body(srv, stolen, DEVICE, claim=CLOUD)
    digest = proofs.request_digest(
        b"repair", bytes([DEVICE]), unb64(request["delta"], "d"), unb64(request["commitment"], "c")
    )
    challenge = unb64(request["challenge"], "c")
    device_proof = proofs.prove_share(
        stolen.secshare, wallet_id, 0, DEVICE, challenge, "repair", digest
    )
    request["proofs"] = {"0": b64(device_proof)}
    status, body = _post(srv.client, path, request)
    answers.append(body)
    assert status == 403
    # Re-creating the cloud share with the device share alone: announced and held, no sigma.
    status, body = _post(srv.client, path, _repair_body(srv, stolen, CLOUD)[0])
    answers.append(body)
    assert status == 202
    assert body["pending"]["kind"] == "repair-cloud"
    held = body["pending"]["id"]
    # A refresh needs both the device's and the cloud's proofs.
    challenge, epoch = srv.challenge(wallet_id)
    refresh_body = {
        "commitment": [b64(proofs.commit(5))],
        "share": b64(scalar_bytes(7)),
        "challenge": b64(challenge),
        "proofs": {
            "0": b64(
                proofs.prove_share(
                    stolen.secshare, wallet_id, epoch, DEVICE, challenge, "refresh", bytes(32)
                )
            )
        },
    }
    status, body = _post(srv.client, f"/v1/mpc/wallets/{wallet_id}/refresh", refresh_body)
    answers.append(body)
    assert status == 403
    # Pointing the wallet's password gate at an OPRF key of the thief's own: needs the cloud.
    challenge, _ = srv.challenge(wallet_id)
    link = {"challenge": b64(challenge), "proofs": {}, "handle": None, "recovery_verifier": None}
    response = srv.client.request("PUT", f"/v1/mpc/wallets/{wallet_id}/cloud", json=link, ok=(403,))
    assert response.status_code == 403
    assert not any("sigma" in a for a in answers)

    # The owner recovers on a new device: the phone is revoked, the thief's request dropped.
    new = MpcWallets(make_home(tmp_path / "new-phone"))
    recovered = new.recover(guarded.url, str(cloud), PASSWORD)
    assert recovered.key.thresh_pk == stolen.key.thresh_pk
    pending = client_for(guarded.url, new.home).request("GET", "/v1/account/pending").json()
    assert held not in [p["id"] for p in pending["pending"]]
    guarded.advance(49)
    with pytest.raises(InputError, match="revoked"):
        thief.repair_cloud(wallet_id, str(tmp_path / "thief-cloud"), PASSWORD, wait=True)
    with pytest.raises(InputError, match="revoked"):
        thief.sign(wallet_id, bytes(32))
    # Only the owner's new shares sign for the wallet's address.
    signature, output_key = new.sign(wallet_id, bytes(32))
    assert keys.verify(signature, bytes(32), output_key)
    assert output_key == stolen.key.output_key


def test_a_device_without_a_share_cannot_repair(guarded: Guarded, tmp_path: Path) -> None:
    """A second device of the account (enrolled with a recovery credential) holds no share:
    it cannot pass for a helper, whatever it sends."""
    phone, wallet_id, cloud = _owner(guarded, tmp_path)
    laptop_home = make_home(tmp_path / "laptop")
    Backups(laptop_home).restore(str(cloud), PASSWORD)  # enrolls the laptop in the account
    laptop = MpcServer(guarded.url, laptop_home)
    record = phone.store.load(wallet_id).record
    path = f"/v1/mpc/wallets/{wallet_id}/repair"
    for target, claim in ((DEVICE, CLOUD), (CLOUD, DEVICE)):
        fake = ShareRecord(
            wallet_id, record.server, record.network, None, 0, claim, secrets.token_bytes(32),
            record.key,
        )  # fmt: skip
        status, body = _post(laptop.client, path, _repair_body(laptop, fake, target)[0])
        assert status == 403
        assert "sigma" not in body


def test_proofs_are_bound_to_the_challenge_the_session_and_the_request(
    guarded: Guarded, tmp_path: Path
) -> None:
    phone, wallet_id, cloud = _owner(guarded, tmp_path)
    cloud_share = _cloud_record(phone, cloud)
    srv = MpcServer(guarded.url, phone.home)
    path = f"/v1/mpc/wallets/{wallet_id}/repair"
    # The legitimate request (the owner holds the cloud share) is answered, once.
    request, deltas = _repair_body(srv, cloud_share, DEVICE)
    status, body = _post(srv.client, path, request)
    assert status == 200, body
    assert proofs.sigma_ok(
        int.from_bytes(unb64(body["sigma"], "s"), "big"), unb64(body["commitment"], "c"),
        deltas[SERVER],
    )  # fmt: skip
    status, body = _post(srv.client, path, request)  # replayed: the challenge is spent
    assert status == 403
    assert "challenge" in body["error"]
    # A proof over another request (here: another delta) does not cover this one.
    request, _ = _repair_body(srv, cloud_share, DEVICE, digest_of=hashlib.sha256(b"x").digest())
    assert _post(srv.client, path, request)[0] == 403
    # A delta that does not split the helper's share (chosen to cancel the server's mask).
    request, _ = _repair_body(srv, cloud_share, DEVICE, delta_shift=1)
    status, body = _post(srv.client, path, request)
    assert status == 400
    assert "proper split" in body["error"]
    # Another session's challenge is refused, even with the right share.
    laptop_home = make_home(tmp_path / "laptop")
    Backups(laptop_home).restore(str(cloud), PASSWORD)
    other = MpcServer(guarded.url, laptop_home)
    foreign, _ = other.challenge(wallet_id)
    request, _ = _repair_body(srv, cloud_share, DEVICE, challenge=foreign)
    assert _post(srv.client, path, request)[0] == 403


def test_repair_cloud_needs_the_password_the_recovery_key_or_the_delay(
    guarded: Guarded, tmp_path: Path
) -> None:
    phone, wallet_id, cloud = _owner(guarded, tmp_path, recovery_key=True)
    thief = _steal(phone, tmp_path)
    laptop_home = make_home(tmp_path / "laptop")
    Backups(laptop_home).restore(str(cloud), PASSWORD)  # the owner's second device
    laptop = client_for(guarded.url, laptop_home)
    # The thief guesses the password: one counted attempt, refused on the device already.
    with pytest.raises(WrongSecretError) as wrong:
        thief.repair_cloud(wallet_id, str(tmp_path / "t1"), Password("Wrong horse battery 4242"))
    assert wrong.value.attempts_left == 9
    # The thief asks for the delay: announced to the owner's devices, who cancel it.
    with pytest.raises(PendingError) as held:
        thief.repair_cloud(wallet_id, str(tmp_path / "t1"), PASSWORD, wait=True)
    action = held.value.pending["id"]
    events = laptop.request("GET", "/v1/notifications").json()["notifications"]
    assert ("action-pending", action) in [(e["event"], e["code"]) for e in events]
    cancelled = laptop.request("POST", "/v1/account/pending/cancel", json={"id": action}).json()
    assert cancelled["cancelled"] == [action]
    guarded.advance(49)
    with pytest.raises(PendingError):  # a cancelled wait counts for nothing: it starts again
        thief.repair_cloud(wallet_id, str(tmp_path / "t1"), PASSWORD, wait=True)
    laptop.request("POST", "/v1/account/pending/cancel", json={"id": None})
    assert not (tmp_path / "t1").exists() or not any((tmp_path / "t1").iterdir())

    # The owner, with the password: at once, and the new cloud share pairs with the device's.
    fixed = phone.repair_cloud(wallet_id, str(tmp_path / "c2"), PASSWORD)
    assert fixed.cloud_location == str(tmp_path / "c2")
    assert phone.export_key(wallet_id, str(tmp_path / "c2"), PASSWORD).address == fixed.address
    # A wrong recovery key is refused by the server.
    phone2, wallet2, _ = _owner(guarded, tmp_path / "second", recovery_key=True)
    with pytest.raises(InputError, match="recovery key proof"):
        phone2.repair_cloud(
            wallet2, str(tmp_path / "c3"), PASSWORD, old_recovery_key=RecoveryKey.generate()
        )
    # The owner without either: the delay, then the same command again.
    with pytest.raises(PendingError):
        phone2.repair_cloud(wallet2, str(tmp_path / "c3"), PASSWORD, wait=True)
    guarded.advance(49)
    again = phone2.repair_cloud(wallet2, str(tmp_path / "c3"), PASSWORD, wait=True)
    assert again.cloud_location == str(tmp_path / "c3")


def test_repair_cloud_with_the_recovery_key(guarded: Guarded, tmp_path: Path) -> None:
    phone = MpcWallets(make_home(tmp_path / "phone"))
    info = phone.create(
        guarded.url, str(tmp_path / "cloud"), PASSWORD, recovery_key=True, raw_signing=True
    )
    assert info.recovery_key is not None
    fixed = phone.repair_cloud(
        info.wallet_id, str(tmp_path / "c2"), PASSWORD, old_recovery_key=info.recovery_key
    )
    assert phone.export_key(info.wallet_id, str(tmp_path / "c2"), PASSWORD).address == fixed.address


def test_account_changes_from_a_device_wait_unless_proven(guarded: Guarded, tmp_path: Path) -> None:
    """Revoking another device, shortening the delay, changing the webhook and adding a
    recovery credential: held for the delay from a bare device, at once with proof."""
    phone, _wallet_id, cloud = _owner(guarded, tmp_path)
    thief = client_for(guarded.url, _steal(phone, tmp_path).home)
    laptop_home = make_home(tmp_path / "laptop")
    Backups(laptop_home).restore(str(cloud), PASSWORD)
    laptop = client_for(guarded.url, laptop_home)
    assert laptop.credential is not None  # learned from the opened backup, memory only
    laptop_id = laptop.account_info()["device"]
    # The thief tries to lock the owner's laptop out: held, announced, cancelled by the owner.
    with pytest.raises(PendingError):
        thief.revoke(laptop_id)
    assert [d["revoked"] for d in laptop.account_info()["devices"] if d["current"]] == [None]
    # Shortening the delay and silencing the webhook are held the same way.
    answer = thief.request("PUT", "/v1/social/delay", json={"seconds": 2 * HOUR}, ok=(202,))
    assert answer.status_code == 202
    laptop.request("PUT", "/v1/social/webhook", json={"url": "http://127.0.0.1:9/hook"})
    answer = thief.request("PUT", "/v1/social/webhook", json={"url": None}, ok=(202,))
    assert answer.status_code == 202
    # A credential the thief adds works only after the delay; enrolling with it before fails.
    credential = secrets.token_bytes(32)
    assert thief.add_recovery_credential(credential) is not None
    account = thief.account
    assert account is not None
    intruder = ServerClient(guarded.url, make_home(tmp_path / "intruder"))
    with pytest.raises(InputError, match="not active yet"):
        intruder.sign_in(enroll=(account, credential), revoke_others=True)
    kinds = {p["kind"] for p in laptop.request("GET", "/v1/account/pending").json()["pending"]}
    assert kinds == {"revoke-device", "shorten-delay", "change-webhook", "add-credential"}
    laptop.request("POST", "/v1/account/pending/cancel", json={"id": None})
    guarded.advance(49)
    with pytest.raises(InputError, match="not valid"):  # cancelled: the credential is gone
        intruder.sign_in(enroll=(account, credential), revoke_others=True)
    # The owner, with the credential from the backup: at once.
    proven = {"seconds": 2 * HOUR, "credential": b64(laptop.credential)}
    assert laptop.request("PUT", "/v1/social/delay", json=proven).json()["seconds"] == 2 * HOUR
    laptop.revoke(thief.account_info()["device"])
    with pytest.raises(SeedguardError, match="revoked"):
        thief.account_info()


def test_the_last_device_cannot_revoke_itself_without_a_credential(
    guarded: Guarded, tmp_path: Path
) -> None:
    lonely = client_for(guarded.url, make_home(tmp_path / "lonely"))
    me = lonely.account_info()["device"]
    with pytest.raises(InputError, match="lock the account"):
        lonely.revoke(me)
    assert lonely.account_info()["device"] == me


def test_a_nonce_expires_at_signing_too(guarded: Guarded, tmp_path: Path) -> None:
    phone, wallet_id, _ = _owner(guarded, tmp_path)
    srv = MpcServer(guarded.url, phone.home)
    nonce_id, _, _ = srv.nonce(wallet_id)
    guarded.advance(2)
    record = phone.store.load(wallet_id).record
    from seedguard.threshold import frost

    _, pubnonce = frost.nonce_gen(
        record.secshare, record.key.pubshares[DEVICE], record.key.output_key, bytes(32)
    )
    with pytest.raises(InputError, match="expired"):
        srv.sign(wallet_id, nonce_id, bytes(32), pubnonce)
    with pytest.raises(InputError, match="already used"):  # and it is gone for good
        srv.sign(wallet_id, nonce_id, bytes(32), pubnonce)

"""The MPC wallet against a real seedguard server process (SQLite): create, sign, lose the
device, recover (the old share stops working), repair the cloud share, the emergency exit,
and the device share at rest."""

from __future__ import annotations

import json
import secrets
import stat
from pathlib import Path

import pytest

from seedguard.backup.lifecycle import Backups
from seedguard.client.mpc import MpcServer
from seedguard.envelope import Password
from seedguard.errors import (
    EnvelopeError,
    InputError,
    UnreachableError,
    UsageError,
    WrongSecretError,
)
from seedguard.mpc.shares import DeviceStore
from seedguard.mpc.wallet import MpcWallets
from seedguard.threshold import frost, keys
from seedguard.threshold.keys import DEVICE, SERVER, CulpritError
from tests.conftest import make_home
from tests.servers import S3Server, SeedguardServer, seedguard_server

PASSWORD = Password("Correct horse battery staple 42")
MESSAGE = bytes(range(32))


@pytest.fixture
def phone(tmp_path: Path) -> MpcWallets:
    return MpcWallets(make_home(tmp_path / "phone"))


def _create(wallets: MpcWallets, server: SeedguardServer, cloud: Path, **kw: object) -> str:
    info = wallets.create(server.url, str(cloud), PASSWORD, label="savings", raw_signing=True, **kw)  # type: ignore[arg-type]
    return info.wallet_id


def test_create_sign_lose_recover_sign(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path
) -> None:
    cloud = tmp_path / "cloud"
    info = phone.create(sg_server.url, str(cloud), PASSWORD, label="savings", raw_signing=True)
    assert info.address.startswith("bc1p")
    # The cloud envelope is an mpc-share, server-hardened, and holds only the cloud share.
    header = Backups(phone.home).find(str(cloud)).header
    assert header.kind == "mpc-share"
    assert any(slot.type == "server" for slot in header.slots)
    assert not any(slot.type == "password" for slot in header.slots)
    # The device keeps only its own share, 0600 in a 0700 folder, encrypted.
    path = DeviceStore(phone.home).path(info.wallet_id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert "secshare" not in stored
    assert stored["participant"] == DEVICE
    device_share = phone.store.load(info.wallet_id).record.secshare
    assert device_share.hex() not in path.read_text()

    signature, output_key = phone.sign(info.wallet_id, MESSAGE)
    assert output_key == info.key.output_key
    assert keys.verify(signature, MESSAGE, output_key)

    # The phone is lost. A new device recovers from the cloud share and the server.
    new = MpcWallets(make_home(tmp_path / "new-phone"))
    again = new.recover(sg_server.url, str(cloud), PASSWORD)
    assert again.as_dict()["address"] == info.address
    assert again.key.output_key == info.key.output_key
    assert again.key.pubshares != info.key.pubshares  # refreshed
    assert again.cloud_backup_id != info.cloud_backup_id
    # One cloud envelope remains: the new one (written and read back before the old went).
    headers, _ = Backups(new.home).list_backups(str(cloud))
    assert [h.backup_id for h in headers] == [again.cloud_backup_id]
    signature2, _ = new.sign(again.wallet_id, MESSAGE)
    assert keys.verify(signature2, MESSAGE, output_key)

    # The lost phone is revoked from the account...
    with pytest.raises(InputError, match="revoked"):
        phone.sign(info.wallet_id, MESSAGE)
    # ...and its share, even through a live session of the account, no longer signs.
    old = phone.store.load(info.wallet_id).record
    srv = MpcServer(sg_server.url, new.home)
    nonce_id, server_pubnonce, epoch = srv.nonce(info.wallet_id)
    assert epoch == 1
    secnonce, pubnonce = frost.nonce_gen(old.secshare)
    psig_server = srv.sign(info.wallet_id, nonce_id, MESSAGE, pubnonce)
    pubnonces = [pubnonce, server_pubnonce]
    session = old.key.session((DEVICE, SERVER), frost.nonce_agg(pubnonces), MESSAGE)
    psig_old = frost.sign(secnonce, old.secshare, DEVICE, session)
    with pytest.raises(CulpritError):
        keys.aggregate(old.key, (DEVICE, SERVER), pubnonces, [psig_old, psig_server], MESSAGE)
    forged = frost.partial_sig_agg([psig_old, psig_server], session)
    assert not keys.verify(forged, MESSAGE, output_key)


def test_a_nonce_signs_once(sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path) -> None:
    wallet_id = _create(phone, sg_server, tmp_path / "cloud")
    record = phone.store.load(wallet_id).record
    srv = MpcServer(sg_server.url, phone.home)
    nonce_id, _, _ = srv.nonce(wallet_id)
    _, pubnonce = frost.nonce_gen(record.secshare)
    srv.sign(wallet_id, nonce_id, MESSAGE, pubnonce)
    with pytest.raises(InputError, match="already used"):
        srv.sign(wallet_id, nonce_id, bytes(32), pubnonce)


def test_repair_cloud_gives_a_share_that_signs(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path
) -> None:
    wallet_id = _create(phone, sg_server, tmp_path / "cloud")
    key = phone.store.load(wallet_id).record.key
    repaired = phone.repair_cloud(wallet_id, str(tmp_path / "new-cloud"), PASSWORD)
    assert repaired.cloud_location == str(tmp_path / "new-cloud")
    record, _ = phone._open_cloud(str(tmp_path / "new-cloud"), PASSWORD)
    device = phone.store.load(wallet_id).record
    signature = keys.sign_locally(key, {2: record.secshare, 0: device.secshare}, MESSAGE)
    assert keys.verify(signature, MESSAGE, key.output_key)
    assert phone.store.load(wallet_id).cloud_location == str(tmp_path / "new-cloud")


def test_emergency_exit_without_the_server(tmp_path: Path) -> None:
    """Device + cloud backup are two shares: the user alone can leave, server gone."""
    work = tmp_path / "srv"
    work.mkdir()
    wallets = MpcWallets(make_home(tmp_path / "phone"))
    cloud = tmp_path / "cloud"
    with seedguard_server(f"sqlite:///{work / 'db.sqlite'}", work) as server:
        info = wallets.create(server.url, str(cloud), PASSWORD, recovery_key=True, raw_signing=True)
    assert info.recovery_key is not None
    with pytest.raises(UnreachableError, match="recovery key"):
        wallets.export_key(info.wallet_id, str(cloud), PASSWORD)
    exported = wallets.export_key(info.wallet_id, str(cloud), info.recovery_key)
    from seedguard.primitives.secp256k1 import public_key

    assert public_key(exported.private_key) == info.key.thresh_pk
    assert exported.address == info.address
    assert exported.descriptor.startswith("tr([")
    assert "xprv" in exported.descriptor
    assert exported.index_free is None  # a new wallet: every address is derived


def test_create_refuses_a_weak_password_before_the_server(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path
) -> None:
    from seedguard.errors import PasswordPolicyError

    with pytest.raises(PasswordPolicyError):
        phone.create(sg_server.url, str(tmp_path / "cloud"), Password("short"))
    assert phone.store.wallet_ids() == []
    assert not (tmp_path / "cloud").exists()


def test_a_tampered_cloud_envelope_is_refused(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path
) -> None:
    cloud = tmp_path / "cloud"
    _create(phone, sg_server, cloud)
    (envelope,) = cloud.glob("*.seedguard")
    data = bytearray(envelope.read_bytes())
    data[-20] ^= 1
    envelope.write_bytes(bytes(data))
    new = MpcWallets(make_home(tmp_path / "new"))
    with pytest.raises((EnvelopeError, WrongSecretError)) as info:
        new.recover(sg_server.url, str(cloud), PASSWORD)
    assert envelope.name in info.value.message  # the culprit: this copy, at this location
    assert "damaged" in info.value.message
    assert new.store.wallet_ids() == []


def test_wrong_password_and_unknown_wallet(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path
) -> None:
    cloud = tmp_path / "cloud"
    _create(phone, sg_server, cloud)
    new = MpcWallets(make_home(tmp_path / "new"))
    with pytest.raises(WrongSecretError) as info:
        new.recover(sg_server.url, str(cloud), Password("Wrong horse battery staple 42"))
    assert info.value.attempts_left == 9
    with pytest.raises(UsageError, match="No MPC wallet"):
        phone.sign("ffff", MESSAGE)
    with pytest.raises(InputError, match="32-byte"):
        phone.sign(phone.store.wallet_ids()[0], b"short")


def test_device_share_with_a_pin(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path
) -> None:
    wallet_id = _create(phone, sg_server, tmp_path / "cloud", pin="4711-2342")
    assert phone.store.protection(wallet_id) == "pin"
    with pytest.raises(UsageError, match="PIN"):
        phone.sign(wallet_id, MESSAGE)
    with pytest.raises(WrongSecretError, match="PIN"):
        phone.sign(wallet_id, MESSAGE, pin="0000")
    signature, output_key = phone.sign(wallet_id, MESSAGE, pin="4711-2342")
    assert keys.verify(signature, MESSAGE, output_key)


def test_device_share_key_in_the_os_keyring(
    sg_server: SeedguardServer, phone: MpcWallets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 10  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        wallet_id = _create(phone, sg_server, tmp_path / "cloud")
        assert phone.store.protection(wallet_id) == "keyring"
        assert not (phone.store.folder / "device.key").exists()
        signature, output_key = phone.sign(wallet_id, MESSAGE)
        assert keys.verify(signature, MESSAGE, output_key)
        (first,) = memory.items
        phone.repair_cloud(wallet_id, str(tmp_path / "cloud2"), PASSWORD)  # rewrites the file
        (second,) = memory.items  # a new entry; the replaced file's entry is gone
        assert second != first
        assert keys.verify(phone.sign(wallet_id, MESSAGE)[0], MESSAGE, output_key)
        memory.items.clear()  # the keyring lost the key: a clear way out
        with pytest.raises(InputError, match="recover the wallet"):
            phone.sign(wallet_id, MESSAGE)
    finally:
        keyring.set_keyring(previous)


def _interrupted_recovery(
    server: SeedguardServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[MpcWallets, str, Path]:
    """A recovery that stops after writing the new cloud share and the device file, before
    the server switched (the connection dropped)."""
    cloud = tmp_path / "cloud"
    phone = MpcWallets(make_home(tmp_path / "phone"))
    wallet_id = _create(phone, server, cloud)
    new = MpcWallets(make_home(tmp_path / "new"))

    def dropped(self: MpcServer, wallet_id: str, epoch: int) -> int:
        raise UnreachableError("The connection dropped.")

    with monkeypatch.context() as patch:
        patch.setattr(MpcServer, "commit_refresh", dropped)
        with pytest.raises(UnreachableError):
            new.recover(server.url, str(cloud), PASSWORD)
    assert len(list(cloud.glob("*.seedguard"))) == 2  # the old share was not removed
    return new, wallet_id, cloud


def test_an_interrupted_recovery_finishes_at_the_next_signature(
    sg_server: SeedguardServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new, wallet_id, _ = _interrupted_recovery(sg_server, tmp_path, monkeypatch)
    signature, output_key = new.sign(wallet_id, MESSAGE)
    assert keys.verify(signature, MESSAGE, output_key)
    assert MpcServer(sg_server.url, new.home).wallet(wallet_id)["epoch"] == 1


def test_an_interrupted_recovery_can_be_run_again(
    sg_server: SeedguardServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new, wallet_id, cloud = _interrupted_recovery(sg_server, tmp_path, monkeypatch)
    new.store.remove(wallet_id)  # and the new device's file was lost too
    again = new.recover(sg_server.url, str(cloud), PASSWORD)
    assert again.epoch in (1, 2)  # from either envelope: the old one, or the newer pending one
    assert [p.stem for p in cloud.glob("*.seedguard")] == [again.cloud_backup_id]
    signature, output_key = new.sign(wallet_id, MESSAGE)
    assert keys.verify(signature, MESSAGE, output_key)


def test_recovery_completes_a_pending_refresh_from_the_newer_share(
    sg_server: SeedguardServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new, wallet_id, cloud = _interrupted_recovery(sg_server, tmp_path, monkeypatch)
    new.store.remove(wallet_id)  # the device file is gone...
    old = MpcWallets(tmp_path / "phone").store.load(wallet_id).cloud_backup_id
    (cloud / f"{old}.seedguard").unlink()  # ...and only the newer cloud share remains
    assert MpcServer(sg_server.url, new.home).wallet(wallet_id)["refresh_pending"] is True
    again = new.recover(sg_server.url, str(cloud), PASSWORD)
    assert again.epoch == 2  # epoch 1 completed on the server, then refreshed again
    signature, output_key = new.sign(wallet_id, MESSAGE)
    assert keys.verify(signature, MESSAGE, output_key)


def test_the_cloud_share_on_s3(
    sg_server: SeedguardServer, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cloud share may live in any backup location: here an S3-compatible bucket."""
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    bucket = f"sg-{secrets.token_hex(6)}"
    s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    cloud = f"s3://{bucket}/mpc"
    phone = MpcWallets(make_home(tmp_path / "phone"))
    info = phone.create(sg_server.url, cloud, PASSWORD, raw_signing=True)
    new = MpcWallets(make_home(tmp_path / "new"))
    again = new.recover(sg_server.url, cloud, PASSWORD)
    assert again.address == info.address
    signature, output_key = new.sign(again.wallet_id, MESSAGE)
    assert keys.verify(signature, MESSAGE, output_key)

"""Server-hardened backups and the server's vault, through the library, against a real
seedguard server process."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedguard import wallet
from seedguard.backup import Backups, Password, RecoveryKey, bip39_payload
from seedguard.backup.lifecycle import SUFFIX
from seedguard.client import client_for
from seedguard.client.session import HardeningKeyDestroyedError
from seedguard.envelope import inspect, open_envelope
from seedguard.errors import InputError, UnreachableError, WrongSecretError
from tests.conftest import make_home
from tests.servers import SeedguardServer, seedguard_server

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OLD = Password("Granite-Otter-Lamp-51")
NEW = Password("Violet-Harbor-Quill-83")


@pytest.fixture
def backups(tmp_path: Path) -> Backups:
    return Backups(make_home(tmp_path / "home"))


def _only_file(folder: Path) -> bytes:
    (path,) = folder.iterdir()
    return path.read_bytes()


def test_the_envelope_alone_does_not_open_with_the_right_password(
    backups: Backups, sg_server: SeedguardServer, tmp_path: Path
) -> None:
    key = RecoveryKey.generate()
    folder = tmp_path / "cloud"
    result = backups.create(
        bip39_payload(PHRASE), OLD, [str(folder)], recovery_key=key, harden=sg_server.location
    )
    assert result.hardened_by == sg_server.url
    data = _only_file(folder)
    header = inspect(data)
    assert [s.type for s in header.slots] == ["server", "recovery"]
    with pytest.raises(WrongSecretError, match="hardened by the seedguard server"):
        open_envelope(data, OLD)  # the right password, no server: nothing opens
    # Another server (another OPRF key) gives another output: still nothing opens.
    other_home = make_home(tmp_path / "thief")
    with seedguard_server(f"sqlite:///{tmp_path / 'thief.db'}", tmp_path) as thief:
        from dataclasses import replace

        from seedguard.envelope import container

        moved_slot = replace(header.slots[0], server=thief.url)
        moved = replace(header, slots=(moved_slot, *header.slots[1:]))
        box = container.unframe(data)
        forged = container.frame(moved, box.ciphertext)
        with pytest.raises(InputError):
            Backups(other_home).hardening.evaluate(thief.url, moved_slot.handle, bytes(32))
        with pytest.raises(InputError):
            open_envelope(forged, OLD, service=Backups(other_home).hardening)
    # With its server, the password opens it; the recovery key opens it offline.
    opened = open_envelope(data, OLD, service=backups.hardening)
    assert opened.payload.mnemonic == PHRASE  # type: ignore[union-attr]
    assert open_envelope(data, key).payload == opened.payload


def test_wrong_passwords_count_down_then_the_key_is_destroyed(
    backups: Backups, tmp_path: Path
) -> None:
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--max-attempts", "3") as s:
        key = RecoveryKey.generate()
        folder = str(tmp_path / "cloud")
        backups.create(bip39_payload(PHRASE), OLD, [folder], recovery_key=key, harden=s.url)
        backups.verify(folder, OLD)  # a good open resets the count
        lefts = []
        for _ in range(3):
            with pytest.raises(WrongSecretError) as caught:
                backups.verify(folder, NEW)
            lefts.append(caught.value.attempts_left)
        assert lefts == [2, 1, 0]
        assert "last attempt" in caught.value.message
        with pytest.raises(HardeningKeyDestroyedError, match="destroyed"):
            backups.verify(folder, OLD)  # even the right password: the key is gone
        assert backups.verify(folder, key).payload.mnemonic == PHRASE  # type: ignore[union-attr]


def test_an_unreachable_server_is_named_and_the_recovery_key_still_works(
    backups: Backups, tmp_path: Path
) -> None:
    folder = str(tmp_path / "cloud")
    key = RecoveryKey.generate()
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path) as s:
        backups.create(bip39_payload(PHRASE), OLD, [folder], recovery_key=key, harden=s.url)
    with pytest.raises(UnreachableError, match="Cannot reach the seedguard server"):
        backups.verify(folder, OLD)
    assert backups.restore(folder, key).payload.mnemonic == PHRASE  # type: ignore[union-attr]


def test_a_backup_kept_on_the_server_is_hardened_by_default(
    backups: Backups, sg_server: SeedguardServer, tmp_path: Path
) -> None:
    hardened = backups.create(bip39_payload(PHRASE), OLD, [sg_server.location, str(tmp_path / "f")])
    assert hardened.hardened_by == sg_server.url
    plain = backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "p")], plain=True)
    assert plain.hardened_by is None
    store = backups.store(sg_server.location)
    data = store.load(hardened.backup_id + SUFFIX)
    assert inspect(data).server_slot() is not None
    headers, problems = backups.list_backups(sg_server.location)
    assert ([h.backup_id for h in headers], problems) == ([hardened.backup_id], [])
    assert backups.verify(sg_server.location, OLD).header.backup_id == hardened.backup_id
    assert {s.state for s in backups.status()} == {"ok"}


def test_change_password_uses_a_new_key_and_deletes_the_old(
    backups: Backups, sg_server: SeedguardServer, tmp_path: Path
) -> None:
    folder = str(tmp_path / "cloud")
    created = backups.create(bip39_payload(PHRASE), OLD, [sg_server.location, folder])
    client = client_for(sg_server.url, backups.registry.folder)
    before = client.request("GET", "/v1/oprf/keys").json()["keys"]
    _, results = backups.change_password(OLD, NEW)
    assert all(r.ok for r in results)
    after = client.request("GET", "/v1/oprf/keys").json()["keys"]
    assert len(before) == len(after) == 1
    assert before[0]["id"] != after[0]["id"]
    for location in (sg_server.location, folder):
        with pytest.raises(WrongSecretError):
            backups.verify(location, OLD)
        assert backups.verify(location, NEW).header.backup_id == created.backup_id


def test_a_new_device_restores_joins_the_account_and_revokes_the_lost_one(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    lost = Backups(make_home(tmp_path / "lost-phone"))
    folder = str(tmp_path / "cloud")
    lost.create(bip39_payload(PHRASE), OLD, [sg_server.location, folder])
    account = client_for(sg_server.url, lost.registry.folder).account
    new = Backups(make_home(tmp_path / "new-phone"))
    opened = new.restore(folder, OLD, revoke_other_devices=True)
    assert [a.account for a in opened.payload.accounts] == [account]
    assert client_for(sg_server.url, new.registry.folder).account == account
    headers, _ = new.list_backups(sg_server.location)  # the vault of the same account
    assert [h.backup_id for h in headers] == [opened.header.backup_id]
    assert wallet.fingerprint(PHRASE) == opened.payload.fingerprint  # type: ignore[union-attr]
    with pytest.raises(InputError, match="revoked"):
        Backups(lost.registry.folder).list_backups(sg_server.location)


def test_revoking_from_a_device_already_in_the_account(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    first = Backups(make_home(tmp_path / "first"))
    folder = str(tmp_path / "cloud")
    first.create(bip39_payload(PHRASE), OLD, [sg_server.location, folder])
    second = Backups(make_home(tmp_path / "second"))
    second.restore(folder, OLD)  # joins; nobody revoked
    assert first.list_backups(sg_server.location)[0]
    first.restore(folder, OLD, revoke_other_devices=True)  # a member already: revokes others
    with pytest.raises(InputError, match="revoked"):
        second.list_backups(sg_server.location)
    assert first.list_backups(sg_server.location)[0]


def test_two_devices_never_clobber_each_other_in_the_vault(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    from seedguard.errors import BusyError

    one = Backups(make_home(tmp_path / "one"))
    one.create(bip39_payload(PHRASE), OLD, [sg_server.location, str(tmp_path / "f")])
    two = Backups(make_home(tmp_path / "two"))
    two.restore(str(tmp_path / "f"), OLD)
    a, b = one.store(sg_server.location), two.store(sg_server.location)
    (name,) = a.names()
    original = a.load(name)
    assert b.load(name) == original
    a.save(name, original + b"a")
    with pytest.raises(BusyError, match="changed meanwhile"):
        b.save(name, original + b"b")
    assert b.load(name) == original + b"a"

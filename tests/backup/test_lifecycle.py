"""The backup lifecycle through the library, against real folders, S3 and WebDAV servers."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from seedguard import wallet
from seedguard.backup import Backups, Password, RecoveryKey, bip39_payload
from seedguard.backup.lifecycle import PENDING, SUFFIX
from seedguard.backup.registry import Registry
from seedguard.envelope import open_envelope
from seedguard.errors import (
    BackupMissingError,
    InputError,
    PasswordPolicyError,
    UsageError,
    WrongSecretError,
)
from tests.conftest import make_home
from tests.servers import DavServer, S3Server, free_port

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
FP = wallet.fingerprint(PHRASE)
OLD = Password("Granite-Otter-Lamp-51")
NEW = Password("Violet-Harbor-Quill-83")


@pytest.fixture
def backups(tmp_path: Path) -> Backups:
    return Backups(make_home(tmp_path / "home"))


def objects(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_create_writes_every_location_and_registers_it(backups: Backups, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    result = backups.create(bip39_payload(PHRASE), OLD, [str(a), f"file://{b}", str(a)])
    assert [r.ok for r in result.locations] == [True, True]  # the duplicate counted once
    assert objects(a) == objects(b) == [result.backup_id + SUFFIX]
    assert (a / objects(a)[0]).read_bytes() == (b / objects(b)[0]).read_bytes()
    entry = backups.registry.find(None)
    assert entry.fingerprint == result.fingerprint == FP
    assert [c.location for c in entry.copies] == [f"file://{a}", f"file://{b}"]
    assert all(c.verified for c in entry.copies)
    assert "legal" not in (backups.registry.folder / "config.toml").read_text()


def test_create_reports_each_failed_location_and_keeps_the_others(
    backups: Backups, tmp_path: Path
) -> None:
    dead = f"webdav+http://127.0.0.1:{free_port()}/x"
    result = backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a"), dead])
    ok, failed = result.locations
    assert ok.ok
    assert not failed.ok
    assert failed.exit_code == 3
    assert "network trouble" in (failed.error or "")
    assert [c.location for c in backups.registry.find(None).copies] == [ok.location]


def test_weak_passwords_are_refused_before_anything_is_written(
    backups: Backups, tmp_path: Path
) -> None:
    for weak, reason in [
        ("short1A", "at least 8 characters"),
        ("alllowercase1", "an upper-case letter"),
        ("Password1", "too easy to guess"),
        ("LegalWinner1", "too easy to guess"),  # words of the phrase itself
    ]:
        with pytest.raises(PasswordPolicyError, match=reason):
            backups.create(bip39_payload(PHRASE), Password(weak), [str(tmp_path / "a")])
    assert not (tmp_path / "a").exists()


def test_list_verify_restore_on_a_new_device(backups: Backups, tmp_path: Path) -> None:
    key = RecoveryKey.generate()
    created = backups.create(
        bip39_payload(PHRASE, "extra words"),
        OLD,
        [str(tmp_path / "a")],
        label="savings",
        recovery_key=key,
    )
    device = Backups(make_home(tmp_path / "new-device"))
    headers, problems = device.list_backups(str(tmp_path / "a"))
    assert [(h.backup_id, h.label) for h in headers] == [(created.backup_id, "savings")]
    assert problems == []
    opened = device.restore(str(tmp_path / "a"), OLD)
    assert opened.payload.mnemonic == PHRASE  # type: ignore[union-attr]
    assert opened.payload.passphrase == "extra words"  # type: ignore[union-attr]
    assert device.registry.find(None).fingerprint == created.fingerprint
    assert device.restore(str(tmp_path / "a"), key).header.backup_id == created.backup_id
    with pytest.raises(WrongSecretError, match="Wrong password"):
        device.verify(str(tmp_path / "a"), NEW)


def test_restore_finds_the_backup_its_password_opens(backups: Backups, tmp_path: Path) -> None:
    place = str(tmp_path / "shared")
    other = (
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon about"
    )
    first = backups.create(bip39_payload(PHRASE), OLD, [place])
    second = backups.create(bip39_payload(other), NEW, [place])
    device = Backups(make_home(tmp_path / "d"))
    assert device.restore(place, OLD).header.backup_id == first.backup_id
    assert device.restore(place, NEW).header.backup_id == second.backup_id
    with pytest.raises(WrongSecretError, match="opens none of the 2 backups"):
        device.restore(place, Password("Nothing-Opens-This-99"))
    assert device.restore(place, OLD, first.backup_id[:6]).header.backup_id == first.backup_id
    with pytest.raises(BackupMissingError, match="No backup ffff"):
        device.restore(place, OLD, "ffff")


def test_verify_notices_another_wallet_under_the_same_id(backups: Backups, tmp_path: Path) -> None:
    place = tmp_path / "a"
    created = backups.create(bip39_payload(PHRASE), OLD, [str(place)])
    # Another device seals a different phrase under the same id (a mix-up of folders).
    intruder = Backups(make_home(tmp_path / "other"))
    from seedguard.envelope import seal

    data, _ = seal(
        bip39_payload("zoo " * 11 + "wrong"),
        OLD,
        params=intruder.registry.kdf() or pytest.fail("kdf"),
        backup_id=created.backup_id,
    )
    (place / (created.backup_id + SUFFIX)).write_bytes(data)
    with pytest.raises(InputError, match=f"holds wallet .* not the registered {FP}"):
        backups.verify(str(place), OLD)


def test_status_sees_missing_changed_damaged_unreachable_and_overdue(
    backups: Backups, tmp_path: Path
) -> None:
    places = [tmp_path / n for n in "abcd"]
    created = backups.create(bip39_payload(PHRASE), OLD, [str(p) for p in places])
    name = created.backup_id + SUFFIX
    assert {s.state for s in backups.status()} == {"ok"}
    assert all(s.healthy for s in backups.status())
    (places[0] / name).unlink()
    data = (places[1] / name).read_bytes()
    (places[1] / name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    opened = open_envelope(data, OLD)
    (places[2] / name).write_bytes(opened.rewrap(NEW, backups.registry.kdf())[0])  # type: ignore[arg-type]
    (places[3] / name).rename(tmp_path / "moved-away")
    places[3].rmdir()
    states = {s.location: s.state for s in backups.status()}
    assert states == {
        f"file://{places[0]}": "missing",
        f"file://{places[1]}": "damaged",
        f"file://{places[2]}": "changed",
        f"file://{places[3]}": "unreachable",
    }


def test_status_asks_for_a_verify_after_60_days(backups: Backups, tmp_path: Path) -> None:
    backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a")])

    def age(entries: list) -> None:  # type: ignore[type-arg]
        entries[0].copies[0].verified = "2026-01-01T00:00:00Z"

    backups.registry.update(age)
    [row] = backups.status()
    assert row.state == "ok"
    assert row.verify_due
    assert not row.healthy
    backups.verify(str(tmp_path / "a"), OLD)
    [row] = backups.status()
    assert row.healthy


def _copies_everywhere(tmp_path: Path, s3: S3Server, dav: DavServer) -> list[str]:
    bucket = f"sg-{secrets.token_hex(5)}"
    client = s3.client()
    client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    client.put_bucket_versioning(  # type: ignore[attr-defined]
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return [
        str(tmp_path / "folder"),
        f"s3://{bucket}/wallet",
        dav.location(f"sg-{secrets.token_hex(4)}"),
    ]


def test_change_password_everywhere_leaves_nothing_the_old_password_opens(
    backups: Backups,
    tmp_path: Path,
    s3: S3Server,
    dav: DavServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NETRC", str(dav.netrc))
    locations = _copies_everywhere(tmp_path, s3, dav)
    key = RecoveryKey.generate()
    created = backups.create(bip39_payload(PHRASE), OLD, locations, recovery_key=key)
    backup_id, results = backups.change_password(OLD, NEW)
    assert backup_id == created.backup_id
    assert all(r.ok for r in results)
    for location in locations:
        store = backups.store(location)
        assert store.names() == [backup_id + SUFFIX]
        data = store.load(backup_id + SUFFIX)
        with pytest.raises(WrongSecretError):
            open_envelope(data, OLD)
        assert open_envelope(data, NEW).payload.mnemonic == PHRASE  # type: ignore[union-attr]
        assert open_envelope(data, key).header.backup_id == backup_id
    bucket = locations[1].split("/")[2]
    versions = s3.client().list_object_versions(Bucket=bucket)  # type: ignore[attr-defined]
    assert len(versions["Versions"]) == 1
    assert not versions.get("DeleteMarkers")
    assert {s.state for s in backups.status()} == {"ok"}


def test_change_password_with_the_recovery_key(backups: Backups, tmp_path: Path) -> None:
    key = RecoveryKey.generate()
    backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a")], recovery_key=key)
    _, results = backups.change_password(key, NEW)
    assert all(r.ok for r in results)
    backups.verify(str(tmp_path / "a"), NEW)
    with pytest.raises(WrongSecretError):
        backups.verify(str(tmp_path / "a"), OLD)


def test_change_password_refusals_change_nothing(backups: Backups, tmp_path: Path) -> None:
    backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a")])
    before = objects(tmp_path / "a"), (tmp_path / "a" / objects(tmp_path / "a")[0]).read_bytes()
    with pytest.raises(WrongSecretError, match="opens no copy"):
        backups.change_password(NEW, Password("Third-Strong-Pass-17"))
    with pytest.raises(PasswordPolicyError):
        backups.change_password(OLD, Password("password"))
    with pytest.raises(InputError, match="is the old one"):
        backups.change_password(OLD, OLD)
    after = objects(tmp_path / "a"), (tmp_path / "a" / objects(tmp_path / "a")[0]).read_bytes()
    assert before == after


def test_a_wrong_old_password_equal_to_the_new_is_not_a_change(
    backups: Backups, tmp_path: Path
) -> None:
    """The current password typed wrong, the "new" one being the current one: nothing to do,
    and seedguard says the current password was wrong (not "written, read back")."""
    backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a")])
    with pytest.raises(WrongSecretError, match="nothing was changed"):
        backups.change_password(Password("Not-The-Password-77"), OLD)
    assert backups.verify(str(tmp_path / "a"), OLD).header.backup_id


def test_an_unreachable_copy_keeps_the_old_password_until_a_rerun(
    backups: Backups, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    created = backups.create(bip39_payload(PHRASE), OLD, [str(a), str(b)])
    b.rename(tmp_path / "unplugged")
    _, results = backups.change_password(OLD, NEW)
    assert [r.ok for r in results] == [True, False]
    assert results[1].exit_code == 3
    (tmp_path / "unplugged").rename(b)
    name = created.backup_id + SUFFIX
    open_envelope((b / name).read_bytes(), OLD)  # still the old one there
    _, results = backups.change_password(OLD, NEW)  # the rerun finishes the job
    assert all(r.ok for r in results)
    assert (a / name).read_bytes() == (b / name).read_bytes()
    with pytest.raises(WrongSecretError):
        open_envelope((b / name).read_bytes(), OLD)


def test_a_leftover_new_copy_is_used_and_cleaned(backups: Backups, tmp_path: Path) -> None:
    a = tmp_path / "a"
    created = backups.create(bip39_payload(PHRASE), OLD, [str(a)])
    name = created.backup_id + SUFFIX
    opened = open_envelope((a / name).read_bytes(), OLD)
    half_done = opened.rewrap(NEW, backups.registry.kdf())[0]  # type: ignore[arg-type]
    (a / (created.backup_id + PENDING)).write_bytes(half_done)  # as a crash would leave it
    assert [s.state for s in backups.status()] == ["pending"]
    assert backups.verify(str(a), NEW).header.backup_id == created.backup_id
    _, results = backups.change_password(OLD, NEW)
    assert all(r.ok for r in results)
    assert objects(a) == [name]
    assert (a / name).read_bytes() == half_done


def test_delete_takes_one_copy_and_forgets_it(backups: Backups, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    created = backups.create(bip39_payload(PHRASE), OLD, [str(a), str(b)])
    assert backups.delete(str(a), created.backup_id[:8]) == created.backup_id
    assert objects(a) == []
    assert len(objects(b)) == 1
    assert [c.location for c in backups.registry.find(None).copies] == [f"file://{b}"]
    backups.delete(str(b), created.backup_id)
    assert Registry(backups.registry.folder).entries() == []
    with pytest.raises(BackupMissingError):
        backups.delete(str(b), created.backup_id)


def test_damaged_and_foreign_files_are_named_in_listings(backups: Backups, tmp_path: Path) -> None:
    a = tmp_path / "a"
    created = backups.create(bip39_payload(PHRASE), OLD, [str(a)])
    (a / ("0" * 32 + SUFFIX)).write_bytes(b"not an envelope")
    (a / "notes.txt").write_text("ignored: not a backup name")
    headers, problems = backups.list_backups(str(a))
    assert [h.backup_id for h in headers] == [created.backup_id]
    assert problems == [("0" * 32 + SUFFIX, problems[0][1])]
    assert "not a seedguard backup" in problems[0][1]


def test_single_backup_file_is_a_read_only_location(backups: Backups, tmp_path: Path) -> None:
    created = backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a")])
    from seedguard.envelope import armor

    text = tmp_path / "printed.txt"
    text.write_text(armor((tmp_path / "a" / (created.backup_id + SUFFIX)).read_bytes()))
    device = Backups(make_home(tmp_path / "d"))
    assert device.restore(str(text), OLD).header.backup_id == created.backup_id
    [refused] = device.create(bip39_payload(PHRASE), OLD, [str(text)]).locations
    assert not refused.ok
    assert "single backup file" in (refused.error or "")


def test_registry_choice_needs_an_id_when_several(backups: Backups, tmp_path: Path) -> None:
    backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "a")])
    backups.create(bip39_payload(PHRASE), OLD, [str(tmp_path / "b")])
    with pytest.raises(UsageError, match="2 backups are registered"):
        backups.change_password(OLD, NEW)

"""One contract, every store: a folder, moto's S3 server, a WsgiDAV server and a seedguard
server's vault, all real."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from seedguard import stores
from seedguard.errors import BackupMissingError, StoreError, UsageError
from seedguard.stores import Store
from tests.servers import DavServer, S3Server, free_port


@pytest.fixture
def s3_env(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    return s3


@pytest.fixture
def dav_env(dav: DavServer, monkeypatch: pytest.MonkeyPatch) -> DavServer:
    monkeypatch.setenv("NETRC", str(dav.netrc))
    return dav


def _bucket(s3: S3Server, versioned: bool = False) -> str:
    name = f"sg-{secrets.token_hex(6)}"
    client = s3.client()
    client.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    if versioned:
        client.put_bucket_versioning(  # type: ignore[attr-defined]
            Bucket=name, VersioningConfiguration={"Status": "Enabled"}
        )
    return name


@pytest.fixture(params=["folder", "s3", "s3-versioned", "webdav", "seedguard"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    kind = request.param
    if kind == "folder":
        yield stores.open_store(str(tmp_path / "backups"))
    elif kind.startswith("s3"):
        s3 = request.getfixturevalue("s3_env")
        yield stores.open_store(f"s3://{_bucket(s3, kind == 's3-versioned')}/seedguard/main")
    elif kind == "seedguard":
        request.getfixturevalue("sg_home")  # a new device, so a new account and an empty vault
        yield stores.open_store(request.getfixturevalue("sg_server").location)
    else:
        dav = request.getfixturevalue("dav_env")
        yield stores.open_store(dav.location(f"backups-{secrets.token_hex(4)}"))


def test_save_load_names_stat(store: Store) -> None:
    assert store.stat("a.seedguard") is None
    store.save("a.seedguard", b"first")
    store.save("b.seedguard", b"\x00\xff" * 1000)
    assert store.load("a.seedguard") == b"first"
    assert store.load("b.seedguard") == b"\x00\xff" * 1000
    assert store.names() == ["a.seedguard", "b.seedguard"]
    info = store.stat("b.seedguard")
    assert info is not None
    assert info.size == 2000


def test_save_replaces_whole_and_leaves_no_temporary_names(store: Store) -> None:
    store.save("a.seedguard", b"old" * 100)
    store.save("a.seedguard", b"new")
    assert store.load("a.seedguard") == b"new"
    assert store.names() == ["a.seedguard"]


def test_missing_objects_are_named(store: Store) -> None:
    store.save("other.seedguard", b"x")
    with pytest.raises(BackupMissingError, match=r"gone\.seedguard is not at .*deleted or moved"):
        store.load("gone.seedguard")


def test_remove_is_idempotent_and_takes_every_version(store: Store) -> None:
    store.save("a.seedguard", b"v1")
    store.save("a.seedguard", b"v2")
    store.remove("a.seedguard")
    store.remove("a.seedguard")
    assert store.names() == []
    assert store.stat("a.seedguard") is None
    if isinstance(store, stores.S3Store):
        versions = store.client.list_object_versions(Bucket=store.bucket)
        assert not versions.get("Versions")
        assert not versions.get("DeleteMarkers")


def test_prune_keeps_only_the_current_version(store: Store) -> None:
    for version in (b"v1", b"v2", b"v3"):
        store.save("a.seedguard", version)
    store.save("b.seedguard", b"other")
    store.prune("a.seedguard")
    assert store.load("a.seedguard") == b"v3"
    assert store.load("b.seedguard") == b"other"
    if isinstance(store, stores.S3Store):
        listing = store.client.list_object_versions(Bucket=store.bucket)
        keys = [v["Key"] for v in listing.get("Versions", [])]
        assert keys.count(store._key("a.seedguard")) == 1


def test_names_refuse_paths(store: Store) -> None:
    for bad in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="not a store object name"):
            store.save(bad, b"x")


def test_folder_files_are_private_and_the_new_folder_is_0700(tmp_path: Path) -> None:
    store = stores.open_store(str(tmp_path / "new"))
    store.save("a.seedguard", b"x")
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "a.seedguard").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["a.seedguard"]


def test_folder_needs_an_existing_parent(tmp_path: Path) -> None:
    store = stores.open_store(str(tmp_path / "no" / "such" / "folder"))
    with pytest.raises(StoreError, match="does not exist: is the drive mounted"):
        store.save("a.seedguard", b"x")
    with pytest.raises(StoreError, match="does not exist"):
        store.names()


def test_file_urls_and_plain_paths_name_the_same_folder(tmp_path: Path) -> None:
    a = stores.open_store(str(tmp_path))
    b = stores.open_store(f"file://{tmp_path}")
    assert a.location == b.location == f"file://{tmp_path}"
    c = stores.open_store("~/x")
    assert c.location == f"file://{os.path.expanduser('~/x')}"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("webdav+https://bob:pw@example.org/dav", "Credentials do not belong"),
        ("s3://Bad_Bucket/x", "not a valid S3 bucket name"),
        ("ftp://example.org/x", "unknown kind of location"),
        ("file://otherhost/x", "local path"),
        ("  ", "empty"),
    ],
)
def test_malformed_locations_are_usage_errors(location: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        stores.open_store(location)


def test_unreachable_s3_endpoint(monkeypatch: pytest.MonkeyPatch, s3: S3Server) -> None:
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="Could not reach the S3 endpoint") as info:
        stores.open_store("s3://some-bucket/x").names()
    assert info.value.exit_code == 3


def test_s3_missing_bucket_and_missing_credentials(
    s3_env: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StoreError, match="does not exist for these credentials"):
        stores.open_store("s3://no-such-bucket-here/x").names()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StoreError, match="No S3 credentials"):
        stores.open_store("s3://no-such-bucket-here/x").names()


def test_webdav_credentials_come_from_netrc_or_config(
    dav: DavServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    location = dav.location("creds")
    with pytest.raises(StoreError, match=r"refused access.*HTTP 401") as info:
        stores.open_store(location).names()
    assert info.value.exit_code == 3
    from tests.servers import DAV_PASSWORD, DAV_USER

    def from_config(host: str) -> tuple[str, str] | None:
        return (DAV_USER, DAV_PASSWORD) if host == f"127.0.0.1:{dav.port}" else None

    store = stores.open_store(location, from_config)
    store.save("a.seedguard", b"x")
    assert store.names() == ["a.seedguard"]


def test_webdav_creates_only_the_last_folder(dav_env: DavServer) -> None:
    store = stores.open_store(dav_env.location("no/such/parent"))
    with pytest.raises(StoreError, match=r"parent folder .* does not exist"):
        store.save("a.seedguard", b"x")


def test_unreachable_webdav_server() -> None:
    with pytest.raises(StoreError, match="network trouble"):
        stores.open_store(f"webdav+http://127.0.0.1:{free_port()}/x").names()


def test_a_malformed_netrc_is_named_without_quoting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "netrc"
    bad.write_text("machine 127.0.0.1 login alice password\nSecret-Pass-77 bogus\n")
    bad.chmod(0o600)
    monkeypatch.setenv("NETRC", str(bad))
    with pytest.raises(UsageError, match="malformed near line") as info:
        stores.open_store("webdav+http://127.0.0.1:1/x")
    assert "Secret-Pass" not in info.value.message

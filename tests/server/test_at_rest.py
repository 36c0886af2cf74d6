"""What a copy of the server's disk gives (issue 12, section 6): the SQLite files are 0600
wherever they are, OPRF keys are sealed under the server's key, the key is refused beside the
database, a key file others can read is reported; and the client address behind proxies."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from seedguard.server.app import Server
from seedguard.server.db import Database
from seedguard.server.settings import Settings
from tests.conftest import run_cli
from tests.server.conftest import Device
from tests.servers import seedguard_server


def test_sqlite_files_are_private_and_oprf_keys_sealed(tmp_path: Path) -> None:
    folder = tmp_path / "shared-folder"
    folder.mkdir(mode=0o755)
    path = folder / "server.db"
    old = os.umask(0o022)
    try:
        with seedguard_server(f"sqlite:///{path}", tmp_path) as server:
            device = Device(server.url).register()
            handle, _ = device.hardened_key(b"a password")
            assert device.guess(handle, b"a password").status_code == 200
            names = [path, path.with_name("server.db-wal"), path.with_name("server.db-shm")]
            for name in names:
                if name.exists():
                    assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
            stored = sqlite3.connect(path).execute("SELECT secret_key FROM oprf_keys").fetchall()
            assert [len(r[0]) for r in stored] == [24 + 32 + 16]  # nonce, key, tag
    finally:
        os.umask(old)


def test_the_share_key_is_refused_beside_the_database(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db' / 'server.db'}"
    home = {"SEEDGUARD_HOME": str(tmp_path / "home")}
    proc = run_cli(
        "server", "run", "--database", database,
        "--share-key-file", str(tmp_path / "db" / "share.key"), env=home,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "database's folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_key_others_can_read_is_reported(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "share.key"
    key.parent.mkdir()
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    with seedguard_server(
        f"sqlite:///{tmp_path / 'db' / 'server.db'}", tmp_path, "--share-key-file", str(key)
    ) as server:
        Device(server.url).register()
        assert "share key readable by others" in server.log.read_text()


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("10.0.0.5", None, (), "10.0.0.5"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.9", (), "203.0.113.9"),  # the proxy's own entry
        ("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.7", ("10.0.0.0/8",), "203.0.113.9"),
        ("198.51.100.1", "6.6.6.6", ("10.0.0.0/8",), "198.51.100.1"),  # not via a proxy
        ("10.0.0.5", "10.0.0.6", ("10.0.0.0/8",), "10.0.0.5"),
    ],
)
def test_the_client_address_behind_proxies(
    tmp_path: Path, peer: str, forwarded: str | None, proxies: tuple[str, ...], expected: str
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    server = Server(Settings(url, trust_proxy=True, trusted_proxies=proxies), Database(url))
    headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
    assert server.client_address({"client": (peer, 1), "headers": headers}) == expected

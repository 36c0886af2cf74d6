"""Running the server: migrations checked at start, rate limits, request size limits."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEEDGUARD, run_cli
from tests.server.conftest import Device, database_url
from tests.servers import free_port, seedguard_server


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    home = {"SEEDGUARD_HOME": str(tmp_path / "home")}
    proc = run_cli("server", "run", "--port", str(free_port()), "--database", url, env=home)
    assert proc.returncode == 2
    assert "run `seedguard server migrate`" in proc.stderr
    first = run_cli("server", "migrate", "--database", url, "--json")
    assert first.stdout.strip() == '{"before": null, "after": "0005"}'
    again = run_cli("server", "migrate", "--database", url)
    assert "up to date" in again.stdout


def test_database_urls_are_checked(tmp_path: Path) -> None:
    proc = run_cli("server", "migrate", "--database", "postgresql://u:hunter2@127.0.0.1/db")
    assert proc.returncode == 2
    assert ".pgpass" in proc.stderr
    assert "hunter2" not in proc.stderr
    proc = run_cli("server", "migrate", "--database", "mysql://127.0.0.1/db")
    assert proc.returncode == 2
    assert "Unsupported database" in proc.stderr


def test_an_unreachable_database_exits_3(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    proc = run_cli("server", "migrate", "--database", url)
    assert proc.returncode == 3
    assert "cannot be reached" in proc.stderr


def test_the_default_database_lives_in_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.run(
        [*SEEDGUARD, "server", "migrate"],
        env={"SEEDGUARD_HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (home / "server" / "seedguard.db").exists()
    assert oct((home / "server").stat().st_mode & 0o777) == "0o700"


@pytest.fixture(params=["sqlite", "postgresql"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    options = ("--rate-per-ip", "60", "--rate-per-account", "20", "--max-object-kib", "8")
    url = database_url(request.param, tmp_path, request)
    with seedguard_server(url, tmp_path, *options) as server:
        yield server.url


def test_rate_limits_per_address_and_account(limited: str) -> None:
    device = Device(limited).register()
    codes = [device.call("GET", "/v1/vault").status_code for _ in range(12)]
    assert 429 in codes  # the account's burst (a quarter of 20 a minute) is spent
    refused = device.call("GET", "/v1/vault")
    assert refused.status_code == 429
    assert "this account" in refused.json()["error"]
    http = httpx.Client(base_url=limited)
    codes = [http.get("/healthz").status_code for _ in range(20)]
    assert 429 in codes
    last = http.get("/healthz")
    assert last.status_code == 429
    assert int(last.headers["retry-after"]) >= 1


def test_bodies_over_the_limit_are_refused_even_when_streamed(limited: str) -> None:
    device = Device(limited).register()

    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield bytes(1024)

    streamed = device.call("PUT", "/v1/vault/s", content=chunks(), headers={"If-None-Match": "*"})
    assert streamed.status_code == 413
    assert device.call("GET", "/v1/vault/s").status_code == 404
    ok = device.call("PUT", "/v1/vault/s", content=bytes(8192), headers={"If-None-Match": "*"})
    assert ok.status_code == 200


def test_an_older_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    from alembic import command

    from seedguard.server import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.engine(url)
    config = db._alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    stale = run_cli(
        "server", "run", "--port", str(free_port()), "--database", url,
        env={"SEEDGUARD_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert stale.returncode == 2
    assert "is at revision 0001" in stale.stderr
    upgraded = run_cli("server", "migrate", "--database", url, "--json")
    assert upgraded.stdout.strip() == '{"before": "0001", "after": "0005"}'


def test_migration_0005_keeps_raw_signing_for_existing_wallets(tmp_path: Path) -> None:
    """Wallets made before the spending policy signed raw hashes: they still may; a wallet
    made after it may not unless its owner said so at creation."""
    import sqlalchemy as sa
    from alembic import command

    from seedguard.server import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.engine(url)
    config = db._alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        conn.execute(sa.text("INSERT INTO accounts (id, created) VALUES ('a', 0)"))
        conn.execute(
            sa.text(
                "INSERT INTO mpc_wallets (id, account_id, status, epoch, created) "
                "VALUES ('w', 'a', 'active', 0, 0)"
            )
        )
    engine.dispose()
    upgraded = run_cli("server", "migrate", "--database", url, "--json")
    assert upgraded.stdout.strip() == '{"before": "0004", "after": "0005"}'
    engine = db.engine(url)
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT raw_signing FROM mpc_wallets WHERE id = 'w'"))
        assert raw.scalar_one() in (1, True)
    engine.dispose()

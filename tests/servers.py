"""Real servers for the store tests, on 127.0.0.1 and a free port: moto's standalone S3
server and a WsgiDAV server with basic authentication. Started and stopped by fixtures."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DAV_USER = "alice"
DAV_PASSWORD = "dav-Secret-9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not start on port {port}:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def _process(args: list[str], port: int, log: Path) -> Iterator[None]:
    with log.open("wb") as handle:
        proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT)
        try:
            _wait_for(port, proc, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    env: dict[str, str]

    def client(self) -> object:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        ).client("s3", endpoint_url=self.endpoint)


@contextlib.contextmanager
def s3_server(workdir: Path) -> Iterator[S3Server]:
    port = free_port()
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _process(args, port, workdir / "moto.log"):
        endpoint = f"http://127.0.0.1:{port}"
        yield S3Server(endpoint, s3_env(endpoint))


def s3_env(endpoint: str) -> dict[str, str]:
    """The standard AWS variables a user would set for MinIO or R2; no real AWS files."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@dataclass(frozen=True)
class DavServer:
    port: int
    root: Path
    netrc: Path

    def location(self, path: str) -> str:
        return f"webdav+http://127.0.0.1:{self.port}/{path.strip('/')}"


@contextlib.contextmanager
def dav_server(workdir: Path) -> Iterator[DavServer]:
    port = free_port()
    root = workdir / "davroot"
    root.mkdir()
    config = workdir / "wsgidav.yaml"
    config.write_text(
        f"""host: 127.0.0.1
port: {port}
provider_mapping:
  "/": "{root}"
http_authenticator:
  domain_controller: null
  accept_basic: true
  accept_digest: false
  default_to_digest: false
simple_dc:
  user_mapping:
    "*":
      "{DAV_USER}":
        password: "{DAV_PASSWORD}"
verbose: 1
"""
    )
    netrc = workdir / "netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {DAV_USER}\npassword {DAV_PASSWORD}\n")
    netrc.chmod(0o600)
    args = [sys.executable, "-m", "wsgidav.server.server_cli", "--config", str(config)]
    with _process(args, port, workdir / "wsgidav.log"):
        yield DavServer(port, root, netrc)


# -- PostgreSQL and the seedguard server ----------------------------------------------------------


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: drop to an unprivileged account there."""
    if os.geteuid() != 0:
        return []
    import pwd

    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root and no unprivileged user for PostgreSQL")


@dataclass(frozen=True)
class PostgresCluster:
    port: int
    folder: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throw-away cluster: initdb in a temporary folder, pg_ctl start on a free port."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="seedguard-pg-"))
    prefix = _as_postgres_user()
    if prefix:
        import pwd

        user = pwd.getpwnam(prefix[2])
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", free_port()
    try:
        subprocess.run(
            [*prefix, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *prefix,
                "pg_ctl",
                "-D",
                str(data),
                "-l",
                str(folder / "pg.log"),
                "-o",
                options,
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            yield PostgresCluster(port, folder)
        finally:
            subprocess.run(
                [*prefix, "pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class SeedguardServer:
    url: str  # http://127.0.0.1:port
    database: str
    log: Path
    pid: int = 0

    @property
    def location(self) -> str:
        return "seedguard+" + self.url


@contextlib.contextmanager
def seedguard_server(
    database: str, workdir: Path, *options: str, migrate: bool = True
) -> Iterator[SeedguardServer]:
    """`seedguard server run` as a real process on a free port."""
    from tests.conftest import SEEDGUARD

    env = {**os.environ, "SEEDGUARD_HOME": str(workdir / "server-home")}
    if migrate:
        subprocess.run(
            [*SEEDGUARD, "server", "migrate", "--database", database],
            check=True,
            capture_output=True,
            env=env,
        )
    port = free_port()
    log = workdir / f"seedguard-server-{port}.log"
    args = [*SEEDGUARD, "server", "run", "--port", str(port), "--database", database, *options]
    with log.open("wb") as handle:
        proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_for(port, proc, log)
            yield SeedguardServer(f"http://127.0.0.1:{port}", database, log, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

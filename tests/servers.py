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

"""Backup locations: parse a location string and open the store behind it.

/path, ~/path, file:///path        a local or synced folder (or one backup file, read-only)
s3://bucket[/prefix]               S3-compatible storage (AWS configuration and environment)
webdav+https://host[:port]/path    WebDAV; webdav+http:// for a server on a trusted network
seedguard+https://host:port        a seedguard server's vault (this device's account there)
"""

from __future__ import annotations

import netrc
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from seedguard.errors import UsageError
from seedguard.stores.base import ObjectInfo, Store
from seedguard.stores.folder import FileStore, FolderStore
from seedguard.stores.s3 import S3Store
from seedguard.stores.server import ServerStore
from seedguard.stores.webdav import WebDavStore

__all__ = [
    "FileStore",
    "FolderStore",
    "ObjectInfo",
    "S3Store",
    "ServerStore",
    "Store",
    "WebDavStore",
    "open_store",
]

Credentials = Callable[[str], tuple[str, str] | None]  # host[:port] -> (user, password)
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
SCHEMES = (
    "a folder path, file:///path, s3://bucket/prefix, webdav+https://host/path or "
    "seedguard+https://host:port"
)


def _no_credentials(_: str) -> tuple[str, str] | None:
    return None


def open_store(
    location: str, credentials: Credentials = _no_credentials, home: Path | None = None
) -> Store:
    """The store for `location`; a UsageError names the accepted forms when it is malformed."""
    text = location.strip()
    if not text:
        raise UsageError(f"The location is empty: give {SCHEMES}.")
    if "://" not in text:
        return _path_store(Path(text).expanduser())
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "Credentials do not belong in a location (they would land in shell history and "
            "logs): put them in ~/.netrc or seedguard's config file."
        )
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"{location}: a file location names a local path (file:///path).")
        return _path_store(Path(unquote(parts.path)))
    if scheme == "s3":
        if not BUCKET.match(parts.netloc):
            raise UsageError(f"{location}: {parts.netloc!r} is not a valid S3 bucket name.")
        if parts.query or parts.fragment:
            raise UsageError(f"{location}: an S3 location is s3://bucket/prefix, nothing more.")
        return S3Store(parts.netloc, unquote(parts.path))
    if scheme in ("webdav+https", "webdav+http"):
        if not parts.hostname:
            raise UsageError(f"{location}: a WebDAV location needs a host.")
        http = scheme.removeprefix("webdav+")
        host = parts.netloc.lower()
        path = parts.path.rstrip("/")
        canonical = f"{scheme}://{host}{path}"
        auth = credentials(host) or credentials(parts.hostname) or _netrc(parts.hostname)
        return WebDavStore(canonical, f"{http}://{host}{path}/", auth)
    if scheme in ("seedguard+http", "seedguard+https"):
        return ServerStore(text, home)
    raise UsageError(f"{location}: unknown kind of location; give {SCHEMES}.")


def _path_store(path: Path) -> Store:
    path = Path(os.path.abspath(path))
    if path.is_file():
        return FileStore(path)
    return FolderStore(path)


def _netrc(host: str) -> tuple[str, str] | None:
    """The login for `host` in $NETRC or ~/.netrc, as curl reads it."""
    file = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if not os.path.exists(file):
        return None
    try:
        entry = netrc.netrc(file).authenticators(host)
    except netrc.NetrcParseError as exc:  # its message may quote a token: a password
        raise UsageError(f"{file} is malformed near line {exc.lineno}: fix it.") from None
    except OSError as exc:
        raise UsageError(f"Cannot read {file}: {exc.strerror}.") from None
    if entry is None:
        return None
    login, _, password = entry
    return (login or "", password or "")

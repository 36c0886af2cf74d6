"""WebDAV (Nextcloud, ownCloud, Apache mod_dav, ...) through webdav4 (httpx).

Credentials come from the config file or netrc, never from the location or the command
line. Writes PUT a temporary name and MOVE it over the target, which servers perform as one
step, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import threading
from collections.abc import Iterator
from typing import Any

from seedguard import extras
from seedguard.errors import BackupMissingError, StoreError
from seedguard.stores.base import MAX_OBJECT_BYTES, ObjectInfo, check_name, missing, too_large

_http_lock = threading.Lock()
_http: dict[tuple[str, str] | None, Any] = {}


def _shared_http(auth: tuple[str, str] | None) -> Any:
    """One connection pool per login and process: making an httpx client builds a TLS
    context (~10 ms), which dominated `backup status` over many locations."""
    with _http_lock:
        if auth not in _http:
            import httpx

            _http[auth] = httpx.Client(auth=auth, timeout=30)
        return _http[auth]


class WebDavStore:
    def __init__(self, location: str, base_url: str, auth: tuple[str, str] | None) -> None:
        extras.require("webdav")
        self.location = location
        self.base_url = base_url.rstrip("/") + "/"
        self._auth = auth
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from webdav4.client import Client

            self._client = Client(
                self.base_url, auth=self._auth, http_client=_shared_http(self._auth), retry=True
            )
        return self._client

    @contextlib.contextmanager
    def _errors(self, action: str, name: str | None = None) -> Iterator[None]:
        import httpx
        from webdav4 import client as wd

        try:
            yield
        except wd.ResourceNotFound:
            if name is not None:
                raise missing(name, self.location) from None
            raise StoreError(
                f"The WebDAV folder {self.location} does not exist: check the path, or this is "
                "another account."
            ) from None
        except wd.ResourceConflict:
            raise StoreError(
                f"The parent folder of {self.location} does not exist on the server: create it "
                "first (seedguard creates only the last folder of a location)."
            ) from None
        except wd.HTTPError as exc:
            status = _status(exc)
            if status in (401, 403):
                raise StoreError(
                    f"The WebDAV server refused access to {self.location} (HTTP {status}): check "
                    "the user name and password in ~/.netrc or the config file."
                ) from None
            raise StoreError(f"Could not {action} {self.location}: HTTP {status}.") from None
        except (wd.ClientError, httpx.HTTPError) as exc:
            raise StoreError(
                f"Could not {action} {self.location} (network trouble?): {type(exc).__name__}."
            ) from None

    def _ensure_folder(self) -> None:
        from webdav4 import client as wd

        # 405 Method Not Allowed (ForbiddenOperation) means it is there already
        exists = (wd.ResourceAlreadyExists, wd.ForbiddenOperation)
        with self._errors("create the folder at"), contextlib.suppress(*exists):
            self.client.mkdir("")

    def save(self, name: str, data: bytes) -> None:
        check_name(name)
        temp = f".{name}.tmp-{secrets.token_hex(4)}"
        from webdav4 import client as wd

        def upload() -> None:
            self.client.upload_fileobj(io.BytesIO(data), temp, overwrite=True, size=len(data))

        with self._errors("write to"):
            try:
                upload()
            except (wd.ResourceNotFound, wd.ResourceConflict, wd.HTTPError) as exc:
                # 404/409: the folder does not exist yet; create it once and try again
                if _status(exc) not in (0, 404, 409):
                    raise
                self._ensure_folder()
                upload()
            try:
                self.client.move(temp, name, overwrite=True)
            except Exception:
                with contextlib.suppress(Exception):
                    self.client.remove(temp)
                raise

    def load(self, name: str) -> bytes:
        check_name(name)
        buffer = io.BytesIO()
        with self._errors("read from", name):
            self.client.download_fileobj(name, buffer)
        data = buffer.getvalue()
        if len(data) > MAX_OBJECT_BYTES:
            raise too_large(name, self.location)
        return data

    def names(self) -> list[str]:
        with self._errors("list"):
            entries = self.client.ls("", detail=True)
        names = []
        for entry in entries:
            if isinstance(entry, dict) and entry.get("type") == "file":
                name = str(entry.get("name", "")).rstrip("/").rsplit("/", 1)[-1]
                if name and not name.startswith("."):
                    names.append(name)
        return sorted(names)

    def remove(self, name: str) -> None:
        check_name(name)
        with contextlib.suppress(BackupMissingError), self._errors("delete from", name):
            self.client.remove(name)

    def prune(self, name: str) -> None:
        """WebDAV has no standard version API; a server's own history (Nextcloud's "Versions")
        is managed in its web interface."""

    def stat(self, name: str) -> ObjectInfo | None:
        check_name(name)
        try:
            with self._errors("read from", name):
                info = self.client.info(name)
        except BackupMissingError:
            return None
        if info.get("type") != "file":
            return None
        return ObjectInfo(name, int(info.get("content_length") or 0))


def _status(exc: Exception) -> int:
    return int(getattr(getattr(exc, "response", None), "status_code", 0) or 0)

"""A local or synced folder (iCloud Drive, Google Drive for desktop, Dropbox, Syncthing).

Writes go to a hidden temporary name in the same folder, are fsynced, renamed over the
target and the folder is fsynced, so a crash leaves the old file or the new one. Files are
created 0600; a folder seedguard creates is 0700.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from seedguard.errors import StoreError
from seedguard.fs import write_all
from seedguard.stores.base import MAX_OBJECT_BYTES, ObjectInfo, check_name, missing, too_large


class FolderStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"file://{path}"

    def _folder(self, create: bool = False) -> Path:
        try:
            if self.path.is_dir():
                return self.path
            if self.path.exists():
                raise StoreError(f"{self.path} is not a folder.")
            if create and self.path.parent.is_dir():
                self.path.mkdir(mode=0o700)
                return self.path
        except PermissionError:
            raise StoreError(f"Permission denied for {self.path}.") from None
        except OSError as exc:  # a read-only mount, a full disk
            raise StoreError(f"Cannot create the folder {self.path}: {exc.strerror}.") from None
        raise StoreError(
            f"The folder {self.path} does not exist: is the drive mounted and the sync app "
            "running? Create the folder first if it is new."
        )

    def save(self, name: str, data: bytes) -> None:
        folder = self._folder(create=True)
        target = folder / check_name(name)
        temp = folder / f".{name}.tmp-{secrets.token_hex(4)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(temp, flags, 0o600)
            try:
                write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(temp, target)
            _fsync_dir(folder)
            _remove_stale_temps(folder, name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise StoreError(f"Cannot write to {folder}: {exc.strerror}.") from None

    def load(self, name: str) -> bytes:
        path = self._folder() / check_name(name)
        return _read(path, name, self.location)

    def names(self) -> list[str]:
        folder = self._folder()
        try:
            return sorted(
                entry.name
                for entry in os.scandir(folder)
                if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False)
            )
        except OSError as exc:
            raise StoreError(f"Cannot list {folder}: {exc.strerror}.") from None

    def remove(self, name: str) -> None:
        folder = self._folder()
        try:
            (folder / check_name(name)).unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"Cannot remove a file in {folder}: {exc.strerror}.") from None
        _fsync_dir(folder)

    def prune(self, name: str) -> None:
        """A plain folder keeps no versions (a sync service's own history is beyond reach)."""

    def stat(self, name: str) -> ObjectInfo | None:
        try:
            info = (self.path / check_name(name)).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read {self.path}: {exc.strerror}.") from None
        return ObjectInfo(name, info.st_size) if stat.S_ISREG(info.st_mode) else None


class FileStore:
    """One envelope file (binary or armored), given by its path: read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self.location = f"file://{path}"

    def _refuse(self) -> StoreError:
        return StoreError(f"{self.path} is a single backup file: write backups to a folder.")

    def save(self, name: str, data: bytes) -> None:
        raise self._refuse()

    def load(self, name: str) -> bytes:
        if name != self.name:
            raise missing(name, self.location)
        return _read(self.path, name, self.location)

    def names(self) -> list[str]:
        return [self.name]

    def remove(self, name: str) -> None:
        raise self._refuse()

    def prune(self, name: str) -> None:
        return None

    def stat(self, name: str) -> ObjectInfo | None:
        if name != self.name or not self.path.is_file():
            return None
        return ObjectInfo(name, self.path.stat().st_size)


def _read(path: Path, name: str, location: str) -> bytes:
    """At most MAX_OBJECT_BYTES + 1 bytes of a regular file (a FIFO or a device is refused
    without blocking on it or reading it whole)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise IsADirectoryError
            data = handle.read(MAX_OBJECT_BYTES + 1)
    except (FileNotFoundError, IsADirectoryError):
        raise missing(name, location) from None
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror}.") from None
    if len(data) > MAX_OBJECT_BYTES:
        raise too_large(name, location)
    return data


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Temporary copies a killed process left behind (after a successful write: never ours)."""
    for stale in folder.glob(f".{name}.tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network, FUSE) refuse fsync on a folder
    finally:
        os.close(fd)

"""Files that hold secrets: created 0600, never overwritten, flushed to disk."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from seedguard.errors import DiskError, InputError


def write_all(fd: int, data: bytes) -> None:
    """Every byte of `data` to `fd` (a write may take fewer), then to the disk (fsync)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def write_private_file(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner only; refuse to replace an existing file. The bytes
    go to a temporary name first and are linked into place only once written and flushed, so
    a full disk never leaves an empty or partial file that would block the retry."""
    if path.exists() or path.is_symlink():
        raise InputError(
            f"{path} already exists: choose another name (seedguard never overwrites a file)."
        )
    temporary = path.with_name(f".{path.name}.tmp-{os.urandom(4).hex()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(temporary, flags, 0o600)
    except FileNotFoundError:
        raise InputError(f"The folder {path.parent} does not exist: create it first.") from None
    except NotADirectoryError:
        raise InputError(f"{path.parent} is not a folder: choose another place.") from None
    except OSError as exc:
        raise DiskError(f"Cannot create {path}: {exc.strerror}; nothing was written.") from None
    try:
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        _link_into_place(temporary, path)
    except FileExistsError:
        raise InputError(
            f"{path} already exists: choose another name (seedguard never overwrites a file)."
        ) from None
    except OSError as exc:
        raise DiskError(f"Cannot write {path}: {exc.strerror}; nothing was written.") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _link_into_place(temporary: Path, path: Path) -> None:
    """A hard link fails if the name was taken meanwhile: never overwrite. File systems
    without hard links (FAT and exFAT sticks, some FUSE mounts) get a checked rename."""
    try:
        os.link(temporary, path)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if path.exists():
            raise FileExistsError(path) from None
        os.rename(temporary, path)


_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS}


def is_private_folder(path: Path) -> bool:
    """True when no one but the owner can list or enter the folder (mode 0700 or stricter)."""
    return not stat.S_IMODE(path.stat().st_mode) & 0o077


def private_key_file(path: Path, size: int = 32) -> bytes:
    """A random key kept in `path` (0600 in a 0700 folder), made on first use. Several
    processes starting at once agree on one key: it is written under a temporary name and
    linked into place, which fails if another process got there first."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        write_private_file(temporary, os.urandom(size))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    data = path.read_bytes()
    if len(data) != size:
        raise InputError(f"{path} does not hold a {size}-byte key: restore it from your backup.")
    return data


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most `limit` of them: a device (/dev/zero), a FIFO or a huge
    file is refused before it is read whole."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError(f"{path} is not a regular file, so it cannot be {what}.")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path} is larger than {limit // 1024} KiB: it is not {what}.")
    return data

"""SEEDGUARD_HOME and its config.toml: settings the user writes, and the backup registry.

The folder is 0700 and the file 0600; no secret is ever written to either. Updates hold an
exclusive lock for the whole read-modify-write and replace the file atomically, so two
seedguard processes never lose each other's changes and a crash leaves the old file or the
new one. Comments and settings the user wrote are kept (tomlkit).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.toml_document import TOMLDocument

from seedguard.errors import DiskError, UsageError
from seedguard.fs import write_all

CONFIG = "config.toml"
HEADER = "seedguard configuration and backup registry. No secret is ever written here."


def home() -> Path:
    """$SEEDGUARD_HOME, or the platform's user data folder."""
    configured = os.environ.get("SEEDGUARD_HOME")
    if configured:
        return Path(configured).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("seedguard", appauthor=False))


def ensure(folder: Path) -> Path:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DiskError(f"Cannot create {folder}: {exc.strerror}.") from None
    return folder


def load_config(folder: Path) -> dict[str, Any]:
    """config.toml as plain values, read with the (faster) standard library parser."""
    path = folder / CONFIG
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}): fix or move it.") from None
    except RecursionError:
        raise UsageError(
            f"{path} is nested too deeply to be seedguard's: fix or move it."
        ) from None


def read_config(folder: Path) -> TOMLDocument:
    path = folder / CONFIG
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}.") from None
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}): fix or move it.") from None
    except RecursionError:
        raise UsageError(
            f"{path} is nested too deeply to be seedguard's: fix or move it."
        ) from None


@contextlib.contextmanager
def lock(path: Path, blocking: bool = True) -> Iterator[bool]:
    """An exclusive advisory lock on `path`; yields False when non-blocking and taken."""
    ensure(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DiskError(f"Cannot open the lock file {path}: {exc.strerror}.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock; so does the process dying


@contextlib.contextmanager
def edit_config(folder: Path) -> Iterator[TOMLDocument]:
    """Read, let the caller change, and atomically write back config.toml, under a lock."""
    with lock(ensure(folder) / ".config.lock"):
        document = read_config(folder)
        if not document.body:
            document.add(tomlkit.comment(HEADER))
        yield document
        write_atomic(folder / CONFIG, tomlkit.dumps(document).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, or leave it as it was: written under a temporary name,
    flushed, then renamed; a failure (a full disk, a read-only mount) is a DiskError and the
    temporary file is removed."""
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise DiskError(f"Cannot write {path}: {exc.strerror}; it was left as it was.") from None
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def section(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A nested table as plain Python values ({} when absent or not a table)."""
    value: Any = document
    for key in keys:
        value = value.get(key, {}) if isinstance(value, dict) else {}
    return value if isinstance(value, dict) else {}

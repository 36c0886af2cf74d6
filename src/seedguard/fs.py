"""Files that hold secrets: created 0600, never overwritten, flushed to disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from seedguard.errors import InputError


def write_private_file(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner only; refuse to replace an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InputError(
            f"{path} already exists: choose another name (seedguard never overwrites a file)."
        ) from None
    except FileNotFoundError:
        raise InputError(f"The folder {path.parent} does not exist: create it first.") from None
    except OSError as exc:
        raise InputError(f"Cannot create {path}: {exc.strerror}.") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def is_private_folder(path: Path) -> bool:
    """True when no one but the owner can list or enter the folder (mode 0700 or stricter)."""
    return not stat.S_IMODE(path.stat().st_mode) & 0o077

"""The optional parts of seedguard and what each needs: a command whose extra is missing says
which one to install, in one line (exit 2), rather than an ImportError.

The core install covers phrases, backups to folders, SLIP-39 shares, guardians and the MPC
client; pyproject.toml lists each extra's packages.
"""

from __future__ import annotations

import importlib.util

from seedguard.errors import MissingExtraError

# The modules each extra brings (import names, not distribution names).
MODULES: dict[str, tuple[str, ...]] = {
    "s3": ("boto3", "botocore"),
    "webdav": ("webdav4",),
    "server": ("fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "prometheus_client"),
    "repair": ("numba", "numpy"),
}
WHAT = {
    "s3": "S3-compatible stores are",
    "webdav": "WebDAV stores are",
    "server": "The seedguard server is",
    "repair": "Seed repair's batch kernels are",
}


def missing(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here."""
    return [name for name in MODULES[extra] if importlib.util.find_spec(name) is None]


def installed(extra: str) -> bool:
    return not missing(extra)


def require(extra: str) -> None:
    """Raise MissingExtraError, naming the extra to install, where any of its modules is
    missing."""
    absent = missing(extra)
    if absent:
        raise MissingExtraError(
            f"{WHAT[extra]} in seedguard's {extra} extra, not installed here "
            f"({', '.join(absent)} missing): pip install 'seedguard[{extra}]'."
        )

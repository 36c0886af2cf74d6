"""Protocol math and I/O apart: the threshold package (FROST, ChillDKG, refresh, repair,
proofs) imports only seedguard's primitives and errors, never the client, the envelope, the
stores, the backups or the wallet; the device's wallet lives in seedguard.mpc."""

from __future__ import annotations

import ast
from pathlib import Path

import seedguard.threshold

ALLOWED = ("seedguard.primitives", "seedguard.errors", "seedguard.threshold")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_the_protocols_import_only_primitives_and_errors() -> None:
    folder = Path(seedguard.threshold.__file__).parent
    files = sorted(folder.glob("*.py"))
    assert len(files) >= 10
    for path in files:
        for name in _imports(path):
            if name.startswith("seedguard"):
                assert name.startswith(ALLOWED), f"{path.name} imports {name}"


def test_the_wallet_is_not_in_the_protocol_package() -> None:
    folder = Path(seedguard.threshold.__file__).parent
    assert not (folder / "wallet.py").exists()
    assert not (folder / "shares.py").exists()

"""One planted file never blocks a restore (issue 14, section 1). Anyone who can write a file
in a shared folder can craft an envelope whose checksum is right (it is not a MAC): each kind
that once escaped the header parser sits beside a real backup, and `list`, `restore` (with and
without --id) and `mpc recover`'s scan still find the real one and name the bad files."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from seedguard.envelope import inspect
from seedguard.envelope.container import MAGIC, PREFIX_BYTES, VERSION
from seedguard.errors import EnvelopeError
from tests.conftest import make_home, run_cli

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
PASSWORD = "Correct horse battery staple 42"


def _with_header(real: bytes, header: bytes) -> bytes:
    """`real`'s ciphertext under another header, with a correct SHA-256 trailer."""
    (length,) = struct.unpack(">I", real[len(MAGIC) + 1 : PREFIX_BYTES])
    ciphertext = real[PREFIX_BYTES + length : -32]
    body = MAGIC + bytes([VERSION]) + struct.pack(">I", len(header)) + header + ciphertext
    return body + hashlib.sha256(body).digest()


def _header(real: bytes) -> dict[str, Any]:
    (length,) = struct.unpack(">I", real[len(MAGIC) + 1 : PREFIX_BYTES])
    value: dict[str, Any] = json.loads(real[PREFIX_BYTES : PREFIX_BYTES + length])
    return value


def _dump(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def crafted(real: bytes) -> dict[str, bytes]:
    """Hostile headers, each with the checksum right. Ids differ from the real one's."""
    base = _header(real)
    out: dict[str, bytes] = {}

    def variant(name: str, new_id: str, change: Any) -> None:
        head = {**base, "id": new_id}
        text = change(head)
        out[name] = _with_header(real, text if isinstance(text, bytes) else _dump(text))

    other = {**base["slots"][0], "type": "future", "note": "x"}
    variant(
        "surrogate",
        "1" * 32,
        lambda h: _dump({**h, "slots": [other]}).replace(b'"note":"x"', b'"note":"\\ud800"'),
    )
    variant("huge-int", "2" * 32, lambda h: _dump({**h, "slots": [{**other, "note": 0}]}).replace(
        b'"note":0', b'"note":' + b"9" * 5000
    ))  # fmt: skip
    variant("float", "3" * 32, lambda h: _dump({**h, "slots": [{**other, "note": 0}]}).replace(
        b'"note":0', b'"note":1.5'
    ))  # fmt: skip
    variant("nan", "4" * 32, lambda h: _dump({**h, "slots": [{**other, "note": 0}]}).replace(
        b'"note":0', b'"note":NaN'
    ))  # fmt: skip
    variant("deep", "5" * 32, lambda h: _dump({**h, "slots": [{**other, "note": 0}]}).replace(
        b'"note":0', b'"note":' + b"[" * 5000 + b"1" + b"]" * 5000
    ))  # fmt: skip
    variant("null", "6" * 32, lambda h: {**h, "slots": [{**other, "note": None}]})
    variant("newline-id", "7" * 32, lambda h: _dump(h).replace(b"7" * 32, b"7" * 32 + b"\\n"))
    return out


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path, str, dict[str, bytes]]:
    home = make_home(tmp_path / "home")
    folder = tmp_path / "shared"
    made = run_cli(
        "backup",
        "create",
        "--to",
        str(folder),
        "--json",
        stdin=f"{PHRASE}\n{PASSWORD}\n",
        env={"SEEDGUARD_HOME": str(home)},
    )
    backup_id = json.loads(made.stdout)["backup_id"]
    real = (folder / f"{backup_id}.seedguard").read_bytes()
    bad = crafted(real)
    digits = {"surrogate": 1, "huge-int": 2, "float": 3, "nan": 4, "deep": 5, "null": 6}
    for name, data in bad.items():
        (folder / f"{str(digits.get(name, 7)) * 32}.seedguard").write_bytes(data)
    return home, folder, backup_id, bad


def test_each_crafted_header_is_an_envelope_error(
    planted: tuple[Path, Path, str, dict[str, bytes]],
) -> None:
    for name, data in planted[3].items():
        with pytest.raises(EnvelopeError):
            inspect(data)
        assert name


def test_list_and_restore_find_the_real_backup(
    planted: tuple[Path, Path, str, dict[str, bytes]], tmp_path: Path
) -> None:
    _, folder, backup_id, bad = planted
    laptop = make_home(tmp_path / "laptop")
    env = {"SEEDGUARD_HOME": str(laptop)}
    listed = run_cli("backup", "list", "--from", str(folder), "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    value = json.loads(listed.stdout)
    assert [b["backup_id"] for b in value["backups"]] == [backup_id]
    assert len(value["unreadable"]) == len(bad)
    human = run_cli("backup", "list", "--from", str(folder), env=env)
    assert human.returncode == 0
    assert human.stderr.count("warning:") == len(bad)
    for args in ((), ("--id", backup_id[:8])):
        restored = run_cli(
            "backup",
            "restore",
            "--from",
            str(folder),
            *args,
            "--json",
            stdin=f"{PASSWORD}\n",
            env=env,
        )
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["mnemonic"] == PHRASE
        # Without --id each bad file is named and passed over; with it, none is even read.
        assert restored.stderr.count("Skipped ") == (0 if args else len(bad))


def test_an_empty_id_is_a_usage_error(
    planted: tuple[Path, Path, str, dict[str, bytes]],
) -> None:
    home, folder, _, _ = planted
    env = {"SEEDGUARD_HOME": str(home)}
    for args in (
        ("backup", "verify", "--from", str(folder), "--id", ""),
        ("backup", "keys", "--id", ""),
    ):
        proc = run_cli(*args, stdin=f"{PASSWORD}\n", env=env)
        assert proc.returncode == 2, proc.stderr
        assert "not a backup id" in proc.stderr


def test_mpc_recover_passes_over_a_planted_file(sg_server: Any, tmp_path: Path) -> None:
    cloud = tmp_path / "cloud"
    phone = make_home(tmp_path / "phone")
    made = run_cli(
        "mpc", "create", "--allow-raw-signing",
        "--server", sg_server.url, "--cloud", str(cloud), "--json",
        stdin=f"{PASSWORD}\n", env={"SEEDGUARD_HOME": str(phone)},
    )  # fmt: skip
    created = json.loads(made.stdout)
    real = (cloud / f"{created['cloud_backup']['backup_id']}.seedguard").read_bytes()
    for i, data in enumerate(crafted(real).values()):
        (cloud / f"{str(i + 1) * 32}.seedguard").write_bytes(data)
    laptop = make_home(tmp_path / "laptop")
    recovered = run_cli(
        "mpc", "recover", "--server", sg_server.url, "--cloud", str(cloud), "--json",
        stdin=f"{PASSWORD}\n", env={"SEEDGUARD_HOME": str(laptop)},
    )  # fmt: skip
    assert recovered.returncode == 0, recovered.stderr
    assert json.loads(recovered.stdout)["wallet_id"] == created["wallet_id"]

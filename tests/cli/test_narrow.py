"""At 80 columns nothing a user must compare is cut or split: addresses, xpubs, ids,
fingerprints, locations and keys are printed whole (the layout folds, not the value); and
`seed last-word` maps die rolls to one candidate without bias."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from rich.console import Console

from seedguard.cli import render
from seedguard.errors import EntropyError
from seedguard.mnemonic import entropy
from tests.conftest import make_home, run_cli
from tests.servers import SeedguardServer

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
PASSWORD = "Correct horse battery staple 42"


def narrow(home: Path, *args: str, stdin: str = "") -> str:
    """The human output of a command on an 80-column terminal."""
    env = {"SEEDGUARD_HOME": str(home), "COLUMNS": "80"}
    human = run_cli(*args, stdin=stdin, env=env)
    assert human.returncode == 0, human.stderr
    return human.stdout


def _whole(values: list[str], text: str) -> None:
    for value in values:
        assert value in text, f"{value} is cut or split"


def test_fields_keep_values_whole() -> None:
    console = Console(width=80, record=True, color_system=None)
    address = "bc1p" + "q" * 58
    descriptor = "tr(" + "K" * 52 + ")#abcdefgh"
    render.fields([("address", address), ("descriptor", descriptor)], console)
    text = console.export_text()
    _whole([address, descriptor], text)


def test_seed_addresses_at_80_columns(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    data = json.loads(
        run_cli(
            "seed", "addresses", "--json", stdin=f"{PHRASE}\n", env={"SEEDGUARD_HOME": str(home)}
        ).stdout
    )
    text = narrow(home, "seed", "addresses", stdin=f"{PHRASE}\n")
    values = [data["fingerprint"]]
    for account in data["accounts"].values():
        values += account["receive"] + account.get("change", [])
        if "xpub" in account:
            values.append(account["xpub"])
    _whole(values, text)


def test_backup_commands_at_80_columns(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    folder = tmp_path / "a-rather-long-folder-name-for-a-synced-drive" / "seedguard-backups"
    folder.parent.mkdir()
    made = json.loads(
        run_cli(
            "backup",
            "create",
            "--to",
            str(folder),
            "--json",
            stdin=f"{PHRASE}\n{PASSWORD}\n",
            env={"SEEDGUARD_HOME": str(home)},
        ).stdout
    )
    values = [made["backup_id"][:12], f"file://{folder}"]
    for args in (("backup", "list", "--from", str(folder)), ("backup", "status")):
        text = narrow(home, *args)
        _whole(values[:1] if args[1] == "list" else values, text)


def test_mpc_create_at_80_columns(sg_server: SeedguardServer, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    cloud = tmp_path / "cloud"
    text = narrow(
        home,
        "mpc",
        "create",
        "--server",
        sg_server.url,
        "--cloud",
        str(cloud),
        stdin=f"{PASSWORD}\n",
    )
    status = json.loads(
        run_cli("mpc", "status", "--json", env={"SEEDGUARD_HOME": str(home)}).stdout
    )["wallets"][0]
    _whole(
        [status["wallet_id"][:12], status["address"], status["output_key"], str(cloud)],
        text,
    )


def test_dice_pick_is_uniform() -> None:
    for choices in (8, 128, 2048):
        need = entropy.rolls_to_pick(choices)
        counts = [0] * choices
        rejected = 0
        for rolls in itertools.product("123456", repeat=need):
            picked = entropy.pick_by_dice("".join(rolls), choices)
            if picked is None:
                rejected += 1
            else:
                counts[picked] += 1
        assert len(set(counts)) == 1, choices  # every word equally likely
        assert rejected == 6**need % choices
    with pytest.raises(EntropyError, match="exactly 3"):
        entropy.pick_by_dice("12", 128)
    with pytest.raises(EntropyError):
        entropy.pick_by_dice("127", 128)

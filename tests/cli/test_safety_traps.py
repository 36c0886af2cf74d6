"""The traps a new user fell into while seedguard said all was well (issue 13, section 1), each
run as a user runs it, against a real server process: the recovery key survives `mpc recover`;
a new MPC wallet has a way out without its server, tested with the server stopped; a backup
kept only in a vault is refused, and the README's journey restores from an empty home; a
destroyed or nearly destroyed hardening key makes `backup status` fail, with a message that
matches the backup's real slots; a restore without --id spends no silent guesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import make_home, run_cli
from tests.servers import SeedguardServer, seedguard_server

PASSWORD = "Correct horse battery staple 42"
WRONG = "Wrong horse battery staple 42"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OTHER = "letter advice cage absurd amount doctor acoustic avoid letter advice cage above"


def sg(home: Path, *args: str, stdin: str = "", code: int = 0, as_json: bool = True) -> Any:
    proc = run_cli(
        *args, *(["--json"] if as_json else []), stdin=stdin, env={"SEEDGUARD_HOME": str(home)}
    )
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout) if as_json else proc


def _create_wallet(home: Path, server: str, cloud: str, *extra: str) -> Any:
    return sg(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        server,
        "--cloud",
        cloud,
        *extra,
        stdin=f"{PASSWORD}\n",
    )


# --- 1. `mpc recover` keeps every way out ------------------------------------------------------


def test_mpc_recover_keeps_the_recovery_key(sg_server: SeedguardServer, tmp_path: Path) -> None:
    cloud = str(tmp_path / "cloud")
    phone = make_home(tmp_path / "phone")
    created = _create_wallet(phone, sg_server.url, cloud)
    words = created["recovery_key"]
    [before] = sg(phone, "mpc", "status")["wallets"]
    assert before["server_state"]["state"] == "ok"
    assert before["cloud_health"]["opens_with"] == ["password (server-hardened)", "recovery key"]
    assert before["level"] == "warning"  # one cloud location: recoverable, said as a warning
    laptop = make_home(tmp_path / "laptop")
    recovered = sg(
        laptop,
        "mpc",
        "recover",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        stdin=f"{PASSWORD}\n\n{words}\n",
    )
    assert recovered["cloud_backup"]["recovery_key"] == "kept"
    # The lost phone's status no longer says all is well: it cannot sign.
    [stale] = sg(phone, "mpc", "status", code=1)["wallets"]
    assert stale["level"] == "bad"
    assert stale["server_state"]["state"] in ("stale", "refused")
    [fresh] = sg(laptop, "mpc", "status")["wallets"]
    assert fresh["server_state"]["state"] == "ok"
    assert fresh["cloud_health"]["state"] == "one-location"
    assert recovered["cloud_backup"]["backup_id"] != created["cloud_backup"]["backup_id"]
    # The twelve words written at creation open the new cloud backup, offline.
    opened = sg(laptop, "backup", "verify", "--from", cloud, "--recovery-key", stdin=f"{words}\n")
    assert opened["backup_id"] == recovered["cloud_backup"]["backup_id"]
    exported = sg(
        laptop,
        "mpc",
        "export-key",
        "--wallet",
        created["wallet_id"],
        "--cloud",
        cloud,
        "--with-recovery-key",
        stdin=f"{words}\n",
    )
    assert exported["wif"]


def test_mpc_recover_without_the_old_key_makes_a_new_one(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    cloud = str(tmp_path / "cloud")
    created = _create_wallet(make_home(tmp_path / "phone"), sg_server.url, cloud)
    laptop = make_home(tmp_path / "laptop")
    # A wrong recovery key is refused before anything changes.
    wrong = sg(
        laptop,
        "mpc",
        "recover",
        "--server",
        sg_server.url,
        "--cloud",
        cloud,
        stdin=f"{PASSWORD}\n\n{OTHER}\n",
        code=1,
    )
    assert "nothing was changed" in wrong["error"]
    listed = sg(laptop, "backup", "list", "--from", cloud)["backups"]
    assert [b["backup_id"] for b in listed] == [created["cloud_backup"]["backup_id"]]
    recovered = sg(
        laptop, "mpc", "recover", "--server", sg_server.url, "--cloud", cloud, stdin=f"{PASSWORD}\n"
    )
    assert recovered["cloud_backup"]["recovery_key"] == "new"
    new_words = recovered["recovery_key"]
    assert new_words != created["recovery_key"]
    opened = sg(
        laptop, "backup", "verify", "--from", cloud, "--recovery-key", stdin=f"{new_words}\n"
    )
    assert opened["backup_id"] == recovered["cloud_backup"]["backup_id"]


# --- 2. a new MPC wallet has a way out without its server ----------------------------------------


def test_the_default_wallet_leaves_without_its_server(tmp_path: Path) -> None:
    work = tmp_path / "srv"
    work.mkdir()
    phone = make_home(tmp_path / "phone")
    cloud = str(tmp_path / "cloud")
    with seedguard_server(f"sqlite:///{work / 'db.sqlite'}", work) as server:
        created = _create_wallet(phone, server.url, cloud)  # no option: the default
        human = sg(
            phone,
            "mpc",
            "status",
            as_json=False,
        )
        assert created["wallet_id"][:12] in human.stdout
    # The server is gone for good. The output said how to leave: do exactly that.
    assert "export-key" in created["emergency_exit"]
    assert "--with-recovery-key" in created["emergency_exit"]
    exported = sg(
        phone,
        "mpc",
        "export-key",
        "--wallet",
        created["wallet_id"],
        "--cloud",
        cloud,
        "--with-recovery-key",
        stdin=f"{created['recovery_key']}\n",
    )
    from coincurve import PrivateKey

    from seedguard.hd.addresses import p2tr
    from seedguard.hd.bip32 import ExtendedKey, derive
    from seedguard.hd.slip132 import XPUB
    from seedguard.threshold.derivation import CHAIN_CODE

    key = bytes.fromhex(exported["private_key"])
    compressed = PrivateKey(key).public_key.format()
    assert compressed[1:].hex() == created["public_key"]
    first = derive(ExtendedKey(XPUB, 0, bytes(4), 0, CHAIN_CODE, key), [0, 0])
    assert p2tr(first.public_key) == created["address"]  # the key spends address 0/0


def test_no_recovery_key_says_loudly_what_it_costs(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home")
    proc = sg(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        str(tmp_path / "cloud"),
        "--no-recovery-key",
        stdin=f"{PASSWORD}\n",
        as_json=False,
    )
    assert "WARNING" in proc.stderr
    assert "cannot be moved" in proc.stderr.replace("\n", " ")
    plain = sg(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        sg_server.url,
        "--cloud",
        str(tmp_path / "cloud2"),
        "--no-recovery-key",
        "--no-harden",
        stdin=f"{PASSWORD}\n",
    )
    assert plain["cloud_backup"]["hardened_by"] is None
    assert "its password opens it without any server" in plain["emergency_exit"]


# --- 3. the vault: never the only copy; the README's journey from an empty home ------------------


def test_vault_only_is_refused_and_the_readme_journey_works(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    phone = make_home(tmp_path / "phone")
    refused = sg(
        phone,
        "backup",
        "create",
        "--to",
        sg_server.location,
        stdin=f"{PHRASE}\n{PASSWORD}\n",
        code=2,
    )
    assert "new device" in refused["error"]
    assert "--to" in refused["error"]
    assert sg(phone, "backup", "status")["backups"] == []  # nothing was registered
    (tmp_path / "Dropbox").mkdir()  # the synced folder exists; seedguard makes its own in it
    folder = str(tmp_path / "Dropbox" / "seedguard")
    made = sg(
        phone,
        "backup",
        "create",
        "--to",
        folder,
        "--to",
        sg_server.location,
        stdin=f"{PHRASE}\n{PASSWORD}\n",
    )
    assert all(loc["ok"] for loc in made["locations"])
    # A new device, an empty $SEEDGUARD_HOME: the folder copy restores, joins the account...
    laptop = tmp_path / "laptop-empty-home"
    restored = sg(laptop, "backup", "restore", "--from", folder, stdin=f"{PASSWORD}\n")
    assert restored["mnemonic"] == PHRASE
    assert restored["servers"] == [sg_server.url]
    # ... so the vault copy is found from the new device too.
    listed = sg(laptop, "backup", "list", "--from", sg_server.location)["backups"]
    assert [b["backup_id"] for b in listed] == [made["backup_id"]]
    again = sg(laptop, "backup", "restore", "--from", sg_server.location, stdin=f"{PASSWORD}\n")
    assert again["mnemonic"] == PHRASE


def test_an_mpc_cloud_share_in_its_own_servers_vault_is_refused(
    sg_server: SeedguardServer, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home")
    refused = _create_wallet_code(home, sg_server.url, sg_server.location, 2)
    assert "vault" in refused["error"]
    assert sg(home, "mpc", "status")["wallets"] == []


def _create_wallet_code(home: Path, server: str, cloud: str, code: int) -> Any:
    return sg(
        home,
        "mpc",
        "create",
        "--allow-raw-signing",
        "--server",
        server,
        "--cloud",
        cloud,
        stdin=f"{PASSWORD}\n",
        code=code,
    )


# --- 4. destroyed and locked keys: status fails, and says what really opens the backup -----------


def _hardened(home: Path, folders: list[str], server: str, *extra: str) -> Any:
    to = [arg for folder in folders for arg in ("--to", folder)]
    return sg(
        home, "backup", "create", *to, "--harden", server, *extra, stdin=f"{PHRASE}\n{PASSWORD}\n"
    )


def test_status_shows_destroyed_and_locked(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--max-attempts", "5") as s:
        made = _hardened(home, [a, b], s.location)
        [row] = sg(home, "backup", "status")["backups"]
        assert (row["level"], row["state"]) == ("ok", "ok")
        assert row["hardening"]["attempts_left"] == 5
        assert row["opens_with"] == ["password (server-hardened)"]
        assert row["recovery_key"] is False
        for left in (4, 3):
            wrong = sg(home, "backup", "verify", "--from", a, stdin=f"{WRONG}\n", code=1)
            assert wrong["attempts_left"] == left
        locked = sg(home, "backup", "status", code=1)["backups"][0]
        assert locked["state"] == "locked"
        assert "3 attempt(s) left" in locked["verdict"]
        human = sg(home, "backup", "status", code=1, as_json=False).stdout
        assert "locked" in human
        assert made["backup_id"][:8] in human
        # The right password resets the count: status is fine again.
        sg(home, "backup", "verify", "--from", a, stdin=f"{PASSWORD}\n")
        assert sg(home, "backup", "status")["backups"][0]["state"] == "ok"
        for _ in range(4):
            sg(home, "backup", "verify", "--from", a, stdin=f"{WRONG}\n", code=1)
        last = sg(home, "backup", "verify", "--from", a, stdin=f"{WRONG}\n", code=1)
        assert last["attempts_left"] == 0
        # The backup has no recovery key: no message may promise one.
        assert "no recovery key" in last["error"]
        assert "Only its recovery key" not in last["error"]
        gone = sg(home, "backup", "status", code=1)["backups"][0]
        assert gone["state"] == "destroyed"
        assert gone["level"] == "bad"
        assert "no recovery key" in gone["verdict"]
        again = sg(home, "backup", "restore", "--from", b, stdin=f"{PASSWORD}\n", code=1)
        assert "destroyed" in again["error"]
        assert "no recovery key" in again["error"]

        with_key = make_home(tmp_path / "home2")
        kept = _hardened(with_key, [a], s.location, "--recovery-key")
        for _ in range(5):
            sg(
                with_key,
                "backup",
                "verify",
                "--from",
                a,
                "--id",
                kept["backup_id"],
                stdin=f"{WRONG}\n",
                code=1,
            )
        row = sg(with_key, "backup", "status", code=1)["backups"][0]
        assert row["state"] == "destroyed"
        assert "recovery key opens it" in row["verdict"]


# --- 5. restore without --id spends no guess it was not asked to ---------------------------------


def test_restore_without_id_spends_no_silent_guesses(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    folder = str(tmp_path / "folder")
    with seedguard_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--max-attempts", "5") as s:
        first = _hardened(home, [folder], s.location)
        second = _hardened(home, [folder], s.location)
        refused = sg(home, "backup", "restore", "--from", folder, stdin=f"{WRONG}\n", code=2)
        assert "2 server-hardened backups" in refused["error"]
        assert "--id" in refused["error"]
        rows = sg(home, "backup", "status", code=0)["backups"]
        assert [r["hardening"]["attempts_left"] for r in rows] == [5, 5]  # nothing spent
        # A plain backup there opens with its password without touching the hardened ones.
        plain_home = make_home(tmp_path / "plain")
        plain = sg(
            plain_home,
            "backup",
            "create",
            "--to",
            folder,
            stdin=f"{OTHER}\n{PASSWORD}\n",
        )
        opened = sg(home, "backup", "restore", "--from", folder, stdin=f"{PASSWORD}\n")
        assert opened["backup_id"] == plain["backup_id"]
        rows = sg(home, "backup", "status")["backups"]
        assert {r["hardening"]["attempts_left"] for r in rows if r["hardening"]} == {5}
        # Named by id: one guess, and the attempts left are said.
        wrong = sg(
            home,
            "backup",
            "restore",
            "--from",
            folder,
            "--id",
            first["backup_id"][:8],
            stdin=f"{WRONG}\n",
            code=1,
        )
        assert wrong["attempts_left"] == 4
        assert "4 attempts left" in wrong["error"]
        right = sg(
            home,
            "backup",
            "restore",
            "--from",
            folder,
            "--id",
            second["backup_id"],
            stdin=f"{PASSWORD}\n",
        )
        assert right["backup_id"] == second["backup_id"]

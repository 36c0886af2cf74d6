"""Encrypted backups from creation to password change (docs/backup.md).

Each backup is one envelope stored as `<backup id>.seedguard` at every location. A password
change writes `<backup id>.seedguard.new`, reads it back, replaces the original with the same
bytes (an atomic step in every store), reads that back, and only then removes the `.new` copy
and any older versions. At every moment each location holds a copy that opens with the old
password or with the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from seedguard import home as homes
from seedguard import stores, wallet
from seedguard.backup import password_policy
from seedguard.backup.hardening import ServerHardening
from seedguard.backup.health import BackupHealth, CopyState, KeyState, assess
from seedguard.backup.registry import Copy, Entry, Registry
from seedguard.envelope import (
    DEFAULT_KDF,
    Argon2idParams,
    Bip39Payload,
    Header,
    Opened,
    Password,
    Payload,
    RecoveryKey,
    Secret,
    inspect,
    open_envelope,
    seal,
)
from seedguard.envelope.payload import AccountCredential, with_accounts
from seedguard.errors import (
    AmbiguousBackupError,
    BackupMissingError,
    BusyError,
    EnvelopeError,
    InputError,
    MissingExtraError,
    SeedguardError,
    UnreachableError,
    UsageError,
    WrongSecretError,
)
from seedguard.mnemonic import bip39

SUFFIX = ".seedguard"
PENDING = ".seedguard.new"
OBJECT_NAME = re.compile(r"([0-9a-f]{32})\.seedguard(\.new)?")  # matched with fullmatch
VERIFY_EVERY_DAYS = 60

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bip39_payload(mnemonic: str, passphrase: str = "") -> Bip39Payload:
    """A checked phrase (any language, unique prefixes accepted) with its wallet fingerprint."""
    phrase = bip39.validate(mnemonic).mnemonic
    return Bip39Payload(phrase, passphrase, wallet.fingerprint(phrase, passphrase))


def _fingerprint(payload: Payload) -> str | None:
    return getattr(payload, "fingerprint", None)


def check_payload(payload: Payload) -> None:
    """A BIP-39 payload must still derive the fingerprint it was sealed with."""
    if isinstance(payload, Bip39Payload):
        try:
            actual = wallet.fingerprint(
                bip39.validate(payload.mnemonic).mnemonic, payload.passphrase
            )
        except InputError:
            raise EnvelopeError("The backup opened but its phrase is not valid.") from None
        if actual != payload.fingerprint:
            raise EnvelopeError(
                "The backup opened but its phrase does not derive the wallet it was made for."
            )


@dataclass(frozen=True)
class LocationResult:
    location: str
    ok: bool
    error: str | None = None
    exit_code: int = 0
    # Written and read back, but this device's registry could not record it (a full disk):
    # what happened, and how a rerun picks it up.
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        value: dict[str, object] = {"location": self.location, "ok": self.ok, "error": self.error}
        if self.note is not None:
            value["registered"] = False
            value["note"] = self.note
        return value


def _failed(location: str, exc: SeedguardError) -> LocationResult:
    return LocationResult(location, False, exc.message, exc.exit_code)


@dataclass(frozen=True)
class CreateResult:
    backup_id: str
    fingerprint: str | None
    locations: tuple[LocationResult, ...]
    hardened_by: str | None = None
    header: Header | None = None


class Backups:
    """The backup lifecycle for one device, whose registry lives in `home`."""

    def __init__(self, home: Path | None = None, report: Report = _quiet) -> None:
        self.registry = Registry(home)
        self.report = report
        self.hardening = ServerHardening(self.registry.folder, report)
        self.notes: list[str] = []  # what a command should tell besides its result

    # -- plumbing -------------------------------------------------------------------------

    def store(self, location: str) -> stores.Store:
        return stores.open_store(location, self.registry.webdav_credentials, self.registry.folder)

    def _kdf_hook(self, params: Argon2idParams) -> None:
        self.report(f"Deriving the key ({params.describe()})")

    def _open(self, data: bytes, secret: Secret) -> Opened:
        opened = open_envelope(data, secret, self._kdf_hook, self.hardening)
        check_payload(opened.payload)
        return opened

    def _account_credentials(self, servers: Sequence[str]) -> tuple[AccountCredential, ...]:
        """A fresh recovery credential for this device's account on each server, registered
        there (as a hash) and carried only inside the backup being made."""
        from seedguard.client import client_for

        out = []
        for server in servers:
            client = client_for(server, self.registry.folder)
            self.report(f"Registering an account recovery credential with {client.server}")
            credential = secrets.token_bytes(32)
            active_from = client.add_recovery_credential(credential)
            if active_from is not None:
                stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(active_from))
                self.report(
                    f"This backup's account credential for {client.server} works from {stamp}: "
                    "the account already has one, and this device gave no proof, so it was "
                    "announced to the account's devices first (the password opens the backup "
                    "meanwhile)."
                )
            account = client.account
            assert account is not None
            out.append(AccountCredential(client.server, account, credential))
        return tuple(out)

    def enroll(self, payload: Payload, revoke_others: bool = False) -> list[str]:
        """Join this device to the accounts whose credentials the backup carries, where it is
        not yet a device of them (revoking their other devices when asked); returns the
        servers of those accounts."""
        from seedguard.client import client_for

        joined = []
        for entry in payload.accounts:
            client = client_for(entry.server, self.registry.folder)
            member = client.account == entry.account
            if not member:
                self.report(f"Joining this device to its account on {entry.server}")
                client.sign_in(
                    enroll=(entry.account, entry.credential), revoke_others=revoke_others
                )
            if client.account == entry.account:
                client.credential = entry.credential  # proves the owner, for this run only
            if member and revoke_others:  # already a device of it: revoke the others
                for device in client.account_info()["devices"]:
                    if not device["current"] and device["revoked"] is None:
                        client.revoke(device["id"])
            joined.append(entry.server)
        return joined

    def _write_checked(self, store: stores.Store, name: str, data: bytes, opened: Opened) -> None:
        """Write, read back, and confirm the copy decrypts to the same payload."""
        store.save(name, data)
        back = store.load(name)
        if back != data or not opened.confirms(back):
            raise BusyError(
                f"{store.location} returned different bytes than were just written there: "
                "another device is writing the same backup, or the store is faulty. Run it again."
            )

    def _record(self, meta: Entry, store: stores.Store, data: bytes) -> str | None:
        """Register a copy just written and read back; None, or what could not be recorded
        (the copy is there all the same, and `backup verify` registers it later)."""
        try:
            self.registry.record(meta, store.location, sha256(data), verified=True)
        except SeedguardError as exc:
            return (
                f"the copy is written and read back, but this device's registry could not "
                f"record it ({exc.message}); `seedguard backup verify --from {store.location}` "
                "registers it once the disk has room"
            )
        return None

    # -- create ---------------------------------------------------------------------------

    def create(
        self,
        payload: Payload,
        password: Password,
        locations: Sequence[str],
        *,
        label: str | None = None,
        recovery_key: RecoveryKey | None = None,
        params: Argon2idParams | None = None,
        harden: str | None = None,
        plain: bool = False,
    ) -> CreateResult:
        """Seal once, write the same envelope to every location, read each back and check it.

        `harden` names a seedguard server whose guess-limited OPRF key the password slot
        depends on; a backup with a server among its locations is hardened by that server
        unless `plain`. Each server involved gets an account recovery credential, which the
        backup carries."""
        from seedguard.client import canonical_server

        if not locations:
            raise UsageError("Name at least one location with --to.")
        if harden is not None and plain:
            raise UsageError("Choose --harden or --no-harden, not both.")
        check_payload(payload)
        password_policy.check(password.text, _user_inputs(payload, label))
        self.registry.entries()  # a registry that cannot be read whole stops us before any write
        targets = _unique([self.store(loc) for loc in locations])
        vaults = [t.client.server for t in targets if isinstance(t, stores.ServerStore)]
        if len(vaults) == len(targets):
            raise UsageError(
                "A backup kept only in a seedguard server's vault cannot be restored from a "
                "new device: the vault belongs to this device's account there, and a new "
                "device joins that account only with the credential inside the backup. Add a "
                "folder or cloud location (another --to); the vault copy then counts as a "
                "second copy."
            )
        server = (
            canonical_server(harden) if harden else (vaults[0] if vaults and not plain else None)
        )
        involved = sorted({*vaults, *([server] if server else [])})
        if involved:
            payload = with_accounts(payload, self._account_credentials(involved))
        params = params or self.registry.kdf() or DEFAULT_KDF
        if server is not None:
            self.report(f"Creating this backup's hardening key on {server}")
        data, opened = seal(
            payload,
            password,
            params=params,
            recovery_key=recovery_key,
            label=label,
            hook=self._kdf_hook,
            harden=server,
            service=self.hardening if server else None,
        )
        name = opened.header.backup_id + SUFFIX
        meta = _meta(opened.header, opened.payload)
        results = []
        for store in targets:
            self.report(f"Writing to {store.location}")
            try:
                self._write_checked(store, name, data, opened)
            except SeedguardError as exc:
                results.append(_failed(store.location, exc))
                continue
            results.append(
                LocationResult(store.location, True, note=self._record(meta, store, data))
            )
        return CreateResult(
            opened.header.backup_id, meta.fingerprint, tuple(results), server, opened.header
        )

    # -- finding backups at a location ------------------------------------------------------

    def scan(
        self, store: stores.Store, id_prefix: str | None = None
    ) -> tuple[list[Found], list[tuple[str, str]]]:
        """Every envelope at `store` (newest first) and (name, problem) for each object that
        could not be read or parsed: one planted file never hides the others. With
        `id_prefix`, only objects named for such an id are read at all."""
        found: list[Found] = []
        problems: list[tuple[str, str]] = []
        for name in store.names():
            named = OBJECT_NAME.fullmatch(name)
            if named is None and not isinstance(store, stores.FileStore):
                continue
            if id_prefix is not None and named is not None and not named[1].startswith(id_prefix):
                continue
            try:
                data = store.load(name)
                header = inspect(data)
            except UnreachableError:
                raise  # the store itself is down: not one object's problem
            except SeedguardError as exc:
                problems.append((name, exc.message))
                continue
            if named is not None and header.backup_id != named[1]:
                problems.append((name, f"it holds backup {header.backup_id}, not the one named"))
                continue
            found.append(Found(name, data, header))
        found.sort(key=lambda f: (f.header.created, f.name.endswith(SUFFIX)), reverse=True)
        return found, problems

    def _candidates(self, store: stores.Store, backup_id: str | None) -> list[Found]:
        if backup_id is not None and not re.fullmatch(r"[0-9a-fA-F]{1,32}", backup_id):
            raise UsageError(
                f"{backup_id!r} is not a backup id: give its hex digits (a unique prefix will do)."
            )
        found, problems = self.scan(store, backup_id.lower() if backup_id else None)
        if backup_id is not None:
            wanted = backup_id.lower()
            ids = {f.header.backup_id for f in found if f.header.backup_id.startswith(wanted)}
            if len(ids) > 1:
                raise UsageError(
                    f"More than one backup id at {store.location} starts with "
                    f"{backup_id!r}: give more of it."
                )
            found = [f for f in found if f.header.backup_id in ids]
        if not found and len(problems) == 1:
            name, problem = problems[0]
            raise EnvelopeError(f"{name} at {store.location}: {problem}")
        for name, problem in problems:  # named, and passed over: one bad file blocks nothing
            self.notes.append(f"Skipped {name} at {store.location}: {problem}")
        if not found:
            detail = f" ({len(problems)} unreadable files)" if problems else ""
            what = f"backup {backup_id}" if backup_id else "seedguard backup"
            raise BackupMissingError(
                f"No {what} at {store.location}{detail}: it was deleted or moved, or this is "
                "another account or folder."
            )
        return found

    def find(self, location: str, backup_id: str | None = None) -> Found:
        """The one backup at `location` (with an id or a unique id prefix); no password."""
        store = self.store(location)
        found = self._candidates(store, backup_id)
        ids = {f.header.backup_id for f in found}
        if len(ids) > 1:
            raise UsageError(f"{len(ids)} backups are at {store.location}: name one with --id.")
        return found[0]

    def _open_at(
        self, location: str, backup_id: str | None, secret: Secret
    ) -> tuple[stores.Store, Found, Opened]:
        """Open the backup at `location` that `secret` opens. Offline slots are tried first
        (no server guess); a server-hardened one is tried only when it is the only hardened
        backup there or was named by id, so no guess is spent on a backup not asked for."""
        store = self.store(location)
        candidates = self._candidates(store, backup_id)
        offline = [f for f in candidates if not _needs_server(f.header, secret)]
        hardened = [f for f in candidates if _needs_server(f.header, secret)]
        wrong: WrongSecretError | None = None
        for found in offline:
            try:
                return store, found, self._open(found.data, secret)
            except WrongSecretError as exc:
                wrong = exc
        hardened_ids = {f.header.backup_id for f in hardened}
        if len(hardened_ids) > 1:
            raise AmbiguousBackupError(
                f"{len(hardened_ids)} server-hardened backups are at {store.location}, and "
                "trying the password on each would spend one of its server's guesses: name "
                "one with --id (`seedguard backup list --from LOCATION` shows them)"
                + ("; the password opens none of the others." if offline else "."),
                [f.header for f in hardened if f.name.endswith(SUFFIX)]
                or [f.header for f in hardened],
            )
        for found in hardened:  # one backup (a `.new` copy too, newest first)
            try:
                return store, found, self._open(found.data, secret)
            except WrongSecretError as exc:
                wrong = exc
                if exc.attempts_left is not None:
                    break  # the server counted it: never spend a second guess silently
        assert wrong is not None
        if len({f.header.backup_id for f in candidates}) > 1 and wrong.attempts_left is None:
            noun = "password" if isinstance(secret, Password) else "recovery key"
            raise WrongSecretError(
                f"The {noun} opens none of the {len(candidates)} backups at {store.location}."
            )
        raise wrong

    # -- list, verify, restore ---------------------------------------------------------------

    def list_backups(self, location: str) -> tuple[list[Header], list[tuple[str, str]]]:
        found, problems = self.scan(self.store(location))
        seen: dict[str, Header] = {}
        for f in found:
            seen.setdefault(f.header.backup_id, f.header)
        return list(seen.values()), problems

    def verify(self, location: str, secret: Secret, backup_id: str | None = None) -> Opened:
        """Open a copy in memory and check it against the registry; the store is not touched."""
        store, found, opened = self._open_at(location, backup_id, secret)
        registered = self.registry.get(opened.header.backup_id)
        fingerprint = _fingerprint(opened.payload)
        if registered and registered.fingerprint and fingerprint != registered.fingerprint:
            raise InputError(
                f"Backup {opened.header.backup_id[:8]} at {store.location} opens, but holds "
                f"wallet {fingerprint}, not the registered {registered.fingerprint}."
            )
        if not isinstance(store, stores.FileStore):  # a single file is an import, not a place
            try:
                self.registry.record(
                    _meta(opened.header, opened.payload), store.location, sha256(found.data), True
                )
            except SeedguardError as exc:  # the check itself succeeded: say so, and what not
                self.notes.append(
                    f"The backup was verified, but the time of this check could not be "
                    f"recorded on this device ({exc.message})."
                )
        return opened

    def restore(
        self,
        location: str,
        secret: Secret,
        backup_id: str | None = None,
        revoke_other_devices: bool = False,
    ) -> Opened:
        """Open a backup and register it (and this location) on this device; join the server
        accounts it carries (revoking their other devices when asked: the lost-device case)."""
        opened = self.verify(location, secret, backup_id)
        self.enroll(opened.payload, revoke_other_devices)
        return opened

    # -- status ---------------------------------------------------------------------------------

    def status(self, workers: int = 8) -> list[CopyStatus]:
        """Every registered copy: present, missing, changed or unreachable. No KDF runs."""
        jobs = [
            (entry, copy.location) for entry in self.registry.entries() for copy in entry.copies
        ]
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            return list(pool.map(lambda job: self._copy_status(*job), jobs))

    def _copy_status(self, entry: Entry, location: str) -> CopyStatus:
        copy = entry.copy_at(location)
        assert copy is not None
        verified = copy.verified
        state, detail = "ok", None
        header: Header | None = None
        try:
            store = self.store(location)
            data = store.load(entry.backup_id + SUFFIX)
            header = inspect(data)
            if sha256(data) != copy.sha256:
                state = "changed"
                detail = (
                    "the copy differs from the one this device wrote or verified (a password "
                    "change elsewhere, or tampering): run `backup verify` on it"
                )
            elif header.backup_id != entry.backup_id:
                state, detail = "changed", "the file holds another backup"
            elif store.stat(entry.backup_id + PENDING) is not None:
                state = "pending"
                detail = (
                    "an interrupted password change left a second copy: run change-password again"
                )
        except BackupMissingError:
            state, detail = "missing", "the copy is gone (deleted, moved, or another account)"
        except EnvelopeError as exc:
            state, detail = "damaged", exc.message
        except UnreachableError as exc:
            state, detail = "unreachable", exc.message
        except MissingExtraError as exc:  # this install cannot read such a location
            state, detail = "unchecked", exc.message
        except SeedguardError as exc:  # access refused, a bad location
            state, detail = "denied", exc.message
        due = verified is None or _age_days(verified) > VERIFY_EVERY_DAYS
        return CopyStatus(entry, location, state, detail, verified, due, header)

    def health(self, workers: int = 8) -> list[BackupHealth]:
        """One verdict per registered backup: its copies (as `status`), what opens it, and
        for a server-hardened backup its key's state there (no attempt is counted)."""
        rows = self.status(workers)
        by_id: dict[str, list[CopyStatus]] = {}
        for row in rows:
            by_id.setdefault(row.entry.backup_id, []).append(row)
        result = []
        for entry in self.registry.entries():
            copies = by_id.get(entry.backup_id, [])
            header = next((c.header for c in copies if c.state == "ok" and c.header), None)
            header = header or next((c.header for c in copies if c.header), None)
            key = self.key_state(header) if header is not None else None
            states = tuple(
                CopyState(c.location, c.state, c.detail, c.verified, c.verify_due) for c in copies
            )
            result.append(assess(entry, states, header, key))
        return result

    def key_state(self, header: Header) -> KeyState | None:
        """A hardened backup's key on its server (None when not hardened); counts nothing."""
        slot = header.server_slot()
        if slot is None:
            return None
        try:
            answer = self.hardening.state(slot.server, slot.handle)
        except BackupMissingError:
            return KeyState(slot.server, "missing")
        except SeedguardError as exc:
            return KeyState(slot.server, "unreachable", detail=exc.message)
        left, most = answer.get("attempts_left"), answer.get("max_attempts")
        return KeyState(
            slot.server,
            str(answer.get("state")),
            left if isinstance(left, int) else None,
            most if isinstance(most, int) else None,
        )

    # -- change password ---------------------------------------------------------------------

    def change_password(
        self,
        old: Secret,
        new: Password,
        backup_id: str | None = None,
        params: Argon2idParams | None = None,
    ) -> tuple[str, list[LocationResult]]:
        entry = self.registry.find(backup_id)
        if isinstance(old, Password) and old.encoded() == new.encoded():
            raise InputError("The new password is the old one: choose a different one.")
        with self._changing(entry):
            return self._change_locked(entry, old, new, params)

    @contextlib.contextmanager
    def _changing(self, entry: Entry) -> Iterator[None]:
        """One process at a time rewrites a backup's copies (a password change, a new or a
        removed recovery key)."""
        lock_path = homes.ensure(self.registry.folder) / "locks" / f"{entry.backup_id}.lock"
        with homes.lock(lock_path, blocking=False) as held:
            if not held:
                raise BusyError(
                    f"Another seedguard process is changing backup {entry.backup_id[:8]}: wait "
                    "for it to finish, then check `backup status`."
                )
            yield

    def _read_copies(
        self, entry: Entry, results: dict[str, LocationResult]
    ) -> dict[str, tuple[stores.Store, bytes | None, bytes | None]]:
        """Every registered copy, with any `.new` an interrupted change left beside it; a
        location that cannot be read is recorded in `results`."""
        final, pending = entry.backup_id + SUFFIX, entry.backup_id + PENDING
        copies: dict[str, tuple[stores.Store, bytes | None, bytes | None]] = {}
        for copy in entry.copies:
            try:
                store = self.store(copy.location)
                self.report(f"Reading {store.location}")
                copies[copy.location] = (
                    store,
                    _load_or_none(store, final),
                    _load_or_none(store, pending),
                )
            except SeedguardError as exc:
                results[copy.location] = _failed(copy.location, exc)
        return copies

    def _rewrite_each(
        self,
        entry: Entry,
        copies: dict[str, tuple[stores.Store, bytes | None, bytes | None]],
        results: dict[str, LocationResult],
        new_data: bytes,
        new_opened: Opened,
        check: Callable[[stores.Store, bytes], None],
    ) -> list[LocationResult]:
        """Swap `new_data` in at each location whose copy `check` accepts (it raises to leave
        a copy untouched); the results in the registry's order."""
        for location, (store, current, leftover) in copies.items():
            self.report(f"Re-writing the copy at {store.location}")
            try:
                if current is None:
                    raise BackupMissingError(
                        f"The copy at {store.location} is missing; it was not recreated "
                        "(`seedguard backup copy` puts one there)."
                    )
                check(store, current)
                note = self._swap_in(
                    store, entry.backup_id, current, leftover, new_data, new_opened
                )
                results[location] = LocationResult(store.location, True, note=note)
            except SeedguardError as exc:
                results[location] = _failed(store.location, exc)
        return [results[c.location] for c in entry.copies if c.location in results]

    def _change_locked(
        self, entry: Entry, old: Secret, new: Password, params: Argon2idParams | None
    ) -> tuple[str, list[LocationResult]]:
        # 1. Read every copy (and any `.new` left by an interrupted change).
        results: dict[str, LocationResult] = {}
        copies = self._read_copies(entry, results)
        # 2. Classify each distinct envelope: opens with the old secret, the new password, or
        #    neither. Old first, so the usual case costs one key derivation.
        verdict: dict[bytes, tuple[str, Opened | None]] = {}

        def classify(data: bytes) -> tuple[str, Opened | None]:
            if data not in verdict:
                verdict[data] = self._classify(data, old, new)
            return verdict[data]

        source: Opened | None = None
        already_new: tuple[bytes, Opened] | None = None
        for _, current, leftover in copies.values():
            for data in (current, leftover):
                if data is None:
                    continue
                kind, opened = classify(data)
                if kind == "old" and source is None:
                    source = opened
                if kind == "new" and already_new is None and opened is not None:
                    already_new = (data, opened)
        if source is None and already_new is None:
            if not copies:
                raise UnreachableError(
                    "No copy of the backup could be reached; nothing was changed."
                )
            noun = "old password" if isinstance(old, Password) else "recovery key"
            raise WrongSecretError(
                f"The {noun} opens no copy of backup {entry.backup_id[:8]}; nothing was changed."
            )
        registered = {c.location: c.sha256 for c in entry.copies}
        as_registered = all(
            current is not None and leftover is None and sha256(current) == registered[loc]
            for loc, (_, current, leftover) in copies.items()
        )
        if source is None and already_new is not None and as_registered:
            # Nothing to resume (every copy is as this device last recorded it, no `.new` left):
            # the password given as new already opens the backup and the one given as current
            # opens none. Say so; never report a change that was not made.
            noun = "current password" if isinstance(old, Password) else "recovery key"
            raise WrongSecretError(
                f"The {noun} you typed opens no copy of backup {entry.backup_id[:8]}, and the "
                "new password already opens every copy: nothing was changed (an earlier change "
                "to this password, if one was interrupted, had finished)."
            )
        if source is not None:
            password_policy.check(new.text, _user_inputs(source.payload, source.header.label))
        # 3. The new envelope: reuse one already written by an interrupted run, so every
        #    location ends with the same bytes; else re-wrap the data key once.
        if already_new is not None:
            new_data, new_opened = already_new
        else:
            assert source is not None
            new_data, new_opened = source.rewrap(
                new, params or self.registry.kdf() or DEFAULT_KDF, self._kdf_hook, self.hardening
            )

        # 4. Location by location: .new written and read back, then the swap, then clean-up.
        def opens(store: stores.Store, current: bytes) -> None:
            if classify(current)[0] == "neither":
                raise InputError(
                    f"The copy at {store.location} opens with neither password; it was left "
                    "untouched."
                )

        ordered = self._rewrite_each(entry, copies, results, new_data, new_opened, opens)
        old_slot = source.header.server_slot() if source is not None else None
        if old_slot is not None and ordered and all(r.ok for r in ordered):
            # Every copy now uses the new key: the old one would only let the old password
            # back in through a stale copy somewhere.
            try:
                self.hardening.delete(old_slot.server, old_slot.handle)
            except SeedguardError:
                self.report("The old hardening key could not be deleted; it stays on the server")
        return entry.backup_id, ordered

    def _swap_in(
        self,
        store: stores.Store,
        backup_id: str,
        current: bytes,
        leftover: bytes | None,
        new_data: bytes,
        new_opened: Opened,
    ) -> str | None:
        """Replace the copy `current` at `store` with `new_data`, crash-safe: the `.new` copy
        is written and read back, the original is checked unchanged and replaced with the same
        bytes (read back), and only then is the `.new` copy (and older versions) removed."""
        final, pending = backup_id + SUFFIX, backup_id + PENDING
        if current != new_data:
            try:
                self._write_checked(store, pending, new_data, new_opened)
                if _load_or_none(store, final) != current:
                    raise BusyError(
                        f"The copy at {store.location} changed while seedguard worked (another "
                        "device?); nothing was replaced there. Run it again."
                    )
            except SeedguardError:
                _remove_if(store, pending, new_data)  # leave no stray copy of ours
                raise
            self._write_checked(store, final, new_data, new_opened)
        if leftover is not None or current != new_data:
            store.remove(pending)
        store.prune(final)
        return self._record(_meta(new_opened.header, new_opened.payload), store, new_data)

    # -- recovery key slots, copies, keys ----------------------------------------------------

    def set_recovery_key(
        self, password: Password, recovery_key: RecoveryKey | None, backup_id: str | None = None
    ) -> tuple[str, list[LocationResult]]:
        """Add (or replace) the backup's recovery-key slot, or remove it (None), at every
        location, crash-safe as a password change is. The password proves the owner and must
        open the backup, so a removal never leaves a backup that nothing the user has opens."""
        entry = self.registry.find(backup_id)
        with self._changing(entry):
            return self._set_recovery_locked(entry, password, recovery_key)

    def _set_recovery_locked(
        self, entry: Entry, password: Password, recovery_key: RecoveryKey | None
    ) -> tuple[str, list[LocationResult]]:
        results: dict[str, LocationResult] = {}
        copies = self._read_copies(entry, results)
        registered = {c.location: c.sha256 for c in entry.copies}
        source: tuple[bytes, Opened] | None = None
        for location, (_, current, _) in copies.items():
            if current is not None and sha256(current) == registered[location]:
                try:
                    source = (current, self._open(current, password))
                    break
                except WrongSecretError:
                    raise WrongSecretError(
                        f"The password does not open backup {entry.backup_id[:8]}; nothing was "
                        "changed."
                    ) from None
        if source is None:
            raise BackupMissingError(
                f"No copy of backup {entry.backup_id[:8]} is as this device wrote or verified it "
                "(`seedguard backup status` says why); nothing was changed."
            )
        source_data, opened = source
        if recovery_key is None and not opened.header.has_recovery_key():
            raise InputError(f"Backup {entry.backup_id[:8]} has no recovery key to remove.")
        new_data, new_opened = opened.with_recovery_key(recovery_key)

        def as_opened(store: stores.Store, current: bytes) -> None:
            if current != source_data:
                raise InputError(
                    f"The copy at {store.location} differs from the one opened (changed "
                    "elsewhere?); it was left untouched: run `backup verify` on it."
                )

        ordered = self._rewrite_each(entry, copies, results, new_data, new_opened, as_opened)
        return entry.backup_id, ordered

    def copy_to(self, location: str, backup_id: str | None = None) -> LocationResult:
        """Put a copy of a registered backup at one more location: the bytes of a copy that
        is still as this device wrote or verified it, written there and read back. No secret
        is needed; nothing already at `location` is overwritten."""
        entry = self.registry.find(backup_id)
        target = self.store(location)
        if entry.copy_at(target.location) is not None:
            raise UsageError(
                f"Backup {entry.backup_id[:8]} already has a copy at {target.location}."
            )
        name = entry.backup_id + SUFFIX
        registered = self._registered_copy(entry)
        if registered is None:
            raise BackupMissingError(
                f"No copy of backup {entry.backup_id[:8]} is as this device wrote or verified it "
                "(`seedguard backup status` says why): restore it and make a new backup."
            )
        source, data = registered
        header = inspect(data)
        existing = _load_or_none(target, name)
        if existing is not None and existing != data:
            raise InputError(
                f"{target.location} already holds a different {name}: it was left untouched."
            )
        self.report(f"Writing to {target.location}")
        if existing is None:
            target.save(name, data)
            if target.load(name) != data:
                raise BusyError(
                    f"{target.location} returned different bytes than were just written there: "
                    "the store is faulty, or another device is writing. Run it again."
                )
        meta = Entry(entry.backup_id, header.kind, header.created, entry.fingerprint, header.label)
        # The same bytes as a checked copy: it opens as that one did, when that one was checked.
        self.registry.record(meta, target.location, sha256(data), verified=False)
        if source.verified:
            self.registry.set_verified(entry.backup_id, target.location, source.verified)
        return LocationResult(target.location, True)

    def _registered_copy(self, entry: Entry) -> tuple[Copy, bytes] | None:
        """The first copy that is still as this device wrote or verified it (its SHA-256 is
        the registry's), with its bytes; None when no copy is."""
        for copy in entry.copies:
            try:
                data = self.store(copy.location).load(entry.backup_id + SUFFIX)
            except SeedguardError:
                continue
            if sha256(data) == copy.sha256:
                return copy, data
        return None

    def header_of(self, backup_id: str | None = None) -> tuple[Entry, Header]:
        """A registered backup's header, from a copy as this device wrote or verified it."""
        entry = self.registry.find(backup_id)
        registered = self._registered_copy(entry)
        if registered is not None:
            return entry, inspect(registered[1])
        raise BackupMissingError(
            f"No copy of backup {entry.backup_id[:8]} could be read as this device wrote or "
            "verified it (`seedguard backup status` says why)."
        )

    def _classify(self, data: bytes, old: Secret, new: Password) -> tuple[str, Opened | None]:
        attempts: list[tuple[str, Secret]] = [("old", old), ("new", new)]
        if isinstance(old, RecoveryKey):  # the recovery key opens old and new copies alike
            attempts.reverse()
        for kind, secret in attempts:
            try:
                return kind, self._open(data, secret)
            except WrongSecretError:
                continue
            except EnvelopeError:
                return "neither", None
        return "neither", None

    # -- delete -----------------------------------------------------------------------------

    def delete(self, location: str, backup_id: str) -> str:
        """Remove a backup (every version) from one location and forget that copy."""
        store = self.store(location)
        found = self._candidates(store, backup_id)
        full_id = found[0].header.backup_id
        store.remove(full_id + PENDING)
        store.remove(full_id + SUFFIX)
        self.registry.forget(full_id, store.location)
        return full_id


@dataclass(frozen=True)
class Found:
    name: str
    data: bytes
    header: Header


@dataclass(frozen=True)
class CopyStatus:
    entry: Entry
    location: str
    state: str  # ok | missing | changed | damaged | pending | unreachable | denied
    detail: str | None
    verified: str | None
    verify_due: bool
    header: Header | None = None

    @property
    def healthy(self) -> bool:
        return self.state == "ok" and not self.verify_due


def _needs_server(header: Header, secret: Secret) -> bool:
    """Whether opening `header` with `secret` may spend a server's guess."""
    return isinstance(secret, Password) and header.server_slot() is not None


def _meta(header: Header, payload: Payload) -> Entry:
    return Entry(header.backup_id, header.kind, header.created, _fingerprint(payload), header.label)


def _user_inputs(payload: Payload, label: str | None) -> list[str]:
    words = payload.mnemonic.split() if isinstance(payload, Bip39Payload) else []
    return [*words, *(label.split() if label else [])]


def _unique(targets: list[stores.Store]) -> list[stores.Store]:
    seen: dict[str, stores.Store] = {}
    for store in targets:
        seen.setdefault(store.location, store)
    return list(seen.values())


def _remove_if(store: stores.Store, name: str, data: bytes) -> None:
    try:
        if _load_or_none(store, name) == data:
            store.remove(name)
    except SeedguardError:
        pass  # best effort: the copy that matters was not touched


def _load_or_none(store: stores.Store, name: str) -> bytes | None:
    try:
        return store.load(name)
    except BackupMissingError:
        return None


def _age_days(stamp: str) -> float:
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return float("inf")
    return (datetime.now(UTC) - then).total_seconds() / 86400

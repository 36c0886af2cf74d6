"""The MPC wallet capability: a 2-of-3 FROST key whose shares sit on this device, on a
seedguard server, and in an encrypted cloud backup (docs/mpc.md).

- `create`: ChillDKG among the three (this device runs the device and cloud participants and
  coordinates; the server runs its own), so no party ever holds the key. The cloud share is
  sealed into an `mpc-share` envelope (server-hardened by default), written and read back,
  before the device keeps its own share.
- `sign`: device + server, two rounds (BIP-445), every partial signature verified.
- `recover`: on a new device, from the cloud share and the server: the device share is
  repaired, then all three shares are refreshed under the same key, the new cloud envelope is
  written and read back, the server switches, and only then is the old envelope removed. The
  lost device is revoked from the account, and its share no longer signs with the server.
- `repair_cloud`: a lost cloud share re-created from the device and server shares.
- `export_key`: the emergency exit: device + cloud shares give the whole key, offline.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seedguard.backup import password_policy
from seedguard.backup.health import BackupHealth
from seedguard.backup.lifecycle import Backups
from seedguard.client.mpc import MpcServer
from seedguard.client.session import unb64
from seedguard.envelope import MpcSharePayload, Password, RecoveryKey
from seedguard.envelope.header import Header, ServerSlot, parse_server_slot
from seedguard.envelope.sealing import Secret, server_slot_proof
from seedguard.errors import (
    InputError,
    SeedguardError,
    UnreachableError,
    UsageError,
    WrongSecretError,
)
from seedguard.hd.addresses import wif
from seedguard.hd.bip32 import ExtendedKey
from seedguard.hd.descriptors import with_checksum
from seedguard.hd.slip132 import Network
from seedguard.mpc import addresses, messages, psbt
from seedguard.mpc.shares import DeviceStore, DeviceWallet, ShareRecord, group_key
from seedguard.primitives.secp256k1 import CURVE_ORDER, public_key, scalar_bytes
from seedguard.threshold import chilldkg, frost, proofs, refresh, repairable
from seedguard.threshold.derivation import CHAIN_CODE
from seedguard.threshold.dkg_errors import DkgError
from seedguard.threshold.keys import (
    CLOUD,
    DEVICE,
    NAMES,
    SERVER,
    CulpritError,
    GroupKey,
    T,
    aggregate,
    check_message,
    interpolate_secret,
)

Report = Callable[[str], None]
NETWORKS = ("mainnet", "testnet")


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class WalletInfo:
    wallet_id: str
    key: GroupKey
    network: str
    label: str | None
    epoch: int
    cloud_location: str
    cloud_backup_id: str
    recovery_key: RecoveryKey | None = None
    # What the cloud backup's recovery-key slot is after this command: "new" (recovery_key
    # holds the words to show), "kept" (the same key, re-wrapped), "none" (no recovery key).
    recovery: str = "none"
    hardened_by: str | None = None
    derived: bool = False  # addresses at 0/i and 1/i (mpc/addresses.py); else index-free first

    @property
    def first(self) -> addresses.Address:
        return addresses.first_address(self.key, _network(self.network), self.derived)

    @property
    def address(self) -> str:
        return self.first.address

    @property
    def descriptor(self) -> str:
        return addresses.descriptors(self.key, _network(self.network), self.derived).multipath

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `mpc create` and `mpc recover` (a contract)."""
        return {
            "wallet_id": self.wallet_id,
            "public_key": self.key.public_key.hex(),
            "output_key": self.first.output_key.hex(),
            "address": self.address,
            "address_path": self.first.path,
            "descriptor": self.descriptor,
            "cloud_backup": {
                "location": self.cloud_location,
                "backup_id": self.cloud_backup_id,
                "hardened_by": self.hardened_by,
                "recovery_key": self.recovery,
            },
        }


@dataclass(frozen=True)
class ExportedKey:
    private_key: bytes
    wif: str
    descriptor: str  # the derived addresses': tr(xprv/<0;1>/*) with BIP-328's chain code
    address: str
    index_free: str | None  # tr(WIF) for an older wallet's index-free address

    @property
    def descriptors(self) -> list[str]:
        return [self.descriptor] + ([self.index_free] if self.index_free else [])


def _network(name: str) -> Network:
    return "testnet" if name == "testnet" else "mainnet"


def fingerprint(key: GroupKey) -> str:
    """A short name for the wallet: the first 4 bytes of its output key, in hex."""
    return key.output_key[:4].hex()


class MpcWallets:
    def __init__(self, home: Path | None = None, report: Report = _quiet) -> None:
        self.backups = Backups(home, report)
        self.home = self.backups.registry.folder
        self.store = DeviceStore(self.home)
        self.report = report

    def _server(self, server: str) -> MpcServer:
        return MpcServer(server, self.home)

    # -- create -------------------------------------------------------------------------------

    def create(
        self,
        server: str,
        cloud: str,
        password: Password,
        *,
        label: str | None = None,
        network: str = "mainnet",
        pin: str | None = None,
        recovery_key: bool = True,
        harden: bool = True,
        raw_signing: bool = False,
    ) -> WalletInfo:
        """A new wallet. By default its cloud backup is hardened by `server` and also opens
        with a new recovery key: the way to the emergency exit (`export_key`) when the server
        is gone, which a backup hardened by that server alone would not have. The server
        co-signs transactions it can check (`sign_psbt`); raw hashes (`sign`) only with
        `raw_signing`, the owner's initial policy."""
        if network not in NETWORKS:
            raise UsageError("--network takes mainnet or testnet.")
        password_policy.check(password.text, [label] if label else [])
        srv = self._server(server)
        self.report(f"Starting key generation with {srv.server}")
        wallet_id, server_hostpubkey = srv.create(raw_signing)
        outputs = _keygen(srv, wallet_id, server_hostpubkey, self.report)
        key = GroupKey(outputs[DEVICE].thresh_pk, outputs[DEVICE].pubshares)
        key.check()
        cloud_record = ShareRecord(
            wallet_id, srv.server, network, label, 0, CLOUD, _secshare(outputs[CLOUD]), key, True
        )
        rkey = RecoveryKey.generate() if recovery_key else None
        backup_id, slot = self._write_cloud(cloud_record, password, cloud, rkey, harden)
        self._link_cloud(srv, cloud_record, slot, rkey)
        device_record = _as_device(cloud_record, _secshare(outputs[DEVICE]))
        device = self.store.save(device_record, cloud, backup_id, pin, _slot(slot))
        return _info(device, rkey, "new" if rkey else "none", slot)

    def _write_cloud(
        self,
        record: ShareRecord,
        password: Password,
        cloud: str,
        recovery_key: RecoveryKey | None,
        harden: bool,
    ) -> tuple[str, ServerSlot | None]:
        """Seal the cloud share, write it, read it back (Backups.create); the backup id and
        the envelope's server-hardened slot."""
        self.report(f"Sealing the cloud share and writing it to {cloud}")
        label = record.label or f"MPC wallet {fingerprint(record.key)}"
        result = self.backups.create(
            MpcSharePayload(record.to_bytes(), fingerprint(record.key)),
            password,
            [cloud],
            label=label,
            recovery_key=recovery_key,
            harden=record.server if harden else None,
            plain=not harden,
        )
        failed = [r for r in result.locations if not r.ok]
        if failed:
            raise InputError(
                f"The cloud share could not be written to {failed[0].location} "
                f"({failed[0].error}); nothing was kept on this device. Fix it and run again."
            )
        slot = None if result.header is None else result.header.server_slot()
        return result.backup_id, slot

    def _link_cloud(
        self,
        srv: MpcServer,
        cloud_record: ShareRecord,
        slot: ServerSlot | None,
        rkey: RecoveryKey | None,
    ) -> None:
        """Tell the server what the new cloud envelope offers to prove its owner later (its
        OPRF key; a recovery-key verifier), with a proof of the cloud share. Not fatal: the
        wallet works without it, and re-creating its cloud share then waits for the delay."""
        try:
            challenge, epoch = srv.challenge(cloud_record.wallet_id)
            handle = None if slot is None or slot.server != srv.server else slot.handle
            verifier = (
                None if rkey is None else proofs.recovery_verifier(rkey.key, cloud_record.wallet_id)
            )
            digest = proofs.request_digest(b"cloud", handle or b"", verifier or b"")
            proof = _prove(cloud_record, epoch, challenge, "cloud", digest)
            srv.link_cloud(cloud_record.wallet_id, challenge, {CLOUD: proof}, handle, verifier)
        except SeedguardError as exc:
            self.report(
                f"Could not register the cloud backup's proofs with {srv.server}: {exc.message} "
                "Re-creating the cloud share from this device will need the account's delay."
            )

    # -- sign ---------------------------------------------------------------------------------

    def sign(
        self,
        wallet_id: str,
        message: bytes,
        pin: str | None = None,
        path: tuple[int, int] | None = None,
    ) -> tuple[bytes, bytes]:
        """A BIP-340 signature for the output key of the address at `path` (chain, index), or
        of the index-free address: (signature, output key)."""
        return self.sign_many(wallet_id, [(message, path)], pin)[0]

    def sign_psbt(
        self, wallet_id: str, parsed: Any, plan: psbt.Plan, pin: str | None = None
    ) -> list[bytes]:
        """A signature for each input `plan` owns, in its order. The server reads the same
        PSBT, derives the same inputs, recomputes their sighashes and applies the wallet's
        spending policy before it co-signs (PendingError while a spend waits)."""
        record, srv = self._signing_session(wallet_id, pin)
        key = record.key
        encoded = psbt.to_base64(parsed)
        signatures: list[bytes] = []
        for start in range(0, len(plan.owned), 16):
            batch = plan.owned[start : start + 16]
            ids, server_pubnonces, _ = srv.nonces(record.wallet_id, len(batch))
            device: list[tuple[Any, bytes, Any, bytes]] = []
            for item in batch:
                child = None if item.path is None else addresses.child(key, *item.path)
                secnonce, pubnonce = frost.nonce_gen(
                    record.secshare, key.pubshares[DEVICE], key.output_key_of(child), item.sighash
                )
                device.append((secnonce, pubnonce, child, item.sighash))
            psigs = srv.sign_psbt(
                record.wallet_id,
                encoded,
                [(item.index, ids[n], device[n][1]) for n, item in enumerate(batch)],
                {item.index: item.sighash for item in batch},
            )
            for n, item in enumerate(batch):
                secnonce, pubnonce, child, message = device[n]
                pubnonces = [pubnonce, server_pubnonces[n]]
                session = key.session((DEVICE, SERVER), frost.nonce_agg(pubnonces), message, child)
                mine = frost.sign(secnonce, record.secshare, DEVICE, session, verify=False)
                signatures.append(
                    aggregate(
                        key,
                        (DEVICE, SERVER),
                        pubnonces,
                        [mine, psigs[item.index]],
                        message,
                        child,
                    )
                )
        return signatures

    def sign_message(
        self, wallet_id: str, address: str, message: bytes, pin: str | None = None
    ) -> str:
        """A BIP-322 simple signature of `message` for one of the wallet's Taproot addresses
        (its first 1,000 receive and change addresses, or an older wallet's index-free one),
        co-signed through the server's PSBT route (mpc/messages.py)."""
        fields = self.store.public(self.store.find(wallet_id))
        key = group_key(fields)
        network = _network(fields["network"])
        path = addresses.find(key, network, address)
        child = None if path is None else addresses.child(key, *path)
        internal = key.public_key if child is None else child.internal_key
        fingerprint = bytes.fromhex(addresses.fingerprint(key))
        parsed = messages.to_sign_psbt(address, message, internal, fingerprint, path)
        plan = psbt.plan(parsed, key, network)
        (signature,) = self.sign_psbt(self.store.find(wallet_id), parsed, plan, pin)
        return messages.encode_simple(signature)

    def _signing_session(self, wallet_id: str, pin: str | None) -> tuple[ShareRecord, MpcServer]:
        """The device's record and its server, at the server's epoch (a refresh this device
        finished but did not commit is committed first)."""
        device = self.store.load(self.store.find(wallet_id), pin)
        record = device.record
        srv = self._server(record.server)
        epoch = srv.wallet(record.wallet_id).get("epoch")
        if epoch == record.epoch - 1:
            srv.commit_refresh(record.wallet_id, record.epoch)
            epoch = record.epoch
        if epoch != record.epoch:
            raise InputError(
                f"This device's share is from epoch {record.epoch} but the server is at "
                f"{epoch}: the wallet was recovered on another device, and this share no "
                "longer signs."
            )
        return record, srv

    def sign_many(
        self,
        wallet_id: str,
        messages: list[tuple[bytes, tuple[int, int] | None]],
        pin: str | None = None,
    ) -> list[tuple[bytes, bytes]]:
        """One signature per (message, path), each its own FROST session with the server,
        whose nonces are fetched 16 to a request: [(signature, output key)]."""
        for message, _ in messages:
            check_message(message)
        device = self.store.load(self.store.find(wallet_id), pin)
        record = device.record
        srv = self._server(record.server)
        nonces = srv.nonces(record.wallet_id, min(len(messages), 16))
        if nonces[2] == record.epoch - 1:  # a refresh this device finished but did not commit
            srv.commit_refresh(record.wallet_id, record.epoch)
            nonces = srv.nonces(record.wallet_id, min(len(messages), 16))
        if nonces[2] != record.epoch:
            raise InputError(
                f"This device's share is from epoch {record.epoch} but the server is at "
                f"{nonces[2]}: the wallet was recovered on another device, and this share no "
                "longer signs."
            )
        pending = list(zip(nonces[0], nonces[1], strict=True))
        key = record.key
        results = []
        for message, path in messages:
            if not pending:
                ids, pubs, _ = srv.nonces(record.wallet_id, 16)
                pending = list(zip(ids, pubs, strict=True))
            nonce_id, server_pubnonce = pending.pop(0)
            child = None if path is None else addresses.child(key, *path)
            output_key = key.output_key_of(child)
            secnonce, pubnonce = frost.nonce_gen(
                record.secshare, key.pubshares[DEVICE], output_key, message
            )
            psig_server = srv.sign(record.wallet_id, nonce_id, message, pubnonce, path)
            pubnonces = [pubnonce, server_pubnonce]
            session = key.session((DEVICE, SERVER), frost.nonce_agg(pubnonces), message, child)
            psig_device = frost.sign(secnonce, record.secshare, DEVICE, session, verify=False)
            signature = aggregate(
                key, (DEVICE, SERVER), pubnonces, [psig_device, psig_server], message, child
            )
            results.append((signature, output_key))
        return results

    # -- recover ------------------------------------------------------------------------------

    def _open_cloud(
        self, cloud: str, secret: Secret, backup_id: str | None = None, enroll: bool = False
    ) -> tuple[ShareRecord, Header]:
        opened = (
            self.backups.restore(cloud, secret, backup_id, revoke_other_devices=True)
            if enroll
            else self.backups.verify(cloud, secret, backup_id)
        )
        payload = opened.payload
        if not isinstance(payload, MpcSharePayload):
            raise InputError(
                f"The backup at {cloud} holds a {payload.kind}, not an MPC wallet's cloud share."
            )
        record = ShareRecord.from_bytes(payload.share)
        if record.participant != CLOUD:
            raise InputError("This backup holds an MPC share that is not the cloud share.")
        return record, opened.header

    def recover(
        self,
        server: str,
        cloud: str,
        password: Password,
        *,
        pin: str | None = None,
        backup_id: str | None = None,
        keep_recovery_key: Callable[[], RecoveryKey | None] | None = None,
        confirm_recovery_key: Callable[[RecoveryKey], None] | None = None,
    ) -> WalletInfo:
        """The wallet on this (new) device from its cloud share and the server.

        Every way out the wallet had stays open: when the old cloud backup has a recovery-key
        slot, `keep_recovery_key` is asked for that key (checked against the old backup before
        anything changes) and the new backup opens with it too; without it (None returned, or
        no callback) a new recovery key is made, and `confirm_recovery_key` sees it before the
        old backup is removed."""
        srv = self._server(server)
        record, old_header = self._matching_cloud_share(srv, cloud, password, backup_id)
        old_backup_id = old_header.backup_id
        rkey, recovery = self._recovery_key_to_keep(cloud, old_header, keep_recovery_key)
        self.report("Re-creating this device's share with the server")
        device_share, _ = _repair(srv, record, DEVICE)
        self.report("Refreshing all three shares")
        new_device, new_cloud = _refresh(srv, _as_device(record, device_share), record)
        hardened = old_header.server_slot() is not None
        backup_id_new, slot = self._write_cloud(new_cloud, password, cloud, rkey, harden=hardened)
        device = self.store.save(new_device, cloud, backup_id_new, pin, _slot(slot))
        srv.commit_refresh(record.wallet_id, new_device.epoch)
        self._link_cloud(srv, new_cloud, slot, rkey)
        if recovery == "new" and confirm_recovery_key is not None:
            assert rkey is not None
            confirm_recovery_key(rkey)
        for stale in {old_backup_id, *self._older_shares(cloud, backup_id_new)}:
            self.report(f"Removing the old cloud share {stale[:8]}")
            try:
                self.backups.delete(cloud, stale)
            except SeedguardError as exc:  # the new copy is safe; the old one is stale anyway
                self.report(f"Could not remove the old cloud share: {exc.message}")
        return _info(device, rkey if recovery == "new" else None, recovery, slot)

    def _recovery_key_to_keep(
        self,
        cloud: str,
        header: Header,
        ask: Callable[[], RecoveryKey | None] | None,
    ) -> tuple[RecoveryKey | None, str]:
        """The recovery key the new cloud backup gets, and whether it is "kept" or "new"."""
        if not header.has_recovery_key():
            return None, "none"
        given = ask() if ask is not None else None
        if given is None:
            self.report("The cloud backup had a recovery key: making a new one for the new backup")
            return RecoveryKey.generate(), "new"
        try:
            self.backups.verify(cloud, given, header.backup_id)
        except WrongSecretError:
            raise WrongSecretError(
                "That recovery key does not open the wallet's cloud backup; nothing was changed. "
                "Type it again, or leave it empty to get a new recovery key."
            ) from None
        return given, "kept"

    def _matching_cloud_share(
        self, srv: MpcServer, cloud: str, password: Password, backup_id: str | None
    ) -> tuple[ShareRecord, Header]:
        """The cloud share that pairs with the server's current share, newest first. An
        interrupted recovery may have left a newer envelope whose refresh the server holds
        pending: that refresh is completed; an envelope no share pairs with is skipped."""
        self.report(f"Opening the cloud share at {cloud}")
        others: list[str] = []
        if backup_id is None:  # the newest cloud share first: one server guess, not one each
            headers, _ = self.backups.list_backups(cloud)
            others = [h.backup_id for h in headers if h.kind == "mpc-share"]
            backup_id = others[0] if others else None
        record, found = self._open_cloud(cloud, password, backup_id, enroll=True)
        found_id = found.backup_id
        candidates = [found_id, *others]
        seen: set[str] = set()
        latest_epoch = None
        for candidate in candidates:
            if candidate in seen:
                continue
            seen.add(candidate)
            if candidate != found_id:
                try:
                    other, other_header = self._open_cloud(cloud, password, candidate)
                except SeedguardError:
                    continue
                if other.wallet_id != record.wallet_id:
                    continue
                record, found, found_id = other, other_header, candidate
            if srv.server != record.server:  # the server moved: the address given wins
                record = replace(record, server=srv.server)
            state = srv.wallet(record.wallet_id)
            _check_same_wallet(state, record)
            latest_epoch = state["epoch"]
            if state["epoch"] == record.epoch:
                return record, found
            pending = [unb64(p, "pubshare") for p in state.get("pending_pubshares") or []]
            if state["epoch"] + 1 == record.epoch and tuple(pending) == record.key.pubshares:
                self.report("Completing an interrupted recovery on the server")
                srv.commit_refresh(record.wallet_id, record.epoch)
                return record, found
        raise InputError(
            f"No cloud share at {cloud} pairs with the server's share (epoch {latest_epoch}): "
            "a newer cloud backup exists elsewhere; recover from that one."
        )

    def _older_shares(self, cloud: str, keep: str) -> list[str]:
        """Other envelopes at `cloud` that this device registered for the same wallet (its
        fingerprint): stale once the server has switched to the new shares."""
        fingerprints = {e.backup_id: e.fingerprint for e in self.backups.registry.entries()}
        mine = fingerprints.get(keep)
        if mine is None:
            return []
        headers, _ = self.backups.list_backups(cloud)
        return [
            h.backup_id
            for h in headers
            if h.backup_id != keep and fingerprints.get(h.backup_id) == mine
        ]

    # -- repair and export --------------------------------------------------------------------

    def repair_cloud(
        self,
        wallet_id: str,
        cloud: str,
        password: Password,
        *,
        pin: str | None = None,
        recovery_key: bool = False,
        old_recovery_key: RecoveryKey | None = None,
        wait: bool = False,
    ) -> WalletInfo:
        """Re-create a lost cloud share from the device and server shares.

        That gives this device two shares, so the server asks for more than the device: the
        cloud backup's password (proven through its hardened slot, which the device file
        keeps: one counted attempt), its recovery key (`old_recovery_key`), or, with `wait`
        or neither available, the account's delay (PendingError: run it again after)."""
        password_policy.check(password.text)
        device = self.store.load(self.store.find(wallet_id), pin)
        record = device.record
        srv = self._server(record.server)
        gate_password = None
        gate_recovery = None
        if old_recovery_key is not None:
            gate_recovery = proofs.recovery_proof(old_recovery_key.key, record.wallet_id)
        elif not wait and device.cloud_slot is not None:
            slot = parse_server_slot(device.cloud_slot)
            if slot.server == srv.server:
                self.report("Proving the cloud backup's password to the server (one attempt)")
                proof = server_slot_proof(
                    slot,
                    device.cloud_backup_id,
                    password,
                    self.backups._kdf_hook,
                    self.backups.hardening,
                )
                gate_password = (slot.handle, proof)
        self.report("Re-creating the cloud share with the server")
        cloud_share, passed = _repair(srv, record, CLOUD, gate_password, gate_recovery)
        if passed == "delay":
            self.report("The delay announced earlier has passed: re-creating the cloud share")
        cloud_record = replace(record, participant=CLOUD, secshare=cloud_share)
        rkey = RecoveryKey.generate() if recovery_key else None
        backup_id, new_slot = self._write_cloud(cloud_record, password, cloud, rkey, harden=True)
        self._link_cloud(srv, cloud_record, new_slot, rkey)
        device = self.store.save(record, cloud, backup_id, pin, _slot(new_slot))
        return _info(device, rkey, "new" if rkey else "none", new_slot)

    def export_key(
        self, wallet_id: str, cloud: str, secret: Secret, pin: str | None = None
    ) -> ExportedKey:
        """The emergency exit: the whole (untweaked internal) private key, from the device and
        cloud shares, without the server (open a hardened cloud backup with its recovery key
        when the server is gone)."""
        device = self.store.load(self.store.find(wallet_id), pin)
        same_place = cloud == device.cloud_location
        try:
            cloud_record, _ = self._open_cloud(
                cloud, secret, device.cloud_backup_id if same_place else None
            )
        except UnreachableError as exc:
            raise UnreachableError(
                f"{exc.message} The cloud backup is hardened by that server: without it, open "
                "the backup with its recovery key (--with-recovery-key)."
            ) from None
        record = device.record
        if cloud_record.wallet_id != record.wallet_id:
            raise InputError(f"The cloud backup at {cloud} is another wallet's share.")
        if cloud_record.epoch != record.epoch:
            raise InputError(
                f"The cloud share (epoch {cloud_record.epoch}) and this device's share (epoch "
                f"{record.epoch}) are from different refreshes: they do not combine."
            )
        secret_key = interpolate_secret(
            record.key, {DEVICE: record.secshare, CLOUD: cloud_record.secshare}
        )
        network = _network(record.network)
        key_wif = wif(secret_key, network)
        xprv = ExtendedKey(
            addresses.xpub(record.key, network).version, 0, bytes(4), 0, CHAIN_CODE, secret_key
        )
        origin = f"[{addresses.fingerprint(record.key)}]{xprv.serialize()}"
        first = addresses.first_address(record.key, network, record.derived)
        return ExportedKey(
            secret_key,
            key_wif,
            with_checksum(f"tr({origin}/<0;1>/*)"),
            first.address,
            None if record.derived else with_checksum(f"tr({key_wif})"),
        )

    # -- status -------------------------------------------------------------------------------

    def status(self, check: bool = True) -> list[dict[str, Any]]:
        """Each wallet on this device and whether it can still sign and recover: the server's
        view of it (same epoch, or recovered elsewhere), and its cloud backup's health
        (`Backups.health`: present, intact, what opens it, the hardening key's attempts left).
        `check=False` reads only this device's files."""
        health = {h.entry.backup_id: h for h in self.backups.health()} if check else {}
        rows = []
        for wallet_id in self.store.wallet_ids():
            fields = self.store.public(wallet_id)
            key = group_key(fields)
            network = _network(fields["network"])
            derived = fields.get("derivation") == "bip328"
            row: dict[str, Any] = {
                "wallet_id": wallet_id,
                "label": fields.get("label"),
                "network": fields["network"],
                "address": addresses.first_address(key, network, derived).address,
                "output_key": addresses.first_address(key, network, derived).output_key.hex(),
                "server": fields["server"],
                "epoch": fields["epoch"],
                "cloud_backup": fields["cloud"],
                "protection": fields["protection"],
            }
            if check:
                cloud = health.get(fields["cloud"]["backup_id"])
                row["cloud_health"] = None if cloud is None else cloud.as_dict()
                row["server_state"] = self._server_state(fields)
                row["level"], row["verdict"] = _wallet_verdict(row["server_state"], cloud)
            rows.append(row)
        return rows

    def _server_state(self, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            state = self._server(fields["server"]).wallet(fields["wallet_id"])
        except UnreachableError as exc:
            return {"state": "unreachable", "detail": exc.message}
        except SeedguardError as exc:
            return {"state": "refused", "detail": exc.message}
        epoch = state.get("epoch")
        if state.get("status") != "active":
            return {"state": "inactive", "detail": f"the server's copy is {state.get('status')}"}
        if epoch == fields["epoch"] or epoch == fields["epoch"] - 1:
            return {"state": "ok", "epoch": epoch}
        return {
            "state": "stale",
            "epoch": epoch,
            "detail": f"the server is at epoch {epoch}, this device at {fields['epoch']}: the "
            "wallet was recovered on another device, and this share no longer signs",
        }


def _wallet_verdict(server: dict[str, Any], cloud: BackupHealth | None) -> tuple[str, str]:
    """One line: can this wallet still sign (device + server) and recover (cloud + server, or
    the emergency exit)?"""
    if server["state"] in ("stale", "refused", "inactive"):
        return "bad", f"This device's share does not sign: {server['detail']}."
    if cloud is None:
        return "bad", (
            "Its cloud backup is not registered on this device: check it with `seedguard backup "
            "verify --from LOCATION`."
        )
    if cloud.level == "bad" and cloud.state == "degraded":
        return "bad", f"Signs with the server; the cloud backup: {cloud.verdict}"
    if cloud.level == "bad":
        return "bad", (
            f"Signs with the server, but a lost device could not be recovered: {cloud.verdict} "
            "Re-create the cloud share with `seedguard mpc repair-cloud`."
        )
    if server["state"] == "unreachable":
        return "unknown", f"The server could not be asked ({server['detail']})."
    if cloud.level == "unknown":
        return "unknown", f"Signs with the server; the cloud backup: {cloud.verdict}"
    return cloud.level, f"Signs with the server; the cloud backup: {cloud.verdict}"


# --- the protocol steps, device side -----------------------------------------------------------


def _keygen(
    srv: MpcServer, wallet_id: str, server_hostpubkey: bytes, report: Report
) -> dict[int, chilldkg.DKGOutput]:
    """ChillDKG with this device as coordinator and as participants 0 and 2."""
    hosts = {DEVICE: secrets.token_bytes(32), CLOUD: secrets.token_bytes(32)}
    hostpubkeys = [
        chilldkg.hostpubkey_gen(hosts[DEVICE]),
        server_hostpubkey,
        chilldkg.hostpubkey_gen(hosts[CLOUD]),
    ]
    params = chilldkg.SessionParams(tuple(hostpubkeys), T)
    try:
        states1 = {
            i: chilldkg.participant_step1(h, params, secrets.token_bytes(32))
            for i, h in hosts.items()
        }
        report("Key generation, round 1")
        server_pmsg1 = srv.dkg_round1(wallet_id, hostpubkeys)
        pmsgs1 = [states1[DEVICE][1], server_pmsg1, states1[CLOUD][1]]
        cstate, cmsg1 = chilldkg.coordinator_step1(pmsgs1, params)
        states2 = {
            i: chilldkg.participant_step2(hosts[i], states1[i][0], cmsg1, secrets.token_bytes(32))
            for i in hosts
        }
        report("Key generation, round 2")
        server_pmsg2 = srv.dkg_round2(wallet_id, cmsg1)
        pmsgs2 = [states2[DEVICE][1], server_pmsg2, states2[CLOUD][1]]
        cmsg2, coordinator_output, _ = chilldkg.coordinator_finalize(cstate, pmsgs2)
        outputs = {i: chilldkg.participant_finalize(states2[i][0], cmsg2)[0] for i in hosts}
    except DkgError as exc:  # every ChillDKG failure, malformed messages included
        culprit = getattr(exc, "participant_id", None)
        who = f" ({NAMES[culprit]} is to blame)" if culprit in NAMES else ""
        raise InputError(f"Key generation aborted{who}: {exc.message}") from None
    server_view = srv.dkg_finalize(wallet_id, cmsg2)
    if unb64(server_view["thresh_pk"], "thresh_pk") != coordinator_output.thresh_pk:
        raise InputError("The server ended key generation with another key: aborted.")
    return outputs


def _slot(slot: ServerSlot | None) -> dict[str, Any] | None:
    return None if slot is None else slot.as_dict()


def _secshare(output: chilldkg.DKGOutput) -> bytes:
    assert output.secshare is not None
    return output.secshare


def _as_device(record: ShareRecord, secshare: bytes) -> ShareRecord:
    return replace(record, participant=DEVICE, secshare=secshare)


def _info(
    device: DeviceWallet,
    recovery_key: RecoveryKey | None,
    recovery: str,
    slot: ServerSlot | None,
) -> WalletInfo:
    r = device.record
    return WalletInfo(
        r.wallet_id,
        r.key,
        r.network,
        r.label,
        r.epoch,
        device.cloud_location,
        device.cloud_backup_id,
        recovery_key,
        recovery,
        None if slot is None else slot.server,
        r.derived,
    )


def _check_same_wallet(state: dict[str, Any], record: ShareRecord) -> None:
    if state.get("status") != "active" or state.get("thresh_pk") is None:
        raise InputError("The server's copy of this wallet is not active.")
    if unb64(state["thresh_pk"], "thresh_pk") != record.key.thresh_pk:
        raise InputError("The server holds another key under this wallet id: aborted.")


def _prove(record: ShareRecord, epoch: int, challenge: bytes, purpose: str, digest: bytes) -> bytes:
    if epoch != record.epoch:
        raise InputError(
            f"This share is from epoch {record.epoch} but the server is at {epoch}: the wallet "
            "was refreshed elsewhere, and this share no longer works."
        )
    return proofs.prove_share(
        record.secshare, record.wallet_id, epoch, record.participant, challenge, purpose, digest
    )


def _repair(
    srv: MpcServer,
    record: ShareRecord,
    target: int,
    password: tuple[bytes, bytes] | None = None,
    recovery_proof: bytes | None = None,
) -> tuple[bytes, str | None]:
    """Re-create `target`'s share with the server, this device acting as the other helper
    (the repairable threshold scheme; neither helper's share is sent). This helper proves its
    share and commits to the delta it keeps; the server's contribution is checked the same
    way. Returns (the share, how the server's cloud gate was passed)."""
    mine = record.participant
    helpers = sorted((SERVER, mine))
    deltas = repairable.repair_share_step_1(
        helpers, mine, int.from_bytes(record.secshare, "big"), target
    )
    commitment = proofs.commit(deltas[mine])
    challenge, epoch = srv.challenge(record.wallet_id)
    digest = proofs.request_digest(
        b"repair", bytes([target]), scalar_bytes(deltas[SERVER]), commitment
    )
    proof = _prove(record, epoch, challenge, "repair", digest)
    delta_from_server, sigma_server, kept, passed = srv.repair(
        record.wallet_id,
        target,
        deltas[SERVER],
        commitment,
        challenge,
        {mine: proof},
        password,
        recovery_proof,
    )
    server_pubshare = record.key.pubshares[SERVER]
    if not proofs.contribution_ok(
        helpers, SERVER, target, server_pubshare, [proofs.commit(delta_from_server), kept]
    ) or not proofs.sigma_ok(sigma_server, kept, deltas[SERVER]):
        raise CulpritError(SERVER)
    sigma_mine = repairable.repair_share_step_2([deltas[mine], delta_from_server])
    share = repairable.repair_share_step_3([sigma_server, sigma_mine])
    if share == 0 or public_key(scalar_bytes(share)) != record.key.pubshares[target]:
        raise CulpritError(SERVER)
    return scalar_bytes(share), passed


def _refresh(
    srv: MpcServer, device: ShareRecord, cloud: ShareRecord
) -> tuple[ShareRecord, ShareRecord]:
    """Fresh shares for all three under the same key; the server's waits for commit."""
    mine = refresh.ZeroPolynomial.generate(T)
    challenge, current = srv.challenge(device.wallet_id)
    digest = proofs.request_digest(
        b"refresh", *mine.commitment(), scalar_bytes(mine.share_for(SERVER))
    )
    proven = {
        DEVICE: _prove(device, current, challenge, "refresh", digest),
        CLOUD: _prove(cloud, current, challenge, "refresh", digest),
    }
    theirs, shares, epoch = srv.refresh(
        device.wallet_id, mine.commitment(), mine.share_for(SERVER), challenge, proven
    )
    for participant in (DEVICE, CLOUD):
        refresh.verify_share(shares[participant], theirs, participant, "the server")
    commitments = [list(mine.commitment()), theirs]
    key = GroupKey(
        device.key.thresh_pk,
        tuple(
            refresh.refreshed_pubshare(device.key.pubshares[i], commitments, i) for i in range(3)
        ),
    )
    key.check()

    def bump(record: ShareRecord) -> ShareRecord:
        i = record.participant
        value = (
            int.from_bytes(record.secshare, "big") + mine.share_for(i) + shares[i]
        ) % CURVE_ORDER
        return record.with_share(scalar_bytes(value), key, epoch)

    new_device, new_cloud = bump(device), bump(cloud)
    new_device.check()
    new_cloud.check()
    return new_device, new_cloud

"""Where an MPC wallet's shares live on the user's side.

- `ShareRecord`: one share with the wallet's public data; its bytes are the payload of the
  cloud envelope (kind `mpc-share`) and, encrypted, the device file.
- `DeviceStore`: the device's share in `$SEEDGUARD_HOME/mpc/<wallet>.json` (0600 in a 0700
  folder), encrypted under a key from the OS keyring where one exists, otherwise from a device
  PIN (Argon2id), otherwise (no keyring and no PIN chosen) a device key file beside it, which
  protects against copies of the share file alone, not against someone who can read the
  whole folder. A replacement file is written and read back before it takes the old one's
  place.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seedguard import home as homes
from seedguard.errors import InputError, UsageError, WrongSecretError
from seedguard.fs import private_key_file, read_bounded, write_private_file
from seedguard.hd.addresses import segwit_address
from seedguard.hd.slip132 import Network
from seedguard.parsing import MAX_JSON_BYTES, parse_json
from seedguard.primitives import aead
from seedguard.primitives.kdf import argon2id
from seedguard.threshold.keys import GroupKey

FORMAT = "seedguard-mpc-share/1"
KEYRING_SERVICE = "seedguard"
PIN_KDF = {"memory_kib": 64 * 1024, "iterations": 3, "parallelism": 1}


@dataclass(frozen=True, repr=False)
class ShareRecord:
    wallet_id: str
    server: str
    network: str
    label: str | None
    epoch: int
    participant: int
    secshare: bytes
    key: GroupKey
    # True for wallets made since addresses are derived (BIP-328 chain code, docs/mpc.md):
    # their first address is 0/0. Older wallets keep their index-free address first.
    derived: bool = False

    def public(self) -> dict[str, Any]:
        extra = {"derivation": "bip328"} if self.derived else {}
        return {
            "format": FORMAT,
            "wallet_id": self.wallet_id,
            "server": self.server,
            "network": self.network,
            "label": self.label,
            "epoch": self.epoch,
            "participant": self.participant,
            "thresh_pk": self.key.thresh_pk.hex(),
            "pubshares": [p.hex() for p in self.key.pubshares],
            **extra,
        }

    def to_bytes(self) -> bytes:
        return json.dumps({**self.public(), "secshare": self.secshare.hex()}).encode()

    @staticmethod
    def from_public(fields: dict[str, Any], secshare: bytes) -> ShareRecord:
        try:
            typed = _Public.model_validate(fields, strict=True)
        except (ValidationError, ValueError, RecursionError):
            raise InputError("This is not a seedguard MPC share (or it is damaged).") from None
        key = GroupKey(
            bytes.fromhex(typed.thresh_pk), tuple(bytes.fromhex(p) for p in typed.pubshares)
        )
        record = ShareRecord(
            typed.wallet_id,
            typed.server,
            typed.network,
            typed.label,
            typed.epoch,
            typed.participant,
            secshare,
            key,
            typed.derivation == "bip328",
        )
        record.check()
        return record

    @staticmethod
    def from_bytes(data: bytes) -> ShareRecord:
        typed = parse_json(
            _RecordBytes, data, "This is not a seedguard MPC share (or it is damaged)."
        )
        fields = typed.model_dump()
        return ShareRecord.from_public(fields, bytes.fromhex(fields.pop("secshare")))

    def check(self) -> None:
        """The share must be the one its public share says."""
        from seedguard.primitives.secp256k1 import public_key

        if len(self.key.pubshares) != 3 or self.participant not in (0, 1, 2):
            raise InputError("This MPC share names an unknown participant.")
        try:
            matches = public_key(self.secshare) == self.key.pubshares[self.participant]
        except ValueError:
            matches = False
        if not matches:
            raise InputError("This MPC share does not match its wallet's public share (damaged).")

    def with_share(self, secshare: bytes, key: GroupKey, epoch: int) -> ShareRecord:
        return replace(self, secshare=secshare, key=key, epoch=epoch)

    def __repr__(self) -> str:
        return f"ShareRecord(wallet_id={self.wallet_id!r}, participant={self.participant}, ...)"


def address(key: GroupKey, network: Network = "mainnet") -> str:
    """The wallet's Taproot address: the BIP-341 output key, bech32m (witness version 1)."""
    return segwit_address(1, key.output_key, network)


def group_key(fields: dict[str, Any]) -> GroupKey:
    """The wallet's public key material from a record's (or device file's) fields."""
    return GroupKey(
        bytes.fromhex(fields["thresh_pk"]), tuple(bytes.fromhex(p) for p in fields["pubshares"])
    )


@dataclass(frozen=True)
class DeviceWallet:
    """The device's share of one wallet, and where its cloud share is kept."""

    record: ShareRecord
    cloud_location: str
    cloud_backup_id: str
    protection: str
    # The cloud envelope's server-hardened slot, as in its header (public): with the backup
    # password it proves the owner to the server when the cloud share must be re-created.
    cloud_slot: dict[str, Any] | None = None


def keyring_available() -> bool:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    backend = keyring.get_keyring()
    return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 1) > 0


class DeviceStore:
    def __init__(self, home: Path | None = None) -> None:
        self.home = home if home is not None else homes.home()
        self.folder = self.home / "mpc"

    def path(self, wallet_id: str) -> Path:
        if not wallet_id.isalnum():
            raise UsageError(f"{wallet_id!r} is not a wallet id.")
        return self.folder / f"{wallet_id}.json"

    def wallet_ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def find(self, wallet_id: str) -> str:
        """The full id of a wallet on this device from an id or a unique prefix."""
        matches = [w for w in self.wallet_ids() if w.startswith(wallet_id.lower())]
        if len(matches) != 1:
            what = "No MPC wallet" if not matches else "More than one MPC wallet"
            raise UsageError(
                f"{what} on this device matches {wallet_id!r}: `seedguard mpc status` lists them."
            )
        return matches[0]

    def public(self, wallet_id: str) -> dict[str, Any]:
        """The device file's fields, every one typed and bounded (a damaged or doctored file
        is one error naming it, never a KeyError deep inside a command)."""
        path = self.path(wallet_id)
        if not path.exists():
            raise UsageError(f"No MPC wallet {wallet_id} on this device.")
        data = read_bounded(path, MAX_JSON_BYTES, "a device share file")
        typed = parse_json(
            _DeviceFile,
            data,
            f"The device share file {path} is damaged: restore the wallet from its cloud backup "
            "(`seedguard mpc recover`), or put back a copy of the file.",
        )
        return typed.model_dump()

    def protection(self, wallet_id: str) -> str:
        return str(self.public(wallet_id)["protection"])

    # -- keys ---------------------------------------------------------------------------------

    def _device_key(self) -> bytes:
        homes.ensure(self.folder)
        return private_key_file(self.folder / "device.key")

    def _new_key(self, wallet_id: str, pin: str | None) -> tuple[str, bytes, dict[str, Any]]:
        if pin:
            salt = secrets.token_bytes(16)
            return "pin", _pin_key(pin, salt), {"salt": salt.hex(), **PIN_KDF}
        if keyring_available():
            import keyring

            # A new entry per file: the entry of the file being replaced stays until the new
            # file is in place, so a failed write never strands the last good share.
            entry = f"mpc:{wallet_id}:{secrets.token_hex(4)}"
            key = secrets.token_bytes(32)
            keyring.set_password(KEYRING_SERVICE, entry, key.hex())
            return "keyring", key, {"keyring_entry": entry}
        return "device-key", self._device_key(), {}

    def _key(self, wallet_id: str, fields: dict[str, Any], pin: str | None) -> bytes:
        protection = fields["protection"]
        if protection == "pin":
            if not pin:
                raise UsageError("This device's share is protected by a PIN: enter it.")
            kdf = fields["kdf"]
            return _pin_key(pin, bytes.fromhex(kdf["salt"]), kdf)
        if protection == "keyring":
            import keyring

            stored = keyring.get_password(KEYRING_SERVICE, str(fields["kdf"]["keyring_entry"]))
            if stored is None:
                raise InputError(
                    "The OS keyring no longer holds this device share's key: recover the wallet "
                    "from its cloud backup (`seedguard mpc recover`)."
                )
            return bytes.fromhex(stored)
        return self._device_key()

    # -- read and write -----------------------------------------------------------------------

    def save(
        self,
        record: ShareRecord,
        cloud_location: str,
        cloud_backup_id: str,
        pin: str | None = None,
        cloud_slot: dict[str, Any] | None = None,
    ) -> DeviceWallet:
        """Write the device file (a new wallet, or a replacement after a refresh): the new
        file is written and read back before it replaces the old one."""
        homes.ensure(self.home)
        homes.ensure(self.folder)
        protection, key, kdf = self._new_key(record.wallet_id, pin)
        nonce = aead.random_nonce()
        fields = {
            **record.public(),
            "cloud": {
                "location": cloud_location,
                "backup_id": cloud_backup_id,
                "server_slot": cloud_slot,
            },
            "protection": protection,
            "kdf": kdf,
            "nonce": nonce.hex(),
        }
        sealed = aead.seal(key, nonce, record.secshare, _aad(fields))
        data = json.dumps({**fields, "share": sealed.hex()}, indent=1).encode()
        final = self.path(record.wallet_id)
        previous = self._keyring_entry(final)
        temporary = final.with_name(f".{final.name}.{secrets.token_hex(4)}")
        write_private_file(temporary, data)
        try:
            if temporary.read_bytes() != data:
                raise InputError(f"{temporary} did not read back as written: disk trouble?")
            os.replace(temporary, final)
        finally:
            temporary.unlink(missing_ok=True)
        if previous is not None and previous != kdf.get("keyring_entry"):
            _forget_keyring_entry(previous)
        return DeviceWallet(record, cloud_location, cloud_backup_id, protection, cloud_slot)

    def _keyring_entry(self, path: Path) -> str | None:
        try:
            fields = json.loads(path.read_text("utf-8"))
            return (
                str(fields["kdf"]["keyring_entry"]) if fields["protection"] == "keyring" else None
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load(self, wallet_id: str, pin: str | None = None) -> DeviceWallet:
        fields = self.public(wallet_id)
        key = self._key(wallet_id, fields, pin)
        public = {k: v for k, v in fields.items() if k not in ("share",)}
        try:
            secshare = aead.open_(
                key, bytes.fromhex(fields["nonce"]), bytes.fromhex(fields["share"]), _aad(public)
            )
        except aead.AuthenticationFailed:
            if fields["protection"] == "pin":
                raise WrongSecretError("The device PIN is wrong.") from None
            raise InputError(
                f"The device share of {wallet_id} does not decrypt (damaged)."
            ) from None
        record = ShareRecord.from_public(fields, secshare)
        cloud = fields["cloud"]
        return DeviceWallet(
            record,
            cloud["location"],
            cloud["backup_id"],
            fields["protection"],
            cloud.get("server_slot"),
        )

    def remove(self, wallet_id: str) -> None:
        self.path(wallet_id).unlink(missing_ok=True)


_HEX33 = Annotated[str, Field(pattern=r"^[0-9a-f]{66}$")]
_HEX32 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Public(BaseModel):
    """A share record's public fields (a cloud payload's, or a device file's)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    format: Literal["seedguard-mpc-share/1"]
    wallet_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    server: Annotated[str, Field(min_length=1, max_length=300)]
    network: Literal["mainnet", "testnet"]
    label: Annotated[str, Field(max_length=200)] | None
    epoch: Annotated[int, Field(ge=0, le=2**31)]
    participant: Annotated[int, Field(ge=0, le=2)]
    thresh_pk: _HEX33
    pubshares: Annotated[list[_HEX33], Field(min_length=3, max_length=3)]
    derivation: Literal["bip328"] | None = None


class _RecordBytes(_Public):
    """The cloud envelope's `mpc-share` payload: the public fields and the share."""

    model_config = ConfigDict(strict=True, extra="forbid")

    secshare: _HEX32


class _Cloud(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    location: Annotated[str, Field(min_length=1, max_length=2000)]
    backup_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    server_slot: dict[str, Any] | None = None


class _DeviceKdf(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    salt: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None
    memory_kib: int | None = None
    iterations: int | None = None
    parallelism: int | None = None
    keyring_entry: Annotated[str, Field(max_length=200)] | None = None


class _DeviceFile(_Public):
    """$SEEDGUARD_HOME/mpc/<wallet>.json."""

    model_config = ConfigDict(strict=True, extra="forbid")

    cloud: _Cloud
    protection: Literal["pin", "keyring", "device-key"]
    kdf: _DeviceKdf
    nonce: Annotated[str, Field(pattern=r"^[0-9a-f]{48}$")]
    share: Annotated[str, Field(pattern=r"^[0-9a-f]{1,256}$")]


def _forget_keyring_entry(entry: str) -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    with contextlib.suppress(PasswordDeleteError):
        keyring.delete_password(KEYRING_SERVICE, entry)


def _aad(fields: dict[str, Any]) -> bytes:
    bound = {k: fields[k] for k in ("format", "wallet_id", "epoch", "participant", "thresh_pk")}
    return json.dumps(bound, sort_keys=True).encode()


def _pin_key(pin: str, salt: bytes, params: dict[str, Any] | None = None) -> bytes:
    p = params or PIN_KDF
    # Bounded before running: a doctored file must not make the KDF eat the machine.
    if not (
        8 * 1024 <= int(p["memory_kib"]) <= 1024 * 1024
        and 1 <= int(p["iterations"]) <= 16
        and 1 <= int(p["parallelism"]) <= 8
        and len(salt) == 16
    ):
        raise InputError("The device share file asks for PIN key derivation out of bounds.")
    return argon2id(
        pin.encode("utf-8"),
        salt,
        memory_kib=int(p["memory_kib"]),
        iterations=int(p["iterations"]),
        parallelism=int(p["parallelism"]),
    )

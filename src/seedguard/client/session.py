"""A device's account on a seedguard server: its signing key, its session token, its calls.

The device key (secp256k1) is created on first use and kept in
`$SEEDGUARD_HOME/servers/<hash of the server>.json` (0600 in a 0700 folder); registering it
creates the account, with no extra step. A session token lives in this process's memory only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from coincurve import PrivateKey

from seedguard import home as homes
from seedguard.errors import (
    BackupMissingError,
    BusyError,
    HardeningKeyDestroyedError,
    InputError,
    PendingError,
    SeedguardError,
    UnreachableError,
    UsageError,
)

AUTH_TAG = b"seedguard/auth/v1\x00"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: Any, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4))
    except (binascii.Error, ValueError):
        raise UnreachableError(f"The server sent a malformed {what}.") from None


def canonical_server(text: str) -> str:
    """http(s)://host:port from `http(s)://...` or `seedguard+http(s)://...` (no path)."""
    raw = text.strip()
    parts = urlsplit(raw)
    scheme = parts.scheme.lower().removeprefix("seedguard+")
    if scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{raw}: a seedguard server is http(s)://host:port or seedguard+http(s)://host:port."
        )
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{raw}: credentials do not belong in a server address.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"{raw}: a server address has no path: give only host and port.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"{raw}: the port is not a number from 1 to 65535.") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


@dataclass
class Identity:
    server: str
    key: PrivateKey
    account: str | None = None
    device: str | None = None

    @property
    def public_key(self) -> bytes:
        return bytes(self.key.public_key.format(compressed=True))


_lock = threading.Lock()
_tokens: dict[tuple[str, str], str] = {}  # (identity file, server) -> token, this process only
_http: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    global _http
    with _lock:
        if _http is None:
            _http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        return _http


class ServerClient:
    """Calls to one server on behalf of this device (registered on first use)."""

    def __init__(self, server: str, home: Path | None = None) -> None:
        self.server = canonical_server(server)
        self.folder = (home or homes.home()) / "servers"
        self.path = self.folder / (hashlib.sha256(self.server.encode()).hexdigest()[:24] + ".json")
        # An account recovery credential this process read from a backup it opened (memory
        # only): the proof the server asks of a device for what a thief must not do at once.
        self.credential: bytes | None = None

    # -- identity -------------------------------------------------------------------------

    def identity(self) -> Identity | None:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            key = PrivateKey(bytes.fromhex(raw["private_key"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(
                f"{self.path} is damaged: move it away to use a new device key with {self.server}."
            ) from None
        return Identity(self.server, key, raw.get("account"), raw.get("device"))

    def _save(self, identity: Identity) -> None:
        homes.ensure(self.folder.parent)
        homes.ensure(self.folder)
        data = {
            "server": identity.server,
            "private_key": identity.key.secret.hex(),
            "account": identity.account,
            "device": identity.device,
        }
        homes.write_atomic(self.path, json.dumps(data, indent=2).encode() + b"\n")

    @property
    def account(self) -> str | None:
        identity = self.identity()
        return identity.account if identity else None

    # -- sessions -------------------------------------------------------------------------

    def sign_in(self, enroll: tuple[str, bytes] | None = None, revoke_others: bool = False) -> str:
        """A session token; registers the device (a new account) on first use, or enrolls it
        in an account with (account id, recovery credential)."""
        with homes.lock(self.folder.parent / "locks" / "servers.lock"):
            identity = self.identity()
            if enroll is not None and identity is not None and identity.account == enroll[0]:
                enroll = None  # already a device of that account
            if identity is None or enroll is not None:
                # A new key for a new registration: a key already registered elsewhere stays.
                identity = Identity(self.server, PrivateKey())
            challenge = self._call(
                "POST", "/v1/auth/challenge", json={"public_key": b64(identity.public_key)}
            ).json()["challenge"]
            signature = identity.key.sign(AUTH_TAG + unb64(challenge, "challenge"))
            body: dict[str, Any] = {
                "public_key": b64(identity.public_key),
                "challenge": challenge,
                "signature": b64(signature),
            }
            if enroll is not None:
                body["enroll"] = {
                    "account": enroll[0],
                    "credential": b64(enroll[1]),
                    "revoke_others": revoke_others,
                }
            elif identity.account is None:
                body["new_account"] = True
            try:
                answer = self._call("POST", "/v1/auth/token", json=body).json()
            except InputError as exc:
                if identity.account is None or "not registered" not in exc.message:
                    raise
                raise InputError(
                    f"{self.server} no longer knows this device (was its database reset?): "
                    f"move {self.path} away to register a new account there."
                ) from None
            if (identity.account, identity.device) != (answer["account"], answer["device"]):
                identity.account, identity.device = answer["account"], answer["device"]
                self._save(identity)
            token = str(answer["token"])
            _tokens[(str(self.path), self.server)] = token
            return token

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """An authenticated call; signs in (again) when there is no token or it expired."""
        key = (str(self.path), self.server)
        for attempt in range(2):
            token = _tokens.get(key) or self.sign_in()
            response = self._call(
                method,
                path,
                json=json,
                content=content,
                headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                ok=(401, *ok),
            )
            if response.status_code != 401 or attempt:
                if response.status_code == 401:
                    raise InputError(f"{self.server} refused this device: {_message(response)}")
                return response
            _tokens.pop(key, None)
        raise AssertionError("unreachable")

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        try:
            response = _shared_http().request(
                method, self.server + path, json=json, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise UnreachableError(f"The seedguard server at {self.server} timed out.") from None
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            raise UnreachableError(
                f"Cannot reach the seedguard server at {self.server} ({reason}): is it running, "
                "and is the address right?"
            ) from None
        if response.status_code == 202 and 202 not in ok:
            raise pending_refusal(self.server, response)
        if response.status_code < 300 or response.status_code in ok:
            return response
        raise refusal(self.server, response)

    # -- account management ---------------------------------------------------------------------

    def account_info(self) -> dict[str, Any]:
        return dict(self.request("GET", "/v1/account").json())

    def revoke(self, device: str) -> None:
        """Revoke a device: with a recovery credential this process learned from a backup it
        opened, at once; without, another device only after the account's delay
        (PendingError)."""
        body = {"credential": None if self.credential is None else b64(self.credential)}
        self.request("POST", f"/v1/account/devices/{device}/revoke", json=body)

    def add_recovery_credential(self, credential: bytes) -> float | None:
        """Register a credential's hash; returns when it becomes active (None: at once). A
        credential this process learned from an opened backup proves the owner."""
        verifier = hashlib.sha256(credential).digest()
        body = {
            "verifier": b64(verifier),
            "proof": None if self.credential is None else b64(self.credential),
        }
        response = self.request("POST", "/v1/account/recovery-credentials", json=body, ok=(202,))
        if response.status_code == 202:
            return float(response.json()["active_from"])
        return None


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def pending_refusal(server: str, response: httpx.Response) -> PendingError:
    try:
        answer = response.json()
        message, pending = str(answer["message"]), dict(answer.get("pending") or {})
    except (ValueError, KeyError, TypeError):
        message, pending = "The server holds this action for the account's delay.", {}
    when = pending.get("release_at")
    if isinstance(when, int | float):
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))
        message += f" Run the same command again after {stamp}."
    return PendingError(
        f"{server}: {message} To stop it, run `seedguard account cancel` from any device of "
        "the account.",
        pending,
    )


def refusal(server: str, response: httpx.Response) -> SeedguardError:
    status, message = response.status_code, _message(response)
    if status == 404:
        return BackupMissingError(f"{server}: {message}")
    if status == 410:
        return HardeningKeyDestroyedError(f"{server}: {message}")
    if status == 412:
        return BusyError(f"{server}: {message} Another device changed it; run it again.")
    if status == 403 and "revoked" in message:
        return InputError(
            f"{server}: this device was revoked from its account. Restore a backup with "
            "--revoke-other-devices (an MPC wallet: `seedguard mpc recover`) on this device to "
            "enroll it again."
        )
    if status == 429 or status >= 500:
        return UnreachableError(f"The seedguard server at {server} answered: {message}")
    return InputError(f"{server}: {message}")


_clients: dict[tuple[str, str], ServerClient] = {}


def client_for(server: str, home: Path | None = None) -> ServerClient:
    folder = home or homes.home()
    key = (str(folder), canonical_server(server))
    with _lock:
        if key not in _clients:
            _clients[key] = ServerClient(key[1], folder)
        return _clients[key]

"""The client side of the social-recovery relay (a seedguard server): a guardian's mailbox,
the owner's deposits and delay, a new device's request, guardians' approvals, the release."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyrage import x25519

from seedguard import home as homes
from seedguard.client import client_for
from seedguard.client.session import b64, unb64
from seedguard.errors import InputError, UsageError
from seedguard.fs import write_private_file
from seedguard.social import sealed, shares
from seedguard.social.guardian import Guardian

REQUESTS = "recovery"  # $SEEDGUARD_HOME/recovery/<code>.json: the request's age identity


def open_mailbox(relay: str, guardian: Guardian, home: Path | None = None) -> str:
    client = client_for(relay, home)
    mailbox = str(client.request("POST", "/v1/social/mailboxes").json()["mailbox"])
    guardian.set_mailbox(client.server, mailbox)
    return mailbox


def deposit(relay: str, mailbox: str, data: bytes, home: Path | None = None) -> str:
    answer = client_for(relay, home).request(
        "POST", "/v1/social/deposits", json={"mailbox": mailbox, "sealed": b64(data)}
    )
    return str(answer.json()["deposit"])


def set_delay(relay: str, seconds: float, home: Path | None = None) -> float:
    answer = client_for(relay, home).request("PUT", "/v1/social/delay", json={"seconds": seconds})
    return float(answer.json()["seconds"])


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as the server draws them (no 0/O, 1/I)


def normalize_code(text: str) -> str:
    """A request code as typed or heard: any case, with or without the dash or spaces."""
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != 8 or any(c not in CODE_ALPHABET for c in code):
        raise InputError(
            f"{text!r} is not a request code: a code is 8 letters and digits, shown as "
            "XXXX-XXXX (0, O, 1 and I never appear in one)."
        )
    return code


def show_code(code: str) -> str:
    """A request code as seedguard prints it everywhere: XXXX-XXXX."""
    code = code.replace("-", "").upper()
    return f"{code[:4]}-{code[4:]}"


def _request_file(home: Path | None, code: str) -> Path:
    return (home or homes.home()) / REQUESTS / f"{code}.json"


def start(relay: str, label: str, home: Path | None = None) -> str:
    """Open a request; its age identity stays on this device until the shares are combined."""
    identity = x25519.Identity.generate()
    client = client_for(relay, home)
    answer = client.request(
        "POST",
        "/v1/social/requests",
        json={"label": label, "public_key": str(identity.to_public())},
    )
    code = str(answer.json()["code"])
    folder = homes.ensure((home or homes.home()) / REQUESTS)
    body = {"relay": client.server, "code": code, "identity": str(identity)}
    write_private_file(folder / f"{code}.json", json.dumps(body).encode())
    return code


def describe(relay: str, code: str, home: Path | None = None) -> dict[str, Any]:
    code = normalize_code(code)
    return dict(client_for(relay, home).request("GET", f"/v1/social/requests/{code}").json())


@dataclass(frozen=True)
class Approval:
    label: str  # the owner's label on the share
    approvals: int


def approve(
    relay: str,
    code: str,
    identity: x25519.Identity,
    mailbox: str,
    owner_label: str | None = None,
    home: Path | None = None,
) -> Approval:
    """Re-seal this guardian's share to the request's key and attach it."""
    client = client_for(relay, home)
    info = describe(relay, code, home)
    if info["state"] == "cancelled":
        raise InputError("The owner cancelled this recovery request.")
    opened = [
        (d["deposit"], sealed.open_sealed(unb64(d["sealed"], "share"), identity))
        for d in _mailbox(client, mailbox)
    ]
    if owner_label is not None:
        opened = [(d, item) for d, item in opened if item.label == owner_label]
    if not opened:
        raise InputError("Your mailbox holds no share for that owner: nothing was approved.")
    if len({item.label for _, item in opened}) > 1:
        labels = ", ".join(sorted({repr(item.label) for _, item in opened}))
        raise UsageError(f"You hold shares of several owners ({labels}): name one with --for.")
    deposit_id, item = opened[-1]  # the newest share of that owner
    resealed = sealed.seal(item, str(info["public_key"]))
    answer = client.request(
        "POST",
        f"/v1/social/requests/{info['code']}/approvals",
        json={"deposit": deposit_id, "resealed": b64(resealed)},
    )
    return Approval(item.label, int(answer.json()["approvals"]))


def _mailbox(client: Any, mailbox: str) -> Iterator[dict[str, Any]]:
    """Every deposit of a mailbox, a page at a time."""
    after = ""
    while True:
        page = client.request("GET", f"/v1/social/mailboxes/{mailbox}{after}").json()
        yield from page["deposits"]
        if not page.get("next"):
            return
        after = f"?after={page['next']}"


def cancel(relay: str, code: str | None = None, home: Path | None = None) -> list[str]:
    answer = client_for(relay, home).request(
        "POST",
        "/v1/social/requests/cancel",
        json={"code": None if code is None else normalize_code(code)},
    )
    return [str(c) for c in answer.json()["cancelled"]]


def release(code: str, home: Path | None = None) -> list[list[sealed.SealedShare]]:
    """The shares re-sealed to this device's request, opened (after the owner's delay): one
    list per owner whose guardians approved (a stranger who heard the code may have added
    shares of another wallet: each group is combined on its own)."""
    path = _request_file(home, normalize_code(code))
    try:
        raw = json.loads(path.read_text())
        identity = x25519.Identity.from_str(raw["identity"])
    except FileNotFoundError:
        raise InputError(
            f"This device did not start request {show_code(code)} (it keeps the request's key)."
        ) from None
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path} is damaged.") from None
    answer = client_for(raw["relay"], home).request(
        "GET", f"/v1/social/requests/{raw['code']}/shares"
    )
    body = answer.json()
    groups = body.get("groups") or [body["shares"]]
    return [[sealed.open_sealed(unb64(s, "share"), identity) for s in group] for group in groups]


def finish(code: str, passphrase: str = "", home: Path | None = None) -> shares.Recovered:
    """Combine the released shares; then the request's key, done with, leaves the device."""
    groups = [group for group in release(code, home) if group]
    if not groups:
        raise InputError("The relay released no shares.")
    failure: InputError | UsageError | None = None
    for items in groups:
        try:
            recovered = _combine(items, passphrase)
        except (
            InputError,
            UsageError,
        ) as exc:  # another owner's shares, or too few: try the next group
            failure = failure or exc
            continue
        _request_file(home, normalize_code(code)).unlink(missing_ok=True)
        return recovered
    assert failure is not None
    raise failure


def _combine(items: list[sealed.SealedShare], passphrase: str) -> shares.Recovered:
    modes = {item.mode for item in items}
    if len(modes) != 1 or not modes <= {"bip39", "slip39"}:
        raise InputError("The released shares disagree about their mode: they are damaged.")
    mode: shares.Mode = "bip39" if modes == {"bip39"} else "slip39"
    return shares.combine(mode, [item.share for item in items], passphrase)


def notifications(relay: str, after: int = 0, home: Path | None = None) -> list[dict[str, Any]]:
    answer = client_for(relay, home).request("GET", f"/v1/notifications?after={after}")
    return list(answer.json()["notifications"])


def set_webhook(relay: str, url: str | None, home: Path | None = None) -> None:
    client_for(relay, home).request("PUT", "/v1/social/webhook", json={"url": url})

"""The server-hardened slot at the format level. The OPRF side is an in-process key holder
running the real RFC 9497 math (the HTTP server is tested in tests/server and
tests/backup/test_hardened.py); here the concern is the envelope's own rules."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.envelope import MINIMUM_KDF, Password, RawPayload, RecoveryKey, open_envelope, seal
from seedguard.envelope.header import ServerSlot
from seedguard.errors import BackupMissingError, EnvelopeError, WrongSecretError
from seedguard.primitives import oprf

SERVER = "https://vault.example.org:443"
PW = Password("Correct-Horse-42-Battery")
KEY = RecoveryKey(bytes(range(16)))


class KeyHolder:
    """What the server does, without the network: one OPRF key per handle, a counter."""

    def __init__(self, limit: int = 10) -> None:
        self.keys: dict[bytes, bytes] = {}
        self.verifiers: dict[bytes, bytes] = {}
        self.failures: dict[bytes, int] = {}
        self.limit = limit

    def create(self, server: str, blinded: bytes) -> tuple[bytes, bytes]:
        assert server == SERVER
        handle = secrets.token_bytes(32)
        self.keys[handle] = oprf.generate_key()
        self.failures[handle] = 0
        return handle, oprf.blind_evaluate(self.keys[handle], blinded)

    def register(self, server: str, handle: bytes, verifier: bytes) -> None:
        self.verifiers[handle] = verifier

    def evaluate(self, server: str, handle: bytes, blinded: bytes) -> tuple[bytes, int]:
        if server != SERVER or handle not in self.keys:
            raise BackupMissingError("no such key")  # what the client makes of a 404
        self.failures[handle] += 1
        return oprf.blind_evaluate(self.keys[handle], blinded), self.limit - self.failures[handle]

    def prove(self, server: str, handle: bytes, proof: bytes) -> None:
        if hashlib.sha256(proof).digest() == self.verifiers[handle]:
            self.failures[handle] = 0


HOLDER = KeyHolder()
HARDENED, OPENED = seal(
    RawPayload(b"secret"), PW, params=MINIMUM_KDF, recovery_key=KEY, harden=SERVER, service=HOLDER
)


def test_round_trip_and_the_slot_layout() -> None:
    header = OPENED.header
    slot = header.server_slot()
    assert isinstance(slot, ServerSlot)
    assert [s.type for s in header.slots] == ["server", "recovery"]
    assert slot.server == SERVER
    assert header.password_kdf() == MINIMUM_KDF
    assert open_envelope(HARDENED, PW, service=HOLDER).payload == RawPayload(b"secret")
    assert HOLDER.failures[slot.handle] == 0  # the proof reset the count
    assert open_envelope(HARDENED, KEY).payload == RawPayload(b"secret")  # no server needed


def test_the_password_alone_opens_nothing() -> None:
    with pytest.raises(WrongSecretError, match="only with that server's help"):
        open_envelope(HARDENED, PW)
    other = KeyHolder()  # another key (a thief's own OPRF) gives another output
    slot = OPENED.header.server_slot()
    assert slot is not None
    other.keys[slot.handle] = oprf.generate_key()
    other.failures[slot.handle] = 0
    other.verifiers[slot.handle] = b""
    with pytest.raises(WrongSecretError, match="Wrong password"):
        open_envelope(HARDENED, PW, service=other)


def test_wrong_passwords_report_the_attempts_left() -> None:
    holder = KeyHolder(limit=2)
    data, _ = seal(RawPayload(b"x"), PW, params=MINIMUM_KDF, harden=SERVER, service=holder)
    with pytest.raises(WrongSecretError, match="1 attempt left") as first:
        open_envelope(data, Password("Wrong-Horse-42-Battery"), service=holder)
    assert first.value.attempts_left == 1
    with pytest.raises(WrongSecretError, match="last attempt") as last:
        open_envelope(data, Password("Wrong-Horse-42-Battery"), service=holder)
    assert last.value.attempts_left == 0


def test_rewrap_makes_a_new_key_on_the_same_server() -> None:
    holder = KeyHolder()
    _, opened = seal(RawPayload(b"x"), PW, params=MINIMUM_KDF, harden=SERVER, service=holder)
    new_pw = Password("Another-Strong-Pass-77")
    with pytest.raises(EnvelopeError, match="a server must re-wrap"):
        opened.rewrap(new_pw, MINIMUM_KDF)
    again, reopened = opened.rewrap(new_pw, MINIMUM_KDF, service=holder)
    old_slot, new_slot = opened.header.server_slot(), reopened.header.server_slot()
    assert old_slot is not None
    assert new_slot is not None
    assert (new_slot.server, len(holder.keys)) == (SERVER, 2)
    assert new_slot.handle != old_slot.handle
    assert reopened.confirms(again)
    assert open_envelope(again, new_pw, service=holder).payload == RawPayload(b"x")
    with pytest.raises(WrongSecretError):
        open_envelope(again, PW, service=holder)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(HARDENED) - 33), st.integers(1, 255))
def test_any_changed_byte_is_refused(position: int, xor: int) -> None:
    """Including the server address and the handle: the header is the payload's AAD."""
    data = bytearray(HARDENED)
    data[position] ^= xor
    body = bytes(data[:-32])
    altered = body + hashlib.sha256(body).digest()  # a deliberate edit fixes the checksum
    with pytest.raises((EnvelopeError, WrongSecretError, BackupMissingError)):
        open_envelope(altered, PW, service=HOLDER)

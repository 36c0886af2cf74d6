"""The envelope format: round trips, tamper and damage detection, bounds before the KDF."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedguard import envelope
from seedguard.envelope import (
    MINIMUM_KDF,
    Argon2idParams,
    Bip39Payload,
    MpcSharePayload,
    Password,
    RawPayload,
    RecoveryKey,
    Slip39SharePayload,
    container,
    open_envelope,
    seal,
    sealing,
)
from seedguard.envelope import payload as payloads
from seedguard.envelope.header import OtherSlot, check_label
from seedguard.errors import EnvelopeError, WrongSecretError

PW = Password("Correct-Horse-42-Battery")
KEY = RecoveryKey(bytes(range(16)))
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
BIP39 = Bip39Payload(PHRASE, "", "1a2b3c4d")

PAYLOADS = [
    BIP39,
    Bip39Payload(PHRASE, "my passphrase ✓", "0badc0de"),
    Slip39SharePayload("academic acid acrobat romp chubby", "12345678"),
    Slip39SharePayload("academic acid acrobat romp chubby"),
    MpcSharePayload(b"\x01" * 33, "cafebabe"),
    RawPayload(b""),
    RawPayload(bytes(range(256)) * 5),
]


def sealed(payload: envelope.Payload = BIP39, **kw: object) -> bytes:
    data, _ = seal(payload, PW, params=MINIMUM_KDF, **kw)  # type: ignore[arg-type]
    return data


@pytest.fixture(scope="module")
def one() -> bytes:
    return sealed(recovery_key=KEY, label="main")


def refresh_digest(data: bytes) -> bytes:
    """What an attacker (not an accident) does after editing: fix the SHA-256 trailer."""
    body = data[: -container.DIGEST_BYTES]
    return body + hashlib.sha256(body).digest()


def edit_header(data: bytes, change: object) -> bytes:
    box = container.unframe(data)
    raw = json.loads(box.aad[container.PREFIX_BYTES :])
    change(raw)  # type: ignore[operator]
    header = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    prefix = container.MAGIC + bytes([1]) + struct.pack(">I", len(header)) + header
    return refresh_digest(prefix + box.ciphertext + b"\0" * 32)


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_round_trip_every_kind_with_password_recovery_key_and_armor(payload: object) -> None:
    data = sealed(payload, recovery_key=KEY)  # type: ignore[arg-type]
    assert open_envelope(data, PW).payload == payload
    assert open_envelope(data, KEY).payload == payload
    assert open_envelope(envelope.armor(data).encode(), PW).payload == payload
    assert envelope.inspect(data).kind == payload.kind  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.text(max_size=30))
def test_raw_round_trip_property(data: bytes, label: str) -> None:
    label = label.strip()
    try:
        check_label(label) if label else None
    except EnvelopeError:
        label = ""
    envelope_bytes = sealed(RawPayload(data), label=label or None)
    opened = open_envelope(envelope_bytes, PW)
    assert opened.payload == RawPayload(data)
    assert opened.header.label == (check_label(label) if label else None)


def test_wrong_password_and_wrong_recovery_key(one: bytes) -> None:
    with pytest.raises(WrongSecretError, match="Wrong password"):
        open_envelope(one, Password("Correct-Horse-42-Batterz"))
    with pytest.raises(WrongSecretError, match="Wrong recovery key"):
        open_envelope(one, RecoveryKey(bytes(16)))
    with pytest.raises(WrongSecretError, match="without a recovery key"):
        open_envelope(sealed(), KEY)


def test_password_is_compared_in_nfc() -> None:
    data, _ = seal(RawPayload(b"x"), Password("Cafe\u0301-Lune-77"), params=MINIMUM_KDF)
    assert open_envelope(data, Password("Caf\u00e9-Lune-77")).payload == RawPayload(b"x")


def _one_byte_changes(data: bytes) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255))


ENVELOPE = sealed(recovery_key=KEY, label="main")


@settings(max_examples=300, deadline=None)
@given(_one_byte_changes(ENVELOPE), st.booleans())
def test_every_single_byte_change_is_rejected(change: tuple[int, int], fix_digest: bool) -> None:
    """Accidental damage fails the checksum; deliberate edits (checksum recomputed) fail the
    AEAD or the header's canonical form. Either way nothing opens."""
    position, xor = change
    data = bytearray(ENVELOPE)
    data[position] ^= xor
    altered = refresh_digest(bytes(data)) if fix_digest else bytes(data)
    if altered == ENVELOPE:  # the change hit the trailer and the fix undid it
        return
    for secret in (PW, KEY):
        with pytest.raises((EnvelopeError, WrongSecretError)):
            open_envelope(altered, secret)


def test_every_byte_position_is_covered_for_the_recovery_slot_path() -> None:
    """Exhaustive over positions for the cheap recovery-key path (no Argon2id per try)."""
    for position in range(len(ENVELOPE)):
        data = bytearray(ENVELOPE)
        data[position] ^= 0x01
        for candidate in (bytes(data), refresh_digest(bytes(data))):
            if candidate == ENVELOPE:
                continue
            with pytest.raises((EnvelopeError, WrongSecretError)):
                open_envelope(candidate, KEY)


def test_truncation_at_every_length_is_rejected(one: bytes) -> None:
    for cut in range(len(one)):
        with pytest.raises(EnvelopeError):
            envelope.inspect(one[:cut])
    with pytest.raises(EnvelopeError, match=r"damaged|cut short"):
        open_envelope(one[:-1], PW)


def test_unknown_version_and_foreign_files(one: bytes) -> None:
    future = one[:5] + b"\x02" + one[6:]
    with pytest.raises(EnvelopeError, match=r"version 2.*Update seedguard"):
        open_envelope(future, PW)
    with pytest.raises(EnvelopeError, match="not a seedguard backup"):
        open_envelope(b"PK\x03\x04 a zip file", PW)
    with pytest.raises(EnvelopeError, match="not a seedguard backup"):
        open_envelope(b"\xff\xfe\x00 binary", PW)


def test_wrong_kind_is_refused() -> None:
    plain = payloads.encode(BIP39)
    with pytest.raises(EnvelopeError, match="kind differs"):
        payloads.decode(plain, "raw")

    def relabel(raw: dict[str, object]) -> None:
        raw["kind"] = "raw"

    with pytest.raises(EnvelopeError, match="altered"):
        open_envelope(edit_header(sealed(), relabel), PW)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("m", 64 * 1024 * 1024, "64 GiB"),
        ("t", 1_000_000_000, "1000000000 Argon2id passes"),
        ("p", 0, "parallelism 0"),
        ("p", 1000, "parallelism 1000"),
        ("m", 4, "4 KiB"),
    ],
)
def test_kdf_parameters_are_bounded_before_the_kdf_runs(
    field: str, value: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def change(raw: dict[str, list[dict[str, dict[str, int]]]]) -> None:
        raw["slots"][0]["kdf"][field] = value

    hostile = edit_header(sealed(), change)

    def never(*_: object, **__: object) -> bytes:
        raise AssertionError("Argon2id ran on unchecked parameters")

    monkeypatch.setattr(sealing.kdf, "argon2id", never)
    with pytest.raises(EnvelopeError, match=message):
        envelope.inspect(hostile)
    with pytest.raises(EnvelopeError, match=message):
        open_envelope(hostile, PW)


def test_new_backups_refuse_cheap_kdf() -> None:
    with pytest.raises(EnvelopeError, match="too cheap"):
        seal(BIP39, PW, params=Argon2idParams(8 * 1024, 1, 1))


def test_header_reveals_no_fingerprint_phrase_or_length() -> None:
    small = sealed(Bip39Payload(" ".join(["abandon"] * 11 + ["about"]), "", "73c5da0a"))
    big = sealed(Bip39Payload(" ".join(["zoo"] * 23 + ["vote"]), "a passphrase", "5436d724"))
    for data, fingerprint in ((small, b"73c5da0a"), (big, b"5436d724")):
        assert fingerprint not in data
        assert b"abandon" not in data
        assert b"zoo" not in data
        header = json.loads(container.unframe(data).aad[container.PREFIX_BYTES :])
        assert set(header) == {"created", "id", "kind", "nonce", "slots"}
    assert len(small) == len(big)  # padding: 12 and 24 words look alike


def test_header_must_be_canonical(one: bytes) -> None:
    box = container.unframe(one)
    header = box.aad[container.PREFIX_BYTES :]
    spaced = header.replace(b'"kind":', b'"kind": ')
    prefix = container.MAGIC + b"\x01" + struct.pack(">I", len(spaced)) + spaced
    with pytest.raises(EnvelopeError, match="canonical"):
        envelope.inspect(refresh_digest(prefix + box.ciphertext + bytes(32)))


def test_rewrap_keeps_the_recovery_slot_and_drops_the_old_password(one: bytes) -> None:
    opened = open_envelope(one, PW)
    new_pw = Password("Another-Strong-Pass-77")
    data, reopened = opened.rewrap(new_pw, MINIMUM_KDF)
    assert reopened.confirms(data)
    assert open_envelope(data, new_pw).payload == BIP39
    assert open_envelope(data, KEY).payload == BIP39
    with pytest.raises(WrongSecretError):
        open_envelope(data, PW)
    old, new = envelope.inspect(one), envelope.inspect(data)
    assert (new.backup_id, new.created, new.label) == (old.backup_id, old.created, old.label)
    assert new.nonce != old.nonce
    assert not opened.confirms(data)


def test_unknown_slot_kinds_are_kept_and_authenticated() -> None:
    """Room for later slot kinds: an unknown kind is carried verbatim through a re-wrap, and
    removing or editing it is caught."""
    data, opened = seal(BIP39, PW, params=MINIMUM_KDF)
    extra = OtherSlot("future", (("oprf", "abc"), ("type", "future")))
    future = dataclasses.replace(opened.header, slots=(*opened.header.slots, extra))
    data, opened = sealing._seal_payload(
        future, BIP39, opened.data_key, opened.password_kek, "password"
    )
    assert open_envelope(data, PW).header.slots[-1].type == "future"
    rewrapped, _ = opened.rewrap(Password("Another-Strong-Pass-77"), MINIMUM_KDF)
    assert envelope.inspect(rewrapped).slots[-1] == future.slots[-1]

    def drop(raw: dict[str, list[object]]) -> None:
        raw["slots"].pop()

    with pytest.raises(EnvelopeError, match="altered"):
        open_envelope(edit_header(data, drop), PW)


def test_armor_survives_surrounding_text_and_line_endings(one: bytes) -> None:
    text = envelope.armor(one)
    assert all(len(line) <= 64 for line in text.splitlines())
    pasted = "Printed 2026-11-24\r\n" + text.replace("\n", "\r\n") + "\r\n-- end of page --"
    assert envelope.binary(pasted.encode()) == one
    lines = text.splitlines()
    lines[2] = "!" + lines[2][1:]
    with pytest.raises(EnvelopeError, match="not base64"):
        envelope.binary("\n".join(lines).encode())


def test_secrets_do_not_leak_into_reprs(one: bytes) -> None:
    opened = open_envelope(one, PW)
    for text in (repr(PW), repr(KEY), repr(opened), repr(opened.payload)):
        assert "Horse" not in text
        assert "legal" not in text


def test_malformed_content_is_named_as_content() -> None:
    body = b'{"data":"!!","kind":"raw"}'
    framed = struct.pack(">I", len(body)) + body
    with pytest.raises(EnvelopeError, match="content is malformed"):
        payloads.decode(framed + bytes(-len(framed) % 256), "raw")

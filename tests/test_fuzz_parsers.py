"""The fuzz harnesses, one per parser of bytes that anyone may write (issue 14, section 5):
the envelope header and payload, a SLIP-39 share, a BIP-39 phrase, an MPC share record and
the coordinator's messages (tests/mpc/test_parsers.py), a sealed share's plaintext, the
registry, a device file. The property everywhere: only seedguard's own errors, and bounded
memory. Each starts from a seed corpus (the inputs that once crashed them) and mutates JSON
structure as well as bytes.

`make test` runs a few seconds of each (SEEDGUARD_FUZZ_EXAMPLES, default 150); `make fuzz`
runs thousands.
"""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from seedguard.errors import SeedguardError
from tests.mpc.test_damaged_files import RECORD as DAMAGED_RECORD
from tests.social.test_hostile_sealed import GOOD as GOOD_SEALED

EXAMPLES = int(os.environ.get("SEEDGUARD_FUZZ_EXAMPLES", "150"))
MEMORY_BOUND = 64 * 1024 * 1024  # no input of a few KiB may make a parser allocate this much
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


def only_our_errors(parse: Callable[[Any], object], value: Any) -> None:
    tracemalloc.start()
    try:
        parse(value)
    except SeedguardError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{peak} bytes allocated"


def mutations(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """`base` with one field replaced, added or removed, as JSON; or raw text around it."""
    keys = sorted(base)
    replaced = st.builds(lambda k, v: {**base, k: v}, st.sampled_from(keys), json_values)
    added = st.builds(lambda k, v: {**base, k: v}, st.text(max_size=8), json_values)
    removed = st.builds(lambda k: {x: y for x, y in base.items() if x != k}, st.sampled_from(keys))
    as_json = st.one_of(replaced, added, removed).map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, st.binary(max_size=600))


# --- the envelope --------------------------------------------------------------------------------


def _envelope() -> bytes:
    from seedguard.envelope import Password, RawPayload, seal
    from seedguard.envelope.header import Argon2idParams

    data, _ = seal(
        RawPayload(b"x" * 32), Password("Correct horse battery staple 42"),
        params=Argon2idParams(19 * 1024, 2, 1),
    )  # fmt: skip
    return data


ENVELOPE = _envelope()


def _header_bytes(data: bytes) -> bytes:
    length = int.from_bytes(data[6:10], "big")
    return data[10 : 10 + length]


HEADER = json.loads(_header_bytes(ENVELOPE))
CRASHED_HEADERS = [
    _header_bytes(ENVELOPE).replace(b'"type":"password"', b'"type":"x","n":"\\ud800"'),
    _header_bytes(ENVELOPE).replace(b'"kind":"raw"', b'"kind":"raw","n":' + b"9" * 5000),
    b"[" * 5000 + b"]" * 5000,
    _header_bytes(ENVELOPE).replace(HEADER["id"].encode(), HEADER["id"].encode() + b"\\n"),
]


@FUZZ
@given(mutations(HEADER))
@example(CRASHED_HEADERS[0])
@example(CRASHED_HEADERS[1])
@example(CRASHED_HEADERS[2])
@example(CRASHED_HEADERS[3])
def test_envelope_header(data: bytes) -> None:
    from seedguard.envelope.header import parse_header

    only_our_errors(parse_header, data)


@FUZZ
@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=len(ENVELOPE) - 1))
def test_envelope_bytes(noise: bytes, at: int) -> None:
    from seedguard.envelope import inspect

    only_our_errors(inspect, ENVELOPE[:at] + noise + ENVELOPE[at + len(noise) :])


@FUZZ
@given(st.binary(max_size=1200), st.sampled_from(["bip39", "slip39-share", "mpc-share", "raw"]))
def test_payloads(plaintext: bytes, kind: str) -> None:
    from seedguard.envelope import payload

    only_our_errors(lambda p: payload.decode(p, kind), plaintext)


# --- phrases and shares ---------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=400))
@example("abandon " * 11 + "ab")
@example("\u3000".join(["abandon"] * 12))
def test_bip39_phrases(text: str) -> None:
    from seedguard.mnemonic import bip39

    only_our_errors(bip39.validate, text)


@FUZZ
@given(st.text(max_size=500))
@example("academic acid " * 10)
def test_slip39_shares(text: str) -> None:
    from seedguard.mnemonic import slip39

    only_our_errors(slip39.decode, text)


# --- MPC share records, device files, sealed shares, the registry ---------------------------------

RECORD = DAMAGED_RECORD  # the valid record the damaged-file tests start from


@FUZZ
@given(mutations(RECORD))
@example(json.dumps({**RECORD, "epoch": 1.5}).encode())
@example(json.dumps({**RECORD, "epoch": 10**400}).encode())
@example(b"[" * 100000)
def test_mpc_share_records(data: bytes) -> None:
    from seedguard.mpc.shares import ShareRecord

    only_our_errors(ShareRecord.from_bytes, data)


DEVICE = {
    **{k: v for k, v in RECORD.items() if k != "secshare"},
    "cloud": {"location": "/media/usb/seedguard", "backup_id": "cd" * 16, "server_slot": None},
    "protection": "device-key",
    "kdf": {},
    "nonce": "00" * 24,
    "share": "00" * 48,
}


@FUZZ
@given(mutations(DEVICE))
@example(json.dumps({**DEVICE, "cloud": 5}).encode())
def test_device_files(data: bytes) -> None:
    from seedguard.mpc.shares import _DeviceFile
    from seedguard.parsing import parse_json

    only_our_errors(lambda d: parse_json(_DeviceFile, d, "damaged"), data)


SEALED = GOOD_SEALED  # the sealed-share plaintext the hostile-share tests start from


@FUZZ
@given(mutations(SEALED))
@example(json.dumps({**SEALED, "share": None}).encode())
@example(b'{"share":' + b"[" * 5000 + b"]" * 5000 + b"}")
def test_sealed_share_plaintexts(data: bytes) -> None:
    from seedguard.parsing import parse_json
    from seedguard.social.sealed import _SealedShareJson

    only_our_errors(lambda d: parse_json(_SealedShareJson, d, "malformed"), data)


ENTRY = {"id": "ab" * 16, "kind": "bip39", "created": "x", "copies": [{"location": "/x"}]}


@FUZZ
@given(st.one_of(json_values, st.lists(mutations(ENTRY), max_size=4)))
@example(5)
@example([{"id": "ab" * 16, "copies": 5}])
def test_registry_entries(raw: Any) -> None:
    from pathlib import Path

    from seedguard.backup.registry import _entries

    if isinstance(raw, list):
        raw = [_decoded(x) for x in raw]
    only_our_errors(lambda r: _entries(r, Path("config.toml")), raw)


def _decoded(item: Any) -> Any:
    if isinstance(item, bytes):
        try:
            return json.loads(item)
        except ValueError:
            return item.decode("latin-1")
    return item


@pytest.mark.parametrize("depth", [10, 1000, 100000])
def test_deep_nesting_everywhere(depth: int) -> None:
    from seedguard.envelope.header import parse_header
    from seedguard.mpc.shares import ShareRecord

    deep = b"[" * depth + b"]" * depth
    for parse in (parse_header, ShareRecord.from_bytes):
        only_our_errors(parse, deep)


# --- what a user types into a repair (issue 17) ----------------------------------------------

_TOKENS = st.one_of(
    st.sampled_from(["abandon", "ability", "zoo", "abov", "?", "ab*", "{able|cable}", "{", "}"]),
    st.text(alphabet="abcdez?*{}|", max_size=9),
    st.text(max_size=6),
)


@FUZZ
@given(st.one_of(st.lists(_TOKENS, max_size=30).map(" ".join), st.text(max_size=300)))
@example("{able|table} ab* ? " * 8)
@example("* ** {} {|} {able|} " + "zzzzzzzz " * 40)
def test_damaged_phrases(text: str) -> None:
    from seedguard.repair.grammar import parse

    only_our_errors(parse, text)


_PATTERN = st.text(alphabet="{}|\\%,0123456789daAsxY ", max_size=24)


@FUZZ
@given(st.one_of(_PATTERN, st.text(max_size=24)), st.integers(min_value=-1, max_value=3))
@example("%8a", 0)
@example("%0,8d%8A", 1)
@example("{a|b\\}", 2)
@example("%99999999999999999999d", 0)
def test_passphrase_patterns(pattern: str, typos: int) -> None:
    from seedguard.repair import passphrase

    def expand(p: str) -> None:
        space = passphrase.Space(p, typos=typos)
        assert 1 <= space.count <= passphrase.MAX_TOTAL
        for _ in space.valid(0, min(space.count, 50)):
            pass

    # The limits lowered so that each example is quick and the memory bound means something:
    # what is checked is that every pattern is refused or expanded, never how wide they may be.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passphrase, "MAX_BASE", 2_000)
        patch.setattr(passphrase, "MAX_TOTAL", 20_000)
        only_our_errors(expand, pattern)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=100),
        st.text(alphabet="0123456789abcdefABCDEFxX", max_size=44),
        st.text(alphabet="bc1qpzry9x8gf2tvdw0s3jn54khce6mua7l", max_size=64),
        st.text(
            alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", max_size=112
        ),
    )
)
@example("0x" + "g" * 40)
@example("bc1p")
@example("xpub")
def test_repair_targets(text: str) -> None:
    from seedguard.repair.targets import parse_account, parse_address, parse_fingerprint

    for parse in (parse_address, parse_account, parse_fingerprint):
        only_our_errors(parse, text)

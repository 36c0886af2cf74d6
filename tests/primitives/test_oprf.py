"""RFC 9497 OPRF(ristretto255, SHA-512): the published vectors, and protocol properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.primitives import oprf
from tests.conftest import load_vectors


def _suite() -> dict[str, Any]:
    suites = load_vectors("rfc9497-oprf-vectors.json")
    return next(s for s in suites if s["identifier"] == "ristretto255-SHA512" and s["mode"] == 0)


def test_context_matches_the_published_dst() -> None:
    suite = _suite()
    assert bytes.fromhex(suite["groupDST"]) == b"HashToGroup-" + oprf.CONTEXT


def test_derive_key_pair_vector() -> None:
    suite = _suite()
    sk = oprf.derive_key_pair(bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]))
    assert sk.hex() == suite["skSm"]


def test_protocol_vectors() -> None:
    suite = _suite()
    sk = bytes.fromhex(suite["skSm"])
    assert suite["vectors"]
    for vector in suite["vectors"]:
        data = bytes.fromhex(vector["Input"])
        state = oprf.blind(data, scalar=bytes.fromhex(vector["Blind"]))
        assert state.blinded_element.hex() == vector["BlindedElement"]
        evaluated = oprf.blind_evaluate(sk, state.blinded_element)
        assert evaluated.hex() == vector["EvaluationElement"]
        assert oprf.finalize(state, evaluated).hex() == vector["Output"]
        assert oprf.evaluate(sk, data).hex() == vector["Output"]


def test_expand_message_xmd_rfc9380_sha512_vector() -> None:
    # RFC 9380 Appendix K.3 (expand_message_xmd, SHA-512), msg "" and len 0x20.
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    out = oprf.expand_message_xmd(b"", dst, 0x20)
    assert out.hex() == "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=64))
def test_blinding_hides_nothing_from_the_output(data: bytes) -> None:
    sk = oprf.generate_key()
    state = oprf.blind(data)
    assert oprf.finalize(state, oprf.blind_evaluate(sk, state.blinded_element)) == oprf.evaluate(
        sk, data
    )


def test_a_blind_is_used_once() -> None:
    sk = oprf.generate_key()
    state = oprf.blind(b"pw")
    evaluated = oprf.blind_evaluate(sk, state.blinded_element)
    oprf.finalize(state, evaluated)
    with pytest.raises(oprf.OprfError, match="already finalized"):
        oprf.finalize(state, evaluated)


@pytest.mark.parametrize(
    "element",
    [bytes(32), b"\xff" * 32, b"\x01" * 31, bytes.fromhex("01" + "00" * 31)],
)
def test_the_server_refuses_bad_elements(element: bytes) -> None:
    with pytest.raises(oprf.OprfError):
        oprf.blind_evaluate(oprf.generate_key(), element)


def test_different_keys_give_different_outputs() -> None:
    assert oprf.evaluate(oprf.generate_key(), b"x") != oprf.evaluate(oprf.generate_key(), b"x")

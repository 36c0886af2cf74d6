"""BIP-445 FROST signing: every published vector (valid and error cases), loaded from
../shared/vectors/bip445-frost-signing."""

from __future__ import annotations

from typing import Any

import pytest

from seedguard.threshold import frost
from tests.conftest import load_vectors

DIR = "bip445-frost-signing/"


def _h(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _groups(name: str) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = load_vectors(DIR + name)["test_groups"]
    return groups


def _cases(name: str, kind: str) -> list[Any]:
    return [
        pytest.param(group, case, id=f"{group['tg_id']}-{case['tc_id']}")
        for group in _groups(name)
        for case in group.get(kind, [])
    ]


def _signers(group: dict[str, Any], case: dict[str, Any]) -> frost.SignersContext:
    return frost.SignersContext(
        n=group["n"],
        t=group["t"],
        ids=tuple(case["ids"]),
        pubshares=tuple(bytes.fromhex(group["pubshares"][i]) for i in case["pubshare_indices"]),
        thresh_pk=bytes.fromhex(group["thresh_pk"]),
    )


def _tweaks(group: dict[str, Any], case: dict[str, Any]) -> tuple[bytes, ...]:
    if "tweak_indices" in case:
        return tuple(bytes.fromhex(group["tweaks"][i]) for i in case["tweak_indices"])
    return tuple(bytes.fromhex(t) for t in case.get("tweaks", []))


def _session(group: dict[str, Any], case: dict[str, Any]) -> frost.SessionContext:
    return frost.SessionContext(
        _signers(group, case),
        bytes.fromhex(case["aggnonce"]),
        _tweaks(group, case),
        tuple(case.get("is_xonly", [])),
        bytes.fromhex(case["msg"]),
    )


def _expect_error(error: dict[str, Any]) -> Any:
    if error["type"] == "InvalidContributionError":

        class _Match:
            def __init__(self) -> None:
                self.ctx = pytest.raises(frost.InvalidContributionError)

            def __enter__(self) -> None:
                self.info = self.ctx.__enter__()

            def __exit__(self, *exc: Any) -> bool:
                handled = bool(self.ctx.__exit__(*exc))
                assert self.info.value.signer_index == error["signer_index"]
                assert self.info.value.contrib == error["contrib"]
                return handled

        return _Match()
    return pytest.raises(frost.FrostError, match="^" + _escape(error["message"]) + "$")


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def _sign(group: dict[str, Any], case: dict[str, Any]) -> bytes:
    secnonce = frost.SecNonce(bytes.fromhex(group["secnonces"][case["secnonce_index"]]))
    secshare = bytes.fromhex(group["secshares"][case["secshare_index"]])
    return frost.sign(secnonce, secshare, case["my_id"], _session(group, case))


def test_nonce_gen() -> None:
    for case in load_vectors(DIR + "nonce_gen_vectors.json")["valid_tests"]:
        secnonce, pubnonce = frost.nonce_gen_internal(
            bytes.fromhex(case["rand_"]),
            _h(case["secshare"]),
            _h(case["pubshare"]),
            _h(case["thresh_pk"]),
            _h(case["msg"]),
            _h(case["extra_in"]),
        )
        assert [secnonce.hex().upper(), pubnonce.hex().upper()] == case["expected"], case["comment"]


def test_nonce_agg() -> None:
    data = load_vectors(DIR + "nonce_agg_vectors.json")
    nonces = [bytes.fromhex(p) for p in data["pubnonces"]]
    for case in data["valid_tests"]:
        got = frost.nonce_agg([nonces[i] for i in case["pubnonce_indices"]])
        assert got.hex().upper() == case["expected"], case["comment"]
    for case in data["error_tests"]:
        with _expect_error(case["error"]):
            frost.nonce_agg([nonces[i] for i in case["pubnonce_indices"]])


@pytest.mark.parametrize(("group", "case"), _cases("sign_verify_vectors.json", "valid_tests"))
def test_sign_and_verify(group: dict[str, Any], case: dict[str, Any]) -> None:
    assert _sign(group, case).hex().upper() == case["expected"]
    pubnonces = [bytes.fromhex(group["pubnonces"][i]) for i in case["pubnonce_indices"]]
    assert frost.nonce_agg(pubnonces).hex().upper() == case["aggnonce"]
    index = case["ids"].index(case["my_id"])
    assert frost.partial_sig_verify(
        bytes.fromhex(case["expected"]),
        pubnonces,
        _signers(group, case),
        (),
        (),
        bytes.fromhex(case["msg"]),
        index,
    )


@pytest.mark.parametrize(("group", "case"), _cases("sign_verify_vectors.json", "sign_error_tests"))
def test_sign_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    with _expect_error(case["error"]):
        _sign(group, case)


@pytest.mark.parametrize(("group", "case"), _cases("sign_verify_vectors.json", "verify_fail_tests"))
def test_verify_fails(group: dict[str, Any], case: dict[str, Any]) -> None:
    pubnonces = [bytes.fromhex(group["pubnonces"][i]) for i in case["pubnonce_indices"]]
    assert not frost.partial_sig_verify(
        bytes.fromhex(case["psig"]),
        pubnonces,
        _signers(group, case),
        (),
        (),
        bytes.fromhex(case["msg"]),
        case["signer_index"],
    )


@pytest.mark.parametrize(
    ("group", "case"), _cases("sign_verify_vectors.json", "verify_error_tests")
)
def test_verify_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    pubnonces = [bytes.fromhex(group["pubnonces"][i]) for i in case["pubnonce_indices"]]
    with _expect_error(case["error"]):
        frost.partial_sig_verify(
            bytes.fromhex(case["psig"]),
            pubnonces,
            _signers(group, case),
            (),
            (),
            bytes.fromhex(case["msg"]),
            case["signer_index"],
        )


@pytest.mark.parametrize(("group", "case"), _cases("tweak_vectors.json", "valid_tests"))
def test_tweaks(group: dict[str, Any], case: dict[str, Any]) -> None:
    assert _sign(group, case).hex().upper() == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases("tweak_vectors.json", "error_tests"))
def test_tweak_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    with _expect_error(case["error"]):
        _sign(group, case)


def _det_sign(group: dict[str, Any], case: dict[str, Any]) -> tuple[bytes, bytes]:
    return frost.deterministic_sign(
        bytes.fromhex(group["secshares"][case["secshare_index"]]),
        case["my_id"],
        _h(case["aggothernonce"]),
        _signers(group, case),
        _tweaks(group, case),
        case["is_xonly"],
        bytes.fromhex(case["msg"]),
        _h(case["rand"]),
    )


@pytest.mark.parametrize(("group", "case"), _cases("det_sign_vectors.json", "valid_tests"))
def test_deterministic_sign(group: dict[str, Any], case: dict[str, Any]) -> None:
    pubnonce, psig = _det_sign(group, case)
    assert [pubnonce.hex().upper(), psig.hex().upper()] == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases("det_sign_vectors.json", "error_tests"))
def test_deterministic_sign_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    with _expect_error(case["error"]):
        _det_sign(group, case)


@pytest.mark.parametrize(("group", "case"), _cases("sig_agg_vectors.json", "valid_tests"))
def test_sig_agg(group: dict[str, Any], case: dict[str, Any]) -> None:
    psigs = [bytes.fromhex(p) for p in case["psigs"]]
    sig = frost.partial_sig_agg(psigs, _session(group, case))
    assert sig.hex().upper() == case["expected"]


@pytest.mark.parametrize(("group", "case"), _cases("sig_agg_vectors.json", "error_tests"))
def test_sig_agg_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    psigs = [bytes.fromhex(p) for p in case["psigs"]]
    with _expect_error(case["error"]):
        frost.partial_sig_agg(psigs, _session(group, case))


def test_a_nonce_signs_once() -> None:
    group = _groups("sign_verify_vectors.json")[0]
    case = group["valid_tests"][0]
    secnonce = frost.SecNonce(bytes.fromhex(group["secnonces"][case["secnonce_index"]]))
    secshare = bytes.fromhex(group["secshares"][case["secshare_index"]])
    frost.sign(secnonce, secshare, case["my_id"], _session(group, case))
    with pytest.raises(frost.NonceReuseError):
        frost.sign(secnonce, secshare, case["my_id"], _session(group, case))

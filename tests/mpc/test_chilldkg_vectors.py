"""ChillDKG: every published vector (../shared/vectors/chilldkg), valid and error cases,
through the harness each file's description prescribes."""

from __future__ import annotations

from typing import Any

import pytest

from seedguard.threshold import chilldkg, dkg_errors
from seedguard.threshold.simplpedpop import DKGOutput
from tests.conftest import load_vectors

DIR = "chilldkg/"


def _b(value: str) -> bytes:
    return bytes.fromhex(value)


def _params(p: dict[str, Any]) -> chilldkg.SessionParams:
    return chilldkg.SessionParams(tuple(_b(h) for h in p["hostpubkeys"]), p["t"])


def _raises(expected: dict[str, Any]) -> Any:
    """pytest.raises for the vector's error type, checking the blamed participant."""
    name = expected["type"]
    cls = ValueError if name == "ValueError" else getattr(dkg_errors, name)

    class _Check:
        def __enter__(self) -> None:
            self.ctx = pytest.raises(cls)
            self.info = self.ctx.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = bool(self.ctx.__exit__(*exc))
            error = self.info.value
            if "participantId" in expected:
                assert error.participant_id == expected["participantId"]
            if "participantId1" in expected:
                assert (error.participant_id1, error.participant_id2) == (
                    expected["participantId1"],
                    expected["participantId2"],
                )
            if "message" in expected and name != "HostSeckeyError":
                assert expected["message"] in str(error)
            return handled

    return _Check()


def _output(expected: dict[str, Any]) -> DKGOutput:
    return DKGOutput(
        None if expected["secshare"] is None else _b(expected["secshare"]),
        _b(expected["threshPk"]),
        tuple(_b(p) for p in expected["pubshares"]),
    )


def _cases(name: str, kind: str) -> list[Any]:
    data = load_vectors(DIR + name)
    groups = data.get("testGroups", [data])
    return [
        pytest.param(group, case, id=f"{g}-{case['tcId']}")
        for g, group in enumerate(groups)
        for case in group.get(kind, [])
    ]


def test_hostpubkey_gen() -> None:
    data = load_vectors(DIR + "hostpubkey_gen_vectors.json")
    for case in data["validTestCases"]:
        assert chilldkg.hostpubkey_gen(_b(case["hostseckey"])) == _b(case["expectedHostpubkey"])
    for case in data["errorTestCases"]:
        with _raises(case["expectedError"]):
            chilldkg.hostpubkey_gen(_b(case["hostseckey"]))


def test_params_hash() -> None:
    data = load_vectors(DIR + "params_hash_vectors.json")
    for case in data["validTestCases"]:
        assert chilldkg.params_hash(_params(case["params"])) == _b(case["expectedParamsHash"])
    for case in data["errorTestCases"]:
        with _raises(case["expectedError"]):
            chilldkg.params_hash(_params(case["params"]))


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_step1_vectors.json", "validTestCases")
)
def test_participant_step1(group: dict[str, Any], case: dict[str, Any]) -> None:
    _, pmsg1 = chilldkg.participant_step1(
        _b(case["hostseckey"]), _params(case["params"]), _b(case["random"])
    )
    assert pmsg1 == _b(case["expectedPmsg1"])


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_step1_vectors.json", "errorTestCases")
)
def test_participant_step1_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    with _raises(case["expectedError"]):
        chilldkg.participant_step1(
            _b(case["hostseckey"]), _params(case["params"]), _b(case["random"])
        )


def _state1(group: dict[str, Any]) -> chilldkg.ParticipantState1:
    state1, pmsg1 = chilldkg.participant_step1(
        _b(group["hostseckey"]), _params(group["params"]), _b(group["random"])
    )
    assert pmsg1 == _b(group["pmsg1"])
    return state1


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_step2_vectors.json", "validTestCases")
)
def test_participant_step2(group: dict[str, Any], case: dict[str, Any]) -> None:
    state1 = _state1(group)
    _, pmsg2 = chilldkg.participant_step2(
        _b(group["hostseckey"]), state1, _b(case["cmsg1"]), _b(group["auxRand"])
    )
    assert pmsg2 == _b(case["expectedPmsg2"])


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_step2_vectors.json", "errorTestCases")
)
def test_participant_step2_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    state1 = _state1(group)
    with _raises(case["expectedError"]):
        chilldkg.participant_step2(
            _b(case.get("hostseckey", group["hostseckey"])),
            state1,
            _b(case["cmsg1"]),
            _b(case.get("auxRand", group["auxRand"])),
        )


def _state2(group: dict[str, Any]) -> chilldkg.ParticipantState2:
    state1 = _state1(group)
    state2, pmsg2 = chilldkg.participant_step2(
        _b(group["hostseckey"]), state1, _b(group["cmsg1"]), _b(group["auxRand"])
    )
    assert pmsg2 == _b(group["pmsg2"])
    return state2


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_finalize_vectors.json", "validTestCases")
)
def test_participant_finalize(group: dict[str, Any], case: dict[str, Any]) -> None:
    output, recovery = chilldkg.participant_finalize(_state2(group), _b(case["cmsg2"]))
    assert output == _output(case["expectedOutput"]["dkgOutput"])
    assert recovery == _b(case["expectedOutput"]["recoveryData"])


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_finalize_vectors.json", "errorTestCases")
)
def test_participant_finalize_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    state2 = _state2(group)
    with _raises(case["expectedError"]):
        chilldkg.participant_finalize(state2, _b(case["cmsg2"]))


@pytest.mark.parametrize(
    ("group", "case"), _cases("participant_investigate_vectors.json", "errorTestCases")
)
def test_participant_investigate(group: dict[str, Any], case: dict[str, Any]) -> None:
    state1 = _state1(group)
    with pytest.raises(dkg_errors.UnknownFaultyParticipantOrCoordinatorError) as info:
        chilldkg.participant_step2(
            _b(group["hostseckey"]),
            state1,
            _b(group["cmsg1Pool"][case["cmsg1Index"]]),
            _b(group["auxRand"]),
        )
    with _raises(case["expectedError"]):
        chilldkg.participant_investigate(info.value, _b(case["cinvMsg"]))


@pytest.mark.parametrize(
    ("group", "case"), _cases("coordinator_step1_vectors.json", "validTestCases")
)
def test_coordinator_step1(group: dict[str, Any], case: dict[str, Any]) -> None:
    pmsgs1 = [_b(group["pmsg1Pool"][i]) for i in case["pmsg1Indices"]]
    _, cmsg1 = chilldkg.coordinator_step1(pmsgs1, _params(case["params"]))
    assert cmsg1 == _b(case["expectedCmsg1"])


@pytest.mark.parametrize(
    ("group", "case"), _cases("coordinator_step1_vectors.json", "errorTestCases")
)
def test_coordinator_step1_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    pmsgs1 = [_b(group["pmsg1Pool"][i]) for i in case["pmsg1Indices"]]
    with _raises(case["expectedError"]):
        chilldkg.coordinator_step1(pmsgs1, _params(case["params"]))


def _coordinator_state(group: dict[str, Any]) -> chilldkg.CoordinatorState:
    state, cmsg1 = chilldkg.coordinator_step1(
        [_b(p) for p in group["pmsgs1"]], _params(group["params"])
    )
    assert cmsg1 == _b(group["cmsg1"])
    return state


@pytest.mark.parametrize(
    ("group", "case"), _cases("coordinator_finalize_vectors.json", "validTestCases")
)
def test_coordinator_finalize(group: dict[str, Any], case: dict[str, Any]) -> None:
    pmsgs2 = [_b(group["pmsg2Pool"][i]) for i in case["pmsg2Indices"]]
    cmsg2, output, recovery = chilldkg.coordinator_finalize(_coordinator_state(group), pmsgs2)
    expected = case["expectedOutput"]
    assert cmsg2 == _b(expected["cmsg2"])
    assert output == _output(expected["dkgOutput"])
    assert recovery == _b(expected["recoveryData"])


@pytest.mark.parametrize(
    ("group", "case"), _cases("coordinator_finalize_vectors.json", "errorTestCases")
)
def test_coordinator_finalize_errors(group: dict[str, Any], case: dict[str, Any]) -> None:
    pmsgs2 = [_b(group["pmsg2Pool"][i]) for i in case["pmsg2Indices"]]
    state = _coordinator_state(group)
    with _raises(case["expectedError"]):
        chilldkg.coordinator_finalize(state, pmsgs2)


@pytest.mark.parametrize(
    ("group", "case"), _cases("coordinator_investigate_vectors.json", "validTestCases")
)
def test_coordinator_investigate(group: dict[str, Any], case: dict[str, Any]) -> None:
    cinvs = chilldkg.coordinator_investigate(
        [_b(p) for p in group["pmsgs1"]], _params(group["params"])
    )
    assert cinvs == [_b(c) for c in case["expectedCinvMsgs"]]


def _recover(case: dict[str, Any]) -> tuple[DKGOutput, chilldkg.SessionParams]:
    if case["hostseckey"] is None:
        return chilldkg.coordinator_recover(_b(case["recoveryData"]))
    return chilldkg.participant_recover(_b(case["hostseckey"]), _b(case["recoveryData"]))


def test_recover() -> None:
    data = load_vectors(DIR + "recover_vectors.json")
    for case in data["validTestCases"]:
        output, params = _recover(case)
        assert output == _output(case["expectedOutput"]["dkgOutput"])
        assert params == _params(case["expectedOutput"]["params"])
    for case in data["errorTestCases"]:
        with _raises(case["expectedError"]):
            _recover(case)

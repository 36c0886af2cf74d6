"""The errors of ChillDKG and its layers (bip-frost-dkg), by the specification's names.

Each carries who is to blame where the protocol can tell (`participant_id`, 0-based), so a
failed key generation names its culprit: identifiable abort.
"""

from __future__ import annotations

from typing import Any

from seedguard.errors import InputError


class DkgError(InputError):
    """Base class of every ChillDKG failure."""


class DkgValueError(DkgError, ValueError):
    """An argument has the wrong structure (a length, a range)."""


class HostSeckeyError(DkgValueError):
    """The host secret key is invalid, or matches no host public key."""

    def __init__(self, message: str = "The host secret key is invalid.") -> None:
        super().__init__(message)


class SessionParamsError(DkgValueError):
    """The session parameters (host public keys and threshold) are invalid."""


class ThresholdOrCountError(SessionParamsError):
    def __init__(self) -> None:
        super().__init__("The threshold must satisfy 1 <= t <= n < 2^32.")


class InvalidHostPubkeyError(SessionParamsError):
    def __init__(self, participant_id: int) -> None:
        super().__init__(f"The host public key of participant {participant_id} is invalid.")
        self.participant_id = participant_id


class DuplicateHostPubkeyError(SessionParamsError):
    def __init__(self, participant_id1: int, participant_id2: int) -> None:
        super().__init__(
            f"Participants {participant_id1} and {participant_id2} have the same host public key."
        )
        self.participant_id1 = participant_id1
        self.participant_id2 = participant_id2


class RandomnessError(DkgValueError):
    def __init__(self) -> None:
        super().__init__("The randomness is all zeroes; the random number generator is broken.")


class RecoveryDataError(DkgValueError):
    """The recovery data is invalid."""


class MsgParseError(DkgValueError):
    """A protocol message does not parse."""


class ProtocolError(DkgError):
    """A party deviated from the protocol."""


class FaultyParticipantError(ProtocolError):
    def __init__(self, participant_id: int, message: str) -> None:
        super().__init__(f"{message} (participant {participant_id}).")
        self.participant_id = participant_id
        self.reason = message


class FaultyParticipantOrCoordinatorError(ProtocolError):
    """Participant `participant_id` or the coordinator is faulty."""

    def __init__(self, participant_id: int, message: str) -> None:
        super().__init__(f"{message} (participant {participant_id}, or the coordinator).")
        self.participant_id = participant_id
        self.reason = message


class FaultyCoordinatorError(ProtocolError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.reason = message


class UnknownFaultyParticipantOrCoordinatorError(ProtocolError):
    """Someone is faulty; `participant_investigate` with the coordinator's investigation
    message narrows it to one party. `inv_data` is what the investigation needs."""

    def __init__(self, inv_data: Any, message: str) -> None:
        super().__init__(message)
        self.inv_data = inv_data
        self.reason = message

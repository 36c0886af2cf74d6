"""What a route answers when it refuses: an HTTP status and one sentence for the user."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def unauthenticated(message: str = "Sign in first: the session token is missing.") -> Refused:
    return Refused(401, message)


def not_found(what: str) -> Refused:
    return Refused(404, f"{what} does not exist (or belongs to another account).")


class KeepWrites(Refused):
    """A refusal after which the transaction's writes stand (Database.transaction commits
    them): a recorded pending action, a counted failure."""

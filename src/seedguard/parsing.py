"""Typed parsing of the JSON that seedguard reads from files anyone may write: a sealed share
(made by whoever knows a guardian's public code), an MPC share record, a device file.

Every field is checked by its type and bounds with pydantic in strict mode (unknown fields
refused), and whatever goes wrong, deep nesting and huge numbers included, is one
`InputError` with the caller's sentence: never a KeyError, a RecursionError or a traceback.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from seedguard.errors import InputError

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 256 * 1024


def parse_json(model: type[M], data: bytes | str, message: str) -> M:
    """`data` as `model`, or InputError(message)."""
    if len(data) > MAX_JSON_BYTES:
        raise InputError(message)
    try:
        return model.model_validate_json(data, strict=True)
    except (ValidationError, ValueError, RecursionError, UnicodeError):
        raise InputError(message) from None

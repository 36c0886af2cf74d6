"""Where secrets come from: a prompt, or standard input when it is not a terminal.

Never argv, never the environment. On standard input each secret takes one line (line 1 the
phrase, line 2 the passphrase, ...). Lines are bounded and must be UTF-8 text, so a stray file
or binary garbage gets a one-line error instead of a traceback.
"""

from __future__ import annotations

import getpass
import sys
from typing import BinaryIO

from seedguard.errors import InputError

MAX_LINE_BYTES = 4096


class SecretInput:
    """Reads secrets in order, from a hidden prompt (terminal) or line by line (pipe)."""

    def __init__(self, stream: BinaryIO | None = None, interactive: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self._line = 0

    def read(self, what: str, prompt: str, hidden: bool = True) -> str:
        """The next secret; `what` names it in errors ("recovery phrase", "passphrase")."""
        if self.interactive:
            try:
                if hidden:
                    return getpass.getpass(prompt)
                sys.stderr.write(prompt)
                sys.stderr.flush()
                return input()
            except EOFError:
                raise InputError(f"No {what} was entered.") from None
        return self._read_line(what)

    def optional(self, what: str) -> str | None:
        """The next line of standard input, or None when it has ended (not for a terminal)."""
        try:
            return self._read_line(what)
        except InputError as exc:
            if "but it ended" in exc.message:
                return None
            raise

    def rest(self, what: str, limit: int = 256) -> list[str]:
        """Every remaining non-empty line of standard input (not for a terminal)."""
        lines: list[str] = []
        while True:
            try:
                line = self._read_line(what)
            except InputError as exc:
                if "but it ended" in exc.message:
                    return lines
                raise
            if line.strip():
                lines.append(line)
            if len(lines) > limit:
                raise InputError(f"More than {limit} {what}s on standard input.")

    def _read_line(self, what: str) -> str:
        self._line += 1
        n = self._line
        raw = self._stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise InputError(f"Expected the {what} on line {n} of standard input, but it ended.")
        if len(raw) > MAX_LINE_BYTES:
            raise InputError(
                f"Line {n} of standard input is longer than {MAX_LINE_BYTES} bytes: "
                f"that is not a {what}."
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(
                f"Line {n} of standard input is not UTF-8 text: give the {what} as text."
            ) from None
        text = text.removesuffix("\n").removesuffix("\r")
        if any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in text):
            raise InputError(
                f"Line {n} of standard input holds control characters: give the {what} as text."
            )
        return text

"""Where secrets come from: a prompt, or standard input when it is not a terminal.

Never argv, never the environment. On standard input each secret takes one line (line 1 the
phrase, line 2 the passphrase, ...). Lines are bounded and must be UTF-8 text, so a stray file
or binary garbage gets a one-line error instead of a traceback.
"""

from __future__ import annotations

import getpass
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

from seedguard.errors import InputError, UsageError

MAX_LINE_BYTES = 4096
PASSWORD_WHATS = ("backup password", "old password")
COMMAND_TIMEOUT_S = 120


class PasswordSource:
    """`--password-file FILE` or `--password-command CMD` (as restic's users know them): the
    backup password for the first thing a command asks a password for (the current one where
    it opens a backup, the new one where it makes one). Never argv, never the environment."""

    def __init__(self, file: Path | None = None, command: str | None = None) -> None:
        if file is not None and command is not None:
            raise UsageError("Choose --password-file or --password-command, not both.")
        self.file, self.command = file, command
        self.used_for: str | None = None
        self._value: str | None = None

    def answers(self, what: str) -> bool:
        return what in PASSWORD_WHATS and self.used_for in (None, what)

    def read(self, what: str) -> str:
        if self._value is None:
            self._value = self._read_file() if self.file is not None else self._run()
            if not self._value:
                raise InputError(f"The {what} from {self._where()} is empty.")
        self.used_for = what
        return self._value

    def _where(self) -> str:
        return f"--password-file {self.file}" if self.file is not None else "--password-command"

    def _read_file(self) -> str:
        assert self.file is not None
        try:
            info = self.file.stat()
        except OSError as exc:
            raise InputError(f"Cannot read --password-file {self.file}: {exc.strerror}.") from None
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"--password-file {self.file} is not a regular file.")
        if info.st_mode & 0o077:
            raise InputError(
                f"--password-file {self.file} can be read by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}): run `chmod 600 {self.file}` first."
            )
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise InputError(f"--password-file {self.file} belongs to another user.")
        with self.file.open("rb") as handle:
            raw = handle.read(MAX_LINE_BYTES + 1)
        return _first_line(raw, f"--password-file {self.file}")

    def _run(self) -> str:
        assert self.command is not None
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise UsageError(f"--password-command cannot be split into words: {exc}.") from None
        if not argv:
            raise UsageError("--password-command is empty.")
        try:
            proc = subprocess.run(  # noqa: S603 - the user's own command, without a shell
                argv, capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputError(f"--password-command could not run: {type(exc).__name__}.") from None
        if proc.returncode != 0:
            raise InputError(
                f"--password-command exited with status {proc.returncode}; no password was read."
            )
        return _first_line(proc.stdout[: MAX_LINE_BYTES + 1], "--password-command's output")


def _first_line(raw: bytes, where: str) -> str:
    if len(raw) > MAX_LINE_BYTES:
        raise InputError(f"The first line of {where} is longer than {MAX_LINE_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where} is not UTF-8 text.") from None
    return text.split("\n", 1)[0].removesuffix("\r")


# Set by the root command's --password-file / --password-command (seedguard.cli.main).
password_source: PasswordSource | None = None


class SecretInput:
    """Reads secrets in order, from a hidden prompt (terminal) or line by line (pipe)."""

    def __init__(self, stream: BinaryIO | None = None, interactive: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self._line = 0

    def read(self, what: str, prompt: str, hidden: bool = True) -> str:
        """The next secret; `what` names it in errors ("recovery phrase", "passphrase")."""
        if password_source is not None and password_source.answers(what):
            return password_source.read(what)
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

    def counted(self, what: str, prompt: str, allowed: str, need: int) -> str:
        """Symbols from `allowed` (dice faces, coin sides) typed on a terminal one by one, with
        a running count shown as they are typed; Enter before `need` keeps what was typed and
        asks for the rest. Off a terminal: one line, as `read`."""
        if not (self.interactive and sys.stdin.isatty() and sys.stderr.isatty()):
            return self.read(what, prompt, hidden=False)
        import termios
        import tty

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        typed: list[str] = []

        def show() -> None:
            tail = "".join(typed[-24:])
            more = "…" if len(typed) > 24 else ""
            sys.stderr.write(f"\r\x1b[K{prompt}[{len(typed)}/{need}] {more}{tail}")
            sys.stderr.flush()

        try:
            tty.setcbreak(fd)
            show()
            while True:
                char = os.read(fd, 1).decode("ascii", "replace")
                if char in ("\n", "\r"):
                    if len(typed) >= need:
                        break
                    sys.stderr.write(
                        f"\n{len(typed)} so far: {need - len(typed)} more needed "
                        "(what you typed is kept).\n"
                    )
                elif char in ("\x7f", "\b"):
                    if typed:
                        typed.pop()
                elif char == "\x04":  # Ctrl-D
                    raise InputError(f"No {what} were entered.")
                elif char.upper() in allowed:
                    typed.append(char.upper())
                show()
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            sys.stderr.write("\n")
            sys.stderr.flush()
        return "".join(typed)

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

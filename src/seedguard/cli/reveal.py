"""Secrets on screen: shown only when the user asks, confirmed, then wiped from the screen.

On a terminal a phrase or a recovery key waits behind "press Enter to show"; the user then
types back two of its words (chosen at random), and the screen and its scrollback are cleared
(`ESC [3J`), so the words do not stay in the terminal's history. Piped output (scripts) gets
the words once, with no prompt.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from rich.panel import Panel

from seedguard.cli.render import err, out, words_table
from seedguard.cli.secrets_input import SecretInput
from seedguard.errors import InputError

CLEAR_SCREEN = "\x1b[2J\x1b[3J\x1b[H"
CHECKED_WORDS = 2


def reveal_words(
    inp: SecretInput,
    words: Sequence[str],
    *,
    title: str,
    subtitle: str,
    what: str,
    columns: int = 4,
) -> None:
    """Show `words` (a recovery key, a phrase) the way a careful wallet does."""
    panel = Panel(
        words_table(list(words), columns=columns),
        title=title,
        subtitle=subtitle,
        border_style="yellow",
        expand=False,
    )
    if not (inp.interactive and out.is_terminal):
        out.print(panel)
        return
    err.input(f"Press Enter to show the {what} (make sure no one can see the screen): ")
    out.print(panel)
    confirm_words(words, what)
    out.file.write(CLEAR_SCREEN)
    out.file.flush()
    err.print(f"The {what} was confirmed and cleared from the screen and its scrollback.")


def confirm_words(words: Sequence[str], what: str) -> None:
    """Ask for two of `words` by position, until each is right (a unique prefix of four
    letters will do); Ctrl-C stops."""
    picks = sorted(secrets.SystemRandom().sample(range(len(words)), min(CHECKED_WORDS, len(words))))
    err.print(f"Write the {what} down, then type back two of its words to confirm.")
    for index in picks:
        while True:
            try:
                typed = err.input(f"Word #{index + 1} of the {what}: ").strip().lower()
            except EOFError:
                raise InputError(f"The {what} was not confirmed.") from None
            if _matches(typed, words[index]):
                break
            err.print(f"[red]✗[/] That is not word #{index + 1}: look at what you wrote down.")


def _matches(typed: str, word: str) -> bool:
    word = word.lower()
    return typed == word or (len(typed) >= 4 and word.startswith(typed))

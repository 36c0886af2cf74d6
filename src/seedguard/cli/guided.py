"""Guided, word-by-word entry of a phrase on a terminal, with prefix completion.

Each word is checked as it is typed: a unique prefix (four letters in English) completes to its
word, Tab completes where readline is available, an unknown word gets the closest words. At
the end a bad checksum names the words that would fix it, and the user re-enters the one they
choose. Nothing is ever corrected without the user typing it.
"""

from __future__ import annotations

from rich.markup import escape

from seedguard.cli.render import err, out
from seedguard.errors import InputError
from seedguard.mnemonic import bip39


def _enable_completion(words: tuple[str, ...]) -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return

    def complete(text: str, state: int) -> str | None:
        matches = [w for w in words if w.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" \t\n")
    readline.parse_and_bind("tab: complete")


def _ask(prompt: str) -> str:
    try:
        return input(prompt).strip()
    except EOFError:
        raise InputError("Restore cancelled: no more input.") from None


def _ask_count() -> int:
    while True:
        answer = _ask("How many words does your phrase have (12, 15, 18, 21, 24)? ")
        if answer.isdigit() and int(answer) in bip39.WORD_COUNTS:
            return int(answer)
        err.print("[red]A BIP-39 phrase has 12, 15, 18, 21 or 24 words.[/]")


def _first_language(token: str) -> str | None:
    for language in bip39.LANGUAGES:
        if bip39.wordlist(language).lookup(token) is not None:
            return language
    return None


def _ask_word(position: int, wl: bip39.Wordlist | None) -> tuple[int, bip39.Wordlist]:
    while True:
        token = bip39.nfkd(_ask(f"Word {position}: ")).lower()
        if not token:
            continue
        if wl is None:
            language = _first_language(token)
            if language is None:
                err.print(
                    f"[red]{escape(repr(token))} is in no wordlist.[/] Closest English words: "
                    + ", ".join(bip39.suggest_words(token, bip39.wordlist("english")))
                )
                continue
            wl = bip39.wordlist(language)
            _enable_completion(wl.normalized)
            out.print(f"[dim]Wordlist: {language}[/]")
        index = wl.lookup(token)
        if index is not None:
            if wl.normalized[index] != token:
                out.print(f"  → [bold]{wl.words[index]}[/]")
            return index, wl
        starts = [w for w in wl.words if bip39.nfkd(w).startswith(token)]
        if len(starts) > 1:
            err.print(
                f"[yellow]{escape(repr(token))} starts {len(starts)} words[/]: "
                + ", ".join(starts[:12])
                + (" ..." if len(starts) > 12 else "")
                + ". Type more letters."
            )
        else:
            err.print(
                f"[red]{escape(repr(token))} is not in the {wl.language} wordlist.[/] "
                f"Did you mean: {', '.join(bip39.suggest_words(token, wl))}?"
            )


def guided_entry(language: str | None) -> str:
    """Ask for each word; return the phrase once its checksum is valid."""
    out.print(
        "Enter your recovery phrase one word at a time. A unique prefix is enough; Tab completes."
    )
    count = _ask_count()
    wl = bip39.wordlist(language) if language else None
    if wl is None:  # Tab completes from the first word, across languages until one is known
        every = {w for lang in bip39.LANGUAGES for w in bip39.wordlist(lang).normalized}
        _enable_completion(tuple(sorted(every)))
    else:
        _enable_completion(wl.normalized)
    indices: list[int] = []
    for position in range(1, count + 1):
        index, wl = _ask_word(position, wl)
        if language is None:
            _enable_completion(wl.normalized)
        indices.append(index)
    assert wl is not None
    while not bip39.indices_valid(indices):
        fixes = bip39.checksum_fixes(indices, wl)
        err.print("[red]The checksum does not match:[/] a word is wrong or out of order.")
        if fixes:
            err.print(
                "Close words that would make it valid: "
                + "; ".join(bip39.describe_fix(f) for f in fixes)
            )
        answer = _ask("Re-enter which word number (or 'q' to quit)? ")
        if answer.lower() in ("q", "quit"):
            raise InputError("Restore cancelled: the phrase's checksum does not match.")
        if answer.isdigit() and 1 <= int(answer) <= count:
            indices[int(answer) - 1], wl = _ask_word(int(answer), wl)
    return wl.join(indices)

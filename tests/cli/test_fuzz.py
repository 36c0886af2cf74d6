"""Any text on stdin gets a verdict or a one-line error from every phrase command, in process
(fast enough for hypothesis), never an exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from seedguard.cli.main import app
from seedguard.errors import SeedguardError
from seedguard.mnemonic import bip39

WORDS = st.sampled_from((*bip39.wordlist("english").words[:64], "[/x]", "[bold]", "\x00", "é"))
LINES = st.one_of(st.text(max_size=200), st.lists(WORDS, max_size=30).map(" ".join))

COMMANDS = [
    ["seed", "check"],
    ["seed", "check", "--json"],
    ["seed", "addresses", "--count", "1"],
    ["seed", "last-word"],
    ["seed", "restore", "--count", "1"],
    ["seed", "qr"],
    ["seed", "from-qr", "--digits", "-"],
    ["seed", "from-qr", "--hex", "-"],
    ["seed", "new", "--dice"],
    ["seed", "new", "--coins"],
    ["seed", "new", "--entropy-hex"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@given(line=LINES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_input_gets_a_verdict_or_a_seedguard_error(command: list[str], line: str) -> None:
    result = CliRunner().invoke(app, command, input=line + "\n")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # main() turns these into one line and an exit code; anything else is a bug
        assert isinstance(result.exception, SeedguardError), repr(result.exception)

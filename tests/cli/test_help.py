"""Help that reads like one tool, at 80 columns: no `<bool>` after flags, no hard line breaks
carried from docstrings, choices shown as choices, nothing cut with an ellipsis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from seedguard.cli import helptext
from seedguard.cli.main import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _commands(sub, (*path, name))


ROOT = helptext.tidy(typer.main.get_command(app))
ALL = list(_commands(ROOT))


def test_every_paragraph_is_reflowed() -> None:
    for path, command in ALL:
        for text in [command.help or "", *(getattr(p, "help", "") or "" for p in command.params)]:
            for paragraph in text.split("\n\n"):
                assert "\n" not in paragraph or paragraph.startswith("\b"), (path, paragraph)


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "seedguard")
def test_help_at_80_columns(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<bool>" not in text
    assert not re.search(r"<(str|int|path|float)>", text)
    assert "…" not in text, text  # nothing cut
    assert max(len(line) for line in text.splitlines()) <= 80


def test_choices_are_shown_as_choices() -> None:
    result = CliRunner().invoke(app, ["mpc", "create", "--help"], env={"COLUMNS": "100"})
    assert "[mainnet|testnet]" in result.output
    result = CliRunner().invoke(app, ["server", "run", "--help"], env={"COLUMNS": "100"})
    assert "[debug|info|warning|error]" in result.output


def test_the_lazy_listing_matches_each_group() -> None:
    """The root help lists each group from main.COMMANDS without importing it: the summary
    there is the group's own help."""
    import importlib

    from seedguard.cli.main import COMMANDS

    for name, (module_name, summary) in COMMANDS.items():
        module = importlib.import_module(module_name)
        own = module.demo.__doc__ if name == "demo" else module.app.info.help
        assert helptext.reflow(own) == summary, name


def test_root_help_and_version_do_not_import_the_groups() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.argv = ['seedguard', '--help']\n"
        "from seedguard.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('boto3', 'fastapi', 'sqlalchemy', 'nacl', 'seedguard.mpc.wallet',"
        " 'seedguard.backup.lifecycle', 'httpx') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout[-500:]

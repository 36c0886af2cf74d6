"""Entry point: the command tree, and the one place errors become exit codes.

Exit codes: 0 ok, 1 the input or the password was wrong, 2 usage error, 3 a store or server
could not be reached. Every error is one line on stderr (and a JSON object on stdout with
--json); never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seedguard import __version__
from seedguard.cli import (
    account,
    backup,
    guardian,
    mpc,
    secrets_input,
    seed,
    server,
    shamir,
    social,
)
from seedguard.cli.demo import demo
from seedguard.cli.render import emit_json, err
from seedguard.errors import PendingError, SeedguardError, UsageError

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, not the input

app = typer.Typer(
    name="seedguard",
    help="Back up and recover self-custody wallet keys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(seed.app, name="seed")
app.add_typer(backup.app, name="backup")
app.add_typer(shamir.app, name="shamir")
app.add_typer(social.app, name="social")
app.add_typer(guardian.app, name="guardian")
app.add_typer(server.app, name="server")
app.add_typer(account.app, name="account")
app.add_typer(mpc.app, name="mpc")
app.command("demo")(demo)


def _version(value: bool) -> None:
    if value:
        print(f"seedguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            metavar="FILE",
            help="Read the backup password from the first line of FILE (mode 0600).",
        ),
    ] = None,
    password_command: Annotated[
        str | None,
        typer.Option(
            "--password-command",
            metavar="CMD",
            help="Run CMD (no shell) and read the backup password from its first output line, "
            "e.g. 'pass show seedguard'.",
        ),
    ] = None,
) -> None:
    """Back up and recover self-custody wallet keys."""
    if password_file is not None or password_command is not None:
        secrets_input.password_source = secrets_input.PasswordSource(
            password_file, password_command
        )


def _fail(message: str, code: int, extra: dict[str, object] | None = None) -> None:
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    if "--json" in sys.argv[1:]:
        emit_json({"error": message, "exit_code": code, **(extra or {})})
    sys.exit(code)


GLOBAL_OPTIONS = ("--password-file", "--password-command")


def hoist_global_options(argv: list[str]) -> list[str]:
    """`--password-file` and `--password-command` are accepted after the command too (as restic
    takes them): they are moved to the front, where the root command reads them."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
            else:
                front += argv[i : i + 2]
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main() -> None:
    try:
        code = app(args=hoist_global_options(sys.argv[1:]), standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except SeedguardError as exc:
        extra: dict[str, object] = {}
        left = getattr(exc, "attempts_left", None)
        if left is not None:
            extra["attempts_left"] = left
        if isinstance(exc, PendingError):
            extra["pending"] = exc.pending
        _fail(exc.message, exc.exit_code, extra or None)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # Typer's usage errors: bad options, missing values
        message = exc.format_message()
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as click does
            print(message)
            sys.exit(UsageError.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(message.strip().replace("\n", " ") + hint, UsageError.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        err.print("Interrupted; nothing was saved.")
        sys.exit(130)
    except Exception as exc:  # a bug: one line, and no message that might hold a secret
        if os.environ.get("SEEDGUARD_DEBUG"):
            raise
        _fail(
            f"Internal error ({type(exc).__name__}): this is a bug in seedguard; nothing was "
            "saved. Run again with SEEDGUARD_DEBUG=1 to see where, and report it.",
            INTERNAL_ERROR,
        )

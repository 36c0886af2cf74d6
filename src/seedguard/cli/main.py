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
from seedguard.cli import helptext, secrets_input
from seedguard.cli.render import emit_json, err
from seedguard.errors import PendingError, SeedguardError, UsageError

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, not the input

# The command groups, each imported only when it runs (start-up stays fast: `--version`,
# `--help` and `seed check` do not load the server, the S3 SDK or the MPC protocol). The help
# shown in the root listing is checked against each group's own by a test.
COMMANDS: dict[str, tuple[str, str]] = {
    "seed": (
        "seedguard.cli.seed",
        "BIP-39 recovery phrases: generate, check, restore, and prove a restore right.",
    ),
    "backup": (
        "seedguard.cli.backup",
        "Encrypted backups of a recovery phrase in folders, S3 and WebDAV.",
    ),
    "shamir": ("seedguard.cli.shamir", "Split a secret into SLIP-39 shares, and combine them."),
    "social": ("seedguard.cli.social", "Social recovery: shares sealed to trusted guardians."),
    "guardian": ("seedguard.cli.guardian", "Be a guardian: hold a share of someone's wallet."),
    "server": (
        "seedguard.cli.server",
        "Run a seedguard server (accounts, vault, guess-limited hardening).",
    ),
    "account": ("seedguard.cli.account", "This device's account on a seedguard server."),
    "mpc": (
        "seedguard.cli.mpc",
        "An MPC wallet: a 2-of-3 FROST key split between this device, a seedguard server and "
        "an encrypted cloud backup. The key never exists whole.",
    ),
    "signer": (
        "seedguard.cli.signer",
        "Bitcoin Core's external-signer interface (-signer=...) for this device's MPC wallets.",
    ),
    "demo": (
        "seedguard.cli.demo",
        "Walk through every capability on a throwaway wallet. Never fund it.",
    ),
}


def _root_app() -> typer.Typer:
    root = typer.Typer(
        name="seedguard",
        help="Back up and recover self-custody wallet keys.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    root.callback()(_root)
    return root


def make_app(only: str | None = None, every: bool = False) -> typer.Typer:
    """The command tree: every group (`every`), or `only` one imported and the others as
    help-only stand-ins for the listing."""
    import importlib

    root = _root_app()
    for name, (module_name, summary) in COMMANDS.items():
        if every or name == only:
            module = importlib.import_module(module_name)
            if name == "demo":
                root.command("demo")(module.demo)
            else:
                root.add_typer(module.app, name=name)
        elif name == "demo":
            root.command("demo", help=summary)(_stand_in)
        else:
            stand_in = typer.Typer(help=summary)
            stand_in.callback()(_stand_in)
            root.add_typer(stand_in, name=name)
    return root


def _stand_in() -> None:
    """Listed in the root help only; the real command is imported when it runs."""


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole tree, for tests and tools
        return make_app(every=True)
    raise AttributeError(name)


def _version(value: bool) -> None:
    if value:
        print(f"seedguard {__version__}")
        raise typer.Exit()


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


def _command_name(args: list[str]) -> str | None:
    """The group a command line runs (the first word after the root options), if any."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in GLOBAL_OPTIONS:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return arg
    return None


def main() -> None:
    try:
        args = hoist_global_options(sys.argv[1:])
        command = helptext.tidy(typer.main.get_command(make_app(_command_name(args))))
        code = command.main(args=args, prog_name="seedguard", standalone_mode=False)
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
        err.print(
            "Interrupted. Each write seedguard makes either finished or left the file before it "
            "as it was; `seedguard backup status` shows where things stand."
        )
        sys.exit(130)
    except Exception as exc:  # a bug: one line, and no message that might hold a secret
        if os.environ.get("SEEDGUARD_DEBUG"):
            raise
        _fail(
            f"Internal error ({type(exc).__name__}): this is a bug in seedguard. What it had "
            "finished stays done (`seedguard backup status` shows the copies); run again with "
            "SEEDGUARD_DEBUG=1 to see where, and report it.",
            INTERNAL_ERROR,
        )

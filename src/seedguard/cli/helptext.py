"""Help that reads well at 80 columns: paragraphs reflowed (no hard line breaks from the
docstrings), no `<bool>` after flags, metavars in capitals, choices shown as `[a|b]`.

Typer renders the help; this adjusts what it is given, once, before the command runs.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer.rich_utils
from rich.console import Console
from rich.console import Group as RichGroup
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text
from typer import _click as click  # Typer's own copy of click, which its commands are made of
from typer.core import TyperArgument, TyperOption

_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH"}


def reflow(text: str | None) -> str | None:
    """Join the lines of each paragraph; a paragraph starting with \\b keeps its lines."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    out = []
    for paragraph in paragraphs:
        if paragraph.startswith("\b"):
            out.append(paragraph)
        else:
            out.append(re.sub(r"\s*\n\s*", " ", paragraph.strip()))
    return "\n\n".join(out)


def tidy(command: click.Command) -> click.Command:
    """Reflow the help of `command`, its parameters and every subcommand."""
    command.help = reflow(command.help)
    if command.short_help:
        command.short_help = reflow(command.short_help)
    for param in command.params:
        if isinstance(getattr(param, "help", None), str):
            param.help = reflow(param.help)  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)
    return command


def _display_type(self: TyperOption, ctx: click.Context) -> str | None:
    if self.is_flag or self.count:
        return None
    if self.metavar is not None:
        return self.metavar
    label = _original_option(self, ctx)
    return _label(label)


def _label(label: str | None) -> str | None:
    if label is None:
        return None
    bare = label.strip("<>")
    if "|" in bare:
        return f"[{bare}]"
    return _TYPE_NAMES.get(bare, bare.upper())


def _argument_type(self: TyperArgument, ctx: click.Context) -> str | None:
    return _label(_original_argument(self, ctx))


def _parameter_help(**kwargs: Any) -> Any:
    """An option's help folds a long word (a URL, a location) instead of cutting it."""
    rendered = _original_help(**kwargs)
    for item in getattr(rendered, "renderables", [rendered]):
        if isinstance(item, Text):
            item.overflow = "fold"
    return rendered


def _options_panel(
    *, name: str, params: list[Any], ctx: Any, markup_mode: Any, console: Console
) -> None:
    """Each option on its own line, its help indented below: no name, metavar or value is
    ever cut to fit a column (Typer's table cuts long option names at 80 columns)."""
    rows: list[Any] = []
    for param in params:
        if isinstance(param, TyperArgument):
            label = param.display_name_raw or param.name or ""
        else:
            label = ", ".join(param.opts)
            if param.secondary_opts:
                label += " / " + ", ".join(param.secondary_opts)
        kind = param.display_type_rich(ctx=ctx)
        line = Text(label, style="bold cyan", overflow="fold")
        if kind:
            line.append(f" {kind}", style="yellow")
        rows.append(line)
        rows.append(
            Padding(_parameter_help(param=param, ctx=ctx, markup_mode=markup_mode), (0, 0, 0, 4))
        )
    if rows:
        console.print(
            Panel(
                RichGroup(*rows),
                border_style=typer.rich_utils.STYLE_OPTIONS_PANEL_BORDER,
                title=name,
                title_align=typer.rich_utils.ALIGN_OPTIONS_PANEL,
            )
        )


_original_option = TyperOption.display_type_rich
_original_argument = TyperArgument.display_type_rich
_original_help = typer.rich_utils._get_parameter_help
TyperOption.display_type_rich = _display_type  # type: ignore[method-assign]
TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign,assignment]
typer.rich_utils._get_parameter_help = _parameter_help
typer.rich_utils._print_options_panel = _options_panel

"""Rich rendering for people; JSON shapes for scripts. No protocol logic here."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # only for annotations: importing them would slow every command's start
    from seedguard.mnemonic.bip39 import CheckResult
    from seedguard.wallet import WalletProof

ID_LENGTH = 12  # ids (backups, wallets) are shown by this many hex digits; a prefix is accepted


def short_id(value: str) -> str:
    return value[:ID_LENGTH]


out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

STANDARD_TITLES = {
    "bip44": "BIP-44 legacy (P2PKH)",
    "bip49": "BIP-49 nested SegWit (P2SH-P2WPKH)",
    "bip84": "BIP-84 native SegWit (P2WPKH)",
    "bip86": "BIP-86 Taproot (P2TR)",
}


class Reporter:
    """A capability's report function: a spinner's text on a terminal, nothing otherwise;
    `paused()` stops the spinner while the user is asked something."""

    def __init__(self, status: Status | None = None) -> None:
        self._status = status

    def __call__(self, text: str) -> None:
        if self._status is not None:
            self._status.update(escape(text) + "…")

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        if self._status is None:
            yield
            return
        self._status.stop()
        try:
            yield
        finally:
            self._status.start()


@contextlib.contextmanager
def progress(first: str) -> Iterator[Reporter]:
    """A report function for a capability: a spinner on a terminal whose text follows the
    reports, nothing otherwise."""
    if not err.is_terminal:
        yield Reporter()
        return
    with err.status(first) as status:
        yield Reporter(status)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def words_table(words: Sequence[str], columns: int = 3) -> Table:
    """Numbered words in columns, read top to bottom (as written on a backup card)."""
    table = Table(show_header=False, box=None, padding=(0, 3, 0, 0))
    rows = -(-len(words) // columns)
    for _ in range(columns):
        table.add_column(justify="left")
    for r in range(rows):
        cells = []
        for c in range(columns):
            i = c * rows + r
            cells.append(
                f"[dim]{i + 1:>2}.[/dim] [bold]{words[i]}[/bold]" if i < len(words) else ""
            )
        table.add_row(*cells)
    return table


def proof_json(proof: WalletProof) -> dict[str, Any]:
    accounts: dict[str, Any] = {
        name: {
            "path": acct.path,
            "xpub": acct.xpub,
            "receive": list(acct.receive),
            "change": list(acct.change),
        }
        for name, acct in proof.accounts.items()
    }
    accounts["ethereum"] = {"path": proof.ethereum.path, "receive": list(proof.ethereum.receive)}
    return {"fingerprint": proof.fingerprint, "accounts": accounts}


def show_proof(proof: WalletProof, console: Console = out, header: bool = True) -> None:
    """The fingerprint, each account's xpub and its first addresses, one per line: every
    address is printed whole at any terminal width (a table would split them at 80)."""
    if header:
        console.print(f"Wallet fingerprint: [bold cyan]{proof.fingerprint}[/]  ({proof.network})")
    for name, acct in proof.accounts.items():
        console.print(f"\n[bold]{STANDARD_TITLES[name]}[/]  {acct.path}")
        console.print(acct.xpub, soft_wrap=True, style="dim")
        rows = [(f"receive {i}", address) for i, address in enumerate(acct.receive)]
        rows += [(f"change {i}", address) for i, address in enumerate(acct.change)]
        fields(rows, console)
    console.print(f"\n[bold]Ethereum[/]  {proof.ethereum.path}/i")
    fields([(f"receive {i}", a) for i, a in enumerate(proof.ethereum.receive)], console)


def check_json(result: CheckResult) -> dict[str, Any]:
    return {
        "valid": result.valid,
        "language": result.language,
        "words": result.words,
        "problems": [p.as_dict() for p in result.problems],
    }


def show_check(result: CheckResult) -> None:
    if result.valid:
        out.print(f"[green]✓[/] Valid {result.words}-word {result.language} phrase.")
        return
    out.print(
        f"[red]✗[/] Not a valid phrase ({result.words} words, "
        f"{result.language or 'no known'} wordlist):"
    )
    for problem in result.problems:
        out.print(f"  • {escape(problem.describe())}")


def qr_text(matrix: Sequence[Sequence[int]], border: int = 4) -> Text:
    """A QR matrix as half-block characters, two module rows per line, dark on white."""
    width = len(matrix[0]) + 2 * border
    rows = [[0] * width] * border
    rows += [[0] * border + [int(bool(v)) for v in row] + [0] * border for row in matrix]
    rows += [[0] * width] * border
    if len(rows) % 2:
        rows.append([0] * width)
    glyph = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
    text = Text(style="black on white")
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        text.append("".join(glyph[(t, b)] for t, b in zip(top, bottom, strict=True)))
        text.append("\n", style="default")
    return text


def duration(seconds: float) -> str:
    """A human duration: "45 s", "10 min", "1 h 59 min", "2 d 3 h"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when(stamp: str | float, now: float | None = None) -> str:
    """A time (ISO 8601 UTC or epoch seconds) as local time with how long ago or ahead:
    "2026-12-02 14:32 local, 3 d ago"."""
    import time
    from datetime import UTC, datetime

    if isinstance(stamp, str):
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return stamp
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        epoch = moment.timestamp()
    else:
        epoch = float(stamp)
    local = datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M")
    delta = epoch - (time.time() if now is None else now)
    if abs(delta) < 60:
        return f"{local} local, just now"
    if delta < 0:
        return f"{local} local, {duration(-delta)} ago"
    return f"{local} local, in {duration(delta)}"


def iso(epoch: float) -> str:
    """Epoch seconds as ISO 8601 UTC with its zone, as JSON shows every time."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TIME_KEYS = frozenset(
    {"created", "revoked", "release_at", "active_from", "destroyed", "expires", "at", "time"}
)


def iso_times(value: Any) -> Any:
    """A server answer for --json: every time field (epoch seconds there) as ISO 8601 UTC."""
    if isinstance(value, dict):
        return {
            k: iso(v)
            if k in TIME_KEYS and isinstance(v, int | float) and not isinstance(v, bool)
            else iso_times(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [iso_times(v) for v in value]
    return value


def parse_duration(text: str, default_unit: str = "h") -> float:
    """Seconds in "30s", "10m", "48h", "2d" (a bare number is in `default_unit`)."""
    from seedguard.errors import UsageError

    value = text.strip().lower()
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    unit = units.get(value[-1:])
    number = value[:-1].strip() if unit else value
    try:
        amount = float(number)
    except ValueError:
        raise UsageError(
            f"A duration is a number with s, m, h or d, as in 30s, 10m, 48h or 2d, not {text!r}."
        ) from None
    if not amount > 0 or amount == float("inf"):
        raise UsageError(f"A duration is positive, not {text!r}.")
    return amount * (unit or units[default_unit])


def fields(
    pairs: Sequence[tuple[str, str]], console: Console | None = None, indent: int = 2
) -> None:
    """Label-value lines that never cut or split a value (an address, an id, a location): a
    value that does not fit beside its label goes on the next line, whole. Values may hold
    Rich markup; labels are plain."""
    console = console or out
    if not pairs:
        return
    pad = " " * indent
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        plain = Text.from_markup(value).plain
        if indent + width + 2 + len(plain) <= console.width:
            console.print(f"{pad}{escape(label):<{width}}  {value}", soft_wrap=True)
        else:
            console.print(f"{pad}{escape(label)}", soft_wrap=True)
            console.print(f"{pad}  {value}", soft_wrap=True)

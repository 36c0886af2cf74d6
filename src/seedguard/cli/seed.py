"""`seedguard seed ...`: generate, check, restore and prove BIP-39 wallets."""

from __future__ import annotations

import enum
import io
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel

from seedguard import wallet
from seedguard.cli import render, repair
from seedguard.cli.render import emit_json, err, out
from seedguard.cli.reveal import CLEAR_SCREEN
from seedguard.cli.secrets_input import SecretInput
from seedguard.errors import InputError, UsageError
from seedguard.fs import is_private_folder, write_private_file
from seedguard.mnemonic import bip39, entropy, seedqr

app = typer.Typer(
    help="BIP-39 recovery phrases: generate, check, restore, and prove a restore right.",
    no_args_is_help=True,
)

PHRASE_PROMPT = "Recovery phrase (hidden): "
PASSPHRASE_PROMPT = "Passphrase (hidden): "  # noqa: S105 - a prompt, not a secret


class Network(enum.StrEnum):
    mainnet = "mainnet"
    testnet = "testnet"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language",
        metavar="NAME",
        help=f"Wordlist: {', '.join(bip39.LANGUAGES)}. Default: detected (english for new).",
    ),
]
PassphraseOpt = Annotated[
    bool,
    typer.Option(
        "--passphrase",
        help="Ask for the BIP-39 passphrase too (from stdin: line 2). "
        "A passphrase opens a different wallet.",
    ),
]


def _language(name: str | None) -> str | None:
    """A --language value, forgiving case and dashes ("Chinese-Simplified")."""
    if name is None:
        return None
    name = name.strip().lower().replace("-", "_")
    bip39.wordlist(name)  # raises UsageError naming the known languages
    return name


def _read_phrase(inp: SecretInput, prompt: str = PHRASE_PROMPT) -> str:
    return inp.read("recovery phrase", prompt)


def _read_passphrase(inp: SecretInput, wanted: bool) -> str:
    return inp.read("passphrase", PASSPHRASE_PROMPT) if wanted else ""


# --- seed new ---------------------------------------------------------------------------------


@app.command("new")
def new(
    words: Annotated[
        int | None, typer.Option("--words", help="12, 15, 18, 21 or 24 (default 12).")
    ] = None,
    language: LanguageOpt = None,
    dice: Annotated[
        bool, typer.Option("--dice", help="Entropy from six-sided dice rolls (stdin or prompt).")
    ] = False,
    coins: Annotated[
        bool, typer.Option("--coins", help="Entropy from coin flips, H or T (stdin or prompt).")
    ] = False,
    entropy_hex: Annotated[
        bool, typer.Option("--entropy-hex", help="Entropy as hex digits (stdin or hidden prompt).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Create a new recovery phrase, show it once, then quiz three words."""
    if dice + coins + entropy_hex > 1:
        raise UsageError("Choose one entropy source: --dice, --coins or --entropy-hex.")
    language = _language(language) or "english"
    if words is not None and words not in bip39.WORD_COUNTS:
        raise UsageError(f"--words takes 12, 15, 18, 21 or 24, not {words}.")
    inp = SecretInput()
    raw = _user_entropy(inp, words, dice=dice, coins=coins, hex_digits=entropy_hex)
    created = wallet.create(len(raw) * 3 // 4 if raw else words or 12, language, raw)
    if json_out:
        emit_json(
            {
                "mnemonic": created.mnemonic,
                "language": created.language,
                "words": created.words,
                "fingerprint": created.fingerprint,
            }
        )
        return
    if inp.interactive:
        typer.prompt(
            "Press Enter to show the new recovery phrase (make sure no one can see the screen)",
            default="",
            show_default=False,
            err=True,
        )
    _show_new(created)
    if inp.interactive:
        _quiz(created)


def _user_entropy(
    inp: SecretInput, words: int | None, *, dice: bool, coins: bool, hex_digits: bool
) -> bytes | None:
    """Entropy from the chosen source (docs/seed.md gives the arithmetic), or None."""
    if hex_digits:  # without --words, the number of digits decides
        return entropy.from_hex(inp.read("entropy", "Entropy in hex (hidden): "), words)
    words = words or 12
    if dice:
        need = entropy.dice_rolls_needed(words)
        prompt = f"Roll a die at least {need} times; type the rolls (1-6): "
        typed = inp.counted("dice rolls", prompt, "123456", need)
        while inp.interactive and _rolls(typed) < need and _only_rolls(typed):
            # keep what was typed; ask for the rest (a terminal that cannot count per key)
            more = need - _rolls(typed)
            err.print(f"{_rolls(typed)} rolls so far: {more} more needed.")
            typed += " " + inp.read("dice rolls", f"{more} more rolls (1-6): ", hidden=False)
        return entropy.from_dice(typed, words)
    if coins:
        bits = entropy.entropy_bits(words)
        prompt = f"Flip a coin exactly {bits} times; type H or T for each: "
        return entropy.from_coins(inp.counted("coin flips", prompt, "HT", bits), words)
    return None


def _rolls(text: str) -> int:
    return sum(c in "123456" for c in text)


def _only_rolls(text: str) -> bool:
    return all(c in "123456" or c.isspace() or c in ",-" for c in text)


def _show_new(created: wallet.NewWallet) -> None:
    out.print(
        Panel(
            render.words_table(created.mnemonic.split()),
            title=f"Your {created.words}-word recovery phrase ({created.language})",
            subtitle=f"wallet fingerprint {created.fingerprint}",
            expand=False,
        )
    )
    out.print(
        "[yellow]Write these words on paper, in order. Anyone who sees them can take the "
        "funds; no one can restore them for you.[/]"
    )


def _quiz(created: wallet.NewWallet) -> None:
    """Ask three random positions from the written copy, with the words off the screen."""
    typer.prompt(
        "Press Enter when you have written them down", default="", show_default=False, err=True
    )
    out.clear()
    wl = bip39.wordlist(created.language)
    words = created.mnemonic.split()
    positions = sorted(secrets.SystemRandom().sample(range(len(words)), 3))
    out.print("Check your written copy: type the words it has at these positions.")
    for position in positions:
        for attempt in range(3):
            answer = bip39.nfkd(input(f"Word {position + 1}: ").strip())
            index = wl.lookup(answer)
            if index is not None and wl.words[index] == words[position]:
                break
            left = 2 - attempt
            err.print(
                f"[red]That is not word {position + 1}.[/] "
                + (f"Check your copy ({left} more tr{'ies' if left > 1 else 'y'})." if left else "")
            )
        else:
            raise InputError(
                f"Your written copy does not match word {position + 1}. This phrase was not "
                "saved anywhere: run `seedguard seed new` again and copy the words carefully."
            )
    out.file.write(CLEAR_SCREEN)  # the words leave the screen and its scrollback
    out.file.flush()
    out.print(
        f"[green]✓[/] Your written copy matches. Wallet fingerprint "
        f"[bold cyan]{created.fingerprint}[/]."
    )


# --- seed check -------------------------------------------------------------------------------


@app.command("check")
def check(language: LanguageOpt = None, json_out: JsonOpt = False) -> None:
    """Check a phrase: each unknown word, a wrong count, a bad checksum, with suggestions.

    Never corrects silently. Exit 0 when valid, 1 when not.
    """
    language = _language(language)
    result = bip39.check(_read_phrase(SecretInput()), language)
    if json_out:
        emit_json(render.check_json(result))
    else:
        render.show_check(result)
    if not result.valid:
        raise typer.Exit(1)


# --- seed addresses ---------------------------------------------------------------------------


@app.command("addresses")
def addresses(
    passphrase: PassphraseOpt = False,
    count: Annotated[int, typer.Option("--count", help="Addresses per chain.")] = 5,
    account: Annotated[int, typer.Option("--account", help="Account number.")] = 0,
    network: Annotated[Network, typer.Option("--network")] = Network.mainnet,
    json_out: JsonOpt = False,
) -> None:
    """Fingerprint, account xpubs and first addresses (BIP-44/49/84/86, Ethereum)."""
    inp = SecretInput()
    phrase = _read_phrase(inp)
    secret = _read_passphrase(inp, passphrase)
    with err.status("Deriving addresses…"):  # drawn on a terminal only
        proof = wallet.prove(phrase, secret, count=count, account=account, network=network.value)
    if json_out:
        emit_json(render.proof_json(proof))
    else:
        render.show_proof(proof)


# --- seed last-word ---------------------------------------------------------------------------


@app.command("last-word")
def last_word(language: LanguageOpt = None, json_out: JsonOpt = False) -> None:
    """Every word that completes all-but-the-last words into a valid phrase."""
    language = _language(language)
    first = SecretInput().read("first words", "All words but the last (hidden): ")
    candidates = bip39.last_word_candidates(first, language)
    if json_out:
        emit_json({"candidates": candidates})
        return
    out.print(
        f"{len(candidates)} words complete the phrase; pick one at random "
        "(for example with dice) and never a word you like:"
    )
    cell = max(len(w) for w in candidates) + len(str(len(candidates))) + 5
    out.print(render.words_table(candidates, columns=max(1, min(8, out.width // cell))))
    inp = SecretInput()
    if not inp.interactive:
        return
    need = entropy.rolls_to_pick(len(candidates))
    while True:
        rolls = inp.read(
            "die rolls", f"Roll a die {need} times and type the rolls (Enter to skip): ", False
        )
        if not rolls.strip():
            return
        try:
            index = entropy.pick_by_dice(rolls, len(candidates))
        except InputError as exc:
            err.print(f"[red]✗[/] {escape(exc.message)}")
            continue
        if index is None:
            err.print(
                "That roll maps to no word (so that every word stays equally likely): roll again."
            )
            continue
        out.print(f"The rolls pick word {index + 1}: [bold]{candidates[index]}[/]")
        return


# --- seed restore -----------------------------------------------------------------------------


@app.command("restore")
def restore(
    passphrase: PassphraseOpt = False,
    language: LanguageOpt = None,
    count: Annotated[int, typer.Option("--count", help="Addresses per chain to show.")] = 3,
    network: Annotated[Network, typer.Option("--network")] = Network.mainnet,
    json_out: JsonOpt = False,
) -> None:
    """Enter a phrase word by word (prefixes complete), then compare the fingerprint and the
    first addresses with the old wallet's."""
    language = _language(language)
    inp = SecretInput()
    if inp.interactive and not json_out:
        from seedguard.cli.guided import guided_entry

        phrase = guided_entry(language)
    else:
        phrase = _read_phrase(inp)
    result = bip39.validate(phrase, language)
    secret = _read_passphrase(inp, passphrase)
    proof = wallet.prove(result.mnemonic, secret, count=count, network=network.value)
    if json_out:
        emit_json({"language": result.language, "words": result.words, **render.proof_json(proof)})
        return
    out.print(f"[green]✓[/] Valid {result.words}-word {result.language} phrase.")
    render.show_proof(proof)
    out.print(
        "Compare the fingerprint and these addresses with your old wallet's: if they "
        "match, the restore is right."
    )


# --- SeedQR -----------------------------------------------------------------------------------


@app.command("qr")
def qr(
    compact: Annotated[
        bool, typer.Option("--compact", help="Compact SeedQR (raw entropy).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Write FILE.png or FILE.svg (mode 0600) instead of the terminal.",
            metavar="FILE",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Show the phrase as a SeedQR code (English, 12 or 24 words)."""
    if output is not None and output.suffix.lower() not in (".png", ".svg"):
        raise UsageError("--output must end in .png or .svg.")
    phrase = bip39.validate(_read_phrase(SecretInput())).mnemonic
    code = seedqr.qr_code(phrase, compact)
    if output is not None:
        buffer = io.BytesIO()
        code.save(buffer, kind=output.suffix.lower()[1:], scale=10, border=4)
        write_private_file(output, buffer.getvalue())
        if not is_private_folder(output.resolve().parent):
            err.print(
                f"[yellow]Warning:[/] others can open the folder {escape(str(output.parent))}; "
                "move the file somewhere private."
            )
    payload = seedqr.encode_compact(phrase).hex() if compact else seedqr.encode_standard(phrase)
    width = code.symbol_size(border=0)[0]
    if json_out:
        emit_json(
            {
                "format": "compact" if compact else "standard",
                "version": code.version,
                "modules": width,
                "payload": payload,
                "output": str(output) if output else None,
            }
        )
        return
    if output is None:
        out.print(render.qr_text(code.matrix))
    out.print(
        f"{'Compact' if compact else 'Standard'} SeedQR, {width}×{width}"
        + (f", written to {escape(str(output))} (mode 0600)" if output else "")
        + ". It holds your phrase: treat it like the words."
    )


@app.command("from-qr")
def from_qr(
    digits: Annotated[
        str | None,
        typer.Option(
            "--digits",
            metavar="-",
            help="Read a Standard SeedQR's digits from stdin or a hidden prompt.",
        ),
    ] = None,
    hex_: Annotated[
        str | None,
        typer.Option(
            "--hex",
            metavar="-",
            help="Read a Compact SeedQR's bytes, in hex, from stdin or a hidden prompt.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Decode a SeedQR payload back to its phrase.

    The payload is the seed itself, so it is never taken from the command line: pass `-`
    and give it on stdin or at the prompt.
    """
    if (digits is None) == (hex_ is None):
        raise UsageError("Give exactly one of --digits - or --hex -.")
    if (digits or hex_) != "-":
        raise UsageError(
            "A SeedQR payload is your seed: never put it on the command line (shell history, "
            "process list). Use `--digits -` or `--hex -` and give it on stdin or at the prompt."
        )
    inp = SecretInput()
    if digits is not None:
        phrase = seedqr.decode_standard(inp.read("SeedQR digits", "SeedQR digits (hidden): "))
    else:
        phrase = seedqr.decode_compact_hex(inp.read("SeedQR bytes", "SeedQR hex (hidden): "))
    if json_out:
        emit_json({"mnemonic": phrase})
        return
    out.print(render.words_table(phrase.split()))


# --- seed repair ------------------------------------------------------------------------------

app.command("repair")(repair.seed_repair)
app.command("repair-passphrase")(repair.seed_repair_passphrase)

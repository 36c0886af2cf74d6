"""`seedguard signer ...`: Bitcoin Core's external-signer interface (`bitcoind
-signer=seedguard-signer`, doc/external-signer.md in bitcoin/bitcoin) for this device's MPC
wallets, so a Bitcoin Core wallet made with `external_signer=true` gets the wallet's
descriptors and sends through device + server as it does through a hardware wallet.

Bitcoin Core runs, and reads one JSON value from standard output:

    <cmd> enumerate                                              -> [{"fingerprint", "model"}]
    <cmd> --fingerprint F --chain C getdescriptors --account N   -> {"receive", "internal"}
    <cmd> --fingerprint F --chain C displayaddress --desc D      -> {"address"}
    <cmd> --stdin --fingerprint F --chain C   (stdin: signtx "<base64 PSBT>")  -> {"psbt"}

An error is {"error": "..."} on standard output. The fingerprint is the wallet's (HASH160 of
its threshold key, as in its descriptor). Signing needs no terminal: the share must not be
behind a device PIN (an OS keyring or the key file), and the server checks every spend
against the wallet's policy (docs/mpc.md § The server as a guard).
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from typing import Annotated, Any, NoReturn

import typer

from seedguard.errors import PendingError, SeedguardError, UsageError
from seedguard.hd.bech32m import encode_segwit
from seedguard.hd.descriptors import checksum
from seedguard.hd.slip132 import Network
from seedguard.mpc import addresses, psbt
from seedguard.mpc.shares import DeviceStore, group_key
from seedguard.threshold.keys import GroupKey

app = typer.Typer(
    help="Bitcoin Core's external-signer interface (-signer=...) for this device's MPC wallets.",
    no_args_is_help=False,
    invoke_without_command=True,
)

CHAINS: dict[str, tuple[Network, str]] = {  # Bitcoin Core's --chain: (network, address HRP)
    "main": ("mainnet", "bc"),
    "test": ("testnet", "tb"),
    "testnet4": ("testnet", "tb"),
    "signet": ("testnet", "tb"),
    "regtest": ("testnet", "bcrt"),
}


def _answer(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")


def _fail(message: str, code: int = 1) -> NoReturn:
    _answer({"error": message})
    raise typer.Exit(code)


class _Options:
    fingerprint: str | None = None
    chain: str = "main"


OPTIONS = _Options()


@app.callback()
def main(
    ctx: typer.Context,
    fingerprint: Annotated[
        str | None, typer.Option("--fingerprint", help="The wallet's fingerprint (8 hex digits).")
    ] = None,
    chain: Annotated[
        str, typer.Option("--chain", help="main, test, testnet4, signet or regtest.")
    ] = "main",
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the command from standard input (signtx).")
    ] = False,
) -> None:
    OPTIONS.fingerprint = None if fingerprint is None else fingerprint.lower()
    OPTIONS.chain = chain
    if chain not in CHAINS:
        _fail(f"Unknown chain {chain!r}: main, test, testnet4, signet or regtest.", 2)
    if stdin:
        line = sys.stdin.readline(8 * 1024 * 1024)
        try:
            words = shlex.split(line)
        except ValueError:
            _fail("The command on standard input does not parse.", 2)
        if len(words) != 2 or words[0] != "signtx":
            _fail('Standard input takes: signtx "<base64 PSBT>".', 2)
        _guarded(lambda: _signtx(words[1]))
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        _fail("Give a command: enumerate, getdescriptors, displayaddress or signtx.", 2)


def _guarded(work: Any) -> None:
    try:
        work()
    except PendingError as exc:
        _fail(exc.message, exc.exit_code)
    except SeedguardError as exc:
        _fail(exc.message, exc.exit_code)


def _wallets(network: Network | None = None) -> list[tuple[str, GroupKey, dict[str, Any]]]:
    store = DeviceStore()
    found = []
    for wallet_id in store.wallet_ids():
        fields = store.public(wallet_id)
        if network is not None and fields["network"] != network:
            continue
        found.append((wallet_id, group_key(fields), fields))
    return found


def _wallet() -> tuple[str, GroupKey, dict[str, Any], Network]:
    network, _ = CHAINS[OPTIONS.chain]
    if OPTIONS.fingerprint is None:
        raise UsageError("--fingerprint is needed: `enumerate` lists them.")
    for wallet_id, key, fields in _wallets(network):
        if addresses.fingerprint(key) == OPTIONS.fingerprint:
            return wallet_id, key, fields, network
    raise UsageError(
        f"No {network} MPC wallet on this device has fingerprint {OPTIONS.fingerprint}."
    )


@app.command("enumerate")
def enumerate_command() -> None:
    """The wallets on this device, as signers: [{"fingerprint", "model"}]. Bitcoin Core
    passes no --chain here; a wallet of another network is refused by the next call."""

    def run() -> None:
        _answer(
            [
                {
                    "fingerprint": addresses.fingerprint(key),
                    "model": f"seedguard MPC {fields.get('label') or wallet_id[:12]}",
                    "label": fields.get("label"),
                    "network": fields["network"],
                }
                for wallet_id, key, fields in _wallets()
            ]
        )

    _guarded(run)


@app.command("getdescriptors")
def getdescriptors(
    account: Annotated[int, typer.Option("--account", help="The account: only 0.")] = 0,
) -> None:
    """The wallet's receive and change descriptors: {"receive": [...], "internal": [...]}."""

    def run() -> None:
        _, key, fields, network = _wallet()
        if account != 0:
            raise UsageError("An MPC wallet has one account, 0 (its addresses are 0/i and 1/i).")
        found = addresses.descriptors(key, network, fields.get("derivation") == "bip328")
        receive = [found.receive] + ([found.index_free] if found.index_free else [])
        _answer({"receive": receive, "internal": [found.change]})

    _guarded(run)


_SINGLE = re.compile(r"tr\(\[([0-9a-fA-F]{8})\]([1-9A-HJ-NP-Za-km-z]+)/([01])/(\d{1,10})\)")


@app.command("displayaddress")
def displayaddress(
    desc: Annotated[str, typer.Option("--desc", help="tr([fingerprint]xpub/C/I), as Core gives.")],
) -> None:
    """The address of one of the wallet's descriptors, checked against the wallet's own
    fingerprint and xpub (refused when either differs): {"address"}."""

    def run() -> None:
        _, key, _, network = _wallet()
        body, _, given = desc.partition("#")
        if given and given != checksum(body):
            raise UsageError("The descriptor's checksum is wrong.")
        match = _SINGLE.fullmatch(body.replace("'", "h"))
        if match is None:
            raise UsageError("displayaddress takes tr([fingerprint]xpub/C/I) for this wallet.")
        if match.group(1).lower() != addresses.fingerprint(key):
            raise UsageError("The descriptor's fingerprint is not this wallet's.")
        if match.group(2) != addresses.xpub(key, network).serialize():
            raise UsageError("The descriptor's xpub is not this wallet's.")
        chain, index = int(match.group(3)), int(match.group(4))
        if index > 2**31 - 1:
            raise UsageError("The index is out of range.")
        output_key = addresses.child(key, chain, index).output_key
        _answer({"address": encode_segwit(CHAINS[OPTIONS.chain][1], 1, output_key)})

    _guarded(run)


def _signtx(encoded: str) -> None:
    from seedguard.mpc.wallet import MpcWallets

    wallet_id, key, fields, network = _wallet()
    if fields.get("protection") == "pin":
        raise UsageError(
            "This wallet's device share is behind a PIN, which an external signer cannot ask "
            "for: sign with `seedguard mpc sign-psbt` instead."
        )
    parsed = psbt.load(encoded.encode())
    plan = psbt.plan(parsed, key, network)
    signatures = MpcWallets().sign_psbt(wallet_id, parsed, plan)
    for owned, signature in zip(plan.owned, signatures, strict=True):
        psbt.add_signature(parsed, owned, signature)
    _answer({"psbt": psbt.to_base64(parsed)})


@app.command("signtx")
def signtx(
    encoded: Annotated[str, typer.Argument(metavar="PSBT", help="The PSBT, base64.")],
) -> None:
    """Sign the wallet's inputs of a PSBT with the server: {"psbt"}."""
    _guarded(lambda: _signtx(encoded))

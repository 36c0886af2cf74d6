"""Differential tests against bip-utils: random phrases, passphrases, accounts, networks."""

from __future__ import annotations

import random
import secrets

import pytest
from bip_utils import (
    Bip32Slip10Secp256k1,
    Bip44,
    Bip44Changes,
    Bip44Coins,
    Bip49,
    Bip49Coins,
    Bip84,
    Bip84Coins,
    Bip86,
    Bip86Coins,
)

from seedguard import wallet
from seedguard.mnemonic import bip39

CASES = 500
COUNT = 2
REFERENCE = {
    "bip44": (Bip44, {"mainnet": Bip44Coins.BITCOIN, "testnet": Bip44Coins.BITCOIN_TESTNET}),
    "bip49": (Bip49, {"mainnet": Bip49Coins.BITCOIN, "testnet": Bip49Coins.BITCOIN_TESTNET}),
    "bip84": (Bip84, {"mainnet": Bip84Coins.BITCOIN, "testnet": Bip84Coins.BITCOIN_TESTNET}),
    "bip86": (Bip86, {"mainnet": Bip86Coins.BITCOIN, "testnet": Bip86Coins.BITCOIN_TESTNET}),
}


def _passphrase(rng: random.Random) -> str:
    return "".join(rng.choice("aZ9 éü€漢😀ﬁ") for _ in range(rng.randrange(0, 12)))


@pytest.mark.parametrize("chunk", range(5))
def test_accounts_and_addresses_agree_with_bip_utils(chunk: int) -> None:
    rng = random.Random(secrets.randbits(64))
    for _ in range(CASES // 5):
        language = rng.choice(bip39.LANGUAGES)
        phrase = bip39.generate(rng.choice(bip39.WORD_COUNTS), language)
        passphrase = _passphrase(rng)
        network = rng.choice(["mainnet", "testnet"])
        account = rng.choice([0, 1, rng.randrange(2**31)])
        proof = wallet.prove(phrase, passphrase, count=COUNT, account=account, network=network)
        seed = bip39.to_seed(phrase, passphrase)
        for name, (cls, coins) in REFERENCE.items():
            ref = cls.FromSeed(seed, coins[network]).Purpose().Coin().Account(account)
            ours = proof.accounts[name]
            assert ours.xpub == ref.PublicKey().ToExtended(), (name, network)
            for change, got in (
                (Bip44Changes.CHAIN_EXT, ours.receive),
                (Bip44Changes.CHAIN_INT, ours.change),
            ):
                chain = ref.Change(change)
                want = tuple(chain.AddressIndex(i).PublicKey().ToAddress() for i in range(COUNT))
                assert got == want, (name, network, change)
        eth = Bip44.FromSeed(seed, Bip44Coins.ETHEREUM).Purpose().Coin().Account(account)
        eth_chain = eth.Change(Bip44Changes.CHAIN_EXT)
        assert proof.ethereum.receive == tuple(
            eth_chain.AddressIndex(i).PublicKey().ToAddress() for i in range(COUNT)
        )
        master = Bip32Slip10Secp256k1.FromSeed(seed)
        assert proof.fingerprint == bytes(master.PublicKey().FingerPrint().ToBytes()).hex()

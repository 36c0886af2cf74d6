"""MPC wallets: a 2-of-3 FROST key (BIP-445) made without a dealer (ChillDKG), with shares on
this device, a seedguard server and an encrypted cloud backup (docs/mpc.md).

wallets = MpcWallets()                                # the device's shares in $SEEDGUARD_HOME
info = wallets.create("https://sg.example:8765", "~/Dropbox/seedguard", Password(pw))
signature, output_key = wallets.sign(info.wallet_id, sighash, path=(0, 0))  # address 0/0
info = MpcWallets().recover("https://sg.example:8765", "~/Dropbox/seedguard", Password(pw))

`seedguard.mpc.addresses` lists the wallet's addresses and its watch-only descriptor. The
protocol modules (`seedguard.threshold`: `frost`, `chilldkg`, `refresh`, `repairable`,
`derivation`) are the low-level pieces; `MpcWallets` is the safe way to use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seedguard.mpc.wallet import MpcWallets, WalletInfo

__all__ = ["MpcWallets", "WalletInfo"]


def __getattr__(name: str) -> Any:
    # Lazy: `from seedguard.mpc import frost` must not pull in the client and the stores.
    if name in __all__:
        from seedguard.mpc import wallet

        return getattr(wallet, name)
    raise AttributeError(name)

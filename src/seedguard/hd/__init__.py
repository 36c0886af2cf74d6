"""Hierarchical deterministic wallets: BIP-32 keys, SLIP-132 encodings, addresses."""

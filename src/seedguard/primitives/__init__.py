"""Thin, typed wrappers over audited libraries (hashlib, coincurve, pycryptodome).

Hazardous material: these functions know nothing of wallets and validate only their own
arguments. Use `seedguard.mnemonic`, `seedguard.hd` and `seedguard.wallet` instead.
"""

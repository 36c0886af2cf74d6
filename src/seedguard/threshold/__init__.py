"""Threshold protocols as pure math: FROST signing (BIP-445), ChillDKG and its parts
(SimplPedPop, EncPedPop, VSS), proactive refresh, the repairable threshold scheme, and the
proofs the server checks. Imports only `seedguard.primitives` and `seedguard.errors` (a test
walks the imports); the device's wallet, which does I/O, is `seedguard.mpc`."""

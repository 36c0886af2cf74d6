"""Mnemonic encodings of wallet secrets: BIP-39 phrases, user entropy, SeedQR."""

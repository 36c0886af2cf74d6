"""Social recovery: guardian identities and SLIP-39 shares sealed to them (docs/social.md)."""

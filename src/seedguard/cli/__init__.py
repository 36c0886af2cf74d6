"""The `seedguard` command: a thin shell that parses, calls one capability, and renders."""

"""Talking to a seedguard server: this device's identity, sessions, and errors in words."""

from seedguard.client.session import (
    ServerClient,
    canonical_server,
    client_for,
)

__all__ = ["ServerClient", "canonical_server", "client_for"]

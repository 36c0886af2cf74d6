"""Alembic's environment: the connection comes from seedguard.server.db.migrate."""

from __future__ import annotations

from alembic import context

from seedguard.server.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()

"""Accounts, devices, sessions, the vault and OPRF keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("public_key", sa.LargeBinary(33), nullable=False, unique=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("revoked", sa.Float, nullable=True),
    )
    op.create_index("devices_account", "devices", ["account_id"])
    op.create_table(
        "challenges",
        sa.Column("challenge", sa.LargeBinary(32), primary_key=True),
        sa.Column("public_key", sa.LargeBinary(33), nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("device_id", sa.String(32), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("tokens_device", "tokens", ["device_id"])
    op.create_table(
        "recovery_credentials",
        sa.Column("verifier", sa.LargeBinary(32), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_table(
        "vault",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_table(
        "oprf_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("secret_key", sa.LargeBinary(32), nullable=False),
        sa.Column("verifier", sa.LargeBinary(32), nullable=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("oprf_keys_account", "oprf_keys", ["account_id"])
    op.create_table(
        "destroyed_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("destroyed", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "destroyed_keys",
        "oprf_keys",
        "vault",
        "recovery_credentials",
        "tokens",
        "challenges",
        "devices",
        "accounts",
    ):
        op.drop_table(table)

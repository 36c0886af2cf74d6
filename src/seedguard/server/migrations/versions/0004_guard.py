"""The guard against a stolen device: share-proof challenges, pending actions that wait for the
account's delay, recovery credentials that activate later, and what gates re-creating an MPC
wallet's cloud share.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("recovery_credentials") as batch:
        batch.add_column(sa.Column("active_from", sa.Float, nullable=True))
    with op.batch_alter_table("mpc_wallets") as batch:
        batch.add_column(sa.Column("cloud_key_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("recovery_verifier", sa.LargeBinary(32), nullable=True))
    op.create_table(
        "mpc_challenges",
        sa.Column("challenge", sa.LargeBinary(32), primary_key=True),
        sa.Column("wallet_id", sa.String(32), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_table(
        "pending_actions",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("value", sa.String(512), nullable=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("release_at", sa.Float, nullable=False),
        sa.Column("cancelled", sa.Float, nullable=True),
        sa.Column("done", sa.Float, nullable=True),
    )
    op.create_index("pending_actions_account", "pending_actions", ["account_id", "kind", "target"])


def downgrade() -> None:
    op.drop_index("pending_actions_account", "pending_actions")
    op.drop_table("pending_actions")
    op.drop_table("mpc_challenges")
    with op.batch_alter_table("mpc_wallets") as batch:
        batch.drop_column("recovery_verifier")
        batch.drop_column("cloud_key_id")
    with op.batch_alter_table("recovery_credentials") as batch:
        batch.drop_column("active_from")

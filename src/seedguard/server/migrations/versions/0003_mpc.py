"""MPC wallets: 2-of-3 FROST key shares held by the server, and its one-use signing nonces.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "mpc_wallets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("thresh_pk", sa.LargeBinary(33), nullable=True),
        sa.Column("pubshares", sa.LargeBinary, nullable=True),
        sa.Column("share", sa.LargeBinary, nullable=True),
        sa.Column("pending_pubshares", sa.LargeBinary, nullable=True),
        sa.Column("pending_share", sa.LargeBinary, nullable=True),
        sa.Column("dkg_state", sa.LargeBinary, nullable=True),
        sa.Column("dkg_hostpubkeys", sa.LargeBinary, nullable=True),
        sa.Column("dkg_cmsg1", sa.LargeBinary, nullable=True),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("mpc_wallets_account", "mpc_wallets", ["account_id"])
    op.create_table(
        "mpc_nonces",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("wallet_id", sa.String(32), sa.ForeignKey("mpc_wallets.id"), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("secnonce", sa.LargeBinary, nullable=False),
        sa.Column("pubnonce", sa.LargeBinary(66), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("mpc_nonces_wallet", "mpc_nonces", ["wallet_id"])


def downgrade() -> None:
    op.drop_index("mpc_nonces_wallet", "mpc_nonces")
    op.drop_table("mpc_nonces")
    op.drop_index("mpc_wallets_account", "mpc_wallets")
    op.drop_table("mpc_wallets")

"""An MPC wallet's spending policy (server/policy.py): a rolling 24-hour limit on what leaves
it, destinations that bypass the limit, whether raw hashes may be signed; and the ledger of
what left it. Wallets made before this migration keep raw-hash signing (they had it).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("mpc_wallets") as batch:
        batch.add_column(
            sa.Column("raw_signing", sa.Boolean, nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("daily_limit", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("allowlist", sa.Text, nullable=True))
    op.create_table(
        "mpc_spends",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("wallet_id", sa.String(32), sa.ForeignKey("mpc_wallets.id"), nullable=False),
        sa.Column("txid", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("mpc_spends_wallet", "mpc_spends", ["wallet_id", "at"])


def downgrade() -> None:
    op.drop_index("mpc_spends_wallet", "mpc_spends")
    op.drop_table("mpc_spends")
    with op.batch_alter_table("mpc_wallets") as batch:
        batch.drop_column("allowlist")
        batch.drop_column("daily_limit")
        batch.drop_column("raw_signing")

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
    op.create_table(
        "request_owners",
        sa.Column(
            "request_id", sa.String(32), sa.ForeignKey("recovery_requests.id"), primary_key=True
        ),
        sa.Column("owner_id", sa.String(32), primary_key=True),
        sa.Column("bound", sa.Float, nullable=False),
        sa.Column("delay", sa.Float, nullable=False),
        sa.Column("cancelled", sa.Float, nullable=True),
    )
    op.execute(
        "INSERT INTO request_owners (request_id, owner_id, bound, delay, cancelled) "
        "SELECT id, owner_id, bound, delay, cancelled FROM recovery_requests "
        "WHERE owner_id IS NOT NULL AND bound IS NOT NULL AND delay IS NOT NULL"
    )
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("guardian_id", sa.String(32), nullable=True))
    op.execute(
        "UPDATE approvals SET "
        "owner_id = (SELECT d.owner_id FROM deposits d WHERE d.id = approvals.deposit_id), "
        "guardian_id = (SELECT m.account_id FROM deposits d JOIN mailboxes m "
        "ON m.id = d.mailbox_id WHERE d.id = approvals.deposit_id)"
    )
    op.execute(  # one approval per guardian, owner and request: the newest stays
        "DELETE FROM approvals WHERE EXISTS (SELECT 1 FROM approvals b "
        "WHERE b.request_id = approvals.request_id AND b.owner_id = approvals.owner_id "
        "AND b.guardian_id = approvals.guardian_id AND (b.created > approvals.created "
        "OR (b.created = approvals.created AND b.deposit_id > approvals.deposit_id)))"
    )
    with op.batch_alter_table("approvals") as batch:
        batch.create_unique_constraint("approvals_once", ["request_id", "owner_id", "guardian_id"])
    op.create_index("deposits_page", "deposits", ["mailbox_id", "created", "id"])
    op.create_index("notifications_page", "notifications", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("notifications_page", "notifications")
    op.drop_index("deposits_page", "deposits")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_constraint("approvals_once", type_="unique")
        batch.drop_column("guardian_id")
        batch.drop_column("owner_id")
    op.drop_table("request_owners")
    op.drop_index("pending_actions_account", "pending_actions")
    op.drop_table("pending_actions")
    op.drop_table("mpc_challenges")
    with op.batch_alter_table("mpc_wallets") as batch:
        batch.drop_column("recovery_verifier")
        batch.drop_column("cloud_key_id")
    with op.batch_alter_table("recovery_credentials") as batch:
        batch.drop_column("active_from")

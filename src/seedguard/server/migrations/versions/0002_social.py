"""Social recovery relay: guardian mailboxes, deposits, recovery requests, approvals,
notifications (and webhooks), and each owner's delay.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_table(
        "deposits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("mailbox_id", sa.String(32), sa.ForeignKey("mailboxes.id"), nullable=False),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("deposits_mailbox", "deposits", ["mailbox_id"])
    op.create_table(
        "recovery_delays",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("seconds", sa.Float, nullable=False),
    )
    op.create_table(
        "recovery_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("requester_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(128), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=True),
        sa.Column("bound", sa.Float, nullable=True),
        sa.Column("delay", sa.Float, nullable=True),
        sa.Column("cancelled", sa.Float, nullable=True),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column(
            "request_id", sa.String(32), sa.ForeignKey("recovery_requests.id"), primary_key=True
        ),
        sa.Column("deposit_id", sa.String(32), sa.ForeignKey("deposits.id"), primary_key=True),
        sa.Column("resealed", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("notifications_account", "notifications", ["account_id", "id"])
    op.create_table(
        "webhooks",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("url", sa.String(512), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "webhooks",
        "notifications",
        "approvals",
        "recovery_requests",
        "recovery_delays",
        "deposits",
        "mailboxes",
    ):
        op.drop_table(table)

"""lease tokens on every queue, and the per-inbox order index of deliveries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0014"
branch_labels = None
depends_on = None

QUEUES = ("deliveries", "inbox_items", "outgoing_mail", "thumbnail_jobs")


def upgrade() -> None:
    for table in QUEUES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("lease_token", sa.String(length=64), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_inbox_order", ["inbox_url", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_inbox_order")
    for table in QUEUES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_token")

"""upload quota: the upload ledger and a per-account quota

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-07 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import federation.db

revision = "0016"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = federation.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "upload_usage",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("upload_usage", schema=None) as batch_op:
        batch_op.create_index("ix_upload_usage_actor_id", ["actor_id"], unique=False)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_quota_bytes", sa.BigInteger(), nullable=True))
    # Media uploaded before the ledger existed count too (design files name no uploader).
    op.execute(
        "INSERT INTO upload_usage (actor_id, sha256, size, created_at) "
        "SELECT account_id, sha256, size, created_at FROM media_attachments"
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("upload_quota_bytes")
    with op.batch_alter_table("upload_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_upload_usage_actor_id")
    op.drop_table("upload_usage")

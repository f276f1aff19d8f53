"""home timeline and status count indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        # The home timeline takes the newest notes of each followed account: one seek each.
        batch_op.create_index(
            "ix_notes_actor_id_published_id", ["actor_id", "published", "id"], unique=False
        )
        # Account entities count live notes per author; this makes the count index-only.
        batch_op.create_index(
            "ix_notes_live_actor_id",
            ["actor_id"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_live_actor_id")
        batch_op.drop_index("ix_notes_actor_id_published_id")

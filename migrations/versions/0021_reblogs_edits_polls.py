"""boosts in timelines, edit history of notes, polls

Revision ID: 0021
Revises: 0011
Create Date: 2026-12-07 21:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_actor_id_created_at_id", ["actor_id", "created_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_actor_id_created_at_id")

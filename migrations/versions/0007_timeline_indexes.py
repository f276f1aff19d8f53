"""timeline indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 12:46:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Timelines are ordered by (published, id), newest first: without this index every page
    # of the public timeline scanned and sorted all notes.
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index("ix_notes_published_id", ["published", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_published_id")

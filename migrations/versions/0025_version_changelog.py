"""a version's changelog: what changed since the version before, shown and federated

Revision ID: 0025
Revises: 0011
Create Date: 2026-12-07 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("design_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changelog", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch rebuilds the
    # table, and on SQLite dropping `design_versions` would cascade-delete its files.
    op.drop_column("design_versions", "changelog")

"""makes: reports of building a design version, counted per version and project

Revision ID: 0026
Revises: 0027
Create Date: 2026-12-07 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import federation.db

revision = "0026"
down_revision = "0027"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = federation.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "makes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("note_id", ID, nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("version_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("maker_id", ID, nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("made_by_uri", sa.String(length=2048), nullable=True),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("for_sale", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["design_versions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["maker_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("note_id"),
        sa.UniqueConstraint("uri"),
    )
    with op.batch_alter_table("makes", schema=None) as batch_op:
        batch_op.create_index("ix_makes_version_id", ["version_id"], unique=False)
        batch_op.create_index("ix_makes_project_id_id", ["project_id", "id"], unique=False)
    with op.batch_alter_table("design_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs", JSON, nullable=True))
    for table in ("projects", "design_versions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("makes_count", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch rebuilds the
    # table, and on SQLite dropping `design_versions` would cascade-delete its files.
    op.drop_column("design_versions", "needs")
    for table in ("design_versions", "projects"):
        op.drop_column(table, "makes_count")
    op.drop_table("makes")

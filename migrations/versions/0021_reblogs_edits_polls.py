"""boosts in timelines, edit history of notes, polls

Revision ID: 0021
Revises: 0022
Create Date: 2026-12-07 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import federation.db

revision = "0021"
down_revision = "0022"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = federation.db.UTCDateTime(timezone=True)
JSON = federation.db.JSONType


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_actor_id_created_at_id", ["actor_id", "created_at", "id"]
        )
    op.create_table(
        "note_edits",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("note_uri", sa.String(length=2048), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("document", JSON, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_note_edits_note_uri", "note_edits", ["note_uri"])
    op.create_table(
        "polls",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("note_uri", sa.String(length=2048), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("hide_totals", sa.Boolean(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("options", JSON, nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("voters_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("note_uri"),
    )
    op.create_table(
        "poll_votes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("poll_id", ID, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "actor_id", "choice"),
        sa.UniqueConstraint("uri"),
    )


def downgrade() -> None:
    op.drop_table("poll_votes")
    op.drop_table("polls")
    op.drop_index("ix_note_edits_note_uri", table_name="note_edits")
    op.drop_table("note_edits")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_actor_id_created_at_id")

"""Mastodon client features: scheduled statuses, markers, pins, hashtags of notes and
followed tags

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-07 21:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import federation.db

revision = "0020"
down_revision = "0021"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = federation.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _queue_columns() -> list[sa.Column[object]]:
    """The columns every queue row has (federation.queue.QueueRow)."""
    return [
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "scheduled_statuses",
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("note", JSON, nullable=False),
        sa.Column("media_ids", JSON, nullable=False),
        sa.Column("note_uri", sa.String(length=2048), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        *_queue_columns(),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scheduled_statuses", schema=None) as batch_op:
        batch_op.create_index("ix_scheduled_statuses_actor_id_id", ["actor_id", "id"])
        batch_op.create_index("ix_scheduled_statuses_next_attempt_at", ["next_attempt_at"])
        batch_op.create_index("ix_scheduled_statuses_state", ["state"])
    op.create_table(
        "markers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("timeline", sa.String(length=16), nullable=False),
        sa.Column("last_read_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "timeline"),
    )
    op.create_table(
        "pins",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("note_id", ID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "note_id"),
    )
    with op.batch_alter_table("pins", schema=None) as batch_op:
        batch_op.create_index("ix_pins_note_id", ["note_id"])
    op.create_table(
        "note_tags",
        sa.Column("note_uri", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["note_uri"], ["notes.uri"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("note_uri", "name"),
    )
    with op.batch_alter_table("note_tags", schema=None) as batch_op:
        batch_op.create_index("ix_note_tags_name_note_uri", ["name", "note_uri"])
    op.create_table(
        "followed_tags",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "name"),
    )


def downgrade() -> None:
    op.drop_table("followed_tags")
    op.drop_table("note_tags")
    op.drop_table("pins")
    op.drop_table("markers")
    op.drop_table("scheduled_statuses")

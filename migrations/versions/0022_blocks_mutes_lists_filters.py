"""blocks, mutes, a person's domain blocks, lists, filters and conversation marks

Revision ID: 0022
Revises: 0025
Create Date: 2026-12-07 21:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import federation.db

revision = "0022"
down_revision = "0025"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = federation.db.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _actor(name: str = "actor_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([name], ["actors.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "account_blocks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _actor(),
        _actor("target_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "target_id"),
        sa.UniqueConstraint("uri"),
    )
    op.create_index("ix_account_blocks_target_id", "account_blocks", ["target_id"])
    op.create_table(
        "account_mutes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("notifications", sa.Boolean(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _actor(),
        _actor("target_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "target_id"),
    )
    op.create_table(
        "person_domain_blocks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _actor(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "domain"),
    )
    op.create_table(
        "account_lists",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("replies_policy", sa.String(length=16), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _actor(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_lists_actor_id", "account_lists", ["actor_id"])
    op.create_table(
        "list_members",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("list_id", ID, nullable=False),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["account_lists.id"], ondelete="CASCADE"),
        _actor("target_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_id", "target_id"),
    )
    op.create_index("ix_list_members_target_id", "list_members", ["target_id"])
    op.create_table(
        "status_filters",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("contexts", JSON, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _actor(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_filters_actor_id", "status_filters", ["actor_id"])
    op.create_table(
        "filter_keywords",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("filter_id", ID, nullable=False),
        sa.Column("keyword", sa.String(length=255), nullable=False),
        sa.Column("whole_word", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["filter_id"], ["status_filters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_filter_keywords_filter_id", "filter_keywords", ["filter_id"])
    op.create_table(
        "conversation_marks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("root_note_id", ID, nullable=False),
        sa.Column("read_through", ID, nullable=False),
        sa.Column("removed_through", ID, nullable=False),
        _actor(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id", "root_note_id"),
    )


def downgrade() -> None:
    for table in (
        "conversation_marks",
        "filter_keywords",
        "status_filters",
        "list_members",
        "account_lists",
        "person_domain_blocks",
        "account_mutes",
        "account_blocks",
    ):
        op.drop_table(table)

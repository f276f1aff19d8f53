"""browser sessions, failed sign-ins and thumbnail jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import federation.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = federation.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "browser_sessions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("browser_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_browser_sessions_actor_id", ["actor_id"], unique=False)

    op.create_table(
        "sign_in_failures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failed_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_key_at", ["key", "failed_at"], unique=False)

    op.create_table(
        "thumbnail_jobs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_sha256"),
    )
    with op.batch_alter_table("thumbnail_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_thumbnail_jobs_state", ["state"], unique=False)
        batch_op.create_index(
            "ix_thumbnail_jobs_next_attempt_at", ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("thumbnail_jobs")
    op.drop_table("sign_in_failures")
    op.drop_table("browser_sessions")

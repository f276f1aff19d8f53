"""counts tell only what anyone may read

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-07 18:50:00.000000

Followers-only and direct replies were counted on their parent, and the count is shown to
anyone (ActivityPub `replies` collections, Mastodon statuses, the JSON API). From now on
they are not counted (`objects.visibility`); this takes the ones already counted off.
An account's `statuses_count` counts its notes anyone may read: the partial index that
serves the count is narrowed to them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

HIDDEN_REPLIES = """
    SELECT count(*) FROM notes AS reply
    WHERE reply.in_reply_to = {parent}.uri
      AND reply.deleted_at IS NULL
      AND reply.visibility NOT IN ('public', 'unlisted')
"""


def _take_off(table: str) -> None:
    hidden = HIDDEN_REPLIES.format(parent=table)
    op.execute(
        f"UPDATE {table} SET replies_count = CASE"  # table names are ours, not input
        f" WHEN replies_count > ({hidden}) THEN replies_count - ({hidden}) ELSE 0 END"
        f" WHERE uri IN (SELECT in_reply_to FROM notes WHERE in_reply_to IS NOT NULL"
        f" AND deleted_at IS NULL AND visibility NOT IN ('public', 'unlisted'))"
    )


SHOWN = "deleted_at IS NULL AND visibility IN ('public', 'unlisted')"
LIVE = "deleted_at IS NULL"


def upgrade() -> None:
    _take_off("notes")
    _take_off("design_versions")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_live_actor_id")
        batch_op.create_index(
            "ix_notes_shown_actor_id",
            ["actor_id"],
            unique=False,
            sqlite_where=sa.text(SHOWN),
            postgresql_where=sa.text(SHOWN),
        )


def downgrade() -> None:
    """The reply counts are not put back: they told what nobody should have been told."""
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_shown_actor_id")
        batch_op.create_index(
            "ix_notes_live_actor_id",
            ["actor_id"],
            unique=False,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )

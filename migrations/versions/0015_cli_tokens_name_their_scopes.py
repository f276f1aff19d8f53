"""tokens of no app (the CLI's, a password sign-in's) name every scope they carry

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-07 19:00:00.000000

Such tokens always carried every scope, the admin ones included, while their row said
"read write follow push". Scopes are now read from the row alone, so the row says all.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None

BEFORE = "read write follow push"
AFTER = "read write follow push admin:read admin:write"


def _rename(old: str, new: str) -> None:
    tokens = sa.table(
        "api_tokens", sa.column("app_id", sa.BigInteger()), sa.column("scopes", sa.String())
    )
    op.execute(
        tokens.update().where(tokens.c.app_id.is_(None), tokens.c.scopes == old).values(scopes=new)
    )


def upgrade() -> None:
    _rename(BEFORE, AFTER)


def downgrade() -> None:
    _rename(AFTER, BEFORE)

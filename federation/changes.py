"""Which commits change what readers see, so that answers built from the database can be cached.

`ContentChanges` watches an engine's statements. A transaction that wrote to a table readers
see (anything but the bookkeeping tables below) moves the generation on when it commits, and
again when its connection goes back to the pool: an answer built while the commit was under
way may have missed it, and the second move makes sure it is not served afterwards.

Only this process's engine is watched. Writes made by another process (an extra `worker`)
are seen once a cached answer's age limit has passed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# Queues, token use and one-time codes: written all the time, never shown in a timeline.
BOOKKEEPING_TABLES = frozenset(
    {
        "inbox_items",
        "deliveries",
        "outbox_activities",
        "remote_hosts",
        "outgoing_mail",
        "api_tokens",
        "account_tokens",
        "oauth_codes",
        "audit_log",
        "alembic_version",
    }
)
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_WROTE = "ourdesign_wrote_content"
_COMMITTED = "ourdesign_committed_content"


def written_table(statement: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE writes (lower case); None for anything else."""
    found = _WRITE.match(statement)
    return found.group(1).lower() if found else None


class ContentChanges:
    """A number that moves on whenever committed data that readers see may have changed."""

    def __init__(self, bookkeeping: frozenset[str] = BOOKKEEPING_TABLES) -> None:
        self.generation = 0
        self._bookkeeping = bookkeeping

    def watch(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._on_statement)
        event.listen(sync_engine, "commit", self._on_commit)
        event.listen(sync_engine, "rollback", self._on_rollback)
        event.listen(sync_engine.pool, "checkin", self._on_checkin)

    def _on_statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = written_table(statement)
        if table is not None and table not in self._bookkeeping:
            conn.info[_WROTE] = True

    def _on_commit(self, conn: Any) -> None:
        if conn.info.pop(_WROTE, None):
            conn.info[_COMMITTED] = True
            self.generation += 1

    def _on_rollback(self, conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    def _on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        # After the commit, so no answer built from the data before it survives.
        record.info.pop(_WROTE, None)  # written and never committed: nothing changed
        if record.info.pop(_COMMITTED, None):
            self.generation += 1

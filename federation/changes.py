"""Which commits change what, so that answers built from the database can be cached.

`TableChanges` watches an engine's statements. A transaction that wrote to a table it
counts moves the generation on when it commits, and again when its connection goes back to
the pool: an answer built while the commit was under way may have missed it, and the second
move makes sure it is not served afterwards. `content_changes` counts the tables readers
see (anything but the bookkeeping tables below); `sign_in_changes` those a bearer token's
check reads.

Only this process's engine is watched. Writes made by another process (an extra `worker`)
are seen once a cached answer's age limit has passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
# What checking a bearer token reads: the token, its person and their account.
SIGN_IN_TABLES = frozenset({"api_tokens", "actors", "accounts"})
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


def written_table(statement: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE writes (lower case); None for anything else."""
    found = _WRITE.match(statement)
    return found.group(1).lower() if found else None


class TableChanges:
    """A number that moves on whenever committed data in the counted tables may have changed."""

    def __init__(self, counts: Callable[[str], bool]) -> None:
        self.generation = 0
        self._counts = counts
        # Each watcher keeps its own marks on the connections it watches.
        self._wrote = f"wrote-{id(self)}"
        self._committed = f"committed-{id(self)}"

    def watch(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._on_statement)
        event.listen(sync_engine, "commit", self._on_commit)
        event.listen(sync_engine, "rollback", self._on_rollback)
        event.listen(sync_engine.pool, "checkin", self._on_checkin)

    def _on_statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = written_table(statement)
        if table is not None and self._counts(table):
            conn.info[self._wrote] = True

    def _on_commit(self, conn: Any) -> None:
        if conn.info.pop(self._wrote, None):
            conn.info[self._committed] = True
            self.generation += 1

    def _on_rollback(self, conn: Any) -> None:
        conn.info.pop(self._wrote, None)

    def _on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        # After the commit, so no answer built from the data before it survives.
        record.info.pop(self._wrote, None)  # written and never committed: nothing changed
        if record.info.pop(self._committed, None):
            self.generation += 1


def content_changes() -> TableChanges:
    return TableChanges(lambda table: table not in BOOKKEEPING_TABLES)


def sign_in_changes() -> TableChanges:
    return TableChanges(lambda table: table in SIGN_IN_TABLES)

"""Which commits change what, so that answers built from the database can be cached.

`TableChanges` watches an engine's statements. A transaction that wrote to a table it
counts moves the generation on when it commits, and again when its connection goes back to
the pool: an answer built while the commit was under way may have missed it, and the second
move makes sure it is not served afterwards. `content_changes` counts the tables readers
see (anything but the bookkeeping tables below); `sign_in_changes` those a bearer token's
check reads. `KeptUntilChanged` keeps values built from those tables until then.

Only this process's engine is watched. Writes made by another process (an extra `worker`,
a second `serve`) move the generation on when their notice arrives (PostgreSQL's
LISTEN/NOTIFY, federation.notify: `bump`); without one (SQLite) they are seen once a
cached answer's age limit has passed.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
        "browser_sessions",
        "sign_in_failures",
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

    def bump(self) -> None:
        """Another process committed a change: nothing kept before now is current."""
        self.generation += 1

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


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class _Kept(Generic[V]):
    generation: int
    kept_at: float
    value: V
    weight: int


class KeptUntilChanged(Generic[K, V]):
    """Values built from the database, each served until `changes` moves on from the
    generation it was built at, and for at most `max_age` seconds (0 keeps nothing). At most
    `budget` in all, each weighing `weigh(value)`; the least recently used go first."""

    def __init__(
        self,
        changes: TableChanges,
        max_age: float,
        budget: int,
        weigh: Callable[[V], int] = lambda _value: 1,
    ) -> None:
        self.changes = changes
        self.max_age = max_age
        self.budget = budget
        self._weigh = weigh
        self._kept: OrderedDict[K, _Kept[V]] = OrderedDict()
        self._weight = 0

    def get(self, key: K) -> V | None:
        kept = self._kept.get(key)
        if kept is None:
            return None
        fresh = time.monotonic() - kept.kept_at < self.max_age
        if kept.generation != self.changes.generation or not fresh:
            self._drop(key)
            return None
        self._kept.move_to_end(key)
        return kept.value

    def keep(self, key: K, generation: int, value: V) -> None:
        """Keep a value whose building began at `generation` (read before reading the data)."""
        if self.max_age <= 0:
            return
        if key in self._kept:
            self._drop(key)
        weight = self._weigh(value)
        self._kept[key] = _Kept(generation, time.monotonic(), value, weight)
        self._weight += weight
        while self._weight > self.budget:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: K) -> None:
        self._weight -= self._kept.pop(key).weight

"""Commits that other processes hear of at once: PostgreSQL's LISTEN/NOTIFY.

With several processes on one database (`serve --workers N`, `ourdesign worker`, on one
machine or several), a commit in one must wake the others: a queue worker for the rows
just queued, a streaming hub for the statuses just stored, an answer cache for what it
keeps. `CommitNotices.watch` marks, per connection, which kinds of rows a transaction
writes, and just before it commits sends one `pg_notify` inside that same transaction:
PostgreSQL delivers a notification only when (and if) its transaction commits, so no
listener is ever woken before the rows are visible, and a rolled-back write wakes nobody.

`listen_forever` holds one connection of its own (outside the pool) that LISTENs and calls
the handlers registered per topic. While it is not connected the callers' own slow polls
stand in, and on every (re)connect every handler runs once, for what was missed meanwhile.
On SQLite there is one machine and no LISTEN: nothing is sent and the polls remain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.changes import BOOKKEEPING_TABLES, SIGN_IN_TABLES, written_table

log = logging.getLogger(__name__)
CHANNEL = "ourdesign_commits"
# Rows inserted into these tables are work for the named queue's workers.
QUEUE_TOPICS = {
    "inbox_items": "inbox",
    "deliveries": "delivery",
    "thumbnail_jobs": "thumbnail",
    "outgoing_mail": "mail",
}
# Any write readers see (answer caches, streaming); a write a token check reads.
CONTENT = "content"
SIGN_IN = "sign_in"
TOPICS = (*QUEUE_TOPICS.values(), CONTENT, SIGN_IN)
# Topics the sending process already handles itself: its own commits move its caches on.
LOCAL_TOPICS = frozenset({CONTENT, SIGN_IN})
RECONNECT_SECONDS = 2.0


def topics_of(statement: str) -> set[str]:
    """The topics a statement's write concerns (empty for reads and bookkeeping updates)."""
    table = written_table(statement)
    if table is None:
        return set()
    found = set()
    queue = QUEUE_TOPICS.get(table)
    if queue is not None and statement.lstrip()[:6].upper() == "INSERT":
        found.add(queue)
    if table not in BOOKKEEPING_TABLES:
        found.add(CONTENT)
    if table in SIGN_IN_TABLES:
        found.add(SIGN_IN)
    return found


def listen_dsn(database_url: str) -> str:
    """The asyncpg DSN of an SQLAlchemy `postgresql+asyncpg://` URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class CommitNotices:
    """Sends a notice with each commit that writes something another process waits for,
    and hears the others' (see the module's comment)."""

    def __init__(self) -> None:
        # Names this process in its notices, so that it skips its own LOCAL_TOPICS.
        self.sender = secrets.token_hex(6)
        self.connected = asyncio.Event()
        self._handlers: dict[str, list[Callable[[], None]]] = {}
        self._topics = f"notice-topics-{id(self)}"

    def on(self, topic: str, handler: Callable[[], None]) -> None:
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}")
        self._handlers.setdefault(topic, []).append(handler)

    def watch(self, engine: AsyncEngine) -> None:
        """Send notices with `engine`'s commits (PostgreSQL only)."""
        if engine.dialect.name != "postgresql":
            return
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._on_statement)
        event.listen(sync_engine, "commit", self._on_commit)
        event.listen(sync_engine, "rollback", self._on_rollback)

    def _on_statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = topics_of(statement)
        if found:
            conn.info.setdefault(self._topics, set()).update(found)

    def _on_commit(self, conn: Any) -> None:
        # Runs before the driver's COMMIT, on the same connection: the notice is part of
        # the transaction it announces.
        topics = conn.info.pop(self._topics, None)
        if not topics:
            return
        payload = f"{self.sender}:{','.join(sorted(topics))}"
        cursor = conn.connection.cursor()
        try:
            cursor.execute(f"SELECT pg_notify('{CHANNEL}', '{payload}')")
        finally:
            cursor.close()

    def _on_rollback(self, conn: Any) -> None:
        conn.info.pop(self._topics, None)

    def heard(self, payload: str) -> None:
        """Run the handlers of a notice's topics."""
        sender, _, topics = payload.partition(":")
        for topic in topics.split(","):
            if sender == self.sender and topic in LOCAL_TOPICS:
                continue
            self._run(topic)

    def _run(self, topic: str) -> None:
        for handler in self._handlers.get(topic, []):
            try:
                handler()
            except Exception:
                log.exception("a handler of %s notices failed", topic)

    async def listen_forever(self, database_url: str, stop: asyncio.Event) -> None:
        """LISTEN until `stop`, reconnecting after a lost connection."""
        while not stop.is_set():
            try:
                await self._listen_once(listen_dsn(database_url), stop)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("not listening for other processes' commits: %s; polling", exc)
            self.connected.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)

    async def _listen_once(self, dsn: str, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(dsn, timeout=10)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self.heard(payload))
            self.connected.set()
            for topic in TOPICS:  # whatever was committed while we were not listening
                self._run(topic)
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

"""Time limits on the databases: how long to wait for a connection, and a deadline per statement.

Without them a stalled PostgreSQL (or a network that drops its packets) holds a request for
as long as TCP takes to give up, and one runaway statement on SQLite, whose pool has a single
connection, holds every request behind it. With them the statement is cancelled, the
connection stays usable, and the request is answered 503 with Retry-After
(`federation.outages`).

- PostgreSQL: `statement_timeout` on the server cancels a statement past the deadline; the
  client's `command_timeout` (the deadline and a grace) gives up on a server or network that
  does not answer at all; `timeout` bounds the connect.
- SQLite: a progress handler, called every `PROGRESS_STEPS` virtual-machine steps, interrupts
  the statement running past its deadline; the busy timeout bounds the wait for a lock held
  by another process.
- Both: the pool gives up waiting for a free connection after the connect timeout (on
  SQLite, after the connect timeout and the deadline).

Engines for migrations, backups and moves are built with `bounded=False`: their statements
may rightly run for minutes on a large database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_

from federation.settings import Settings

# The client waits this much longer than the server's statement_timeout, so that the server's
# own cancel (a clear error, a usable connection) comes first when the server is alive.
CLIENT_GRACE_SECONDS = 2.0
# A few microseconds of work between checks: cheap, and an interrupt lands within a millisecond.
PROGRESS_STEPS = 10_000
_DEADLINE_KEY = "ourdesign_statement_deadline"


def postgres_limits(settings: Settings, *, bounded: bool = True) -> dict[str, Any]:
    """`create_async_engine` arguments that bound connects, pool waits and statements."""
    connect_args: dict[str, Any] = {"timeout": settings.database_connect_timeout_seconds}
    if bounded:
        deadline = settings.database_statement_timeout_seconds
        connect_args["command_timeout"] = deadline + CLIENT_GRACE_SECONDS
        connect_args["server_settings"] = {"statement_timeout": str(round(deadline * 1000))}
    return {"connect_args": connect_args, "pool_timeout": settings.database_connect_timeout_seconds}


def sqlite_limits(settings: Settings) -> dict[str, Any]:
    """`create_async_engine` arguments for SQLite: the busy timeout and the pool wait.

    The pool has one connection, so a request may have to wait for a statement that runs to
    its deadline: the pool wait is the connect timeout on top of the deadline."""
    wait = settings.database_connect_timeout_seconds
    queue = wait + settings.database_statement_timeout_seconds
    return {"connect_args": {"timeout": wait}, "pool_timeout": queue}


@dataclass
class _Deadline:
    """When the statement now running on one SQLite connection must stop (monotonic time)."""

    seconds: float
    at: float | None = None

    def passed(self) -> int:
        # Called by SQLite in the connection's thread; non-zero interrupts the statement.
        at = self.at
        return 1 if at is not None and time.monotonic() > at else 0


def bound_sqlite_statements(engine: AsyncEngine, seconds: float) -> None:
    """Interrupt any statement of `engine` that runs longer than `seconds`."""

    @event.listens_for(engine.sync_engine, "connect")
    def _install(dbapi_connection: Any, record: Any) -> None:
        deadline = _Deadline(seconds)
        record.info[_DEADLINE_KEY] = deadline
        # The aiosqlite connection under SQLAlchemy's adapter; its handler runs in its thread.
        await_(dbapi_connection._connection.set_progress_handler(deadline.passed, PROGRESS_STEPS))

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(connection: Connection, *_args: Any) -> None:
        deadline: _Deadline | None = connection.info.get(_DEADLINE_KEY)
        if deadline is not None:
            deadline.at = time.monotonic() + deadline.seconds

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(connection: Connection, *_args: Any) -> None:
        _clear(connection)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        # A deadline left behind would interrupt the ROLLBACK that follows.
        if context.connection is not None:
            _clear(context.connection)


def _clear(connection: Connection) -> None:
    deadline: _Deadline | None = connection.info.get(_DEADLINE_KEY)
    if deadline is not None:
        deadline.at = None

"""Which failures are outages, and what a client is told about them.

A database that is down, stalled or past a statement deadline, and a disk that is full or
read-only, are not bugs: the request was fine and will succeed later. `outage_of` recognises
them in any exception (following its causes) and returns the `FederationError` to answer
with: 503 and Retry-After for the database, 507 for storage. Anything else is left alone
(a bug: a 500 and a traceback in the log). Nothing was stored: every write runs in a
transaction that the failure rolls back, and files are staged before they are placed.
"""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy import exc as sa_exc

from federation.errors import FederationError

RETRY_AFTER_SECONDS = 30
# PostgreSQL SQLSTATEs of a server that is unavailable or gave up on a statement, not of a
# bad statement: connection exceptions (08), too many connections (53300), out of memory or
# disk (53xxx), cancelled by statement_timeout (57014), shutting down (57P01-57P03), a
# read-only standby (25006), and transactions to retry (40001, 40P01).
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57")
_PG_UNAVAILABLE_STATES = frozenset({"25006", "40001", "40P01"})
_PG_DISK_FULL = "53100"
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
_SQLITE_STORAGE_WORDS = ("database or disk is full", "readonly database", "disk i/o error")


class Unavailable(FederationError):
    """The database cannot serve the request now; the client should try again later."""

    status = 503

    def __init__(self, message: str, *, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InsufficientStorage(Unavailable):
    """The disk is full or read-only: 507, and Retry-After (an operator must free space)."""

    status = 507


DATABASE_DOWN = (
    "the database is unavailable or overloaded just now; nothing was changed. "
    f"Try again in {RETRY_AFTER_SECONDS} seconds"
)
STATEMENT_TOO_LONG = (
    "this request took the database longer than the instance allows, and was stopped; "
    "nothing was changed. Try again later, or ask for less at a time"
)
STORAGE_FULL = (
    "the server's disk is full or read-only, so nothing could be stored; nothing was changed. "
    "Try again later; the instance's operators have to free space"
)


def outage_of(error: BaseException) -> Unavailable | None:
    """The answer for `error` if it, or an exception that caused it, is an outage."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _classify(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _classify(error: BaseException) -> Unavailable | None:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return Unavailable(DATABASE_DOWN)
    if isinstance(error, sa_exc.DBAPIError):
        return _database_error(error)
    if isinstance(error, OSError):
        if error.errno in _STORAGE_ERRNOS:
            return InsufficientStorage(STORAGE_FULL)
        if isinstance(error, ConnectionError | TimeoutError):
            return Unavailable(DATABASE_DOWN)
    return None


def _database_error(error: sa_exc.DBAPIError) -> Unavailable | None:
    if error.connection_invalidated:
        return Unavailable(DATABASE_DOWN)
    if isinstance(error.orig, sqlite3.Error):
        return _sqlite_error(error.orig)
    state = getattr(error.orig, "sqlstate", None)
    if not isinstance(state, str):
        # The driver's own failures (a refused connect, a client-side timeout) carry none.
        return Unavailable(DATABASE_DOWN) if isinstance(error, sa_exc.InterfaceError) else None
    if state == _PG_DISK_FULL:
        return InsufficientStorage(STORAGE_FULL)
    if state == "57014":
        return Unavailable(STATEMENT_TOO_LONG)
    if state[:2] in _PG_UNAVAILABLE_CLASSES or state in _PG_UNAVAILABLE_STATES:
        return Unavailable(DATABASE_DOWN)
    return None


def _sqlite_error(error: sqlite3.Error) -> Unavailable | None:
    if not isinstance(error, sqlite3.OperationalError):
        return None  # integrity and programming errors are bugs, not outages
    text = str(error).lower()
    if "interrupted" in text:  # our statement deadline (federation.db_limits)
        return Unavailable(STATEMENT_TOO_LONG)
    if any(words in text for words in _SQLITE_STORAGE_WORDS):
        return InsufficientStorage(STORAGE_FULL)
    if "locked" in text or "busy" in text or "unable to open" in text:
        return Unavailable(DATABASE_DOWN)
    return None

"""The SQLAlchemy base, column types and the engine/session factory.

SQLite is the embedded default and PostgreSQL the production database; both
run the same code. SQLite gets WAL mode and `BEGIN IMMEDIATE`, so that writers
queue on the busy timeout instead of failing when a read transaction upgrades.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, event, insert, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from federation.db_limits import bound_sqlite_statements, postgres_limits, sqlite_limits
from federation.settings import Settings

IdType = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


# Set in the tasks of the queue workers: their commits need not wait for the disk (see
# `_sqlite_engine`). A context variable, so that every task a worker starts inherits it.
REDOABLE_COMMITS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "redoable_commits", default=False
)


def make_engine(settings: Settings, *, bounded: bool = True, **kwargs: Any) -> AsyncEngine:
    """The engine of an instance, with the time limits of `federation.db_limits`; `bounded`
    False (migrations, backups) lifts the statement deadline but keeps the connect timeout."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        engine = _sqlite_engine(
            url, settings.sqlite_synchronous, **sqlite_limits(settings), **kwargs
        )
        if bounded:
            bound_sqlite_statements(engine, settings.database_statement_timeout_seconds)
        return engine
    kwargs.update(postgres_limits(settings, bounded=bounded))
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip per checkout. A connection that died (a database
    # restart) fails its one statement and the pool is invalidated; our callers retry, and so
    # do remote senders.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def _sqlite_engine(url: str, synchronous: str, **kwargs: Any) -> AsyncEngine:
    # SQLite has one writer, and every transaction here begins IMMEDIATE (a writer). With one
    # pooled connection, coroutines queue in order for it, instead of sleeping in SQLite's
    # busy handler, whose back-off (up to 100 ms a try) would set the latency. It also means
    # a session must never open a second session once its transaction has begun.
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite would start deferred transactions).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            # FULL: a commit is on disk before we answer (a 202 promises that); see settings.
            f"synchronous={synchronous.upper()}",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        record.info["synchronous"] = synchronous

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Where a request is answered (a 202, a post), the commit is synced first. A queue
        # worker's commit may wait for the next synced one: lost to a power cut, its work is
        # done again (the item is still pending), and the sync was a third of the inbox's
        # throughput (docs/OPERATIONS.md, "Durability").
        wanted = "normal" if REDOABLE_COMMITS.get() else synchronous
        if connection.info.get("synchronous") != wanted:
            connection.exec_driver_sql(f"PRAGMA synchronous={wanted.upper()}")
            connection.info["synchronous"] = wanted
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def column_length(column: Any) -> int | None:
    """The declared length of a mapped String column; longer values fail in PostgreSQL."""
    length = getattr(column.property.columns[0].type, "length", None)
    return length if isinstance(length, int) else None


async def insert_new_rows(session: AsyncSession, model: type[Base], min_rows: int = 1) -> None:
    """Insert the `model` objects added to this session in one executemany, when there are
    at least `min_rows` of them.

    The unit of work needs each new row's id back, and SQLite cannot return the ids of a
    multi-row INSERT in order, so it would send one INSERT per row. Nothing needs these
    ids before the session ends, so the batch is inserted as plain rows and the objects
    leave the session.
    """
    new = [obj for obj in session.new if isinstance(obj, model)]
    if not new or len(new) < min_rows:
        return
    columns = model.__table__.columns
    rows = [{k: v for k, v in inspect(obj).dict.items() if k in columns} for obj in new]
    for obj in new:
        session.expunge(obj)
    await session.execute(insert(model), rows)

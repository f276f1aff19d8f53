"""Moving an instance's data from its SQLite database into a PostgreSQL database.

The target must be an existing, empty PostgreSQL database. It is migrated to the newest
schema first; the source must be at the same revision. Every table is then copied in
foreign-key order with SQLAlchemy Core, so values go through the column types (SQLite's
naive UTC datetimes arrive as timezone-aware ones, JSON stays JSON), keeping every
primary key. The copy is one transaction on the target: all or nothing. Each table's id
sequence is set past the largest copied id, and the row counts of both sides are compared
before the transaction commits.

The source is read in one `BEGIN IMMEDIATE` transaction, a consistent snapshot during
which nothing else can write to it; stop `serve` and `worker` before moving. The file
store is not touched: files stay in the data directory, whichever database names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Table, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from federation.db import make_engine
from federation.errors import FederationError
from federation.settings import Settings
from web.ops.backup_db import sqlite_file
from web.ops.checks import safe_url
from web.schema import current_revision, metadata, migrate, script_directory

CHUNK_ROWS = 1000
TARGET_DRIVER = "postgresql+asyncpg"
_SKIPPED = {"alembic_version"}


class MoveError(FederationError):
    """The move cannot go ahead (or failed and changed nothing); the message says why."""


@dataclass
class Report:
    """What a move copied: rows per table, equal on both sides."""

    source: str
    target: str
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def lines(self) -> list[str]:
        width = max((len(name) for name in self.tables), default=0)
        return [f"  {name:<{width}}  {rows}" for name, rows in self.tables.items()]

    def next_step(self) -> str:
        return (
            f"next: set OURDESIGN_DATABASE_URL={self.target} (with its password, if any) "
            "and restart `ourdesign serve` and any `ourdesign worker`; keep the SQLite file "
            "until you have checked the instance"
        )


async def move_to_postgres(settings: Settings, target_url: str) -> Report:
    """Copy the configured SQLite database into the empty PostgreSQL database `target_url`."""
    source_path = _source_path(settings)
    target = _target_url(target_url)
    head = script_directory(settings).get_current_head()
    tables = [table for table in metadata().sorted_tables if table.name not in _SKIPPED]
    report = Report(
        source=str(source_path),
        target=safe_url(target),
        revision=head,
    )

    source_engine = make_engine(settings, bounded=False)  # copying a table takes its time
    target_settings = settings.with_changes(database_url=target)
    target_engine = create_async_engine(target, poolclass=NullPool)
    try:
        # Holding the source's write lock from here on: nothing written meanwhile is lost.
        async with source_engine.begin() as source:
            revision = await current_revision(source)
            if revision != head:
                raise MoveError(
                    f"the SQLite database is at schema revision {revision or 'none'}, not "
                    f"the newest ({head}); run `ourdesign migrate` first, then move again"
                )
            unknown = await source.run_sync(_unknown_tables, tables)
            if unknown:
                report.notes.append(
                    "not copied (not part of Our Design's schema): " + ", ".join(unknown)
                )
            await _check_target_empty(target_engine, target, tables)
            try:
                await migrate(target_engine, target_settings)
            except SQLAlchemyError as exc:
                raise MoveError(f"cannot migrate the target database: {exc}") from exc
            async with target_engine.begin() as dest:
                target_revision = await current_revision(dest)
                if target_revision != revision:
                    raise MoveError(
                        f"the target database is at schema revision {target_revision}, the "
                        f"source at {revision}; both must be at {head}"
                    )
                await _check_rows(dest, tables)  # a concurrent writer since the first check
                for table in tables:
                    report.tables[table.name] = await _copy(source, dest, table)
                for table in tables:
                    await _reset_sequence(dest, table)
                await _verify(source, dest, tables, report.tables)
    except OSError as exc:
        raise MoveError(f"cannot reach the target database {report.target}: {exc}") from exc
    finally:
        await target_engine.dispose()
        await source_engine.dispose()
    report.notes.append(
        f"the file store ({settings.data_dir / 'files'}) is unchanged: files stay in the "
        "data directory and the moved database names the same files"
    )
    return report


# Checks


def _source_path(settings: Settings) -> Path:
    url = settings.effective_database_url
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise MoveError(f"the configured database URL is not valid: {exc}") from exc
    if parsed.get_backend_name() != "sqlite":
        raise MoveError(
            f"the configured database is {parsed.get_backend_name()}, not SQLite; "
            "`db move-to-postgres` moves an SQLite instance (OURDESIGN_DATABASE_URL "
            "should be unset or an sqlite URL)"
        )
    path = sqlite_file(parsed)
    if path is None:
        raise MoveError(f"the configured database {url} is not an SQLite file")
    if not path.is_file():
        raise MoveError(
            f"the SQLite database {path} does not exist; check OURDESIGN_DATA_DIR "
            "(there is nothing to move)"
        )
    return path


def _target_url(target_url: str) -> str:
    try:
        parsed = make_url(target_url)
    except ArgumentError as exc:
        raise MoveError(
            f"{target_url!r} is not a database URL; give "
            "postgresql+asyncpg://user[:password]@host[:port]/database"
        ) from exc
    if parsed.drivername != TARGET_DRIVER:
        raise MoveError(
            f"the target must be a {TARGET_DRIVER}:// URL, not {parsed.drivername}://; give "
            "postgresql+asyncpg://user[:password]@host[:port]/database"
        )
    if not parsed.database:
        raise MoveError("the target URL names no database; create one and name it in the URL")
    return parsed.render_as_string(hide_password=False)


def _unknown_tables(conn: Connection, tables: Sequence[Table]) -> list[str]:
    known = {table.name for table in tables} | _SKIPPED
    return sorted(set(inspect(conn).get_table_names()) - known)


async def _check_target_empty(engine: AsyncEngine, target: str, tables: Sequence[Table]) -> None:
    shown = safe_url(target)
    try:
        async with engine.connect() as conn:
            await _check_rows(conn, tables)
    except DBAPIError as exc:
        raise MoveError(f"cannot use the target database {shown}: {exc.orig}") from exc


async def _check_rows(conn: AsyncConnection, tables: Sequence[Table]) -> None:
    present = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    full = []
    for table in tables:
        if table.name in present and await conn.scalar(select(table).limit(1)) is not None:
            full.append(table.name)
    if full:
        raise MoveError(
            "the target database is not empty (rows in " + ", ".join(full) + "); give a new, "
            "empty PostgreSQL database (`createdb`), so that nothing is mixed or overwritten"
        )


# Copying


async def _copy(source: AsyncConnection, dest: AsyncConnection, table: Table) -> int:
    """Copy `table` in chunks of CHUNK_ROWS, ordered by primary key; the rows copied."""
    query = select(table).order_by(*table.primary_key.columns)
    copied = 0
    result = await source.stream(query)
    try:
        async for chunk in result.partitions(CHUNK_ROWS):
            rows = [dict(row._mapping) for row in chunk]
            try:
                await dest.execute(table.insert(), rows)
            except DBAPIError as exc:
                raise MoveError(
                    f"PostgreSQL refused a row of {table.name} (nothing was moved): {exc.orig}"
                ) from exc
            copied += len(rows)
    finally:
        await result.close()
    return copied


async def _reset_sequence(dest: AsyncConnection, table: Table) -> None:
    id_column = table.columns.get("id")
    if id_column is None or not id_column.primary_key or id_column.autoincrement is False:
        return
    name = dest.dialect.identifier_preparer.quote(table.name)
    sequence = await dest.scalar(
        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
    )
    if sequence is None:
        return
    await dest.execute(
        text(f"SELECT setval(:sequence, coalesce(max(id), 0) + 1, false) FROM {name}"),
        {"sequence": sequence},
    )


async def _verify(
    source: AsyncConnection, dest: AsyncConnection, tables: Sequence[Table], copied: dict[str, int]
) -> None:
    wrong = []
    for table in tables:
        count = select(func.count()).select_from(table)
        before, after = await source.scalar(count), await dest.scalar(count)
        if not before == after == copied[table.name]:
            wrong.append(f"{table.name}: {before} in SQLite, {after} in PostgreSQL")
    if wrong:
        raise MoveError(
            "row counts differ after the copy, so nothing was moved: " + "; ".join(wrong)
        )

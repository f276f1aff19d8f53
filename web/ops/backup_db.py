"""The database half of backups: SQLite's online backup API, and pg_dump / pg_restore for
PostgreSQL (connection details from the URL, the password only in the environment)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from federation.errors import FederationError
from federation.settings import Settings
from web.schema import current_revision


class BackupError(FederationError):
    """A backup or restore cannot go ahead; the message says what to do."""


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page in one read transaction (WAL: writers go on)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # One self-contained file, readable without -wal/-shm companions.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def sqlite_revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


async def database_revision(settings: Settings) -> str | None:
    engine = create_async_engine(settings.effective_database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await current_revision(conn)
    except Exception:
        return None
    finally:
        await engine.dispose()


def sqlite_restore(dump: Path, target: Path) -> None:
    """Write the backup into the target through SQLite, so an old WAL cannot replay over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def database_kind(settings: Settings) -> str:
    backend = make_url(settings.effective_database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {backend} database; use SQLite or PostgreSQL")
    return backend


def sqlite_file(url: str | URL) -> Path | None:
    """The file an SQLite URL names, or None for an in-memory or `file:` URI database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def sqlite_path(settings: Settings, must_exist: bool) -> Path:
    path = sqlite_file(settings.effective_database_url)
    if path is None:
        raise BackupError(
            f"the database {settings.effective_database_url} is not a file; configure a file "
            "database (OURDESIGN_DATABASE_URL) to back up and restore"
        )
    if must_exist and not path.is_file():
        raise BackupError(f"the database file {path} does not exist; check OURDESIGN_DATA_DIR")
    return path


def pg_connection(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """libpq arguments and environment for the configured database; the password goes in
    the environment, never on a command line other users could read."""
    url = make_url(settings.effective_database_url)
    args: list[str] = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    args += ["-d", url.database or "postgres"]
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


async def pg_tool(tool: str, args: list[str], env: dict[str, str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} was not found on PATH; install the PostgreSQL client tools (the same "
            "major version as the server, or newer)"
        )
    process = await asyncio.create_subprocess_exec(
        executable,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip()
        raise BackupError(f"{tool} failed (exit {process.returncode}): {message}")


async def pg_dump(settings: Settings, dump: Path) -> None:
    args, env = pg_connection(settings)
    await pg_tool(
        "pg_dump",
        ["--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", *args],
        env,
    )


async def pg_restore(settings: Settings, dump: Path) -> None:
    args, env = pg_connection(settings)
    await pg_tool(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            *args,
            str(dump),
        ],
        env,
    )

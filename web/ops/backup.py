"""Online backups and their restore: the database plus the content-addressed file store.

A backup is a directory:

    manifest.json           what is in it, with the SHA-256 of every file
    database.sqlite3        SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump         PostgreSQL: `pg_dump --format=custom` (one consistent snapshot)
    files/sha256/ab/cd/...  every blob, in the store's own layout

The database is copied first and the files after it: a blob is stored before any row
names it, so every file the copied database refers to is already in the store. Each
blob is hashed while it is copied, and a damaged one fails the backup. A restore checks
every digest against the manifest (and the file's name) before it trusts it, then
migrates the database, so a backup made by an older release is brought up to date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from actors.models import Account
from federation.db import make_engine
from federation.settings import Settings
from objects.blobs import BlobStore, is_sha256
from objects.object_store import open_blob_store, pull_all, push_all
from web.ops.backup_db import (
    BackupError,
    database_kind,
    database_revision,
    pg_dump,
    pg_restore,
    sqlite_copy,
    sqlite_path,
    sqlite_restore,
    sqlite_revision,
)
from web.schema import current_revision, migrate, script_directory

FORMAT = "ourdesign-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "database.sqlite3"
PG_DUMP = "database.pgdump"
_CHUNK = 1024 * 1024


@dataclass
class Report:
    """What a backup or restore did."""

    path: Path
    database_kind: str
    database_file: str
    alembic_revision: str | None
    files: int = 0
    bytes: int = 0
    created: str = ""
    domain: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.database_kind} database ({self.database_file}, revision "
            f"{self.alembic_revision or 'none'}) and {self.files} files ({self.bytes} bytes)"
        )


# Backup


async def backup(settings: Settings, dest: Path) -> Report:
    """Write a verified backup of the running instance into the empty directory `dest`."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(
            f"{dest} is not an empty directory; give a new or empty directory for the backup"
        )
    dest.mkdir(parents=True, exist_ok=True)
    try:
        return await _backup_into(settings, dest)
    except BaseException:
        # A half-written backup must not be mistaken for a good one.
        for child in dest.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise


async def _backup_into(settings: Settings, dest: Path) -> Report:
    kind = database_kind(settings)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if kind == "sqlite":
        dump = dest / SQLITE_DUMP
        await asyncio.to_thread(sqlite_copy, sqlite_path(settings, must_exist=True), dump)
        revision = await asyncio.to_thread(sqlite_revision, dump)
    else:
        dump = dest / PG_DUMP
        revision = await database_revision(settings)
        await pg_dump(settings, dump)
    dump_sha256, dump_size = await asyncio.to_thread(_hash_file, dump)
    async with open_blob_store(settings) as store:
        await pull_all(store)  # a bucket's files come through this directory, digests checked
    blobs = await asyncio.to_thread(
        _copy_store, BlobStore(settings.data_dir / "files"), BlobStore(dest / "files")
    )
    file_count, file_bytes = len(blobs), sum(blobs.values())
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created": created,
        "domain": settings.domain,
        "database": {
            "kind": kind,
            "file": dump.name,
            "sha256": dump_sha256,
            "size": dump_size,
            "alembic_revision": revision,
        },
        "files": {
            "count": file_count,
            "bytes": file_bytes,
            "sha256": dict(sorted(blobs.items())),
        },
    }
    await asyncio.to_thread(_write_manifest, dest / MANIFEST, manifest)
    return Report(
        path=dest,
        database_kind=kind,
        database_file=dump.name,
        alembic_revision=revision,
        files=file_count,
        bytes=file_bytes,
        created=created,
        domain=settings.domain,
    )


def _copy_store(source: BlobStore, dest: BlobStore) -> dict[str, int]:
    """Copy every blob, hashing as it goes; {sha256: size}. Damaged blobs fail the backup."""
    blobs: dict[str, int] = {}
    damaged: list[str] = []
    for path in _blob_paths(source.blobs_dir):
        digest = path.name
        target = dest.blobs_dir / path.relative_to(source.blobs_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        actual, size = _copy_hashing(path, target)
        if actual != digest:
            damaged.append(str(path))
            target.unlink()
            continue
        blobs[digest] = size
    if damaged:
        listed = ", ".join(damaged[:10]) + (
            f" and {len(damaged) - 10} more" if len(damaged) > 10 else ""
        )
        raise BackupError(
            f"{len(damaged)} stored file(s) no longer match their SHA-256 (damaged on disk): "
            f"{listed}. Restore them from an earlier backup or another copy (any instance "
            "or mirror holding a design can serve the same bytes), then back up again"
        )
    return blobs


def _blob_paths(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for directory, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            path = Path(directory) / name
            if not is_sha256(name) or path.parent.parent.parent != root:
                continue  # not a blob (the store keeps staged writes elsewhere)
            yield path


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy bytes (never a link), fsync the copy; the source's SHA-256 and size."""
    hasher = hashlib.sha256()
    size = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            hasher.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return hasher.hexdigest(), size


def _hash_file(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as file:
        json.dump(manifest, file, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())


# Restore


async def restore(settings: Settings, src: Path, *, force: bool = False) -> Report:
    """Restore the backup in `src` into the configured database and data directory.

    Refuses a target that already holds local users unless `force`; checks every digest
    before the data is used; migrates the restored database to the newest schema.
    """
    src = Path(src)
    manifest = _read_manifest(src)
    database = manifest["database"]
    kind = database_kind(settings)
    if database["kind"] != kind:
        raise BackupError(
            f"this backup holds a {database['kind']} database but the configured database is "
            f"{kind}; configure a {database['kind']} database (OURDESIGN_DATABASE_URL) to "
            "restore into"
        )
    if manifest.get("domain") not in (None, settings.domain) and not force:
        raise BackupError(
            f"this backup is of {manifest['domain']}, but this instance is configured as "
            f"{settings.domain}; every stored address names the domain, so set "
            f"OURDESIGN_DOMAIN={manifest['domain']} (or pass --force to restore anyway)"
        )
    revision = database.get("alembic_revision")
    _check_revision_known(settings, revision)
    dump = src / database["file"]
    if database["file"] not in (SQLITE_DUMP, PG_DUMP) or not dump.is_file():
        raise BackupError(f"{dump} is missing; this backup is incomplete")
    digest, size = await asyncio.to_thread(_hash_file, dump)
    if digest != database["sha256"] or size != database["size"]:
        raise BackupError(
            f"{dump} does not match the SHA-256 in its manifest; the backup is damaged, "
            "restore an earlier one"
        )
    if not force and await _has_local_users(settings, kind):
        raise BackupError(
            "the configured database already has local users; restore into a fresh database "
            "and data directory, or pass --force to replace what is there"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    files = manifest["files"]["sha256"]
    await asyncio.to_thread(
        _restore_store, BlobStore(src / "files"), BlobStore(settings.data_dir / "files"), files
    )
    async with open_blob_store(settings) as store:
        if store.remote is not None:
            moved = await push_all(store)  # and on into the bucket
            if moved.damaged:
                raise BackupError(f"{len(moved.damaged)} restored file(s) changed on disk")
    if kind == "sqlite":
        await asyncio.to_thread(sqlite_restore, dump, sqlite_path(settings, must_exist=False))
    else:
        await pg_restore(settings, dump)
    engine = make_engine(settings, bounded=False)  # migrations may run past the deadline
    try:
        await migrate(engine, settings)
        async with engine.connect() as conn:
            now = await current_revision(conn)
    finally:
        await engine.dispose()
    report = Report(
        path=src,
        database_kind=kind,
        database_file=dump.name,
        alembic_revision=str(now) if now is not None else None,
        files=len(files),
        bytes=sum(files.values()),
        created=str(manifest.get("created", "")),
        domain=str(manifest.get("domain", "")),
    )
    if now != revision:
        report.notes.append(f"migrated the database from revision {revision} to {now}")
    return report


def _read_manifest(src: Path) -> dict[str, Any]:
    path = src / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(
            f"{path} is missing; {src} is not a finished backup (give the directory "
            "`ourdesign backup` wrote)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not an Our Design backup manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {manifest.get('version')!r}; this release "
            f"reads version {FORMAT_VERSION}, use the release that made the backup"
        )
    try:
        files = manifest["files"]["sha256"]
        database = manifest["database"]
        assert isinstance(files, dict) and isinstance(database, dict)
        assert all(is_sha256(k) and isinstance(v, int) for k, v in files.items())
        assert {"kind", "file", "sha256", "size"} <= database.keys()
    except (KeyError, TypeError, AssertionError) as exc:
        raise BackupError(f"{path} is incomplete or damaged") from exc
    return manifest


def _check_revision_known(settings: Settings, revision: str | None) -> None:
    if revision is None:
        return
    try:
        known = script_directory(settings).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"this backup's database is at schema revision {revision}, which this release "
            "does not know (it was made by a newer release); upgrade Our Design first"
        )


async def _has_local_users(settings: Settings, kind: str) -> bool:
    if kind == "sqlite" and not sqlite_path(settings, False).exists():
        return False
    engine = create_async_engine(settings.effective_database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            # People who can sign in; the instance and cooperative actors exist from the start.
            count = await conn.scalar(select(func.count()).select_from(Account))
    except Exception:
        return False  # no actors table: an empty or new database
    finally:
        await engine.dispose()
    return bool(count)


def _restore_store(backup: BlobStore, store: BlobStore, files: dict[str, int]) -> None:
    """Copy every blob into the store, checking name, manifest and bytes before placing it."""
    store.tmp_dir.mkdir(parents=True, exist_ok=True)
    present = {path.name for path in _blob_paths(backup.blobs_dir)}
    missing = sorted(set(files) - present)
    if missing:
        raise BackupError(
            f"{len(missing)} file(s) listed in the manifest are missing from the backup "
            f"(first: {missing[0]}); the backup is incomplete, restore an earlier one"
        )
    for digest, size in files.items():
        source = backup.path_for(digest)
        final = store.path_for(digest)
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="restore-")
        os.close(fd)
        staged = Path(name)
        try:
            actual, actual_size = _copy_hashing(source, staged)
            if actual != digest or actual_size != size:
                raise BackupError(
                    f"{source} does not match its SHA-256 ({digest}); the backup is "
                    "damaged, restore an earlier one or replace that file from another copy"
                )
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staged, 0o444)
            os.replace(staged, final)
        finally:
            staged.unlink(missing_ok=True)

"""Thumbnails of 3D files: which files get one, their job rows, and where they are served.

The drawing itself is `objects.mesh_render` (numpy, trimesh), run only in a limited child
process (`objects.sandbox`): the server never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import is_postgres, utcnow
from federation.queue import DONE, FAILED
from objects.blobs import BlobStore
from objects.design_models import VersionFile
from objects.model_files import (
    HEIGHT,
    MAX_SECONDS,
    MAX_SOURCE_BYTES,
    MODEL_FORMATS,
    WIDTH,
    ThumbnailError,
    model_format,
)
from objects.sandbox import Sandbox, Task
from objects.thumbnail_models import ThumbnailJob

# The file facts live in objects.model_files (the parsing child needs them without a
# database); they are named here too, where the server's modules look for them.
__all__ = [
    "HEIGHT",
    "MAX_SECONDS",
    "MAX_SOURCE_BYTES",
    "MODEL_FORMATS",
    "WIDTH",
    "ThumbnailError",
    "draw_thumbnail",
    "model_format",
    "page_thumbnail",
    "queue_thumbnails",
    "thumbnail_failure",
    "thumbnail_path",
    "thumbnails_for",
]


DRAW = Task("objects.mesh_render", "render_file")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def draw_thumbnail(sandbox: Sandbox, blobs: BlobStore, sha256: str, file_name: str) -> bytes:
    """The PNG thumbnail of the stored 3D file `sha256`, drawn in a limited child process;
    ThumbnailError (saying why, for the file's owner) when it cannot or may not be drawn."""
    stored = await blobs.aget(sha256)
    if stored is None:
        raise ThumbnailError(f"{file_name} is not in this instance's file store")
    if stored.size > MAX_SOURCE_BYTES:
        raise ThumbnailError(f"{file_name} is too large to draw a thumbnail of")
    path = str(await blobs.local_path(sha256))  # the child process reads a local file
    drawn = await sandbox.run(DRAW, path, file_name, label=file_name, error=ThumbnailError)
    if drawn.payload is None or not drawn.payload.startswith(PNG_SIGNATURE):
        raise ThumbnailError(f"drawing {file_name} gave no picture")
    return drawn.payload


async def queue_thumbnails(session: AsyncSession, files: Iterable[tuple[str, str]]) -> None:
    """Queue a job for each 3D file (name, sha256) that has none yet; the caller commits."""
    rows = {
        sha256: {"source_sha256": sha256, "file_name": name[:255], "next_attempt_at": utcnow()}
        for name, sha256 in files
        if model_format(name) is not None
    }
    if not rows:
        return
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(ThumbnailJob.__table__).on_conflict_do_nothing(
        index_elements=["source_sha256"]
    )
    await session.execute(statement, list(rows.values()))


async def thumbnails_for(session: AsyncSession, sha256s: Iterable[str]) -> dict[str, str]:
    """The thumbnails made so far: source file's SHA-256 -> the PNG's SHA-256 in the blobs."""
    wanted = list(set(sha256s))
    if not wanted:
        return {}
    # Only the unique source index narrows this: with a condition on `state` in SQL, SQLite
    # took the state index and read every finished job.
    rows = await session.execute(
        select(ThumbnailJob.source_sha256, ThumbnailJob.thumbnail_sha256, ThumbnailJob.state).where(
            ThumbnailJob.source_sha256.in_(wanted)
        )
    )
    return {
        source: thumbnail for source, thumbnail, state in rows.all() if state == DONE and thumbnail
    }


async def thumbnail_failure(session: AsyncSession, source_sha256: str) -> str | None:
    """Why no thumbnail can be made of a 3D file (its failed job's reason), else None."""
    row = (
        await session.execute(
            select(ThumbnailJob.state, ThumbnailJob.last_error).where(
                ThumbnailJob.source_sha256 == source_sha256
            )
        )
    ).first()
    return row.last_error if row is not None and row.state == FAILED else None


def thumbnail_path(source_sha256: str) -> str:
    """Where the thumbnail of a 3D file is served (relative to the instance's base URL)."""
    return f"/thumbnails/{source_sha256}.png"


async def page_thumbnail(session: AsyncSession, files: Sequence[VersionFile]) -> str | None:
    """The 3D file (by SHA-256) whose made thumbnail should picture a version: none when the
    version brings its own preview image or no thumbnail is made yet."""
    if any(file.preview for file in files):
        return None
    sources = [f.sha256 for f in files if model_format(f.filename)]
    made = await thumbnails_for(session, sources)
    return next((sha256 for sha256 in sources if sha256 in made), None)

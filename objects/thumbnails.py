"""Thumbnails of 3D files: which files get one, their job rows, and where they are served.

The drawing itself is `objects.mesh_render` (numpy, trimesh), which only the worker loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import is_postgres, utcnow
from federation.errors import ValidationError
from federation.queue import DONE
from objects.design_models import VersionFile
from objects.thumbnail_models import ThumbnailJob

MODEL_FORMATS = {".stl": "stl", ".obj": "obj", ".gltf": "gltf", ".glb": "glb"}
WIDTH, HEIGHT = 640, 480
MAX_SOURCE_BYTES = 100_000_000  # the upload limit per file
MAX_SECONDS = 30.0


class ThumbnailError(ValidationError):
    """A 3D file that cannot be drawn; the message says why and what to do."""

    status = 422


def model_format(file_name: str) -> str | None:
    """'stl', 'obj', 'gltf' or 'glb' for a 3D file we can draw, else None."""
    dot = file_name.rfind(".")
    return MODEL_FORMATS.get(file_name[dot:].lower()) if dot >= 0 else None


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

"""Thumbnails of 3D files, made by the worker: one job per distinct file (by SHA-256)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, utcnow
from federation.queue import QueueRow


class ThumbnailJob(QueueRow, Base):
    """A 3D file waiting for, or given, its thumbnail: `thumbnail_sha256` names the PNG in
    the blob store once the job is done. Queued in the commit that stores the file."""

    __tablename__ = "thumbnail_jobs"

    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

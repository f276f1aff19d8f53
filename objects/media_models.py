"""Rows behind posting from Mastodon apps (uploaded media, bookmarks, idempotency keys), and
the upload ledger that quotas count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class MediaAttachment(Base):
    """A file a person uploaded to attach to a note; `note_id` is null until it is attached.

    The bytes live in the blob store under `sha256`; the row says whose they are and how
    they are shown. Only the uploader may change it or attach it, and only once.
    """

    __tablename__ = "media_attachments"
    __table_args__ = (
        Index("ix_media_attachments_note_id", "note_id"),
        Index("ix_media_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    blurhash: Mapped[str | None] = mapped_column(String(100), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    focus_x: Mapped[float] = mapped_column(default=0.0)
    focus_y: Mapped[float] = mapped_column(default=0.0)
    note_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("notes.id", ondelete="CASCADE"), default=None
    )
    position: Mapped[int] = mapped_column(default=0)  # its place among the note's media
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Bookmark(Base):
    """A note or design version a person keeps for later, by its URI."""

    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("account_id", "status_uri"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    status_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StatusIdempotencyKey(Base):
    """The note a person's Idempotency-Key posted, so a retry gets that note, not a second.

    The key is kept as its SHA-256 (hex): clients send anything up to a long string.
    """

    __tablename__ = "status_idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key_hash"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64))
    note_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UploadUsage(Base):
    """Bytes a local person stored by uploading (a design version's files, a media file):
    one row per stored file, what `objects.upload_quota` sums against their quota. A file
    uploaded twice is counted twice, as it was sent twice."""

    __tablename__ = "upload_usage"
    __table_args__ = (Index("ix_upload_usage_actor_id", "actor_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

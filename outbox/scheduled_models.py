"""Statuses written now and published later: one queue row each, due at its time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow
from federation.queue import QueueRow


class ScheduledStatus(QueueRow, Base):
    """A status to publish at `next_attempt_at` (Mastodon's `scheduled_at`).

    `params` are the Mastodon parameters as the app sent them (shown back to it); `note` is
    the note to post, built when it was scheduled (mentions and the parent looked up then),
    and `media_ids` the uploads to attach. Published once: the row is marked done in the
    transaction that posts the note, and only while the worker's lease holds it.
    """

    __tablename__ = "scheduled_statuses"
    __table_args__ = (Index("ix_scheduled_statuses_actor_id_id", "actor_id", "id"),)

    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column()
    note: Mapped[dict[str, Any]] = mapped_column()
    media_ids: Mapped[list[str]] = mapped_column()
    # The published note, once it is.
    note_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

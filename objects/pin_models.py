"""Pinned statuses: the notes a person features on their profile (Mastodon's pins)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class Pin(Base):
    """`actor_id` features its own note `note_id`; local people's and, from their `Add`
    and `Remove` activities, remote people's."""

    __tablename__ = "pins"
    __table_args__ = (UniqueConstraint("actor_id", "note_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("notes.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

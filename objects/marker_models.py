"""Where a person stopped reading each timeline (Mastodon's markers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class Marker(Base):
    """The last status (or notification) id read in one timeline; `version` counts saves."""

    __tablename__ = "markers"
    __table_args__ = (UniqueConstraint("actor_id", "timeline"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    timeline: Mapped[str] = mapped_column(String(16))
    last_read_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

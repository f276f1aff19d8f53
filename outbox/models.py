"""Outbox activities, their delivery rows, and what we know of each remote host."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow
from federation.queue import QueueRow


class OutboxActivity(Base):
    """An activity a local actor published; the outbox collection lists these."""

    __tablename__ = "outbox_activities"
    __table_args__ = (Index("ix_outbox_actor_id_id", "actor_id", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    object_uri: Mapped[str | None] = mapped_column(String(2048), default=None, index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    published: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(QueueRow, Base):
    """One POST of one activity to one inbox."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        # Rows to one inbox are claimed in order: "is an older one waiting?" is looked up here.
        Index("ix_deliveries_inbox_order", "inbox_url", "id"),
    )

    activity_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("outbox_activities.id", ondelete="CASCADE"), index=True
    )
    inbox_url: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class RemoteHost(Base):
    """Delivery health and signature dialect of a remote host."""

    __tablename__ = "remote_hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    unavailable_since: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    signature_dialect: Mapped[str] = mapped_column(String(16), default="cavage")

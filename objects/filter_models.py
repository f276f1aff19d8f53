"""A person's filters (Mastodon's filters v2): keywords that hide or flag statuses.

Rows stay plain; matching them against statuses is `objects.filters`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow

CONTEXTS = ("home", "notifications", "public", "thread", "account")
WARN = "warn"
HIDE = "hide"
ACTIONS = (WARN, HIDE)


class StatusFilter(Base):
    __tablename__ = "status_filters"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    contexts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"contexts": [...]}
    action: Mapped[str] = mapped_column(String(16), default=WARN)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FilterKeyword(Base):
    __tablename__ = "filter_keywords"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    filter_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("status_filters.id", ondelete="CASCADE"), index=True
    )
    keyword: Mapped[str] = mapped_column(String(255))
    whole_word: Mapped[bool] = mapped_column(Boolean, default=True)

"""Rows behind signing in from a browser: sessions, and failed sign-ins for rate limiting."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class BrowserSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database signs nobody in. Ending the session deletes the row."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()


class SignInFailure(Base):
    """One failed sign-in, counted per `key` ("ip:ADDRESS" or "user:NAME") over a window.
    Kept in the database so that every process and a restart see the same count."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    failed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

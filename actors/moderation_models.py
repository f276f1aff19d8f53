"""Moderation rows: domain blocks, reports and the audit log.

Rows stay plain; the rules that use them live in `actors.moderation`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow

SEVERITIES = ("silence", "suspend", "noop")
REPORT_CATEGORIES = ("spam", "legal", "violation", "other")
REPORT_OPEN = "open"
REPORT_RESOLVED = "resolved"


class DomainBlock(Base):
    """A block of a remote domain and its subdomains, in Mastodon's terms.

    `severity` is suspend (nothing in or out), silence (hidden from public listings) or noop
    (only the flags below); `reject_media` drops their images, `reject_reports` their Flags.
    """

    __tablename__ = "domain_blocks"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    severity: Mapped[str] = mapped_column(String(16), default="suspend")
    reject_media: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    private_comment: Mapped[str] = mapped_column(Text, default="")
    public_comment: Mapped[str] = mapped_column(Text, default="")
    obfuscate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Report(Base):
    """A report about an actor and, optionally, some of its objects.

    Local reports have a `reporter_id`; a `Flag` received from another instance has its
    activity `uri` and the sending `origin_domain` (remote reporters stay anonymous).
    """

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True, default=None)
    reporter_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="SET NULL"), default=None
    )
    origin_domain: Mapped[str | None] = mapped_column(String(255), default=None)
    target_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    object_uris: Mapped[list[str]] = mapped_column(default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default="other")
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=REPORT_OPEN)
    assigned_to_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="SET NULL"), default=None
    )
    action_taken: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """One moderation or administration action: who, what, on what, and the details."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # None when the action came from the command line on the server itself.
    moderator_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2048))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

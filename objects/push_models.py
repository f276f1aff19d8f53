"""Web Push (RFC 8030): a person's subscriptions, the pushes waiting to be sent, and the
instance's VAPID key pair (RFC 8292)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow
from federation.queue import QueueRow


class PushSubscription(Base):
    """Where a client (one access token: Mastodon keeps one subscription per token) wants
    notifications pushed, the keys to encrypt them with (RFC 8291), and which ones."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    token_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("api_tokens.id", ondelete="CASCADE"), unique=True
    )
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2048))
    # The client's P-256 public key (uncompressed point) and auth secret, base64url.
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    # The alerts that are on, space-separated Mastodon names (`mention`, `follow`, ...).
    alerts: Mapped[str] = mapped_column(String(500), default="")
    policy: Mapped[str] = mapped_column(String(16), default="all")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PushJob(QueueRow, Base):
    """One notification to push to one subscription: queued in the transaction that made
    the notification, sent by outbox.push_worker."""

    __tablename__ = "push_jobs"

    subscription_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    notification_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class VapidKey(Base):
    """The instance's VAPID key pair, made at its first start; one row."""

    __tablename__ = "vapid_keys"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    private_pem: Mapped[str] = mapped_column(Text)
    # The public key as push services and clients want it: the uncompressed point, base64url.
    public_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

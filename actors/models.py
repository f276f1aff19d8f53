"""Actor rows: people, design projects and the instance actor, local or remote.

Rows stay plain; conversions to and from ActivityStreams live in `actors.convert`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow
from federation.queue import QueueRow

ENTITY_KINDS = ("individual", "nonprofit", "cooperative", "company", "unknown")
ROLES = ("member", "moderator", "admin")
# Why an actor is suspended or silenced: one moderator's decision on the account, or a
# block of its whole domain (lifting the block lifts only those).
BY_ACCOUNT = "account"
BY_DOMAIN = "domain"


class Actor(Base):
    __tablename__ = "actors"
    __table_args__ = (
        Index("ix_actors_handle", "username", "domain"),
        # Local lookups by name (every /users/NAME request) seek on both columns.
        Index("ix_actors_local_username", "local", "username"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(32), default="Person")
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), default=None)
    outbox: Mapped[str | None] = mapped_column(String(2048), default=None)
    followers_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    following_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    entity_kind: Mapped[str] = mapped_column(String(16), default="unknown")
    public_key_id: Mapped[str] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text, default=None)
    # A local actor's Ed25519 key for object integrity proofs (PKCS#8 PEM), made at first
    # need (actors/proof_keys.py); a remote actor's are in its `document`.
    proof_key_pem: Mapped[str | None] = mapped_column(Text, default=None)
    key_fetched_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    document: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Moderation: a suspended actor is neither heard nor shown; a silenced one is shown only
    # to its followers and in direct links, never in public listings.
    suspended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    suspended_by: Mapped[str | None] = mapped_column(String(16), default=None)
    silenced_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    silenced_by: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def delivery_inbox(self) -> str:
        return self.shared_inbox or self.inbox


class Account(Base):
    """Sign-in data of a local person."""

    __tablename__ = "accounts"

    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="member")
    # Registration: `approved` is false while a moderator has yet to accept the request;
    # `confirmed_at` stays empty until the email link is followed (only when mail is set up).
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    invite_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("invites.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Bytes this person may store by uploading; None: the instance's default_upload_quota_bytes.
    upload_quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Invite(Base):
    """An invitation link: `code` is in the URL; it may expire and may be limited in uses."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="SET NULL"), default=None
    )
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    max_uses: Mapped[int | None] = mapped_column(default=None)
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AccountToken(Base):
    """A one-time token mailed for confirming an address or resetting a password (hash only)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutgoingMail(QueueRow, Base):
    """A mail waiting for the SMTP server: queued in the same commit as what caused it."""

    __tablename__ = "outgoing_mail"

    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# What a token of no app (made by the CLI or a password sign-in) carries: every scope.
ALL_SCOPES = "read write follow push admin:read admin:write"


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored.

    Made by the CLI or sign-in (no app, `ALL_SCOPES`), or by an OAuth app for a person
    (`actor_id`) or for the app itself (client credentials: no actor).
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), default=None
    )
    app_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("oauth_apps.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(1000), default=ALL_SCOPES)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OAuthApp(Base):
    """A client registered with POST /api/v1/apps; only the secret's SHA-256 is stored."""

    __tablename__ = "oauth_apps"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(2048), default=None)
    redirect_uris: Mapped[str] = mapped_column(Text)  # one per line
    scopes: Mapped[str] = mapped_column(String(1000), default="read")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OAuthCode(Base):
    """An authorization code (hash only), single use, with its PKCE challenge if any."""

    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("oauth_apps.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scopes: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(16), default=None)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


FOLLOW_PENDING = "pending"
FOLLOW_ACCEPTED = "accepted"


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_id", "followee_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    follower_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    followee_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default=FOLLOW_PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

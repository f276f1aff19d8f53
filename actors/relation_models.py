"""What one person chose about other accounts: blocks, mutes, blocked domains and lists.

Rows stay plain; the rule that hides what a person chose not to see is `objects.hiding`,
and the changes (which also end follows and federate a block) are `actors.relations`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class AccountBlock(Base):
    """`actor_id` blocks `target_id`. A local person's block carries the URI of the Block
    activity sent for it (an Undo names it); a remote actor's block of one of ours is kept
    too, so that nothing of theirs reaches the person they block."""

    __tablename__ = "account_blocks"
    __table_args__ = (UniqueConstraint("actor_id", "target_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AccountMute(Base):
    """`actor_id` mutes `target_id` until `expires_at` (None: for good); with
    `notifications`, their notifications are hidden too. Mutes are private: never sent."""

    __tablename__ = "account_mutes"
    __table_args__ = (UniqueConstraint("actor_id", "target_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PersonDomainBlock(Base):
    """A person hides a whole domain (Mastodon's user domain block), apart from the
    instance's own domain blocks (`actors.moderation_models.DomainBlock`)."""

    __tablename__ = "person_domain_blocks"
    __table_args__ = (UniqueConstraint("actor_id", "domain"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


REPLIES_POLICIES = ("followed", "list", "none")


class AccountList(Base):
    """A person's list of accounts they follow, read as its own timeline."""

    __tablename__ = "account_lists"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    replies_policy: Mapped[str] = mapped_column(String(16), default="list")
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ListMember(Base):
    __tablename__ = "list_members"
    __table_args__ = (UniqueConstraint("list_id", "target_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(IdType, ForeignKey("account_lists.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

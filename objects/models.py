"""Object rows: notes (comments and posts) and the interactions on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, synonym

from federation.db import Base, IdType, JSONType, utcnow

NOASSERTION = "NOASSERTION"
# The visibilities anyone may read. The rule is `objects.visibility`'s; the values are here
# because the partial index below is written with them, as SQL text that queries repeat.
SHOWN_TO_ALL = ("public", "unlisted")
SHOWN_TO_ALL_SQL = f"visibility IN ({', '.join(repr(v) for v in SHOWN_TO_ALL)})"


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_actor_id_id", "actor_id", "id"),
        # Replies are paged by id within a parent: the pair keeps every page an index seek.
        Index("ix_notes_in_reply_to_id", "in_reply_to", "id"),
        # Timelines (web.mastodon.paging) page by (published, id), newest first.
        Index("ix_notes_published_id", "published", "id"),
        # The home timeline seeks each followed account's newest notes.
        Index("ix_notes_actor_id_published_id", "actor_id", "published", "id"),
        # Counting an author's live notes that anyone may read (`objects.visibility`: the
        # count is shown to anyone) reads this index only.
        Index(
            "ix_notes_shown_actor_id",
            "actor_id",
            sqlite_where=text(f"deleted_at IS NULL AND {SHOWN_TO_ALL_SQL}"),
            postgresql_where=text(f"deleted_at IS NULL AND {SHOWN_TO_ALL_SQL}"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(default=False)
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    in_reply_to: Mapped[str | None] = mapped_column(String(2048), default=None)
    content: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    sensitive: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    to: Mapped[dict[str, Any]] = mapped_column(default=dict)
    license: Mapped[str] = mapped_column(String(255), default=NOASSERTION)
    published: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    replies_count: Mapped[int] = mapped_column(default=0)
    likes_count: Mapped[int] = mapped_column(default=0)
    announces_count: Mapped[int] = mapped_column(default=0)
    document: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class NoteEdit(Base):
    """A note's version before an edit (Mastodon's status history); the current version is
    the note itself. By URI: a note received in a batch has no row id until it is written."""

    __tablename__ = "note_edits"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    note_uri: Mapped[str] = mapped_column(String(2048), index=True)
    content: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    sensitive: Mapped[bool] = mapped_column(default=False)
    # The note's attachments then, as ActivityStreams JSON (`{"attachment": [...]}`).
    document: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # When this version was made: the note's publication or its previous edit.
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


LIKE = "Like"
ANNOUNCE = "Announce"


class Interaction(Base):
    """A Like or an Announce of an object, by any actor."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("kind", "actor_id", "object_uri"),
        # Timelines show boosts: each booster's newest Announces are one index seek.
        Index("ix_interactions_actor_id_created_at_id", "actor_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    object_uri: Mapped[str] = mapped_column(String(2048), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A boost sorts among statuses by when it was made: timelines page by `published`.
    published: Mapped[dt.datetime] = synonym("created_at")


class Notification(Base):
    """One event for a local recipient: who did what, on which note or design version."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_id_id", "recipient_id", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    recipient_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    from_actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    # The note or design version concerned (by URI: a note received in a batch has no row id
    # until the batch is written).
    object_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Poll(Base):
    """A note's poll (a `Question`): ours, or a remote one as its server last told us.

    `counts` are the votes per option, in the order of `options`: for our polls recounted
    from `poll_votes`, for remote ones as the Question's `replies.totalItems` said."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    note_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local: Mapped[bool] = mapped_column(default=False)
    multiple: Mapped[bool] = mapped_column(default=False)
    hide_totals: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    options: Mapped[list[str]] = mapped_column(default=list)
    counts: Mapped[list[int]] = mapped_column(JSONType, default=list)
    voters_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PollVote(Base):
    """One choice of one voter: a local person's in any poll, a remote one's in ours."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "actor_id", "choice"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(IdType, ForeignKey("polls.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    choice: Mapped[int] = mapped_column()
    # The vote's id: the Note a remote voter sent, or the one we sent for a local voter.
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

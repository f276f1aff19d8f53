"""Hashtags of notes, and the tags people follow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class NoteTag(Base):
    """One hashtag of one note (lower case, without `#`): the tag timeline's index. Keyed by
    the note's URI, which a note received in an inbox batch has before it has a row id."""

    __tablename__ = "note_tags"
    __table_args__ = (Index("ix_note_tags_name_note_uri", "name", "note_uri"),)

    note_uri: Mapped[str] = mapped_column(
        String(2048), ForeignKey("notes.uri", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), primary_key=True)


class FollowedTag(Base):
    """A local person follows a hashtag: its notes and designs come into their home."""

    __tablename__ = "followed_tags"
    __table_args__ = (UniqueConstraint("actor_id", "name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

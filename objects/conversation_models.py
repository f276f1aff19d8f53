"""Where a person stands in each of their conversations (threads of direct statuses).

The conversations themselves are found from the notes (`objects.conversations`); only what
the person did to one is kept: read up to which note, and removed up to which note (a
newer status brings a removed conversation back, as on Mastodon).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType


class ConversationMark(Base):
    __tablename__ = "conversation_marks"
    __table_args__ = (UniqueConstraint("actor_id", "root_note_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    # The conversation: the id of its first direct note (its id in the API).
    root_note_id: Mapped[int] = mapped_column(IdType)
    read_through: Mapped[int] = mapped_column(IdType, default=0)
    removed_through: Mapped[int] = mapped_column(IdType, default=0)

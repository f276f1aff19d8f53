"""Makes: a person's report of building a design version, here or on another instance.

The report itself is a note (its text, photos and addressing travel as a Note, so that
Mastodon shows it as a post); this row holds what only makes have, for listing and counting
them by version and project. A make names a place coarsely (a town or a maker space, never
coordinates) and may name the maker space or cooperative that built it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow


class Make(Base):
    __tablename__ = "makes"
    __table_args__ = (Index("ix_makes_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    note_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("notes.id", ondelete="CASCADE"), unique=True
    )
    uri: Mapped[str] = mapped_column(String(2048), unique=True)  # the note's id
    version_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("design_versions.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    maker_id: Mapped[int] = mapped_column(IdType, ForeignKey("actors.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(default=False)
    place: Mapped[str] = mapped_column(String(200), default="")
    made_by_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    settings: Mapped[str] = mapped_column(Text, default="")
    for_sale: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

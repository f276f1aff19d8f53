"""Design rows: projects (each backed by an actor), their versions, files and forks.

A project is an actor (type `Service`) so that anyone can follow it, Mastodon included; this
table holds what only projects have. Versions are immutable once published except for text
fixes; their licence never changes. Rows stay plain: conversions live in `objects.design_convert`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base, IdType, utcnow

PROJECT_ACTOR_TYPE = "Service"


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), unique=True
    )
    local: Mapped[bool] = mapped_column(default=False, index=True)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"tags": [...]}
    upstream_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    latest_version_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    versions_count: Mapped[int] = mapped_column(default=0)
    forks_count: Mapped[int] = mapped_column(default=0)
    makes_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProjectMaintainer(Base):
    __tablename__ = "project_maintainers"

    project_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )


class DesignVersion(Base):
    __tablename__ = "design_versions"
    __table_args__ = (
        Index("ix_design_versions_project_id_id", "project_id", "id"),
        UniqueConstraint("project_id", "number"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    project_id: Mapped[int] = mapped_column(IdType, ForeignKey("projects.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(default=False)
    number: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")  # Markdown, for local versions
    content: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    # What changed since the version before, as plain text (shown, and federated).
    changelog: Mapped[str] = mapped_column(Text, default="", server_default="")
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"tags": [...]}
    licence: Mapped[dict[str, Any]] = mapped_column()  # {"terms": LicenceTerms.to_json()}
    licence_text: Mapped[str] = mapped_column(String(500), index=True)
    authors: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"authors": [uri...]}
    credits: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"credits": [uri...]}
    upstream_uri: Mapped[str | None] = mapped_column(String(2048), default=None, index=True)
    published: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    replies_count: Mapped[int] = mapped_column(default=0)
    makes_count: Mapped[int] = mapped_column(default=0)
    # What making it needs (`actors.maker_space.Needs`, as JSON), when declared.
    needs: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    document: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class VersionFile(Base):
    """A file of a version: a local blob (by digest) or a remote URL with its digest."""

    __tablename__ = "version_files"
    __table_args__ = (Index("ix_version_files_version_id_position", "version_id", "position"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("design_versions.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column()
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    preview: Mapped[bool] = mapped_column(default=False)
    remote_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    # The IPFS CIDv1 of the bytes (objects/unixfs.py); None for a remote file over one
    # chunk that we have not held, whose root CID cannot be known from its SHA-256.
    cid: Mapped[str | None] = mapped_column(String(128), default=None, index=True)


class Fork(Base):
    """A version forked from another; listed in the `forks` collection on both sides."""

    __tablename__ = "forks"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    upstream_uri: Mapped[str] = mapped_column(String(2048), index=True)
    upstream_project_uri: Mapped[str | None] = mapped_column(String(2048), index=True)
    fork_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    fork_project_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

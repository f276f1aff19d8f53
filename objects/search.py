"""What searches find: design versions, notes and tags by text (Mastodon's /api/v2/search
and the search page), projects by text, tag, licence and instance (GET /api/v1/designs),
and remote notes and design versions by URL.

Text matching is a case-insensitive substring match (SQL ILIKE), not a full-text index:
good enough for an instance's worth of designs, and the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, String, cast, exists, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.moderation import publicly_listed
from actors.resolve import ActorResolver
from federation.blocks import DomainBlocks
from federation.db import is_postgres
from federation.errors import FederationError
from objects.design_convert import is_design
from objects.design_models import DesignVersion, Project
from objects.design_resolve import store_fetched_version
from objects.designs import (
    clean_tags,
)
from objects.licences import LicencePolicy
from objects.models import Note
from objects.resolve import store_fetched_note
from objects.visibility import listed_publicly, readable_by

ACTOR_TYPES = ("Person", "Group", "Organization", "Service", "Application")
# How many matching versions the hashtag search reads to collect distinct tags.
MAX_TAG_SCAN = 500

# What a search (and a Mastodon status) may be: a comment or a design version.
Item = Note | DesignVersion


class Fetching(Protocol):
    """What fetching a remote object by URL needs (a running instance has it all)."""

    sessions: async_sessionmaker[AsyncSession]
    resolver: ActorResolver
    policy: LicencePolicy
    blocks: DomainBlocks


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def tags_contain(column: Any, tag: str, *, postgres: bool) -> ColumnElement[bool]:
    """Whether a {"tags": [...]} JSON column holds the tag."""
    if postgres:
        return type_coerce(column, JSONB).contains({"tags": [tag]})
    each = func.json_each(column, "$.tags").table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def listed_versions(account_id: int | None = None) -> Select[DesignVersion]:
    """Design versions not deleted, of projects that may appear in searches."""
    query = (
        select(DesignVersion)
        .join(Project, Project.id == DesignVersion.project_id)
        .join(Actor, Actor.id == Project.actor_id)
        .where(DesignVersion.deleted_at.is_(None), publicly_listed())
    )
    if account_id is not None:
        query = query.where(Project.actor_id == account_id)
    return query


async def versions_matching(
    session: AsyncSession, text: str, limit: int, account_id: int | None
) -> list[DesignVersion]:
    """Newest first: name or summary contains the text, or a tag is the text."""
    pattern = like_pattern(text)
    matches: list[ColumnElement[bool]] = [
        DesignVersion.name.ilike(pattern, escape="\\"),
        DesignVersion.summary.ilike(pattern, escape="\\"),
    ]
    tags = clean_tags([text])
    if tags:
        matches.append(tags_contain(DesignVersion.tags, tags[0], postgres=is_postgres(session)))
    query = listed_versions(account_id).where(or_(*matches))
    query = query.order_by(DesignVersion.published.desc(), DesignVersion.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def notes_matching(
    session: AsyncSession, text: str, limit: int, account_id: int | None
) -> list[Note]:
    """Newest first: local public notes whose content contains the text (HTML included, so
    a word inside markup can match too)."""
    query = (
        select(Note)
        .join(Actor, Actor.id == Note.actor_id)
        .where(
            Note.local.is_(True),
            listed_publicly(),
            Note.deleted_at.is_(None),
            Note.content.ilike(like_pattern(text), escape="\\"),
            publicly_listed(),
        )
    )
    if account_id is not None:
        query = query.where(Note.actor_id == account_id)
    query = query.order_by(Note.published.desc(), Note.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def statuses_matching(
    session: AsyncSession, text: str, offset: int, limit: int, account_id: int | None
) -> list[Item]:
    """Versions and notes together, newest first; each query reads enough for the page."""
    wanted = offset + limit
    versions = await versions_matching(session, text, wanted, account_id)
    notes = await notes_matching(session, text, wanted, account_id)
    items: list[Item] = [*versions, *notes]
    items.sort(key=lambda item: item.published, reverse=True)
    return items[offset:wanted]


async def tags_matching(session: AsyncSession, text: str, offset: int, limit: int) -> list[str]:
    """Distinct tags of listed versions that contain the text, sorted; the JSON column is
    narrowed as text in SQL, then the tags themselves are picked here."""
    needle = text.strip().lstrip("#").lower()
    if not needle:
        return []
    query = listed_versions().where(
        cast(DesignVersion.tags, String).ilike(like_pattern(needle), escape="\\")
    )
    rows = await session.scalars(query.limit(MAX_TAG_SCAN))
    found = {tag for version in rows for tag in version.tags.get("tags", []) if needle in tag}
    return sorted(found)[offset : offset + limit]


# By URL


async def known_item(session: AsyncSession, url: str, viewer: Actor | None) -> Item | None:
    """A shown note or design version we already have, by its id or (for notes) its URL,
    that the viewer may read."""
    version = await session.scalar(listed_versions().where(DesignVersion.uri == url))
    if version is not None:
        return version
    notes = (
        select(Note)
        .join(Actor, Actor.id == Note.actor_id)
        .where(
            or_(Note.uri == url, Note.url == url),
            Note.deleted_at.is_(None),
            readable_by(viewer),
            publicly_listed(),
        )
    )
    return await session.scalar(notes.limit(1))


async def fetch_item(instance: Fetching, url: str) -> Item | None:
    """A remote note or design version, fetched and stored; None for anything else, for a
    blocked domain, or for a design whose licence we refuse."""
    try:
        instance.blocks.check(url)
        doc = await instance.resolver.fetch_document(url)
        if doc.get("type") in ACTOR_TYPES:
            return None
        if is_design(doc):
            version, _ = await store_fetched_version(
                instance.sessions, instance.resolver, instance.policy, doc
            )
            return version
        return await _store_note(instance, doc)
    except FederationError:
        return None


async def _store_note(instance: Fetching, doc: dict[str, Any]) -> Note | None:
    return (await store_fetched_note(instance.sessions, instance.resolver, doc))[2]


DEFAULT_PAGE = 20


@dataclass(frozen=True)
class ProjectFilters:
    """What `GET /api/v1/designs` filters by; every field is optional."""

    text: str | None = None
    tag: str | None = None
    licence: str | None = None  # normalised SPDX expression
    domain: str | None = None
    max_id: int | None = None
    limit: int = DEFAULT_PAGE


async def search_projects(
    session: AsyncSession, filters: ProjectFilters
) -> list[tuple[Project, Actor]]:
    """Projects, newest first, keyset-paged by project id (never OFFSET)."""
    query = (
        select(Project, Actor).join(Actor, Actor.id == Project.actor_id).where(publicly_listed())
    )
    query = _filtered(query, filters, postgres=is_postgres(session))
    if filters.max_id is not None:
        query = query.where(Project.id < filters.max_id)
    rows = await session.execute(query.order_by(Project.id.desc()).limit(filters.limit))
    return [(project, actor) for project, actor in rows.all()]


def _filtered(
    query: Select[Project, Actor], filters: ProjectFilters, *, postgres: bool
) -> Select[Project, Actor]:
    if filters.text:
        query = query.where(_text_matches(filters.text))
    if filters.tag:
        query = query.where(tags_contain(Project.tags, filters.tag, postgres=postgres))
    if filters.licence:
        query = query.where(_has_licence(filters.licence))
    if filters.domain:
        query = query.where(Actor.domain == filters.domain)
    return query


def _text_matches(text: str) -> ColumnElement[bool]:
    pattern = like_pattern(text)
    in_versions = exists(
        select(DesignVersion.id).where(
            DesignVersion.project_id == Project.id,
            DesignVersion.deleted_at.is_(None),
            DesignVersion.name.ilike(pattern, escape="\\"),
        )
    )
    return or_(
        Actor.name.ilike(pattern, escape="\\"),
        Actor.summary.ilike(pattern, escape="\\"),
        in_versions,
    )


def _has_licence(licence: str) -> ColumnElement[bool]:
    """A version under exactly this expression, or with it as one component's licence."""
    escaped = like_pattern(licence)[1:-1]
    return exists(
        select(DesignVersion.id).where(
            DesignVersion.project_id == Project.id,
            DesignVersion.deleted_at.is_(None),
            or_(
                DesignVersion.licence_text == licence,
                DesignVersion.licence_text.like(f"%: {escaped};%", escape="\\"),
                DesignVersion.licence_text.like(f"%: {escaped}", escape="\\"),
            ),
        )
    )

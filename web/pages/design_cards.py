"""Design cards for the browsing pages: one card per project, showing its latest version.

The home page must stay fast with many thousands of designs, so a page is one keyset query
(newest version first, by row id: the primary key walks backwards and stops at the page
size), then one query for the page's files and one for their thumbnails. A project's
latest version is the one with no newer live version in the same project, which the
(project_id, id) index answers for each candidate row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.models import Actor
from actors.moderation import publicly_listed
from federation.db import is_postgres
from objects.design_convert import file_url
from objects.design_models import DesignVersion, Project, ProjectMaintainer, VersionFile
from objects.search import like_pattern, tags_contain
from objects.thumbnails import thumbnail_path, thumbnails_for

PAGE_SIZE = 24
_LICENCE_WORDS = re.compile(r"[\s();]+")


@dataclass(frozen=True)
class CardFilters:
    """What the home page is narrowed to; every field is optional (already checked)."""

    licence: str | None = None  # one SPDX id
    tag: str | None = None
    scope: str | None = None  # "local" or "remote"
    before: int | None = None  # a version id: the page starts below it
    maintainer_id: int | None = None


@dataclass(frozen=True)
class DesignCard:
    version_id: int
    version_url: str
    name: str
    label: str
    summary: str
    handle: str
    project_url: str
    licence: str
    tags: tuple[str, ...]
    forks_count: int
    makes_count: int
    local: bool
    image_url: str | None

    @property
    def page_url(self) -> str:
        """Where the card leads: our versions' own page, others' page here (to comment on
        and fork them from this instance)."""
        return self.version_url if self.local else f"/designs/{self.version_id}"


# Only what a card shows: whole rows would drag along documents, keys and descriptions.
CARD_COLUMNS = (
    DesignVersion.id,
    DesignVersion.uri,
    DesignVersion.name,
    DesignVersion.label,
    DesignVersion.summary,
    DesignVersion.licence_text,
    DesignVersion.tags,
    Project.forks_count,
    Project.makes_count,
    Project.local,
    Actor.username,
    Actor.domain,
    Actor.uri.label("project_uri"),
)
_NEWER = aliased(DesignVersion, name="newer")


def latest_live_version() -> ColumnElement[bool]:
    """The version is its project's newest one that is not deleted."""
    return DesignVersion.deleted_at.is_(None) & ~exists().where(
        _NEWER.project_id == DesignVersion.project_id,
        _NEWER.id > DesignVersion.id,
        _NEWER.deleted_at.is_(None),
    )


async def licence_texts_naming(session: AsyncSession, licence_id: str) -> list[str]:
    """The distinct licence texts of versions that name this SPDX id as a whole word: alone,
    in an expression ("A OR B", "(A AND B)") or as a component's ("hardware: A; ...").
    Versions carry few distinct texts; matching them here lets the page's query filter on a
    plain IN list, which both databases estimate well."""
    found = await session.scalars(
        select(DesignVersion.licence_text)
        .where(DesignVersion.licence_text.like(like_pattern(licence_id), escape="\\"))
        .distinct()
    )
    return [words for words in found if licence_id in _LICENCE_WORDS.split(words)]


def _card_rows() -> Select[Any]:
    return (
        select(*CARD_COLUMNS)
        .join(Project, Project.id == DesignVersion.project_id)
        .join(Actor, Actor.id == Project.actor_id)
    )


def _listing(
    filters: CardFilters, licence_texts: list[str] | None, *, postgres: bool
) -> Select[Any]:
    # Cheap filters come first; the scope is read from the version's own column so that the
    # plan keeps walking versions newest first instead of sorting a project index's rows.
    query = _card_rows()
    if licence_texts is not None:
        # SQLite, without statistics, would take the licence index and sort every match;
        # an expression keeps it walking the newest versions first (PostgreSQL estimates well).
        licence = DesignVersion.licence_text if postgres else DesignVersion.licence_text + ""
        query = query.where(licence.in_(licence_texts))
    if filters.tag:
        quoted = like_pattern(f'"{filters.tag}"')
        query = query.where(
            cast(DesignVersion.tags, String).like(quoted, escape="\\"),
            tags_contain(DesignVersion.tags, filters.tag, postgres=postgres),
        )
    if filters.scope:
        query = query.where(DesignVersion.local.is_(filters.scope == "local"))
    if filters.maintainer_id is not None:
        maintained = select(ProjectMaintainer.project_id).where(
            ProjectMaintainer.actor_id == filters.maintainer_id
        )
        query = query.where(DesignVersion.project_id.in_(maintained))
    if filters.before is not None:
        query = query.where(DesignVersion.id < filters.before)
    query = query.where(publicly_listed(), latest_live_version())
    return query.order_by(DesignVersion.id.desc())


async def latest_designs(
    session: AsyncSession, filters: CardFilters, base_url: str, limit: int = PAGE_SIZE
) -> tuple[list[DesignCard], int | None]:
    """A page of cards, newest first, and the cursor of the next page (None at the end)."""
    texts = None
    if filters.licence:
        texts = await licence_texts_naming(session, filters.licence)
        if not texts:
            return [], None
    postgres = is_postgres(session)
    if postgres and filters.tag:
        # PostgreSQL keeps no statistics on JSON containment, guesses that few versions
        # match, and would sort every match; walking the primary key backwards stops after
        # one page. SET LOCAL ends with this read's transaction.
        await session.execute(text("SET LOCAL enable_sort = off"))
    query = _listing(filters, texts, postgres=postgres).limit(limit + 1)
    rows = list((await session.execute(query)).all())
    more = len(rows) > limit
    cards = await cards_of(session, rows[:limit], base_url)
    return cards, (cards[-1].version_id if more and cards else None)


async def cards_of(session: AsyncSession, rows: Sequence[Any], base_url: str) -> list[DesignCard]:
    """Cards from rows of `CARD_COLUMNS`."""
    images = await card_images(session, [row.id for row in rows], base_url)
    return [
        DesignCard(
            version_id=row.id,
            version_url=row.uri,
            name=row.name,
            label=row.label,
            summary=row.summary,
            handle=f"{row.username}@{row.domain}",
            project_url=row.project_uri,
            licence=row.licence_text,
            tags=tuple(row.tags.get("tags", [])),
            forks_count=row.forks_count,
            makes_count=row.makes_count,
            local=row.local,
            image_url=images.get(row.id),
        )
        for row in rows
    ]


async def cards_for_versions(
    session: AsyncSession, versions: Sequence[DesignVersion], base_url: str
) -> list[DesignCard]:
    """Cards for versions found elsewhere (a search, newest first): one per project."""
    newest: dict[int, int] = {}
    for version in versions:
        newest.setdefault(version.project_id, version.id)
    if not newest:
        return []
    query = _card_rows().where(DesignVersion.id.in_(list(newest.values())))
    rows = (await session.execute(query.order_by(DesignVersion.id.desc()))).all()
    return await cards_of(session, list(rows), base_url)


async def card_images(
    session: AsyncSession, version_ids: Sequence[int], base_url: str
) -> dict[int, str]:
    """Each version's picture: the thumbnail of its first 3D file that has one, else its
    first preview image. Two queries for the whole page."""
    if not version_ids:
        return {}
    files = await session.execute(
        select(
            VersionFile.version_id,
            VersionFile.sha256,
            VersionFile.filename,
            VersionFile.preview,
            VersionFile.remote_url,
        )
        .where(VersionFile.version_id.in_(list(version_ids)))
        .order_by(VersionFile.version_id, VersionFile.position)
    )
    by_version: dict[int, list[Any]] = {}
    for file in files.all():
        by_version.setdefault(file.version_id, []).append(file)
    sources = {f.sha256 for found in by_version.values() for f in found if not f.preview}
    thumbnails = await thumbnails_for(session, sources)
    images: dict[int, str] = {}
    for version_id, found in by_version.items():
        made = next((f.sha256 for f in found if f.sha256 in thumbnails), None)
        preview = next((f for f in found if f.preview), None)
        if made is not None:
            images[version_id] = base_url + thumbnail_path(made)
        elif preview is not None:
            images[version_id] = preview.remote_url or file_url(
                base_url, VersionFile(sha256=preview.sha256, filename=preview.filename)
            )
    return images

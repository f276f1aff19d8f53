"""Filters as Mastodon apps see them: the Filter, FilterKeyword and FilterResult entities,
and applying the viewer's filters to the statuses of a page (`objects.filters` matches)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from objects.convert import iso_ms
from objects.filter_models import HIDE, FilterKeyword
from objects.filters import ActiveFilter, active_filters, matches_in
from objects.html import plain_text
from web.instance import Instance
from web.mastodon.entity_lists import entities
from web.mastodon.paging import PageRequest, Source, fetch_page, key_of
from web.mastodon.status import Shown

# How many more pages a timeline reads when its filters hid statuses, so that a page
# hidden whole does not end an app's scrolling (an empty page reads as the end).
REFILLS = 4
ACCOUNT = "account"  # the filter context of one account's statuses


def keyword_entity(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def filter_entity(active: ActiveFilter) -> dict[str, Any]:
    row = active.row
    return {
        "id": str(row.id),
        "title": row.title,
        "context": list(row.contexts.get("contexts", [])),
        "expires_at": iso_ms(row.expires_at) if row.expires_at else None,
        "filter_action": row.action,
        "keywords": [keyword_entity(k) for k in active.keywords],
        "statuses": [],
    }


def v1_filter_entities(filters: Sequence[ActiveFilter]) -> list[dict[str, Any]]:
    """Filters v1 as Mastodon 4 shows the v2 ones: one per keyword."""
    return [
        {
            "id": str(keyword.id),
            "phrase": keyword.keyword,
            "context": list(each.row.contexts.get("contexts", [])),
            "whole_word": keyword.whole_word,
            "expires_at": iso_ms(each.row.expires_at) if each.row.expires_at else None,
            "irreversible": each.row.action == HIDE,
        }
        for each in filters
        for keyword in each.keywords
    ]


def status_text(status: dict[str, Any]) -> str:
    """What keywords are looked for in: the content warning, the text and media
    descriptions, as Mastodon looks."""
    status = status.get("reblog") or status  # a boost is filtered by what it boosts
    parts = [status.get("spoiler_text") or "", plain_text(status.get("content") or "", 100_000)]
    parts += [m.get("description") or "" for m in status.get("media_attachments") or []]
    return "\n".join(parts)


def screen(filters: Sequence[ActiveFilter], status: dict[str, Any]) -> bool:
    """Whether the status is shown: False when a `hide` filter matches it; else it carries
    the `warn` filters that match (its `filtered`)."""
    if not filters:
        return True
    found = matches_in(filters, status_text(status))
    if any(match.hides for match in found):
        return False
    status["filtered"] = [
        {
            "filter": filter_entity(match.filter),
            "keyword_matches": match.keywords,
            "status_matches": None,
        }
        for match in found
    ]
    return True


async def screened_entities(
    session: AsyncSession,
    instance: Instance,
    viewer: Actor | None,
    context: str,
    items: Sequence[Shown],
) -> tuple[list[Shown], list[dict[str, Any]]]:
    """The items the viewer's filters of this context let through, and their entities."""
    filters = await active_filters(session, viewer, context)
    built = await entities(session, instance, viewer, items)
    kept = [
        (item, entity) for item, entity in zip(items, built, strict=True) if screen(filters, entity)
    ]
    return [item for item, _ in kept], [entity for _, entity in kept]


async def filtered_page(
    session: AsyncSession,
    instance: Instance,
    viewer: Actor | None,
    context: str,
    page: PageRequest,
    sources: Sequence[Source],
) -> tuple[list[Shown], list[dict[str, Any]]]:
    """A page of statuses (`fetch_page`) less those the viewer's filters hide in this
    context, read on past hidden ones (up to REFILLS more reads) to fill the page."""
    items: list[Shown] = []
    shown: list[dict[str, Any]] = []
    first = page
    for _ in range(REFILLS + 1):
        found = await fetch_page(session, page, sources, viewer, own_choices=context != ACCOUNT)
        kept, built = await screened_entities(session, instance, viewer, context, found)
        items, shown = _joined(page, items, shown, kept, built)
        if len(found) < page.limit or len(items) >= page.limit:
            break
        page = _beyond(page, found)
    if first.min_key is not None:  # the oldest of those newer than min_id
        return items[-first.limit :], shown[-first.limit :]
    return items[: first.limit], shown[: first.limit]


def _joined(
    page: PageRequest,
    items: list[Shown],
    shown: list[dict[str, Any]],
    kept: list[Shown],
    built: list[dict[str, Any]],
) -> tuple[list[Shown], list[dict[str, Any]]]:
    """Newest first either way: a min_id page reads newer and newer statuses."""
    if page.min_key is not None:
        return kept + items, built + shown
    return items + kept, shown + built


def _beyond(page: PageRequest, found: list[Shown]) -> PageRequest:
    """The same request past what was read (older, or newer for a min_id page)."""
    if page.min_key is not None:
        return dataclasses.replace(page, min_key=key_of(found[0]))
    return dataclasses.replace(page, max_key=key_of(found[-1]))

"""A person's filters (Mastodon's filters v2): which of them apply where, and what matches.

A filter has keywords and contexts (home, notifications, public, thread, account) and an
action: `hide` leaves a matching status out of those contexts, `warn` shows it with the
filter's name (the Status entity's `filtered`). A keyword matches case-insensitively; with
`whole_word` only as a word of its own, as Mastodon's `\\b…\\b` does. A filter past its
`expires_at` applies nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.db import utcnow
from objects.filter_models import HIDE, FilterKeyword, StatusFilter


@dataclass(frozen=True)
class ActiveFilter:
    row: StatusFilter
    keywords: list[FilterKeyword]

    def matches(self, text: str) -> list[str]:
        """The keywords found in the text."""
        return [k.keyword for k in self.keywords if keyword_pattern(k).search(text)]


@dataclass(frozen=True)
class Match:
    filter: ActiveFilter
    keywords: list[str]

    @property
    def hides(self) -> bool:
        return self.filter.row.action == HIDE


def keyword_pattern(keyword: FilterKeyword) -> re.Pattern[str]:
    """Mastodon's: the keyword escaped; with `whole_word`, bounded by \\b on the sides
    that start or end with a word character."""
    escaped = re.escape(keyword.keyword)
    if keyword.whole_word:
        start = r"\b" if re.match(r"\w", keyword.keyword[:1]) else ""
        end = r"\b" if re.match(r"\w", keyword.keyword[-1:]) else ""
        escaped = f"{start}{escaped}{end}"
    return re.compile(escaped, re.IGNORECASE)


async def filters_of(session: AsyncSession, owner: Actor) -> list[ActiveFilter]:
    """All the person's filters with their keywords, expired ones too, oldest first."""
    rows = list(
        await session.scalars(
            select(StatusFilter).where(StatusFilter.actor_id == owner.id).order_by(StatusFilter.id)
        )
    )
    return await _with_keywords(session, rows)


async def active_filters(
    session: AsyncSession, viewer: Actor | None, context: str
) -> list[ActiveFilter]:
    """The viewer's filters that apply in this context now (none for anonymous readers)."""
    if viewer is None:
        return []
    rows = list(
        await session.scalars(
            select(StatusFilter).where(
                StatusFilter.actor_id == viewer.id,
                or_(StatusFilter.expires_at.is_(None), StatusFilter.expires_at > utcnow()),
            )
        )
    )
    chosen = [row for row in rows if context in row.contexts.get("contexts", [])]
    return await _with_keywords(session, chosen)


async def active_filters_of(
    session: AsyncSession, reader_ids: Collection[int]
) -> dict[int, list[ActiveFilter]]:
    """Each reader's filters in force now, whatever their contexts (for streams)."""
    if not reader_ids:
        return {}
    rows = list(
        await session.scalars(
            select(StatusFilter).where(
                StatusFilter.actor_id.in_(list(reader_ids)),
                or_(StatusFilter.expires_at.is_(None), StatusFilter.expires_at > utcnow()),
            )
        )
    )
    found: dict[int, list[ActiveFilter]] = {}
    for each in await _with_keywords(session, rows):
        found.setdefault(each.row.actor_id, []).append(each)
    return found


def hides_in(filters: Sequence[ActiveFilter], context: str, text: str) -> bool:
    """Whether a `hide` filter of this context matches the text."""
    chosen = [f for f in filters if context in f.row.contexts.get("contexts", [])]
    return any(match.hides for match in matches_in(chosen, text))


async def _with_keywords(session: AsyncSession, rows: list[StatusFilter]) -> list[ActiveFilter]:
    if not rows:
        return []
    keywords = await session.scalars(
        select(FilterKeyword)
        .where(FilterKeyword.filter_id.in_([row.id for row in rows]))
        .order_by(FilterKeyword.id)
    )
    by_filter: dict[int, list[FilterKeyword]] = {row.id: [] for row in rows}
    for keyword in keywords:
        by_filter[keyword.filter_id].append(keyword)
    return [ActiveFilter(row, by_filter[row.id]) for row in rows]


def matches_in(filters: Sequence[ActiveFilter], text: str) -> list[Match]:
    """The filters whose keywords the text holds, with the keywords found."""
    found = []
    for each in filters:
        if keywords := each.matches(text):
            found.append(Match(each, keywords))
    return found

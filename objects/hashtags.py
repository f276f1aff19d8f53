"""Hashtags in notes: found in what people write, linked as Mastodon links them, carried as
`Hashtag` tags on the wire, and indexed (`note_tags`) for tag timelines and followed tags.

Names are kept lower case without `#`, the form `objects.designs.clean_tags` gives design
versions' tags, so that one name finds notes and designs alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FederationError, ValidationError
from objects.designs import clean_tags
from objects.tag_models import FollowedTag, NoteTag

MAX_NOTE_TAGS = 20
# `#` not inside a word, an entity (`&#39;`), a URL's fragment (`/#x`) or a tag (`##`); the
# name has at least one letter, as Mastodon's do.
HASHTAG = re.compile(r"(?<![\w&/#])#(\w*[^\W\d_]\w*)")


def tags_in_text(text: str) -> list[str]:
    """The hashtags written in a text, in order, each once, cleaned."""
    return list(clean_tags(HASHTAG.findall(text)))[:MAX_NOTE_TAGS]


def tag_url(base_url: str, name: str) -> str:
    return f"{base_url}/tags/{name}"


def link_hashtags(html: str, base_url: str) -> str:
    """Escaped text's `#tag`s as Mastodon's links (run on text made HTML by us, where a
    `#` is never inside a tag's attributes but in a URL, which the pattern skips)."""

    def link(match: re.Match[str]) -> str:
        names = clean_tags([match[1]])
        if not names:
            return match[0]
        href = tag_url(base_url, names[0])
        return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{match[1]}</span></a>'

    return HASHTAG.sub(link, html)


def hashtag_objects(names: Iterable[str], base_url: str) -> list[dict[str, str]]:
    """The `tag` entries of a note carrying these hashtags."""
    return [{"type": "Hashtag", "href": tag_url(base_url, n), "name": f"#{n}"} for n in names]


def hashtags_of(tag_value: Any) -> list[str]:
    """The hashtag names of a received note's `tag` array (entries of type Hashtag)."""
    items = tag_value if isinstance(tag_value, list) else [tag_value]
    names = [
        item["name"]
        for item in items[:200]
        if isinstance(item, dict)
        and item.get("type") == "Hashtag"
        and isinstance(item.get("name"), str)
    ]
    return list(clean_tags(names))[:MAX_NOTE_TAGS]


def index_hashtags(session: AsyncSession, note_uri: str, names: Iterable[str]) -> None:
    """Add the note's index rows (the caller's transaction writes them with the note)."""
    for name in dict.fromkeys(names):
        session.add(NoteTag(note_uri=note_uri, name=name))


async def reindex_hashtags(session: AsyncSession, note_uri: str, names: Iterable[str]) -> None:
    """An edited note's hashtags replace its old ones."""
    await session.execute(delete(NoteTag).where(NoteTag.note_uri == note_uri))
    index_hashtags(session, note_uri, names)


# Followed tags: kept here only (Mastodon does not federate them either).

MAX_FOLLOWED = 1000


def one_tag(raw: str) -> str:
    """A tag name from a path or query (`#Bicycle` → `bicycle`); 404 when it is none."""
    names = clean_tags([raw[:200]])
    if not names:
        raise FederationError(f"{raw[:100]!r} is not a hashtag", status=404)
    return names[0]


async def followed_names(session: AsyncSession, actor_id: int) -> list[str]:
    rows = await session.scalars(
        select(FollowedTag.name).where(FollowedTag.actor_id == actor_id).order_by(FollowedTag.id)
    )
    return list(rows)


async def follow_tag(session: AsyncSession, actor_id: int, name: str) -> None:
    """Follow `name` (again: nothing changes); commits."""
    if name in await followed_names(session, actor_id):
        return
    count = await session.scalar(
        select(func.count()).select_from(FollowedTag).where(FollowedTag.actor_id == actor_id)
    )
    if (count or 0) >= MAX_FOLLOWED:
        raise ValidationError(f"you follow {MAX_FOLLOWED} hashtags already; unfollow some first")
    session.add(FollowedTag(actor_id=actor_id, name=name))
    try:
        await session.commit()
    except IntegrityError:  # followed at the same moment by another request
        await session.rollback()


async def unfollow_tag(session: AsyncSession, actor_id: int, name: str) -> None:
    await session.execute(
        delete(FollowedTag).where(FollowedTag.actor_id == actor_id, FollowedTag.name == name)
    )
    await session.commit()

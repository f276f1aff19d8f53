"""Mastodon's ScheduledStatus entity, and reading `scheduled_at` as Mastodon does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import ValidationError
from federation.urls import LocalUrls
from objects.convert import iso
from objects.media_models import MediaAttachment
from outbox.scheduled_models import ScheduledStatus
from web.mastodon.status import media_entity


def parse_scheduled_at(value: Any) -> dt.datetime | None:
    """An ISO 8601 time (UTC when it names no zone); None when absent."""
    if value in (None, ""):
        return None
    try:
        when = dt.datetime.fromisoformat(str(value)[:40])
    except ValueError as error:
        raise ValidationError(
            f"scheduled_at {str(value)!r:.60} is not an ISO 8601 time such as 2030-01-02T03:04:05Z"
        ) from error
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


async def scheduled_entities(
    session: AsyncSession, urls: LocalUrls, rows: Sequence[ScheduledStatus]
) -> list[dict[str, Any]]:
    """Each row as Mastodon shows it, with the uploads it will attach."""
    wanted = {int(i) for row in rows for i in row.media_ids}
    media = {
        m.id: m
        for m in await session.scalars(
            select(MediaAttachment).where(MediaAttachment.id.in_(wanted))
        )
    }
    return [
        {
            "id": str(row.id),
            "scheduled_at": iso(row.next_attempt_at),
            "params": row.params,
            "media_attachments": [
                media_entity(urls, media[int(i)]) for i in row.media_ids if int(i) in media
            ],
        }
        for row in rows
    ]

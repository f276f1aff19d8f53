"""The outbox collection: public activities of a local actor, keyset-paged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from outbox.models import OutboxActivity

LISTED_TYPES = ("Create", "Announce")


async def count_outbox(session: AsyncSession, actor: Actor) -> int:
    query = select(func.count()).select_from(OutboxActivity).where(*_listed(actor))
    return int(await session.scalar(query) or 0)


async def outbox_page(
    session: AsyncSession, actor: Actor, *, before: int | None, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    query = select(OutboxActivity.id, OutboxActivity.payload).where(*_listed(actor))
    if before is not None:
        query = query.where(OutboxActivity.id < before)
    rows = await session.execute(query.order_by(OutboxActivity.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows.all()]


def _listed(actor: Actor) -> tuple[Any, ...]:
    return (
        OutboxActivity.actor_id == actor.id,
        OutboxActivity.public.is_(True),
        OutboxActivity.type.in_(LISTED_TYPES),
    )

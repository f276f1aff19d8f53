"""The outbox collection: public activities of a local actor, keyset-paged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.db import is_postgres
from outbox.models import OutboxActivity

LISTED_TYPES = ("Create", "Announce")


async def count_outbox(session: AsyncSession, actor: Actor) -> int:
    query = select(func.count()).select_from(OutboxActivity).where(*_listed(actor))
    return int(await session.scalar(query) or 0)


async def outbox_page(
    session: AsyncSession, actor: Actor, *, before: int | None, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    columns = select(OutboxActivity.id, OutboxActivity.payload)
    if is_postgres(session):
        # No plain `actor_id = ?`: with it PostgreSQL may walk the primary key backwards and
        # discard every newer activity of other actors. The row-value bound (with
        # `actor_id >= ?`, the same rows) can only be served by the (actor_id, id) index.
        bound = (actor.id, before if before is not None else 2**63 - 1)
        query = columns.where(
            *_listed_kinds(),
            OutboxActivity.actor_id >= actor.id,
            tuple_(OutboxActivity.actor_id, OutboxActivity.id) < bound,
        ).order_by(OutboxActivity.actor_id.desc(), OutboxActivity.id.desc())
    else:
        query = columns.where(*_listed(actor)).order_by(OutboxActivity.id.desc())
        if before is not None:
            query = query.where(OutboxActivity.id < before)
    rows = await session.execute(query.limit(limit))
    return [(row[0], row[1]) for row in rows.all()]


def _listed(actor: Actor) -> tuple[Any, ...]:
    return (OutboxActivity.actor_id == actor.id, *_listed_kinds())


def _listed_kinds() -> tuple[Any, ...]:
    return (OutboxActivity.public.is_(True), OutboxActivity.type.in_(LISTED_TYPES))

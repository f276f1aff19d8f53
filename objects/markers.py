"""Reading positions: one marker per person and timeline, saved with a version counter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import utcnow
from federation.errors import ValidationError
from objects.marker_models import Marker

TIMELINES = ("home", "notifications")
MAX_ID_LENGTH = 64


def check_positions(positions: Mapping[str, object]) -> dict[str, str]:
    """{timeline: last_read_id} from the body's known timelines; 422 on a bad one."""
    found: dict[str, str] = {}
    for timeline in TIMELINES:
        value = positions.get(timeline)
        if value is None:
            continue
        last = value.get("last_read_id") if isinstance(value, dict) else None
        if isinstance(last, int) and not isinstance(last, bool):
            last = str(last)
        if not isinstance(last, str) or not last.strip() or len(last) > MAX_ID_LENGTH:
            raise ValidationError(
                f"{timeline}[last_read_id] must be the id of the last status read "
                f"(at most {MAX_ID_LENGTH} characters)"
            )
        found[timeline] = last.strip()
    if not found:
        raise ValidationError(
            "send home[last_read_id] or notifications[last_read_id]: the position to keep"
        )
    return found


async def read_markers(
    session: AsyncSession, actor_id: int, timelines: Iterable[str]
) -> list[Marker]:
    wanted = [t for t in dict.fromkeys(timelines) if t in TIMELINES]
    if not wanted:
        return []
    rows = await session.scalars(
        select(Marker).where(Marker.actor_id == actor_id, Marker.timeline.in_(wanted))
    )
    return sorted(rows, key=lambda row: TIMELINES.index(row.timeline))


async def save_markers(session: AsyncSession, actor_id: int, positions: dict[str, str]) -> None:
    """Keep each position, counting the version up; commits (a second app racing to make
    the same first marker gets the version after it)."""
    for timeline, last_read_id in positions.items():
        for _ in range(2):
            if await _save_one(session, actor_id, timeline, last_read_id):
                break


async def _save_one(session: AsyncSession, actor_id: int, timeline: str, last_read_id: str) -> bool:
    now = utcnow()
    moved = await session.execute(
        update(Marker)
        .where(Marker.actor_id == actor_id, Marker.timeline == timeline)
        .values(last_read_id=last_read_id, version=Marker.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0):
        await session.commit()
        return True
    session.add(
        Marker(actor_id=actor_id, timeline=timeline, last_read_id=last_read_id, updated_at=now)
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True

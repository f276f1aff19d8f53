"""Pins of remote people, as their servers announce them (`Add` and `Remove`)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from objects.models import Note
from objects.pin_models import Pin


async def add_remote_pin(session: AsyncSession, actor: Actor, note: Note) -> None:
    found = await session.scalar(
        select(Pin.id).where(Pin.actor_id == actor.id, Pin.note_id == note.id)
    )
    if found is None:
        if note.id is None:  # received in this batch, not written yet
            await session.flush([note])
        session.add(Pin(actor_id=actor.id, note_id=note.id))


async def remove_remote_pin(session: AsyncSession, actor: Actor, note: Note) -> None:
    await session.execute(delete(Pin).where(Pin.actor_id == actor.id, Pin.note_id == note.id))

"""Scheduled statuses: stored now, published by a worker at their time, exactly once.

A due row is claimed under a lease (federation.queue). Publishing is one transaction:
the row is marked done only while this worker's token still holds it, the note is posted
through the same outbox code as any status, and both commit together. A worker that dies
after its claim leaves the row pending under a lease that runs out (or that its restarted
process releases at once), so another worker publishes it; one that wakes up after losing
its lease finds its token gone and posts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.db import utcnow
from federation.errors import FederationError, ValidationError
from federation.queue import (
    DONE,
    FAILED,
    PENDING,
    claim_due,
    finish_held,
    new_token,
    retry_values,
    run_until_stopped,
)
from objects.media_models import MediaAttachment
from outbox.c2s import submit
from outbox.scheduled_models import ScheduledStatus

log = logging.getLogger(__name__)
# Mastodon's rule: a status is scheduled at least this far ahead.
MIN_AHEAD = dt.timedelta(minutes=5)
LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8
BATCH = 10


def check_scheduled_at(when: dt.datetime, now: dt.datetime) -> None:
    """Refuse a time less than five minutes ahead, as Mastodon does."""
    if when < now + MIN_AHEAD:
        raise FederationError(
            "Validation failed: Scheduled at The scheduled date must be in the future "
            "(at least 5 minutes from now); send a later scheduled_at, or none to post now",
            status=422,
        )


async def schedule_status(
    session: AsyncSession,
    actor: Actor,
    when: dt.datetime,
    note: dict[str, Any],
    media_ids: Sequence[int],
    params: dict[str, Any],
) -> ScheduledStatus:
    """Keep `note` to post at `when`; the caller commits. The uploads must be the actor's
    own and unattached now (they are claimed when the note is posted)."""
    wanted = list(dict.fromkeys(media_ids))
    if wanted:
        own = await session.scalar(
            select(func.count())
            .select_from(MediaAttachment)
            .where(
                MediaAttachment.id.in_(wanted),
                MediaAttachment.account_id == actor.id,
                MediaAttachment.note_id.is_(None),
            )
        )
        if own != len(wanted):
            raise ValidationError(
                "media_ids: each must be the id of one of your own uploads that is not "
                "attached to a status yet"
            )
    row = ScheduledStatus(
        actor_id=actor.id,
        params=params,
        note=note,
        media_ids=[str(i) for i in wanted],
        next_attempt_at=when,
        state=PENDING,
        attempts=0,
    )
    session.add(row)
    await session.flush()
    return row


def waiting_of(actor: Actor) -> Select[ScheduledStatus]:
    """The actor's statuses still to be published (for the caller to page)."""
    return select(ScheduledStatus).where(
        ScheduledStatus.actor_id == actor.id, ScheduledStatus.state == PENDING
    )


async def own_waiting(session: AsyncSession, actor: Actor, row_id: int) -> ScheduledStatus:
    row = await session.scalar(waiting_of(actor).where(ScheduledStatus.id == row_id))
    if row is None:
        raise FederationError("Record not found", status=404)
    return row


async def reschedule(
    session: AsyncSession, actor: Actor, row_id: int, when: dt.datetime, now: dt.datetime
) -> ScheduledStatus:
    """Move a waiting status to `when`; the caller commits. A row a worker holds right now
    is being published: its new time would come too late, so it is refused."""
    check_scheduled_at(when, now)
    row = await own_waiting(session, actor, row_id)
    moved = await session.execute(
        update(ScheduledStatus)
        .where(ScheduledStatus.id == row.id, ScheduledStatus.lease_token.is_(None))
        .values(next_attempt_at=when)
        .execution_options(synchronize_session=False)
    )
    if not getattr(moved, "rowcount", 0):
        raise FederationError("this status is being published now", status=409)
    await session.refresh(row)
    return row


async def cancel(session: AsyncSession, actor: Actor, row_id: int) -> None:
    """Delete a waiting status; the caller commits. A worker holding it finds its token
    gone and publishes nothing."""
    row = await own_waiting(session, actor, row_id)
    await session.delete(row)


class ScheduledStatusWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        resolver: ActorResolver,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        on_published: Callable[[], None] = lambda: None,
        identity: str = "unnamed",
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.sessions = sessions
        self.resolver = resolver
        self.clock = clock
        self.on_published = on_published
        self.identity = identity
        self.lease = lease
        self.wakeup = asyncio.Event()

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(self.run_once, self.wakeup, stop, name=__name__)

    async def run_once(self) -> int:
        """Publish the statuses that are due; return how many were claimed."""
        rows = await self.claim()
        published = 0
        for row in rows:
            published += await self.publish(row)
        if published:
            self.on_published()
        return len(rows)

    async def claim(self) -> Sequence[ScheduledStatus]:
        async with self.sessions() as session:
            rows = await claim_due(
                session,
                ScheduledStatus,
                now=self.clock(),
                limit=BATCH,
                lease=self.lease,
                token=new_token(self.identity),
            )
            await session.commit()
        return rows

    async def publish(self, row: ScheduledStatus) -> bool:
        """Post the claimed row's note and mark it done, together; False when nothing was
        posted (the lease was lost, the status cancelled, or posting failed)."""
        assert row.lease_token is not None
        try:
            async with self.sessions() as session:
                if not await self._post(session, row):
                    return False
                await session.commit()
            return True
        except FederationError as exc:  # refused for good: say why and stop
            await self._record(row, {"state": FAILED, "last_error": exc.message[:1000]})
        except Exception as exc:  # a database trouble: try again later
            log.exception("publishing scheduled status %s failed", row.id)
            values = retry_values(row.attempts, MAX_ATTEMPTS, self.clock())
            await self._record(row, {**values, "last_error": f"{type(exc).__name__}: {exc}"})
        return False

    async def _post(self, session: AsyncSession, row: ScheduledStatus) -> bool:
        token = row.lease_token or ""
        done = {"state": DONE, "attempts": row.attempts + 1, "last_error": None}
        # First: it takes the row's lock on PostgreSQL, so a second claimer waits or skips.
        if not await finish_held(session, ScheduledStatus, row.id, token, done):
            return False
        actor = await session.get(Actor, row.actor_id)
        if actor is None or actor.deleted_at is not None or actor.suspended_at is not None:
            raise FederationError("not published: its author is gone or suspended")
        ids = [int(i) for i in row.media_ids]
        activity = await submit(session, self.resolver, actor, dict(row.note), media_ids=ids)
        await session.execute(
            update(ScheduledStatus)
            .where(ScheduledStatus.id == row.id)
            .values(note_uri=activity.object_uri)
            .execution_options(synchronize_session=False)
        )
        return True

    async def _record(self, row: ScheduledStatus, values: dict[str, Any]) -> None:
        async with self.sessions() as session:
            await finish_held(session, ScheduledStatus, row.id, row.lease_token or "", values)
            await session.commit()

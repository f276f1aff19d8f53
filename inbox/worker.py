"""The inbox worker: processes stored activities, one transaction each.

A failing activity is retried with backoff and finally marked failed; it never
blocks the others. Unknown types are marked done and ignored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.db import utcnow
from federation.queue import DONE, FAILED, PENDING, backoff_delay, claim_due, run_until_stopped
from federation.urls import host_of
from inbox.context import HandlerContext
from inbox.handlers import HANDLERS
from inbox.models import InboxItem
from outbox.hosts import host_is_alive

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 8


class InboxWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        context: HandlerContext,
        *,
        on_published: Callable[[], None] = lambda: None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.context = context
        self.on_published = on_published
        self.clock = clock
        self.wakeup = asyncio.Event()

    async def run_once(self, limit: int = 200) -> int:
        now = self.clock()
        async with self.sessions() as session:
            items = list(await claim_due(session, InboxItem, now=now, limit=limit, lease=LEASE))
            await session.commit()
        for item in items:
            await self._process(item)
        await self._note_live_hosts({host_of(item.actor_uri) for item in items})
        if items:
            self.on_published()
        return len(items)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(self.run_once, self.wakeup, stop, name=__name__)

    async def _process(self, item: InboxItem) -> None:
        try:
            async with self.sessions() as session:
                await self._handle(session, item)
                await _finish(session, item.id, state=DONE, processed_at=self.clock())
                await session.commit()
        except Exception as exc:
            log.warning("inbox item %s (%s) failed: %r", item.id, item.activity_uri, exc)
            await self._retry_later(item, exc)

    async def _handle(self, session: AsyncSession, item: InboxItem) -> None:
        handler = HANDLERS.get(item.type)
        if handler is None:
            return
        actor = await session.scalar(select(Actor).where(Actor.uri == item.actor_uri))
        if actor is None or (actor.deleted_at is not None and item.type != "Delete"):
            return
        await handler(self.context, session, item.payload, actor)

    async def _retry_later(self, item: InboxItem, exc: Exception) -> None:
        attempts = item.attempts + 1
        async with self.sessions() as session:
            await _finish(
                session,
                item.id,
                state=FAILED if attempts >= MAX_ATTEMPTS else PENDING,
                attempts=attempts,
                last_error=repr(exc)[:1000],
                next_attempt_at=self.clock() + backoff_delay(attempts),
            )
            await session.commit()

    async def _note_live_hosts(self, hosts: set[str]) -> None:
        async with self.sessions() as session:
            for host in hosts:
                await host_is_alive(session, host)
            await session.commit()


async def _finish(session: AsyncSession, item_id: int, **values: object) -> None:
    await session.execute(
        update(InboxItem).where(InboxItem.id == item_id).values(locked_until=None, **values)
    )

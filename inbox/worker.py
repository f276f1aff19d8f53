"""The inbox worker: processes stored activities, one transaction each.

A failing activity is retried with backoff and finally marked failed; it never
blocks the others. Unknown types are marked done and ignored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.db import utcnow
from federation.queue import DONE, FAILED, PENDING, backoff_delay, claim_due, run_until_stopped
from federation.urls import host_of
from inbox.context import HandlerContext
from inbox.handlers import HANDLERS
from inbox.models import InboxItem
from objects.convert import first_id
from objects.design_convert import is_design
from objects.design_resolve import store_fetched_version
from objects.designs import get_version
from objects.models import Note
from objects.notes import adopt_notes, find_notes, insert_new_notes
from objects.notifications import insert_new_notifications
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
        batch_size: int = 200,
    ) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self.context = context
        self.on_published = on_published
        self.clock = clock
        self.wakeup = asyncio.Event()

    async def run_once(self, limit: int | None = None) -> int:
        now, limit = self.clock(), limit or self.batch_size
        async with self.sessions() as session:
            claimed = list(await claim_due(session, InboxItem, now=now, limit=limit, lease=LEASE))
            await session.commit()
        items = await self._dereference(claimed)
        if not items:
            return len(claimed)
        async with self.sessions() as session:
            known = await _look_up(session, items)
        try:
            await self._process_batch(items, known)
        except Exception as exc:
            # Rare: find the failing activity one item at a time, each in its own transaction.
            log.info("inbox batch of %d failed (%r); retrying one by one", len(items), exc)
            for item in items:
                await self._process(item)
        self.on_published()
        return len(claimed)

    async def _dereference(self, items: list[InboxItem]) -> list[InboxItem]:
        """Fetch the objects of Creates sent by reference, before any transaction, so that no
        connection is held while fetching; one that cannot be fetched now is retried later.
        A design stays a reference: it is stored only as the inbox checked it (DesignGate)."""
        ready = []
        for item in items:
            obj = item.payload.get("object")
            if item.type == "Create" and isinstance(obj, str):
                try:
                    doc = await self.context.resolver.fetch_document(obj)
                except Exception as exc:
                    log.info("inbox item %s: cannot fetch %s now: %r", item.id, obj, exc)
                    await self._retry_later(item, exc)
                    continue
                if not is_design(doc):
                    item.payload = {**item.payload, "object": doc}
            elif item.type == "Announce" and isinstance(obj, str):
                await self._fetch_announced_design(obj)
            ready.append(item)
        return ready

    async def _fetch_announced_design(self, uri: str) -> None:
        """A boosted design version (a project passing on a fork, a cooperative boosting a
        member's design) is fetched, checked against the licence rules and stored, so that
        followers see it. Anything else announced stays a reference; failures are logged."""
        ctx = self.context
        if ctx.urls.is_local(uri) or ctx.blocks.is_suspended(uri):
            return
        try:
            async with self.sessions() as session:
                if await get_version(session, uri) is not None:
                    return
            doc = await ctx.resolver.fetch_document(uri)
            if is_design(doc):
                await store_fetched_version(self.sessions, ctx.resolver, ctx.policy, doc)
        except Exception as exc:
            log.info("announced object %s not stored: %r", uri, exc)

    async def _process_batch(self, items: list[InboxItem], known: Known) -> None:
        """Handle every item in one transaction: a commit per batch instead of per activity.
        Any failure rolls the whole batch back, and `run_once` redoes it item by item.

        What the batch reads was looked up beforehand, so that for the usual activities this
        transaction only writes, at the end: on SQLite it holds the one connection (and the
        write lock) for the flush and commit, not while the activities are handled."""
        async with self.sessions() as session:
            session.add_all(known.actors.values())
            adopt_notes(session, known.notes)
            for item in items:
                if not self._refused(item, known.actors):
                    await self._handle(session, item, known.actors.get(item.actor_uri))
                # Handling needs no I/O now that notes and actors are prefetched: yield, so
                # that requests served by this event loop do not wait for the whole batch.
                await asyncio.sleep(0)
            await insert_new_notes(session)
            await insert_new_notifications(session)
            await _finish(
                session, [item.id for item in items], state=DONE, processed_at=self.clock()
            )
            await _note_live_hosts(session, {host_of(item.actor_uri) for item in items})
            await session.commit()

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(self.run_once, self.wakeup, stop, name=__name__)

    async def _process(self, item: InboxItem) -> None:
        try:
            async with self.sessions() as session:
                actors = await _actors_by_uri(session, {item.actor_uri, *_authors([item])})
                if not self._refused(item, actors):
                    await self._handle(session, item, actors.get(item.actor_uri))
                await _finish(session, [item.id], state=DONE, processed_at=self.clock())
                await session.commit()
        except Exception as exc:
            log.warning("inbox item %s (%s) failed: %r", item.id, item.activity_uri, exc)
            await self._retry_later(item, exc)

    async def _handle(self, session: AsyncSession, item: InboxItem, actor: Actor | None) -> None:
        handler = HANDLERS.get(item.type)
        if handler is None:
            return
        if actor is None or (actor.deleted_at is not None and item.type != "Delete"):
            return
        await handler(self.context, session, item.payload, actor)

    def _refused(self, item: InboxItem, actors: dict[str, Actor]) -> bool:
        """Dropped unhandled: an activity by, or carrying an object of, a suspended actor or
        domain. It may have arrived before the block, or be someone else's Announce of it."""
        uris = _carried_uris(item)
        if any(self.context.blocks.is_suspended(uri) for uri in uris):
            return True
        return any(actor.suspended_at is not None for uri in uris if (actor := actors.get(uri)))

    async def _retry_later(self, item: InboxItem, exc: Exception) -> None:
        attempts = item.attempts + 1
        async with self.sessions() as session:
            await _finish(
                session,
                [item.id],
                state=FAILED if attempts >= MAX_ATTEMPTS else PENDING,
                attempts=attempts,
                last_error=repr(exc)[:1000],
                next_attempt_at=self.clock() + backoff_delay(attempts),
            )
            await session.commit()


async def _finish(session: AsyncSession, item_ids: list[int], **values: object) -> None:
    if item_ids:
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(item_ids))
            .values(locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Known:
    """What a batch reads, looked up in one short transaction before it is handled."""

    actors: dict[str, Actor]
    notes: dict[str, Note | None]


async def _look_up(session: AsyncSession, items: list[InboxItem]) -> Known:
    actors = await _actors_by_uri(session, {item.actor_uri for item in items} | _authors(items))
    return Known(actors, await find_notes(session, _object_ids(items)))


def _object_ids(items: list[InboxItem]) -> set[str]:
    """The ids of the objects a batch creates, changes or deletes (looked up in one query)."""
    return {
        found
        for item in items
        if item.type in ("Create", "Update", "Delete")
        and (found := first_id(item.payload.get("object"))) is not None
    }


def _carried_uris(item: InboxItem) -> set[str]:
    """The activity's actor, its object, and the object's author."""
    obj = item.payload.get("object")
    found = {item.actor_uri, first_id(obj)}
    if isinstance(obj, dict):
        found.add(first_id(obj.get("attributedTo")))
    return {uri for uri in found if uri}


def _authors(items: list[InboxItem]) -> set[str]:
    """Authors of carried objects (an Announced note's), looked up to see if suspended."""
    return {
        author
        for item in items
        if isinstance(obj := item.payload.get("object"), dict)
        and (author := first_id(obj.get("attributedTo")))
    }


async def _actors_by_uri(session: AsyncSession, uris: set[str]) -> dict[str, Actor]:
    rows = await session.scalars(select(Actor).where(Actor.uri.in_(uris)))
    return {actor.uri: actor for actor in rows}


async def _note_live_hosts(session: AsyncSession, hosts: set[str]) -> None:
    for host in hosts:
        await host_is_alive(session, host)

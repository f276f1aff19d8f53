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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.db import insert_new_rows, utcnow
from federation.errors import FederationError
from federation.leases import Leases
from federation.queue import DONE, Wakeup, retry_values, run_until_stopped
from federation.urls import host_of
from inbox.context import HandlerContext
from inbox.design_admission import BatchAdmission, admit_items, refusal_reason, send_reject
from inbox.design_handlers import on_create_design, on_update_design
from inbox.handlers import HANDLERS
from inbox.models import InboxItem
from objects.convert import first_id
from objects.design_convert import is_design
from objects.design_models import DesignVersion
from objects.design_resolve import store_fetched_version
from objects.models import Note, Notification
from objects.notes import adopt_notes, find_notes
from outbox.hosts import host_is_alive

log = logging.getLogger(__name__)
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
        identity: str = "unnamed",
        lease: dt.timedelta = dt.timedelta(minutes=5),
        fetch_attempts: int = 16,
        grace_seconds: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self.context = context
        self.on_published = on_published
        self.clock = clock
        self.wakeup = Wakeup()
        self.leases = Leases(
            sessions, InboxItem, identity=identity, duration=lease, clock=lambda: self.clock()
        )
        # An object that cannot be fetched waits for its origin as deliveries wait for
        # their peers (days); an activity that fails to be handled is given up sooner.
        self.fetch_attempts = fetch_attempts
        self.grace_seconds = grace_seconds
        self._token = ""

    async def run_once(self, limit: int | None = None) -> int:
        token, limit = self.leases.token(), limit or self.batch_size
        async with self.sessions() as session:
            claimed = await self.leases.claim(session, token, limit=limit)
            await session.commit()
        if not claimed:
            return 0
        async with self.leases.holding(token):
            self._token = token
            return await self._run_batch(claimed)

    async def _run_batch(self, claimed: list[InboxItem]) -> int:
        items = await self._dereference(claimed)
        if not items:
            return len(claimed)
        admission = await admit_items(self.sessions, self.context, items)
        for item in items:
            if item.id in admission.later:
                await self._retry_later(item, admission.later[item.id])
        items = [item for item in items if item.id not in admission.later]
        async with self.sessions() as session:
            known = await _look_up(session, items, admission)
        try:
            await self._process_batch(items, known)
        except Exception as exc:
            # Rare: find the failing activity one item at a time, each in its own transaction.
            log.info("inbox batch of %d failed (%r); retrying one by one", len(items), exc)
            for item in items:
                await self._process(item, known)
        self.on_published()
        return len(claimed)

    async def _dereference(self, items: list[InboxItem]) -> list[InboxItem]:
        """Fetch the objects of Creates sent by reference, before any transaction, so that no
        connection is held while fetching; one that cannot be fetched now is retried later.
        A design stays a reference: it is stored only as the inbox checked it (DesignGate).

        The fetches run concurrently; what they bring is then used in the items' order."""
        announced = await self._unstored_announced(items)
        created, announced_docs = await asyncio.gather(
            asyncio.gather(*(self._fetch_created(item) for item in items)),
            asyncio.gather(*(self._fetch_announced(uri) for uri in announced)),
        )
        ready = []
        for item, outcome in zip(items, created, strict=True):
            obj = item.payload.get("object")
            if isinstance(outcome, Exception):
                log.info("inbox item %s: cannot fetch %s now: %r", item.id, obj, outcome)
                await self._retry_later(item, outcome, self.fetch_attempts)
                continue
            if outcome is not None and not is_design(outcome):
                item.payload = {**item.payload, "object": outcome}
            ready.append(item)
        for uri, doc in zip(announced, announced_docs, strict=True):
            if doc is not None and not await self._store_announced_design(uri, doc, items):
                ready = [item for item in ready if _announced_uri(item) != uri]
        return ready

    async def _fetch_created(self, item: InboxItem) -> dict[str, Any] | Exception | None:
        """The object of a Create sent by reference (the exception if it cannot be fetched
        now); None for any other item."""
        obj = item.payload.get("object")
        if item.type != "Create" or not isinstance(obj, str):
            return None
        try:
            return await self.context.resolver.fetch_document(obj)
        except Exception as exc:
            return exc

    async def _unstored_announced(self, items: list[InboxItem]) -> list[str]:
        """The remote objects announced by URL that we store neither as a design version nor
        as a note (looked up in one transaction): those are fetched. Failures are logged."""
        ctx = self.context
        uris = list(
            dict.fromkeys(
                obj
                for item in items
                if item.type == "Announce"
                and isinstance(obj := item.payload.get("object"), str)
                and not ctx.urls.is_local(obj)
                and not ctx.blocks.is_suspended(obj)
            )
        )
        if not uris:
            return []
        try:
            async with self.sessions() as session:
                stored = set(
                    await session.scalars(
                        select(DesignVersion.uri).where(DesignVersion.uri.in_(uris))
                    )
                )
                stored.update(await session.scalars(select(Note.uri).where(Note.uri.in_(uris))))
        except Exception as exc:
            for uri in uris:
                log.info("announced object %s not stored: %r", uri, exc)
            return []
        return [uri for uri in uris if uri not in stored]

    async def _fetch_announced(self, uri: str) -> dict[str, Any] | None:
        try:
            return await self.context.resolver.fetch_document(uri)
        except Exception as exc:
            log.info("announced object %s not stored: %r", uri, exc)
            return None

    async def _store_announced_design(
        self, uri: str, doc: dict[str, Any], items: list[InboxItem]
    ) -> bool:
        """A boosted design version (a project passing on a fork, a cooperative boosting a
        member's design) is admitted and stored, so that followers see it. Anything else
        announced stays a reference; failures are logged. A design the admission refuses
        is dropped with its Announces, whose senders get a `Reject`: False then."""
        if not is_design(doc):
            return True
        ctx = self.context
        try:
            await store_fetched_version(self.sessions, ctx.resolver, ctx.policy, doc)
        except FederationError as exc:
            log.info("announced design %s refused: %s", uri, exc.message)
            for item in items:
                if _announced_uri(item) == uri:
                    await self._reject(item, refusal_reason(exc))
                    await self._finish_refused(item)
            return False
        except Exception as exc:
            log.info("announced object %s not stored: %r", uri, exc)
        return True

    async def _reject(self, item: InboxItem, reason: str) -> None:
        try:
            await send_reject(
                self.sessions, self.context.urls, item.payload, item.actor_uri, reason
            )
        except Exception as exc:
            log.warning("could not reject inbox item %s: %r", item.id, exc)

    async def _finish_refused(self, item: InboxItem) -> None:
        async with self.sessions() as session:
            await _finish(session, self._token, [item.id], state=DONE, processed_at=self.clock())
            await session.commit()

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
                if not self._refused(item, known):
                    await self._handle(session, item, known)
                # Handling needs no I/O now that notes and actors are prefetched: yield, so
                # that requests served by this event loop do not wait for the whole batch.
                await asyncio.sleep(0)
            await insert_new_rows(session, Note, min_rows=2)
            await insert_new_rows(session, Notification)
            await _finish(
                session,
                self._token,
                [item.id for item in items],
                state=DONE,
                processed_at=self.clock(),
            )
            await _note_live_hosts(session, {host_of(item.actor_uri) for item in items})
            await session.commit()

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(
            self.run_once, self.wakeup, stop, name=__name__, grace_seconds=self.grace_seconds
        )

    async def _process(self, item: InboxItem, batch: Known) -> None:
        try:
            async with self.sessions() as session:
                actors = await _actors_by_uri(session, {item.actor_uri, *_authors([item])})
                known = Known(actors, {}, batch.admission)
                if not self._refused(item, known):
                    await self._handle(session, item, known)
                await _finish(
                    session, self._token, [item.id], state=DONE, processed_at=self.clock()
                )
                await session.commit()
        except Exception as exc:
            log.warning("inbox item %s (%s) failed: %r", item.id, item.activity_uri, exc)
            await self._retry_later(item, exc)

    async def _handle(self, session: AsyncSession, item: InboxItem, known: Known) -> None:
        handler = HANDLERS.get(item.type)
        actor = known.actors.get(item.actor_uri)
        if handler is None:
            return
        if actor is None or (actor.deleted_at is not None and item.type != "Delete"):
            return
        admitted = known.admission.admitted.get(item.id)
        if admitted is not None:  # a design: stored or changed only as admitted
            store = on_create_design if item.type == "Create" else on_update_design
            await store(self.context, session, admitted, actor)
            return
        await handler(self.context, session, item.payload, actor)

    def _refused(self, item: InboxItem, known: Known) -> bool:
        """Dropped unhandled: a design the admission refused (its sender got a Reject), or an
        activity by, or carrying an object of, a suspended actor or domain. It may have
        arrived before the block, or be someone else's Announce of it."""
        if item.id in known.admission.refused:
            return True
        actors = known.actors
        uris = _carried_uris(item)
        if any(self.context.blocks.is_suspended(uri) for uri in uris):
            return True
        return any(actor.suspended_at is not None for uri in uris if (actor := actors.get(uri)))

    async def _retry_later(
        self, item: InboxItem, exc: Exception, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        async with self.sessions() as session:
            await _finish(
                session,
                self._token,
                [item.id],
                last_error=repr(exc)[:1000],
                **retry_values(item.attempts, max_attempts, self.clock()),
            )
            await session.commit()


async def _finish(session: AsyncSession, token: str, item_ids: list[int], **values: object) -> None:
    """Record outcomes only for the items this claim still holds."""
    if item_ids:
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(item_ids), InboxItem.lease_token == token)
            .values(locked_until=None, lease_token=None, **values)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Known:
    """What a batch reads, looked up in one short transaction before it is handled."""

    actors: dict[str, Actor]
    notes: dict[str, Note | None]
    admission: BatchAdmission


async def _look_up(
    session: AsyncSession, items: list[InboxItem], admission: BatchAdmission
) -> Known:
    actors = await _actors_by_uri(session, {item.actor_uri for item in items} | _authors(items))
    return Known(actors, await find_notes(session, _object_ids(items)), admission)


def _announced_uri(item: InboxItem) -> str | None:
    obj = item.payload.get("object")
    return obj if item.type == "Announce" and isinstance(obj, str) else None


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
    found = {item.actor_uri, first_id(item.payload.get("object")), _author(item)}
    return {uri for uri in found if uri}


def _authors(items: list[InboxItem]) -> set[str]:
    """Authors of carried objects (an Announced note's), looked up to see if suspended."""
    return {author for item in items if (author := _author(item))}


def _author(item: InboxItem) -> str | None:
    """The attributedTo of the object the activity carries embedded, if it carries one."""
    obj = item.payload.get("object")
    return first_id(obj.get("attributedTo")) if isinstance(obj, dict) else None


async def _actors_by_uri(session: AsyncSession, uris: set[str]) -> dict[str, Actor]:
    rows = await session.scalars(select(Actor).where(Actor.uri.in_(uris)))
    return {actor.uri: actor for actor in rows}


async def _note_live_hosts(session: AsyncSession, hosts: set[str]) -> None:
    for host in hosts:
        await host_is_alive(session, host)

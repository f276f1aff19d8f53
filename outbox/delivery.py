"""The delivery worker: claims due delivery rows and POSTs them, signed.

Rows to one inbox go in the order they were created, one at a time; different inboxes
and hosts go in parallel. Each outcome is written as its attempt ends, while the claim's
lease token still holds the row (federation.leases), so two workers never both send one.

Retries use exponential backoff and honour Retry-After; a 4xx other than
401/408/429 is final. A host that keeps failing is marked unavailable: only one
delivery probes it at a time, and when it answers (or sends us something) all
its pending deliveries become due at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.blocks import DomainBlocks
from federation.db import utcnow
from federation.keys import load_rsa_private_pem
from federation.leases import GroupWriter, LeaseClock, Leases
from federation.queue import (
    DONE,
    FAILED,
    Wakeup,
    backoff_delay,
    finish_held,
    finish_many_held,
    retry_values,
    run_until_stopped,
)
from federation.settings import Settings
from federation.signatures import CavageAuth, RFC9421Auth
from federation.vocab import ACTIVITY_JSON
from outbox.hosts import HostBook, Outcome
from outbox.models import Delivery, OutboxActivity

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class Batch:
    """One claim: its token, and how long its lease surely lasts."""

    token: str
    lease: LeaseClock
    writer: GroupWriter[tuple[Delivery, Outcome]]
    attempted: list[tuple[Delivery, Outcome]] = field(default_factory=list)


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        blocks: DomainBlocks | None = None,
        identity: str = "unnamed",
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.settings = settings
        self.clock = clock
        self.blocks = blocks if blocks is not None else DomainBlocks()
        self.hosts = HostBook(sessions, settings)
        self.wakeup = Wakeup()
        self.stopping = asyncio.Event()
        self.leases = Leases(
            sessions,
            Delivery,
            identity=identity,
            duration=dt.timedelta(seconds=settings.queue_lease_seconds),
            clock=lambda: self.clock(),
        )
        # One attempt can be two POSTs (the signature fallback), each bounded by the timeout.
        self.attempt_seconds = 2 * settings.http_timeout_seconds + 1
        self._keys: dict[int, tuple[str, Any]] = {}
        self._all = asyncio.Semaphore(settings.delivery_concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.delivery_per_host)
        )

    async def run_once(self, limit: int = 500) -> int:
        """Claim and attempt one batch of due deliveries; return how many were attempted.

        Rows to one inbox are claimed as a prefix in the order they were created and sent
        one after the other; a failure leaves the rest of that inbox's rows waiting
        behind it. Each outcome is written as its attempt completes, under the lease."""
        token = self.leases.token()
        async with self.sessions() as session:
            rows = await self.leases.claim(
                session,
                token,
                limit=min(limit, self._per_inbox * self.settings.delivery_concurrency),
                in_order_of=Delivery.inbox_url,
                per_key=self._per_inbox,
            )
            activities = await self._activities(session, rows)
            await session.commit()
        if not rows:
            return 0
        async with self.leases.holding(token) as lease:
            batch = Batch(token, lease, GroupWriter(functools.partial(self._write, token)))
            count = await self._deliver(rows, activities, batch)
        # Host health is kept per batch (not per attempt): it decides probes, not sends.
        await self.hosts.record(batch.attempted, self.clock())
        return count

    @property
    def _per_inbox(self) -> int:
        """Claimed at once per inbox: what can be sent within one lease, one at a time. With
        at most `delivery_concurrency` inboxes at once, a batch fits in its lease."""
        return max(1, int(self.settings.queue_lease_seconds // self.attempt_seconds))

    async def _deliver(
        self, rows: list[Delivery], activities: dict[int, tuple[bytes, int]], batch: Batch
    ) -> int:
        blocked = [row for row in rows if self.blocks.is_suspended(row.host)]
        if blocked:
            await self._give_up_blocked(blocked, batch.token)
        blocked_ids = {row.id for row in blocked}
        queues: defaultdict[str, defaultdict[str, list[Delivery]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for row in rows:
            if row.id not in blocked_ids:
                queues[row.host][row.inbox_url].append(row)
        unavailable = await self.hosts.unavailable(list(queues))
        counts = await asyncio.gather(
            *(
                self._deliver_host(list(by_inbox.values()), activities, batch, h in unavailable)
                for h, by_inbox in queues.items()
            )
        )
        return sum(counts) + len(blocked)

    async def _give_up_blocked(self, rows: list[Delivery], token: str) -> None:
        """Fail deliveries to suspended domains at once, unsent: retrying would only repeat
        the refusal, and lifting the block does not resend what was withheld meanwhile."""
        async with self.sessions() as session:
            for row in rows:
                error = f"not sent: {row.host} is blocked by this instance's moderators"
                values = {"state": FAILED, "last_status": None, "last_error": error}
                await finish_held(session, Delivery, row.id, token, values)
            await session.commit()

    async def run_forever(self, stop: asyncio.Event) -> None:
        self.stopping = stop
        await run_until_stopped(
            self.run_once,
            self.wakeup,
            stop,
            name=__name__,
            grace_seconds=self.settings.stop_grace_seconds,
        )

    async def _activities(
        self, session: AsyncSession, rows: list[Delivery]
    ) -> dict[int, tuple[bytes, int]]:
        ids = {row.activity_id for row in rows}
        if not ids:
            return {}
        result = await session.execute(
            select(OutboxActivity.id, OutboxActivity.payload, OutboxActivity.actor_id).where(
                OutboxActivity.id.in_(ids)
            )
        )
        activities = {i: (json.dumps(p).encode(), actor) for i, p, actor in result.all()}
        await self._load_keys(session, {actor for _, actor in activities.values()})
        return activities

    async def _load_keys(self, session: AsyncSession, actor_ids: set[int]) -> None:
        missing = actor_ids - self._keys.keys()
        if missing:
            result = await session.execute(
                select(Actor.id, Actor.public_key_id, Actor.private_key_pem).where(
                    Actor.id.in_(missing)
                )
            )
            for actor_id, key_id, pem in result.all():
                if pem is not None:
                    self._keys[actor_id] = (key_id, load_rsa_private_pem(pem))

    async def _deliver_host(
        self,
        queues: list[list[Delivery]],
        activities: dict[int, tuple[bytes, int]],
        batch: Batch,
        unavailable: bool,
    ) -> int:
        """Deliver a host's inbox queues side by side; an unavailable host gets one probe,
        and the rest wait on it."""
        attempted = 0
        if unavailable:
            probe, *rest = queues[0]
            outcome = await self._send(probe, activities, batch)
            if outcome is None:
                return 0
            if not outcome.ok:
                await self._postpone([row for queue in [rest, *queues[1:]] for row in queue], batch)
                return 1
            queues, attempted = [rest, *queues[1:]], 1
        counts = await asyncio.gather(
            *(self._deliver_inbox(queue, activities, batch) for queue in queues)
        )
        return attempted + sum(counts)

    async def _deliver_inbox(
        self, rows: list[Delivery], activities: dict[int, tuple[bytes, int]], batch: Batch
    ) -> int:
        """One inbox's rows, in order; a row left pending holds back the ones after it."""
        for done, row in enumerate(rows):
            outcome = await self._send(row, activities, batch)
            if outcome is None:
                return done
            if not (outcome.ok or outcome.final or row.attempts + 1 >= self._max_attempts):
                return done + 1
        return len(rows)

    @property
    def _max_attempts(self) -> int:
        return self.settings.delivery_max_attempts

    async def _send(
        self, row: Delivery, activities: dict[int, tuple[bytes, int]], batch: Batch
    ) -> Outcome | None:
        """Attempt one row and record its outcome at once; None when it is not started
        because the worker is stopping or its lease is no longer being renewed."""
        if self.stopping.is_set():
            return None
        # Renewals keep the lease at least half its length ahead; less means they fail, and
        # the rows may soon be another worker's: start nothing more.
        if self.clock() + self.leases.duration / 2 > batch.lease.until:
            return None
        outcome = await self._attempt(row, activities)
        batch.attempted.append((row, outcome))
        await batch.writer.add((row, outcome))
        return outcome

    async def _write(self, token: str, attempted: list[tuple[Delivery, Outcome]]) -> None:
        """Outcomes of attempts that just ended, written where `token` still holds the row."""
        now = self.clock()
        updates = [(row.id, self._row_update(row, outcome, now)) for row, outcome in attempted]
        async with self.sessions() as session:
            held = await finish_many_held(session, Delivery, token, updates)
            await session.commit()
        if 0 <= held < len(updates):
            log.warning(
                "%d deliveries' leases were lost before their outcome was written",
                len(updates) - held,
            )
        if any(outcome.ok for _, outcome in attempted):
            self.wakeup.set()

    async def _postpone(self, rows: list[Delivery], batch: Batch) -> None:
        """Rows that waited behind a failed probe: not attempts of their own."""
        now = self.clock()
        async with self.sessions() as session:
            for row in rows:
                values = {"next_attempt_at": now + backoff_delay(row.attempts + 1)}
                await finish_held(session, Delivery, row.id, batch.token, values)
            await session.commit()

    async def _attempt(self, row: Delivery, activities: dict[int, tuple[bytes, int]]) -> Outcome:
        if row.activity_id not in activities:
            return Outcome(ok=False, status=410, error="the activity no longer exists")
        body, actor_id = activities[row.activity_id]
        key_id, key = self._keys[actor_id]
        async with self._all, self._per_host[row.host]:
            try:
                async with asyncio.timeout(self.attempt_seconds):
                    return await self._post_with_fallback(row, body, key_id, key)
            except TimeoutError:
                return Outcome(ok=False, error="no answer in time", host_down=True)

    async def _post_with_fallback(
        self, row: Delivery, body: bytes, key_id: str, key: Any
    ) -> Outcome:
        dialect = await self.hosts.dialect(row.host)
        outcome = await self._post(row.inbox_url, body, key_id, key, dialect)
        if outcome.status == 401 and dialect == "cavage":
            retried = await self._post(row.inbox_url, body, key_id, key, "rfc9421")
            if retried.ok:
                retried.dialect = "rfc9421"
                return retried
        return outcome

    async def _post(self, url: str, body: bytes, key_id: str, key: Any, dialect: str) -> Outcome:
        auth = RFC9421Auth(key_id, key) if dialect == "rfc9421" else CavageAuth(key_id, key)
        try:
            response = await self.client.post(
                url, content=body, headers={"Content-Type": ACTIVITY_JSON}, auth=auth
            )
        except httpx.HTTPError as exc:
            return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000], host_down=True)
        if response.is_success:
            return Outcome(ok=True, status=response.status_code)
        return Outcome(
            ok=False,
            status=response.status_code,
            error=response.text[:300],
            retry_after=parse_retry_after(response.headers.get("retry-after"), self.clock()),
            host_down=response.status_code >= 500,
        )

    def _row_update(self, row: Delivery, outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status": outcome.status,
            "last_error": outcome.error,
        }
        if outcome.ok:
            return values | {"state": DONE, "delivered_at": now}
        if outcome.final:
            return values | {"state": FAILED}
        return values | retry_values(
            row.attempts,
            self.settings.delivery_max_attempts,
            now,
            not_before=outcome.retry_after or dt.timedelta(0),
            cap=MAX_RETRY_AFTER,
        )


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """Retry-After as seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(dt.timedelta(0), when - now)

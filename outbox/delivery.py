"""The delivery worker: claims due delivery rows and POSTs them, signed.

Retries use exponential backoff and honour Retry-After; a 4xx other than
401/408/429 is final. A host that keeps failing is marked unavailable: only one
delivery probes it at a time, and when it answers (or sends us something) all
its pending deliveries become due at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.blocks import DomainBlocks
from federation.db import utcnow
from federation.keys import load_rsa_private_pem
from federation.queue import DONE, FAILED, backoff_delay, claim_due, retry_values, run_until_stopped
from federation.settings import Settings
from federation.signatures import CavageAuth, RFC9421Auth
from federation.vocab import ACTIVITY_JSON
from outbox.hosts import HostBook
from outbox.models import Delivery, OutboxActivity

RETRYABLE_4XX = frozenset({401, 408, 429})
LEASE = dt.timedelta(minutes=2)
MAX_RETRY_AFTER = dt.timedelta(days=1)


@dataclass
class Outcome:
    """What one POST attempt came to."""

    ok: bool
    status: int | None = None
    error: str | None = None
    retry_after: dt.timedelta | None = None
    host_down: bool = False
    dialect: str | None = None

    @property
    def final(self) -> bool:
        return (
            self.status is not None
            and 400 <= self.status < 500
            and (self.status not in RETRYABLE_4XX)
        )


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        blocks: DomainBlocks | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.settings = settings
        self.clock = clock
        self.blocks = blocks if blocks is not None else DomainBlocks()
        self.hosts = HostBook(sessions, settings)
        self.wakeup = asyncio.Event()
        self._keys: dict[int, tuple[str, Any]] = {}
        self._all = asyncio.Semaphore(settings.delivery_concurrency)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.delivery_per_host)
        )

    async def run_once(self, limit: int = 500) -> int:
        """Claim and attempt one batch of due deliveries; return how many were attempted."""
        now = self.clock()
        async with self.sessions() as session:
            rows = list(await claim_due(session, Delivery, now=now, limit=limit, lease=LEASE))
            activities = await self._activities(session, rows)
            await session.commit()
        if not rows:
            return 0
        blocked: list[Delivery] = []
        allowed: list[Delivery] = []
        for row in rows:
            (blocked if self.blocks.is_suspended(row.host) else allowed).append(row)
        if blocked:
            await self._give_up_blocked(blocked)
            rows = allowed
            if not rows:
                return len(blocked)
        by_host: defaultdict[str, list[Delivery]] = defaultdict(list)
        for row in rows:
            by_host[row.host].append(row)
        unavailable = await self.hosts.unavailable(list(by_host))
        results = await asyncio.gather(
            *(self._deliver_host(h, rs, activities, h in unavailable) for h, rs in by_host.items())
        )
        attempted = [pair for host_results in results for pair in host_results]
        await self._record(attempted, now)
        return len(attempted) + len(blocked)

    async def _give_up_blocked(self, rows: list[Delivery]) -> None:
        """Fail deliveries to suspended domains at once, unsent: retrying would only repeat
        the refusal, and lifting the block does not resend what was withheld meanwhile."""
        updates = [
            {
                "id": row.id,
                "state": FAILED,
                "locked_until": None,
                "last_status": None,
                "last_error": f"not sent: {row.host} is blocked by this instance's moderators",
            }
            for row in rows
        ]
        async with self.sessions() as session:
            await session.execute(update(Delivery), updates)
            await session.commit()

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(self.run_once, self.wakeup, stop, name=__name__)

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
        host: str,
        rows: list[Delivery],
        activities: dict[int, tuple[bytes, int]],
        unavailable: bool,
    ) -> list[tuple[Delivery, Outcome | None]]:
        """Deliver a host's rows; an unavailable host gets one probe, the rest wait on it."""
        if unavailable:
            probe = await self._attempt(rows[0], activities)
            rest: list[Outcome | None] = (
                list(await self._attempt_all(rows[1:], activities))
                if probe.ok
                else [None] * (len(rows) - 1)
            )
            return list(zip(rows, [probe, *rest], strict=True))
        return list(zip(rows, await self._attempt_all(rows, activities), strict=True))

    async def _attempt_all(
        self, rows: list[Delivery], activities: dict[int, tuple[bytes, int]]
    ) -> list[Outcome]:
        return list(await asyncio.gather(*(self._attempt(row, activities) for row in rows)))

    async def _attempt(self, row: Delivery, activities: dict[int, tuple[bytes, int]]) -> Outcome:
        if row.activity_id not in activities:
            return Outcome(ok=False, status=410, error="the activity no longer exists")
        body, actor_id = activities[row.activity_id]
        key_id, key = self._keys[actor_id]
        async with self._all, self._per_host[row.host]:
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

    async def _record(
        self, attempted: list[tuple[Delivery, Outcome | None]], now: dt.datetime
    ) -> None:
        updates = [self._row_update(row, outcome, now) for row, outcome in attempted]
        async with self.sessions() as session:
            await session.execute(update(Delivery), updates)
            await session.commit()
        await self.hosts.record(attempted, now)
        if any(outcome and outcome.ok for _, outcome in attempted):
            self.wakeup.set()

    def _row_update(
        self, row: Delivery, outcome: Outcome | None, now: dt.datetime
    ) -> dict[str, Any]:
        if outcome is None:  # waited behind a failed probe: not an attempt of its own
            return {
                "id": row.id,
                "locked_until": None,
                "next_attempt_at": now + backoff_delay(row.attempts + 1),
            }
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "id": row.id,
            "attempts": attempts,
            "locked_until": None,
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

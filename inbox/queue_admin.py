"""What the queues gave up on, for admins: list it, and put it back by hand.

An inbox item is given up when its object could not be fetched for days (the deliveries'
schedule) or when handling it kept failing; a delivery, when its peer kept refusing or
could not be reached for days. Both stay in their tables as `failed`, with the last error,
until an admin retries them (`ourdesign queue retry`), which gives them a fresh schedule.
A Web Push is given up when its push service kept failing for about a day, refused it
(another 4xx than 404/410), or sits on an address the SSRF guard refuses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import utcnow
from federation.errors import ValidationError
from federation.queue import FAILED, PENDING
from inbox.models import InboxItem
from objects.push_models import PushJob, PushSubscription
from outbox.models import Delivery, OutboxActivity

QUEUES = ("inbox", "delivery", "push")
MODELS: dict[str, Any] = {"inbox": InboxItem, "delivery": Delivery, "push": PushJob}


@dataclass(frozen=True)
class FailedRow:
    queue: str
    id: int
    what: str
    attempts: int
    last_status: int | None
    last_error: str | None
    since: dt.datetime

    def line(self) -> str:
        status = f" {self.last_status}" if self.last_status is not None else ""
        error = (self.last_error or "").replace("\n", " ")[:160]
        return (
            f"{self.queue} {self.id}  {self.what}  attempts={self.attempts}{status}"
            f"  since {self.since:%Y-%m-%d %H:%M}  {error}"
        )


async def failed_rows(session: AsyncSession, queue: str, limit: int = 100) -> list[FailedRow]:
    """The newest `limit` given-up rows of `queue` (inbox or delivery)."""
    if queue == "inbox":
        items = await session.scalars(
            select(InboxItem)
            .where(InboxItem.state == FAILED)
            .order_by(InboxItem.id.desc())
            .limit(limit)
        )
        return [
            FailedRow(
                queue,
                i.id,
                f"{i.type} {i.activity_uri}",
                i.attempts,
                i.last_status,
                i.last_error,
                i.received_at,
            )
            for i in items
        ]
    _check(queue)
    if queue == "push":
        return await _failed_pushes(session, limit)
    rows = await session.execute(
        select(Delivery, OutboxActivity.type)
        .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
        .where(Delivery.state == FAILED)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return [
        FailedRow(
            queue,
            d.id,
            f"{kind} to {d.inbox_url}",
            d.attempts,
            d.last_status,
            d.last_error,
            d.created_at,
        )
        for d, kind in rows
    ]


async def retry_failed(session: AsyncSession, queue: str, ids: list[int] | None) -> int:
    """Put given-up rows of `queue` back (all of them when `ids` is None), due now, with a
    fresh schedule of attempts; return how many. The caller commits."""
    _check(queue)
    model = MODELS[queue]
    query = update(model).where(model.state == FAILED)
    if ids is not None:
        query = query.where(model.id.in_(ids))
    result = await session.execute(
        query.values(
            state=PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            locked_until=None,
            lease_token=None,
        ).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def _failed_pushes(session: AsyncSession, limit: int) -> list[FailedRow]:
    rows = await session.execute(
        select(PushJob, PushSubscription.endpoint)
        .join(PushSubscription, PushSubscription.id == PushJob.subscription_id)
        .where(PushJob.state == FAILED)
        .order_by(PushJob.id.desc())
        .limit(limit)
    )
    return [
        FailedRow(
            "push",
            job.id,
            f"notification {job.notification_id} to {endpoint}",
            job.attempts,
            job.last_status,
            job.last_error,
            job.created_at,
        )
        for job, endpoint in rows
    ]


def _check(queue: str) -> None:
    if queue not in QUEUES:
        raise ValidationError(f"there is no queue {queue!r}; use one of {', '.join(QUEUES)}")

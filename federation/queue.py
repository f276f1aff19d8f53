"""Queues are rows with explicit states, claimed under a lease.

A worker claims due rows by setting `locked_until`; a crashed worker's claim
simply expires and the row becomes due again. On PostgreSQL the claim uses
`FOR UPDATE SKIP LOCKED`, so any number of workers can share one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import String, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import IdType, is_postgres

PENDING = "pending"
DONE = "done"
FAILED = "failed"

Q = TypeVar("Q", bound="QueueRow")


class QueueRow:
    """Columns shared by every queue table (a mixin for mapped classes)."""

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)


def due_clause(model: Any, now: dt.datetime) -> Any:
    return and_(
        model.state == PENDING,
        model.next_attempt_at <= now,
        or_(model.locked_until.is_(None), model.locked_until <= now),
    )


async def claim_due(
    session: AsyncSession,
    model: type[Q],
    *,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
    extra_filter: Any = None,
) -> Sequence[Q]:
    """Claim up to `limit` due rows for this worker; the caller commits."""
    query = select(model).where(due_clause(model, now))
    if extra_filter is not None:
        query = query.where(extra_filter)
    query = query.order_by(model.next_attempt_at, model.id).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = (await session.scalars(query)).all()
    if rows:
        await session.execute(
            update(model)
            .where(model.id.in_([row.id for row in rows]))
            .values(locked_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return rows


def backoff_delay(attempts: int, *, base: float = 10.0, cap: float = 6 * 3600.0) -> dt.timedelta:
    """Exponential backoff with jitter: ~10s, 20s, 40s ... up to six hours."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return dt.timedelta(seconds=delay * random.uniform(0.8, 1.2))


def retry_values(
    attempts: int,
    max_attempts: int,
    now: dt.datetime,
    *,
    not_before: dt.timedelta = dt.timedelta(0),
    cap: dt.timedelta | None = None,
) -> dict[str, Any]:
    """The columns after a failed attempt (the row had made `attempts` before it): FAILED
    once `max_attempts` are used up, else PENDING again after a backoff of at least
    `not_before` and at most `cap`."""
    attempts += 1
    if attempts >= max_attempts:
        return {"attempts": attempts, "state": FAILED}
    delay = max(backoff_delay(attempts), not_before)
    if cap is not None:
        delay = min(delay, cap)
    return {"attempts": attempts, "state": PENDING, "next_attempt_at": now + delay}


async def run_until_stopped(
    run_once: Callable[[], Awaitable[int]],
    wakeup: asyncio.Event,
    stop: asyncio.Event,
    *,
    name: str,
    idle_seconds: float = 1.0,
) -> None:
    """Run batches until `stop`; when idle, sleep until woken or `idle_seconds` pass.

    Other processes' workers are not woken in-process, so the idle wait also polls.
    """
    log = logging.getLogger(name)
    while not stop.is_set():
        try:
            count = await run_once()
        except Exception:  # keep the worker alive; claimed rows retry after their lease
            log.exception("batch failed")
            count = 0
        if count == 0:
            wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), idle_seconds)

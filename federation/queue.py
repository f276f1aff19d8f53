"""Queues are rows with explicit states, claimed under a lease.

A worker claims due rows by setting `locked_until` and a `lease_token` of its own; a
crashed worker's claim expires and the row becomes due again (and a restarted process
releases its predecessor's at once: federation.leases). Outcomes are written only where
the token still holds the row, so a worker whose lease was lost cannot overwrite another's
work. On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so any number of workers can
share one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import String, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import IdType, is_postgres

PENDING = "pending"
DONE = "done"
FAILED = "failed"
# Never sent, and never will be: a later activity made it pointless (a Delete of a Create).
CANCELLED = "cancelled"

Q = TypeVar("Q", bound="QueueRow")


class QueueRow:
    """Columns shared by every queue table (a mixin for mapped classes)."""

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_token: Mapped[str | None] = mapped_column(String(64), default=None)
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
    token: str | None = None,
) -> Sequence[Q]:
    """Claim up to `limit` due rows for this worker under `token` (a fresh one when not
    given); the caller commits."""
    query = select(model).where(due_clause(model, now))
    if extra_filter is not None:
        query = query.where(extra_filter)
    query = query.order_by(model.next_attempt_at, model.id).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = (await session.scalars(query)).all()
    await mark_claimed(session, model, rows, now + lease, token or new_token("anonymous"))
    return rows


async def mark_claimed(
    session: AsyncSession, model: type[Q], rows: Sequence[Q], until: dt.datetime, token: str
) -> None:
    if rows:
        await session.execute(
            update(model)
            .where(model.id.in_([row.id for row in rows]))
            .values(locked_until=until, lease_token=token)
            .execution_options(synchronize_session=False)
        )
        for row in rows:
            row.lease_token = token


def new_token(identity: str) -> str:
    """A lease token: the worker's identity (so that its successor can release what it
    held), a dot, and a random part."""
    return f"{identity}.{secrets.token_hex(8)}"


async def finish_held(
    session: AsyncSession, model: type[Q], row_id: int, token: str, values: dict[str, Any]
) -> bool:
    """Write an outcome only while `token` still holds the row; False when the lease was
    lost (another worker may hold it now). The caller commits."""
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.lease_token == token)
        .values(locked_until=None, lease_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def finish_many_held(
    session: AsyncSession,
    model: type[Q],
    token: str,
    outcomes: Sequence[tuple[int, dict[str, Any]]],
) -> int:
    """`finish_held` for many rows (id, values), one executemany per set of columns; return
    how many rows the token still held, or -1 where the driver cannot count the rows of an
    executemany (asyncpg). The caller commits."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in outcomes:
        bound = {f"v_{k}": v for k, v in values.items()} | {"b_id": row_id, "b_token": token}
        groups.setdefault(tuple(sorted(values)), []).append(bound)
    held = 0
    for columns, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.lease_token == bindparam("b_token"))
            .values(
                locked_until=None,
                lease_token=None,
                **{column: bindparam(f"v_{column}") for column in columns},
            )
        )
        result = await session.execute(statement, params)
        held += int(getattr(result, "rowcount", 0))
    counted = session.get_bind().dialect.supports_sane_multi_rowcount
    return held if counted or all(len(params) == 1 for params in groups.values()) else -1


async def release_token(session: AsyncSession, model: type[Q], token: str) -> int:
    """Give back the rows `token` still holds, unchanged and due again; the caller commits."""
    result = await session.execute(
        update(model)
        .where(model.lease_token == token)
        .values(locked_until=None, lease_token=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def renew_token(session: AsyncSession, model: type[Q], token: str, until: dt.datetime) -> int:
    """Extend the lease of the rows `token` still holds; the caller commits."""
    result = await session.execute(
        update(model)
        .where(model.lease_token == token, model.state == PENDING)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


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


# How long an idle worker sleeps when other processes' commits wake it (federation.notify):
# only a safety net then, and what brings back rows whose retry time has come.
SAFETY_POLL_SECONDS = 5.0


class Wakeup(asyncio.Event):
    """A worker's wake-up call. While `heard_elsewhere` is set (this process hears every
    process's commits: federation.notify), an idle worker polls only every
    SAFETY_POLL_SECONDS instead of its own `idle_seconds`."""

    def __init__(self) -> None:
        super().__init__()
        self.heard_elsewhere: asyncio.Event | None = None

    def idle_seconds(self, polling: float) -> float:
        heard = self.heard_elsewhere is not None and self.heard_elsewhere.is_set()
        return max(polling, SAFETY_POLL_SECONDS) if heard else polling


async def run_until_stopped(
    run_once: Callable[[], Awaitable[int]],
    wakeup: asyncio.Event,
    stop: asyncio.Event,
    *,
    name: str,
    idle_seconds: float = 1.0,
    grace_seconds: float = 10.0,
) -> None:
    """Run batches until `stop`; when idle, sleep until woken or `idle_seconds` pass.

    When `stop` is set mid-batch, the batch (which starts no new attempt once `stop` is
    set) has `grace_seconds` to finish the attempts already under way; then it is
    cancelled, and its leases are released on the way out (see federation.leases).
    Other processes' workers are not woken in-process, so the idle wait also polls: every
    `idle_seconds`, or slowly while LISTEN/NOTIFY brings their commits (`Wakeup`).
    """
    log = logging.getLogger(name)
    while not stop.is_set():
        # Cleared before the batch, not after: a wake-up that comes while the batch reads
        # (a commit it could not see yet) must end the idle wait, not be forgotten.
        wakeup.clear()
        count = await _one_batch(run_once, stop, grace_seconds, log)
        if count == 0 and not stop.is_set():
            idle = wakeup.idle_seconds(idle_seconds) if isinstance(wakeup, Wakeup) else idle_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_either(wakeup, stop), idle)


async def _one_batch(
    run_once: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    grace_seconds: float,
    log: logging.Logger,
) -> int:
    batch = asyncio.ensure_future(run_once())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({batch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not batch.done():
            await asyncio.wait({batch}, timeout=grace_seconds)
        if not batch.done():
            log.warning("stopping: attempts still under way after %ss are cut", grace_seconds)
            batch.cancel()
            await asyncio.gather(batch, return_exceptions=True)
            return 0
        return batch.result()
    except Exception:  # keep the worker alive; claimed rows retry after their lease
        log.exception("batch failed")
        return 0
    finally:
        stopping.cancel()


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()

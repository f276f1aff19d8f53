"""Leases that cannot double-send: tokens, renewal, ordered claims and a worker identity.

Every claim carries a token made of the worker's identity and a random part. While a batch
runs, its lease is renewed; each outcome is written as its attempt completes, and only
while the token still holds the row (federation.queue.finish_held). A batch that ends,
fails or is cancelled gives back what it still holds.

The identity is a slot file in the data directory, held with an exclusive `flock` for as
long as the process runs. The kernel drops the lock when a process dies, however it dies,
so a starting process can tell which slots are dead and release the leases their
processes held, instead of leaving those rows to wait for the lease to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from federation.db import Base, is_postgres
from federation.queue import (
    PENDING,
    QueueRow,
    due_clause,
    mark_claimed,
    new_token,
    release_token,
    renew_token,
)

log = logging.getLogger(__name__)
Q = TypeVar("Q", bound=QueueRow)
T = TypeVar("T")
SLOTS = 256
# Claims that keep rows in order are serialised across processes (PostgreSQL advisory
# lock): two claimers must not each take a different row of the same ordered key.
ORDERED_CLAIM_LOCK = 0x0D0E1E7


class WorkerIdentity:
    """This process's name in lease tokens, kept in `data_dir`/workers."""

    def __init__(self, name: str, fd: int | None) -> None:
        self.name = name
        self._fd = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> tuple[WorkerIdentity, list[str]]:
        """Take the first free slot; also return the names of every dead slot (the
        processes that held them are gone, with or without a goodbye)."""
        folder = data_dir / "workers"
        folder.mkdir(parents=True, exist_ok=True)
        mine: WorkerIdentity | None = None
        dead: list[str] = []
        for slot in range(SLOTS):
            path = folder / f"slot-{slot}"
            if mine is not None and not path.exists():
                break  # slots past the last one made were never used
            fd, name = _open_slot(path)
            if not _try_lock(fd):
                os.close(fd)  # a live process holds it
                continue
            if name:
                dead.append(name)
            if mine is None:
                mine = cls(name or _write_name(path), fd)
            else:
                os.close(fd)  # dead and about to be released: free for the next process
        if mine is None:
            raise RuntimeError(f"all {SLOTS} worker slots in {folder} are held")
        return mine, dead

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _open_slot(path: Path) -> tuple[int, str]:
    """The slot's lock is held on a read-only descriptor (flock needs no write access): a
    file held open for writing would keep its disk from being remounted read-only."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    fd = os.open(path, os.O_RDONLY)
    return fd, os.pread(fd, 64, 0).decode("ascii", "replace").strip()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_name(path: Path) -> str:
    name = secrets.token_hex(6)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, name.encode("ascii"), 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    return name


def queue_models() -> list[type[QueueRow]]:
    """Every mapped queue table: a new one is covered without being listed anywhere."""
    return [
        mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, QueueRow)
    ]


async def release_identities(
    sessions: async_sessionmaker[AsyncSession], names: Sequence[str]
) -> int:
    """Release every lease held under `names` (dead processes' identities), in every queue."""
    released = 0
    if not names:
        return 0
    async with sessions() as session:
        for model in queue_models():
            column: Any = model.lease_token
            result = await session.execute(
                update(model)
                .where(or_(*(column.like(f"{name}.%") for name in names)))
                .values(locked_until=None, lease_token=None)
                .execution_options(synchronize_session=False)
            )
            released += int(getattr(result, "rowcount", 0))
        await session.commit()
    if released:
        log.info("released %d leases held by stopped workers %s", released, ", ".join(names))
    return released


class Leases:
    """One worker's claims on one queue table."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        model: type[Q],
        *,
        identity: str,
        duration: dt.timedelta,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.sessions = sessions
        self.model: Any = model
        self.identity = identity
        self.duration = duration
        self.clock = clock

    def token(self) -> str:
        return new_token(self.identity)

    async def claim(
        self,
        session: AsyncSession,
        token: str,
        *,
        limit: int,
        in_order_of: Any = None,
        per_key: int = 1,
    ) -> list[Any]:
        """Claim up to `limit` due rows under `token`; the caller commits.

        With `in_order_of` (a column), rows sharing its value are claimed only as a due
        prefix in id order, at most `per_key` of them: a row waits while an older one of
        its key is not due or is held, and one busy key cannot crowd the others out."""
        model = self.model
        if in_order_of is not None and is_postgres(session):
            await session.execute(select(_advisory_lock(ORDERED_CLAIM_LOCK)))
        now = self.clock()  # after waiting for the lock: the lease starts now
        if in_order_of is not None:
            query = select(model).where(
                model.id.in_(_ordered_ids(model, in_order_of, now, per_key))
            )
            query = query.order_by(model.id)
        else:
            query = select(model).where(due_clause(model, now))
            query = query.order_by(model.next_attempt_at, model.id)
        query = query.limit(limit)
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        rows = list((await session.scalars(query)).all())
        await mark_claimed(session, model, rows, now + self.duration, token)
        return rows

    @contextlib.asynccontextmanager
    async def holding(self, token: str) -> AsyncIterator[LeaseClock]:
        """Renew `token`'s lease while the block runs; release what it still holds after,
        however the block ends (cancelled included)."""
        lease = LeaseClock(self.clock() + self.duration)
        renewer = asyncio.create_task(self._renew(token, lease))
        try:
            yield lease
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            await asyncio.shield(self._release(token))

    async def _renew(self, token: str, lease: LeaseClock) -> None:
        interval = self.duration.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            until = self.clock() + self.duration
            try:
                async with self.sessions() as session:
                    await renew_token(session, self.model, token, until)
                    await session.commit()
                lease.until = until
            except Exception as exc:  # the lease runs out on its own; attempts check it
                log.warning("could not renew lease %s: %r", token, exc)

    async def _release(self, token: str) -> None:
        try:
            async with self.sessions() as session:
                await release_token(session, self.model, token)
                await session.commit()
        except Exception as exc:  # the lease expires on its own
            log.warning("could not release lease %s: %r", token, exc)


class LeaseClock:
    """Until when this worker surely holds its rows (moved on by each renewal)."""

    def __init__(self, until: dt.datetime) -> None:
        self.until = until


def _ordered_ids(model: Any, key: Any, now: dt.datetime, per_key: int) -> Any:
    """The ids of each key's first `per_key` claimable rows (a due prefix, in id order)."""
    position = func.row_number().over(partition_by=key, order_by=model.id).label("position")
    eligible = (
        select(model.id, position)
        .where(due_clause(model, now), ~_older_waiting(model, key, now))
        .subquery()
    )
    return select(eligible.c.id).where(eligible.c.position <= per_key)


def _older_waiting(model: Any, key: Any, now: dt.datetime) -> Any:
    older = aliased(model)
    older_key = getattr(older, key.key)
    return exists().where(
        older_key == key,
        older.state == PENDING,
        older.id < model.id,
        or_(older.next_attempt_at > now, older.locked_until > now),
    )


def _advisory_lock(key: int) -> Any:
    return func.pg_advisory_xact_lock(key)


class GroupWriter(Generic[T]):
    """Writes items as they come, in groups: what arrives while a write is under way goes
    in the next one (a group commit). `add` returns once its item is written."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[T] = []
        self._lock = asyncio.Lock()
        self._generation = 0

    async def add(self, item: T) -> None:
        self._waiting.append(item)
        generation = self._generation
        async with self._lock:
            if self._generation != generation:
                return  # the write before ours took it
            group, self._waiting = self._waiting, []
            self._generation += 1
            await self._write(group)

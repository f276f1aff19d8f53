"""What we know of each remote host: is it reachable, which signatures does it take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.db import utcnow
from federation.queue import PENDING
from federation.settings import Settings
from outbox.models import Delivery, RemoteHost

RETRYABLE_4XX = frozenset({401, 408, 429})


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


class HostBook:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._dialects: dict[str, str] = {}

    async def unavailable(self, hosts: Sequence[str]) -> set[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(RemoteHost).where(
                    RemoteHost.host.in_(hosts), RemoteHost.unavailable_since.is_not(None)
                )
            )
            return {row.host for row in rows}

    async def dialect(self, host: str) -> str:
        if host not in self._dialects:
            async with self.sessions() as session:
                row = await session.get(RemoteHost, host)
            self._dialects[host] = row.signature_dialect if row else "cavage"
        return self._dialects[host]

    async def record(
        self, attempted: Sequence[tuple[Any, Outcome | None]], now: dt.datetime
    ) -> None:
        """Update each host's health from one batch of outcomes."""
        summary: dict[str, tuple[bool, bool, str | None]] = {}
        for row, outcome in attempted:
            if outcome is None:
                continue
            ok, down, dialect = summary.get(row.host, (False, False, None))
            summary[row.host] = (
                ok or outcome.ok,
                down or outcome.host_down,
                dialect or outcome.dialect,
            )
        for host, (ok, down, dialect) in summary.items():
            if ok or down or dialect:
                await self._update(host, ok=ok, down=down, dialect=dialect, now=now)

    async def _update(
        self, host: str, *, ok: bool, down: bool, dialect: str | None, now: dt.datetime
    ) -> None:
        async with self.sessions() as session:
            row = await _host_row(session, host)
            if dialect:
                row.signature_dialect = self._dialects[host] = dialect
            if ok:
                await _mark_alive(session, row, now)
            elif down:
                row.consecutive_failures += 1
                if row.consecutive_failures >= self.settings.host_unavailable_after:
                    row.unavailable_since = row.unavailable_since or now
            await session.commit()


async def host_is_alive(session: AsyncSession, host: str) -> None:
    """The host answered or wrote to us: if it was unavailable, resume its deliveries now."""
    row = await session.get(RemoteHost, host)
    if row is not None and (row.unavailable_since or row.consecutive_failures):
        await _mark_alive(session, row, utcnow())


async def _mark_alive(session: AsyncSession, row: RemoteHost, now: dt.datetime) -> None:
    was_unavailable = row.unavailable_since is not None
    row.consecutive_failures = 0
    row.unavailable_since = None
    row.last_success_at = now
    if was_unavailable:
        await session.execute(
            update(Delivery)
            .where(Delivery.host == row.host, Delivery.state == PENDING)
            .values(next_attempt_at=now)
        )


async def _host_row(session: AsyncSession, host: str) -> RemoteHost:
    row = await session.get(RemoteHost, host)
    if row is None:
        row = RemoteHost(host=host, consecutive_failures=0, signature_dialect="cavage")
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            row = await session.get(RemoteHost, host)
            assert row is not None
    return row

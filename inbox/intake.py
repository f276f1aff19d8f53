"""Group commit for received activities.

Each accepted activity must be durable before we answer 202, but a commit per
request makes the database the bottleneck (and on SQLite every request would
queue for the one write lock). Requests arriving together therefore share one
`INSERT ... ON CONFLICT DO NOTHING` and one commit; each still gets its answer
only after that commit. The conflict clause is the de-duplication on the
activity id, so a redelivery costs no extra query.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.db import is_postgres
from inbox.models import InboxItem

log = logging.getLogger(__name__)
MAX_BATCH = 500

Waiting = tuple[dict[str, Any], "asyncio.Future[bool]"]


class InboxIntake:
    """Stores inbox rows in batches; `store` answers whether the row is new."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._waiting: list[Waiting] = []
        self._flusher: asyncio.Task[None] | None = None

    async def store(self, row: dict[str, Any]) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._flusher is None or self._flusher.done():
            # A task of its own, so that a client hanging up cannot cancel others' commits.
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                inserted = await self._insert(row for row, _ in batch)
            except Exception as exc:  # every waiter hears about it; none is left hanging
                log.exception("storing %d inbox items failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for row, future in batch:
                if not future.done():
                    future.set_result(row["activity_uri"] in inserted)
                inserted.discard(row["activity_uri"])  # a duplicate within the batch is not new

    async def _insert(self, rows: Any) -> set[str]:
        values = list({row["activity_uri"]: row for row in rows}.values())
        async with self.sessions() as session:
            dialect = postgresql if is_postgres(session) else sqlite
            # A Core statement executed with many parameter sets: compiled once and cached
            # (a multi-row VALUES would be compiled afresh for every batch size).
            statement = (
                dialect.insert(InboxItem.__table__)
                .on_conflict_do_nothing(index_elements=["activity_uri"])
                .returning(InboxItem.__table__.c.activity_uri)
            )
            connection = await session.connection()
            result = await connection.execute(statement, values)
            inserted = set(result.scalars().all())
            await session.commit()
        return inserted

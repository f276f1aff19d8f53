"""When each API token was last used, written in batches rather than by each request.

Mastodon apps send their token with every request. Noting its use in the request's own
transaction made each read a write (and, on SQLite, a wait for the one writer). The web
process notes uses in memory and writes them every FLUSH_SECONDS in one statement, and
once more when it stops: `last_used_at` is then up to that late, and a process killed
without stopping loses the uses since its last flush. It only tells people which of their
tokens are still in use, so that is the right trade.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from sqlalchemy import bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import ApiToken
from federation.db import utcnow

log = logging.getLogger(__name__)
FLUSH_SECONDS = 30.0


class TokenUses:
    def __init__(self) -> None:
        self._pending: dict[int, dt.datetime] = {}

    def note(self, token_id: int) -> None:
        self._pending[token_id] = utcnow()

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> int:
        """Write the uses noted since the last flush; how many tokens."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        table: Any = ApiToken.__table__
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                or_(table.c.last_used_at.is_(None), table.c.last_used_at < bindparam("b_at")),
            )
            .values(last_used_at=bindparam("b_at"))
        )
        rows = [{"b_id": token_id, "b_at": at} for token_id, at in pending.items()]
        async with sessions() as session:
            await session.execute(statement, rows)
            await session.commit()
        return len(rows)

    async def flush_forever(
        self, sessions: async_sessionmaker[AsyncSession], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_SECONDS)
            try:
                await self.flush(sessions)
            except Exception:
                log.exception("could not note when tokens were last used; trying again later")

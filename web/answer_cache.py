"""Rendered read answers (timelines), kept until a write changes what they show.

Mastodon apps poll timelines all the time and most polls find nothing new. An answer is
kept under its full URL and the viewer (favourited, reblogged and bookmarked differ per
person) with the generation of `federation.changes.content_changes` it was built at: any
commit in this process that writes data readers see makes every kept answer stale, and
`max_age` bounds how long a write by another process can go unseen.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from federation.changes import TableChanges

# A timeline page of 40 statuses is some 60 kB; at most 32 MB are kept, oldest use dropped.
MAX_BYTES = 32_000_000
MAX_BODY_BYTES = 512_000


@dataclass(frozen=True)
class KeptAnswer:
    generation: int
    kept_at: float
    body: bytes
    headers: dict[str, str]
    media_type: str | None


class AnswerCache:
    def __init__(self, changes: TableChanges, max_age: float, max_bytes: int = MAX_BYTES) -> None:
        self.changes = changes
        self.max_age = max_age
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple[str, int | None], KeptAnswer] = OrderedDict()
        self._bytes = 0
        self._locks: dict[tuple[str, int | None], asyncio.Lock] = {}

    async def answer(
        self,
        request: Request,
        viewer_id: int | None,
        build: Callable[[], Awaitable[Response]],
    ) -> Response:
        """The kept answer for this URL and viewer if still current, else `build()`'s."""
        if self.max_age <= 0:
            return await build()
        key = (str(request.url), viewer_id)
        kept = self._current(key)
        if kept is None:
            # Many clients asking for the same new page wait for one build instead of each
            # running their own.
            async with self._locks.setdefault(key, asyncio.Lock()):
                kept = self._current(key)
                if kept is None:
                    return await self._build(key, build)
        return Response(kept.body, headers=kept.headers, media_type=kept.media_type)

    async def _build(
        self, key: tuple[str, int | None], build: Callable[[], Awaitable[Response]]
    ) -> Response:
        generation = self.changes.generation  # read before building: a write during it wins
        try:
            response = await build()
        finally:
            self._locks.pop(key, None)
        self._keep(key, generation, response)
        return response

    def _current(self, key: tuple[str, int | None]) -> KeptAnswer | None:
        kept = self._kept.get(key)
        if kept is None:
            return None
        fresh = time.monotonic() - kept.kept_at < self.max_age
        if kept.generation != self.changes.generation or not fresh:
            self._drop(key)
            return None
        self._kept.move_to_end(key)
        return kept

    def _keep(self, key: tuple[str, int | None], generation: int, response: Response) -> None:
        body = bytes(response.body)
        if response.status_code != 200 or len(body) > MAX_BODY_BYTES:
            return
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        if key in self._kept:
            self._drop(key)
        self._kept[key] = KeptAnswer(
            generation, time.monotonic(), body, headers, response.media_type
        )
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: tuple[str, int | None]) -> None:
        self._bytes -= len(self._kept.pop(key).body)

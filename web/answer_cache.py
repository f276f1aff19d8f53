"""Rendered read answers (timelines), kept until a write changes what they show.

Mastodon apps poll timelines all the time and most polls find nothing new. An answer is
kept under its full URL and the viewer (favourited, reblogged and bookmarked differ per
person) with the generation of `federation.changes.content_changes` it was built at: any
commit in this process that writes data readers see makes every kept answer stale, and
`max_age` bounds how long a write by another process can go unseen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from federation.changes import KeptUntilChanged, TableChanges

# A timeline page of 40 statuses is some 60 kB; at most 32 MB are kept, oldest use dropped.
MAX_BYTES = 32_000_000
MAX_BODY_BYTES = 512_000
AnswerKey = tuple[str, int | None]


@dataclass(frozen=True)
class KeptAnswer:
    body: bytes
    headers: dict[str, str]
    media_type: str | None


class AnswerCache:
    def __init__(self, changes: TableChanges, max_age: float, max_bytes: int = MAX_BYTES) -> None:
        self.kept: KeptUntilChanged[AnswerKey, KeptAnswer] = KeptUntilChanged(
            changes, max_age, max_bytes, weigh=lambda answer: len(answer.body)
        )
        self._locks: dict[AnswerKey, asyncio.Lock] = {}

    async def answer(
        self,
        request: Request,
        viewer_id: int | None,
        build: Callable[[], Awaitable[Response]],
    ) -> Response:
        """The kept answer for this URL and viewer if still current, else `build()`'s."""
        if self.kept.max_age <= 0:
            return await build()
        key = (str(request.url), viewer_id)
        kept = self.kept.get(key)
        if kept is None:
            # Many clients asking for the same new page wait for one build instead of each
            # running their own.
            async with self._locks.setdefault(key, asyncio.Lock()):
                kept = self.kept.get(key)
                if kept is None:
                    return await self._build(key, build)
        return Response(kept.body, headers=kept.headers, media_type=kept.media_type)

    async def _build(self, key: AnswerKey, build: Callable[[], Awaitable[Response]]) -> Response:
        generation = self.kept.changes.generation  # read before building: a write during it wins
        try:
            response = await build()
        finally:
            self._locks.pop(key, None)
        body = bytes(response.body)
        if response.status_code == 200 and len(body) <= MAX_BODY_BYTES:
            headers = {
                name: value
                for name, value in response.headers.items()
                if name not in ("content-length", "content-type")
            }
            self.kept.keep(key, generation, KeptAnswer(body, headers, response.media_type))
        return response

"""A peer that only receives: a real HTTP server on loopback that counts what it is sent.

Deliveries are POSTed to `/inbox/<name>`; the sink answers after `delay` seconds (a slow
peer), or 503 while `down`. It records every POST as it starts and as it is answered, so
tests can count duplicates, what was on the wire at a moment, and the order per inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.live import free_port


@dataclass
class Received:
    inbox: str
    activity: str
    type: str
    object: str | None


@dataclass
class Sink:
    port: int = 0
    delay: float = 0.0
    down: bool = False
    started: list[Received] = field(default_factory=list)
    answered: list[Received] = field(default_factory=list)
    in_flight: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inbox(self, name: str) -> str:
        return f"{self.url}/inbox/{name}"

    def duplicates(self) -> int:
        """POSTs answered 2xx beyond the first of each (inbox, activity)."""
        counts = Counter((r.inbox, r.activity) for r in self.answered)
        return sum(n - 1 for n in counts.values())

    def order(self, inbox: str) -> list[str]:
        """The activities answered 2xx at `inbox`, in the order they arrived."""
        return [r.activity for r in self.answered if r.inbox == inbox]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await self._answer(scope["path"], body, send)

    async def _answer(self, path: str, body: bytes, send: Any) -> None:
        doc = json.loads(body or b"{}")
        obj = doc.get("object")
        seen = Received(
            path.rsplit("/", 1)[-1],
            str(doc.get("id")),
            str(doc.get("type")),
            obj.get("id") if isinstance(obj, dict) else obj,
        )
        self.started.append(seen)
        self.in_flight += 1
        try:
            await asyncio.sleep(self.delay)
            status = 503 if self.down else 202
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            if status == 202:
                self.answered.append(seen)
        finally:
            self.in_flight -= 1


@contextlib.asynccontextmanager
async def running_sink(delay: float = 0.0) -> AsyncIterator[Sink]:
    sink = Sink(port=free_port(), delay=delay)
    config = uvicorn.Config(
        sink, host="127.0.0.1", port=sink.port, log_level="critical", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    try:
        yield sink
    finally:
        server.should_exit = True
        await task


async def wait_until(check: Any, seconds: float, step: float = 0.05) -> float:
    """Poll `check()` (sync or async) until truthy; return the seconds it took."""
    began = time.monotonic()
    async with asyncio.timeout(seconds):
        while True:
            answer = check()
            if asyncio.iscoroutine(answer):
                answer = await answer
            if answer:
                return time.monotonic() - began
            await asyncio.sleep(step)

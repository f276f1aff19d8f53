"""Mastodon's streaming API: Server-Sent Events and WebSockets, on both databases.

httpx's ASGI transport buffers a whole response, so a stream is read from the real app
through a small ASGI harness (`AsgiStream`, `AsgiSocket`); one test runs a real uvicorn
server on loopback and connects a real WebSocket client.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import websockets
from websockets.asyncio.client import connect

from federation.vocab import PUBLIC
from outbox.c2s import submit
from tests.live import live_server, wait_for
from tests.support import Node, call, get, settle
from tests.test_mastodon_statuses import post
from web.instance_start import open_instance
from web.streaming import QUEUE_LIMIT, StreamHub, Subscriber, stream_channel

WAIT = 10.0


def _scope(node: Node, kind: str, path: str, token: str | None, **query: str) -> dict[str, Any]:
    headers = [(b"host", node.domain.encode())]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https" if kind == "http" else "wss",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode(query).encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": (node.domain, 443),
    }


class AsgiStream:
    """An SSE response read from the app as it is sent, event by event."""

    def __init__(self, node: Node, path: str, token: str | None = None, **query: str) -> None:
        self.scope = _scope(node, "http", path, token, **query)
        self.app = node.app
        self.status = 0
        self.started = asyncio.Event()
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.buffer = ""

    async def __aenter__(self) -> AsgiStream:
        self.task = asyncio.create_task(self.app(self.scope, self._receive, self._send))
        async with asyncio.timeout(WAIT):
            await self.started.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.gone.set()
        async with asyncio.timeout(WAIT):
            await self.task

    async def _receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started.set()
        elif message["type"] == "http.response.body":
            await self.chunks.put(message.get("body", b""))

    async def event(self) -> tuple[str, str]:
        """The next event's name and data (comments, such as the heartbeat, are skipped)."""
        async with asyncio.timeout(WAIT):
            while True:
                block, sep, rest = self.buffer.partition("\n\n")
                if sep:
                    self.buffer = rest
                    fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
                    if "event" in fields:
                        return fields["event"], fields["data"]
                    continue
                self.buffer += (await self.chunks.get()).decode()

    async def next_of(self, event: str) -> Any:
        """The data of the next event of this kind, as JSON (other events are passed over)."""
        while True:
            name, data = await self.event()
            if name == event:
                return json.loads(data) if event != "delete" else data


class AsgiSocket:
    """A WebSocket to the app, spoken through ASGI messages."""

    def __init__(self, node: Node, token: str | None = None, **query: str) -> None:
        self.scope = _scope(node, "websocket", "/api/v1/streaming", token, **query)
        self.app = node.app
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> AsgiSocket:
        await self.incoming.put({"type": "websocket.connect"})
        self.task = asyncio.create_task(self.app(self.scope, self.incoming.get, self.outgoing.put))
        assert (await self.message())["type"] == "websocket.accept"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.incoming.put({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(WAIT):
            await self.task

    async def message(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT):
            return await self.outgoing.get()

    async def send_json(self, body: dict[str, Any]) -> None:
        await self.incoming.put({"type": "websocket.receive", "text": json.dumps(body)})

    async def frame(self) -> dict[str, Any]:
        message = await self.message()
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])  # type: ignore[no-any-return]


async def test_health(nodes: Any) -> None:
    a = await nodes("a.test")
    response = await get(a, "/api/v1/streaming/health")
    assert response.status_code == 200 and response.text == "OK"


async def test_user_stream_gets_followed_notes_and_notifications(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    mine = await post(a, alice_token, "Lamp news")
    await call(
        a,
        "POST",
        "/users/alice/outbox",
        alice_token,
        json={"type": "Follow", "object": "bob@b.test"},
    )
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)

    async with AsgiStream(a, "/api/v1/streaming/user", alice_token) as stream:
        assert stream.status == 200
        await b.post_outbox("bob", bob_token, {"type": "Note", "content": "A new shade"})
        await settle(a, b)
        update = await stream.next_of("update")
        assert "A new shade" in update["content"]
        assert update["account"]["acct"] == "bob@b.test"

        reply = {"type": "Note", "content": "Nice lamp", "inReplyTo": mine["uri"]}
        await b.post_outbox("bob", bob_token, reply)
        await settle(a, b)
        notification = await stream.next_of("notification")
        assert notification["type"] == "mention"
        assert notification["status"]["in_reply_to_id"] == mine["id"]
        assert notification["account"]["acct"] == "bob@b.test"


async def test_public_local_stream_gets_local_posts_and_deletes(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    async with AsgiStream(a, "/api/v1/streaming/public/local") as stream:
        assert stream.status == 200
        note = await post(a, token, "Freshly posted")
        update = await stream.next_of("update")
        assert update["id"] == note["id"] and "Freshly posted" in update["content"]
        await call(a, "DELETE", f"/api/v1/statuses/{note['id']}", token)
        assert await stream.next_of("delete") == note["id"]


async def test_what_another_process_commits_is_streamed(nodes: Any) -> None:
    """As with `serve --no-workers` and a `worker`: the write comes through another engine,
    and this process's hub is not woken; its feed finds the note in the database."""
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    async with (
        AsgiStream(a, "/api/v1/streaming/public/local") as stream,
        open_instance(a.instance.settings, run_migrations=False) as other_process,
    ):
        async with other_process.sessions() as session:
            author = await session.get(type(alice), alice.id)
            assert author is not None
            body = {"type": "Note", "content": "From the worker", "to": [PUBLIC]}
            await submit(session, other_process.resolver, author, body)
            await session.commit()
        assert "From the worker" in (await stream.next_of("update"))["content"]


async def test_stream_by_query_parameter_and_access_token(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    async with AsgiStream(a, "/api/v1/streaming", stream="public", access_token=token) as stream:
        note = await post(a, token, "Seen on public")
        assert (await stream.next_of("update"))["id"] == note["id"]


async def test_websocket_subscribe_to_public(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    async with AsgiSocket(a) as socket:
        await socket.send_json({"type": "subscribe", "stream": "public"})
        public = stream_channel("public", None, None)
        await wait_for(lambda: a.instance.streaming.listens(public))  # before the post
        note = await post(a, token, "Over a socket")
        frame = await socket.frame()
        assert frame["stream"] == ["public"] and frame["event"] == "update"
        assert json.loads(frame["payload"])["id"] == note["id"]


async def test_bad_or_missing_tokens_are_refused(nodes: Any) -> None:
    a = await nodes("a.test")
    response = await get(a, "/api/v1/streaming/user", "not-a-token")
    assert response.status_code == 401
    response = await get(a, "/api/v1/streaming/user")
    assert response.status_code == 401
    response = await get(a, "/api/v1/streaming/public", access_token="not-a-token")
    assert response.status_code == 401
    response = await get(a, "/api/v1/streaming", stream="nonsense")
    assert response.status_code == 422


async def test_a_slow_subscriber_is_dropped_without_blocking() -> None:
    hub = StreamHub()
    slow, quick = Subscriber(None), Subscriber(None)
    for subscriber in (slow, quick):
        subscriber.listen("public", None)
        hub.subscribers.add(subscriber)
    for number in range(QUEUE_LIMIT + 1):
        hub.publish(("public",), "update", str(number))
        quick.queue.get_nowait()
    assert slow.dropped and slow not in hub.subscribers
    assert quick in hub.subscribers and not quick.dropped


async def test_real_websocket_over_uvicorn(new_database: Any, tmp_path: Any) -> None:
    async with live_server(await new_database(), tmp_path / "a") as a:
        _, token = await a.user("alice")
        base = f"ws://{a.domain}/api/v1/streaming"
        try:
            async with connect(f"{base}?stream=user&access_token=wrong"):
                raise AssertionError("a bad token was accepted")
        except websockets.InvalidStatus as refused:
            assert refused.response.status_code == 401
        async with connect(f"{base}?stream=user&access_token={token}") as socket:
            async with httpx.AsyncClient(base_url=f"http://{a.domain}") as client:
                response = await client.post(
                    "/api/v1/statuses",
                    json={"status": "Through uvicorn"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            assert response.status_code == 200, response.text
            async with asyncio.timeout(WAIT):
                frame = json.loads(await socket.recv())
            assert frame["stream"] == ["user"] and frame["event"] == "update"
            assert json.loads(frame["payload"])["id"] == response.json()["id"]

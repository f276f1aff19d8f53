"""Anonymous streaming connections are limited per client address.

Each stream holds a connection, a queue and a share of the feed's work, and needs no
account: without a limit one address could open them until the server runs out. The
(N+1)th anonymous stream from one address is refused with a 429 saying what to do;
streams with a token, and other addresses, are not counted against it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import websockets
from websockets.asyncio.client import connect

from tests.live import live_server
from tests.test_mastodon_streaming import AsgiStream

LIMIT = 2


async def test_the_extra_anonymous_stream_from_one_address_is_refused(nodes: Any) -> None:
    a = await nodes("a.test", max_anonymous_streams_per_address=LIMIT)
    _, token = await a.user("alice")
    async with AsgiStream(a, "/api/v1/streaming/public") as first:
        async with AsgiStream(a, "/api/v1/streaming/public/local") as second:
            assert first.status == second.status == 200
            over = AsgiStream(a, "/api/v1/streaming", stream="public")
            async with over:
                assert over.status == 429
                body = b""
                while not over.chunks.empty():
                    body += over.chunks.get_nowait()
                assert b"at most 2 streams without an access token" in body
            assert len(a.instance.streaming.subscribers) == LIMIT

            # With a token, or from another address, a stream is still opened.
            async with AsgiStream(a, "/api/v1/streaming/public", token) as signed:
                assert signed.status == 200
            elsewhere = AsgiStream(a, "/api/v1/streaming/public")
            elsewhere.scope["client"] = ("192.0.2.7", 40000)
            async with elsewhere:
                assert elsewhere.status == 200
        # One closed: the address may open one again.
        async with AsgiStream(a, "/api/v1/streaming/public") as again:
            assert again.status == 200


async def test_the_extra_anonymous_websocket_is_refused_over_uvicorn(
    new_database: Any, tmp_path: Any
) -> None:
    options = {"max_anonymous_streams_per_address": LIMIT}
    async with live_server(await new_database(), tmp_path / "a", **options) as a:
        base = f"ws://{a.domain}/api/v1/streaming?stream=public"
        async with connect(base), connect(base):
            try:
                async with connect(base):
                    raise AssertionError("a third anonymous stream was accepted")
            except websockets.InvalidStatus as refused:
                assert refused.response.status_code == 429
                assert refused.response.headers["Retry-After"] == "60"
                assert b"close one, or stream with a token" in refused.response.body
        async with connect(base):  # the first two are closed: room again
            pass


async def test_a_client_gone_before_the_first_line_frees_its_place(nodes: Any) -> None:
    """The response's lines never start when sending the headers fails: the subscriber must
    still be let go, or the address would stay at its limit for good."""
    a = await nodes("a.test", max_anonymous_streams_per_address=1)
    scope = AsgiStream(a, "/api/v1/streaming/public").scope

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        raise OSError("the client is gone")

    with contextlib.suppress(OSError):
        await a.app(scope, receive, send)
    assert a.instance.streaming.subscribers == set()
    async with AsgiStream(a, "/api/v1/streaming/public") as stream:
        assert stream.status == 200

"""Mastodon's streaming API: Server-Sent Events and one WebSocket, fed by `web.streaming`.

SSE: GET /api/v1/streaming/{user,public,public/local,...} (or /api/v1/streaming?stream=)
sends `event: update` / `notification` / `delete` with `data:` as Mastodon does, and a
`:thump` comment every HEARTBEAT_SECONDS so that proxies keep the connection open.

WebSocket: /api/v1/streaming, subscribed with ?stream= or {"type": "subscribe", ...}
messages; each frame is {"stream": [...], "event": ..., "payload": "<JSON as a string>"}.

The token comes as `Authorization: Bearer`, an `access_token` query parameter or (for
WebSockets, as Mastodon allows) the Sec-WebSocket-Protocol header. Public streams need none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from actors.models import Actor
from federation.errors import FederationError, ValidationError
from federation.json_input import parse_json_object
from web.bearer import INVALID_TOKEN, bearer_sign_in, optional_bearer_token
from web.http import client_ip
from web.instance import Instance, instance_of
from web.mastodon.streaming.feed import feed_of
from web.scopes import PUBLIC, ScopedRoute, ScopedWebSocketRoute
from web.streaming import (
    PUBLIC_STREAMS,
    USER_NOTIFICATIONS,
    USER_STREAMS,
    StreamMessage,
    Subscriber,
)

HEARTBEAT_SECONDS = 15.0
READ_SCOPES = ("read:statuses", "read:notifications")  # the stream is chosen in the request
# Closing a WebSocket before accepting it refuses it (with an HTTP 403) when the server
# cannot send an HTTP answer of our choosing.
POLICY_VIOLATION = 1008
ERROR = "error"


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


def _token(connection: HTTPConnection) -> str | None:
    bearer = optional_bearer_token(connection)
    if bearer is not None:
        return bearer
    protocol = connection.headers.get("sec-websocket-protocol", "").strip()
    return connection.query_params.get("access_token") or protocol or None


async def _reader(connection: HTTPConnection) -> Actor | None:
    """Who is streaming: None without a token; 401 for a bad one, 403 outside the scopes
    the route declares."""
    sign_in = await bearer_sign_in(connection, _token(connection))
    if sign_in is None:
        return None
    if sign_in.actor is None or sign_in.actor.deleted_at is not None:
        raise FederationError(INVALID_TOKEN, status=401)
    if sign_in.actor.suspended_at is not None:
        raise FederationError("this account is suspended", status=403)
    return sign_in.actor


# Server-Sent Events


def _sse_endpoint(name: str | None) -> Any:
    """The SSE handler for one stream (None: the stream is the `stream` query parameter)."""

    async def endpoint(request: Request) -> Response:
        stream = name or request.query_params.get("stream", "")
        return await _sse(request, stream)

    return endpoint


async def _sse(request: Request, name: str) -> Response:
    instance = instance_of(request)
    reader = await _reader(request)
    subscriber = Subscriber(reader.id if reader else None, client_ip(request))
    try:
        subscriber.listen(name, request.query_params.get("tag"))
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    await instance.streaming.subscribe(subscriber, feed_of(instance))
    return _EventStream(
        _sse_lines(subscriber),
        lambda: instance.streaming.unsubscribe(subscriber),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class _EventStream(StreamingResponse):
    """A streaming response that calls `on_close` however it ends: also when the client is
    gone before the first line (the lines' generator then never starts, and a `finally`
    in it would never run, leaving a subscriber counted against its address's limit)."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None], **kw: Any):
        super().__init__(content, **kw)
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.on_close()


async def _sse_lines(subscriber: Subscriber) -> AsyncIterator[str]:
    yield ":)\n\n"  # sent at once, so that the client sees the stream is open
    while True:
        try:
            message = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT_SECONDS)
        except TimeoutError:
            yield ":thump\n\n"
            continue
        if message is None:
            return
        yield f"event: {message.event}\ndata: {message.payload}\n\n"


# WebSocket


async def websocket_stream(websocket: WebSocket) -> None:
    instance: Instance = websocket.app.state.instance
    try:
        reader = await _reader(websocket)
        subscriber = Subscriber(reader.id if reader else None, client_ip(websocket))
        first = websocket.query_params.get("stream")
        if first:
            subscriber.listen(first, websocket.query_params.get("tag"))
        # Before accepting, so that a refusal (too many streams) is an HTTP answer.
        await instance.streaming.subscribe(subscriber, feed_of(instance))
    except (FederationError, ValueError) as exc:
        await _refuse(websocket, exc)
        return
    try:
        protocol = websocket.headers.get("sec-websocket-protocol") or None
        await websocket.accept(subprotocol=protocol)
        await _serve_websocket(websocket, subscriber, reader)
    finally:
        instance.streaming.unsubscribe(subscriber)


async def _refuse(websocket: WebSocket, exc: Exception) -> None:
    """Answer with the error's HTTP status, as Mastodon does, where the server allows it."""
    status, headers = (exc.status, exc.headers) if isinstance(exc, FederationError) else (400, {})
    answer = JSONResponse({"error": str(exc)}, status_code=status, headers=headers or None)
    try:
        await websocket.send_denial_response(answer)
    except RuntimeError:
        await websocket.close(code=POLICY_VIOLATION)


async def _serve_websocket(
    websocket: WebSocket, subscriber: Subscriber, reader: Actor | None
) -> None:
    """Send the subscriber's events while reading its (un)subscribe messages."""
    sending = asyncio.create_task(_send_frames(websocket, subscriber))
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while not sending.done():
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:  # binary messages mean nothing here
                    _handle_message(subscriber, reader, message["text"])
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sending


async def _send_frames(websocket: WebSocket, subscriber: Subscriber) -> None:
    while (message := await subscriber.queue.get()) is not None:
        await websocket.send_text(_frame(message))
    await websocket.close()


def _frame(message: StreamMessage) -> str:
    if message.event == ERROR:
        return message.payload  # Mastodon sends its errors bare, in no stream
    return json.dumps(
        {"stream": message.stream, "event": message.event, "payload": message.payload}
    )


def _handle_message(subscriber: Subscriber, reader: Actor | None, text: str) -> None:
    """{"type": "subscribe"|"unsubscribe", "stream": ..., "tag": ...}; an unusable message
    is answered with an error frame, as Mastodon does, and the connection stays open."""
    try:
        message = parse_json_object(text, "the message")
        name, tag = str(message["stream"]), message.get("tag")
        if message.get("type") == "subscribe":
            subscriber.listen(name, tag)
        elif message.get("type") == "unsubscribe":
            subscriber.stop_listening(name, tag)
    except (ValueError, KeyError, TypeError, AttributeError, FederationError) as exc:
        error = json.dumps({"error": str(exc)[:200], "status": 400})
        with contextlib.suppress(asyncio.QueueFull):
            subscriber.queue.put_nowait(StreamMessage([], ERROR, error))


# Each stream's SSE path: its name with "/" for ":" ("public:local" at public/local).
STREAMS = {name.replace(":", "/"): name for name in (*USER_STREAMS, *PUBLIC_STREAMS)}


def _stream_scope(name: str) -> str:
    return "read:notifications" if name == USER_NOTIFICATIONS else "read:statuses"


routes = [
    ScopedRoute("/api/v1/streaming/health", health, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/api/v1/streaming", _sse_endpoint(None), methods=["GET"], scope=READ_SCOPES),
    *[
        ScopedRoute(
            f"/api/v1/streaming/{path}",
            _sse_endpoint(name),
            methods=["GET"],
            scope=_stream_scope(name),
        )
        for path, name in STREAMS.items()
    ],
    ScopedWebSocketRoute("/api/v1/streaming", websocket_stream, scope=READ_SCOPES),
]

"""The in-process hub behind Mastodon's streaming API.

Streams are addressed by channels: ("user", actor id), ("public",), ("public:local",),
("public:remote",), ("hashtag", tag) and ("hashtag:local", tag). A subscriber listens on
some channels, each under the stream name Mastodon apps know ("user", "public:local", ...).

Publishing never waits: every subscriber has a bounded queue, and one that lets it fill up
is dropped (its connection ends; the app reconnects and reloads its timeline), so a slow
client cannot hold up the others. What is published is found by `web.mastodon.streaming.feed`, which
runs only while someone is subscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any

from federation.errors import FederationError, ValidationError

log = logging.getLogger(__name__)
QUEUE_LIMIT = 200
Channel = tuple[Any, ...]
USER = "user"
USER_NOTIFICATIONS = "user:notification"
PUBLIC = "public"
PUBLIC_LOCAL = "public:local"
PUBLIC_REMOTE = "public:remote"
HASHTAG = "hashtag"
HASHTAG_LOCAL = "hashtag:local"
PUBLIC_STREAMS = (PUBLIC, PUBLIC_LOCAL, PUBLIC_REMOTE, HASHTAG, HASHTAG_LOCAL)
USER_STREAMS = (USER, USER_NOTIFICATIONS)
NOTIFICATION = "notification"
UPDATE = "update"
STATUS_UPDATE = "status.update"  # an edited status, sent whole again
DELETE = "delete"


@dataclass(frozen=True)
class StreamMessage:
    """One event as Mastodon sends it: `payload` is JSON text, or a status id for a delete."""

    stream: list[str]
    event: str
    payload: str


def stream_channel(name: str, actor_id: int | None, tag: str | None) -> Channel:
    """The channel a Mastodon stream name listens on: a ValidationError (422) for a stream
    we do not serve, a 401 for a user stream without a token, a ValueError for a hashtag
    stream without a tag (which each route answers as it answers a malformed request)."""
    if name in USER_STREAMS:
        if actor_id is None:
            raise FederationError("this stream needs an access token", status=401)
        return (USER, actor_id)
    if name in (HASHTAG, HASHTAG_LOCAL):
        if not tag:
            raise ValueError("this stream needs a tag")
        return (name, tag.lower())
    if name in (PUBLIC, PUBLIC_LOCAL, PUBLIC_REMOTE):
        return (name,)
    raise ValidationError(f"unknown stream: {name[:100]}")


def stream_label(name: str, tag: str | None) -> list[str]:
    """The "stream" field of a WebSocket frame: ["hashtag", "lamps"] or ["user"]."""
    return [name, tag] if name in (HASHTAG, HASHTAG_LOCAL) and tag else [name]


@dataclass(eq=False)
class Subscriber:
    """One connected client: its channels (with how each is named to it) and its queue."""

    actor_id: int | None
    # The client's address: anonymous subscribers are counted per address.
    address: str = ""
    channels: dict[Channel, list[tuple[str, list[str]]]] = field(default_factory=dict)
    queue: asyncio.Queue[StreamMessage | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )
    dropped: bool = False

    def listen(self, name: str, tag: str | None) -> None:
        channel = stream_channel(name, self.actor_id, tag)
        named = self.channels.setdefault(channel, [])
        if name not in [each for each, _ in named]:
            named.append((name, stream_label(name, tag)))

    def stop_listening(self, name: str, tag: str | None) -> None:
        channel = stream_channel(name, self.actor_id, tag)
        kept = [(each, label) for each, label in self.channels.get(channel, []) if each != name]
        if kept:
            self.channels[channel] = kept
        else:
            self.channels.pop(channel, None)

    def offer(self, channel: Channel, event: str, payload: str) -> None:
        """Queue the event for each stream on the channel that carries it; a full queue
        drops the subscriber (None tells its connection to end)."""
        for name, label in self.channels.get(channel, []):
            if name == USER_NOTIFICATIONS and event != NOTIFICATION:
                continue
            if self.dropped:
                return
            try:
                self.queue.put_nowait(StreamMessage(label, event, payload))
            except asyncio.QueueFull:
                self._drop()

    def _drop(self) -> None:
        self.dropped = True
        self.channels.clear()
        with contextlib.suppress(asyncio.QueueEmpty):
            self.queue.get_nowait()  # make room for the end marker
        self.queue.put_nowait(None)


Feed = Callable[["StreamHub"], Coroutine[Any, Any, None]]


class TooManyStreams(FederationError):
    status = 429

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "60"}


class StreamHub:
    """Subscribers of one instance, and the task feeding them while there are any.

    Anonymous subscribers are limited per address (`anonymous_per_address`, 0 for no
    limit): each holds a queue and a connection, and needs no account to open."""

    def __init__(self, anonymous_per_address: int = 0) -> None:
        self.anonymous_per_address = anonymous_per_address
        self.subscribers: set[Subscriber] = set()
        self.wakeup = asyncio.Event()
        # Set while other processes' commits wake this hub too (federation.notify): the
        # feed's poll is then only a safety net.
        self.heard_elsewhere: asyncio.Event | None = None
        # Set by the feed once it has read where to start from.
        self.feeding = asyncio.Event()
        self._feed_task: asyncio.Task[None] | None = None

    async def subscribe(self, subscriber: Subscriber, feed: Feed) -> None:
        """Add a subscriber, starting the feed if it is not running; returns once the feed
        knows where it starts, so that whatever is committed from now on reaches them.
        TooManyStreams (429) if an anonymous subscriber's address has its fill already."""
        self._admit(subscriber)
        self.subscribers.add(subscriber)
        if self._feed_task is None or self._feed_task.done():
            self.feeding.clear()
            self._feed_task = asyncio.create_task(feed(self))
        feeding = asyncio.create_task(self.feeding.wait())
        await asyncio.wait([feeding, self._feed_task], return_when=asyncio.FIRST_COMPLETED)
        feeding.cancel()

    def _admit(self, subscriber: Subscriber) -> None:
        limit = self.anonymous_per_address
        if subscriber.actor_id is not None or limit <= 0:
            return
        same = [
            each
            for each in self.subscribers
            if each.actor_id is None and each.address == subscriber.address
        ]
        if len(same) >= limit:
            raise TooManyStreams(
                f"at most {limit} streams without an access token may be open from one "
                "address; close one, or stream with a token"
            )

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def wake(self) -> None:
        """Something was committed in this process: look for it now, not at the next poll."""
        self.wakeup.set()

    def poll_seconds(self, polling: float, safety: float) -> float:
        """How long the feed waits for a wake-up before it looks anyway."""
        heard = self.heard_elsewhere is not None and self.heard_elsewhere.is_set()
        return max(polling, safety) if heard else polling

    def user_ids(self) -> set[int]:
        return {sub.actor_id for sub in self.subscribers if sub.actor_id is not None}

    def listens(self, channel: Channel) -> bool:
        return any(channel in sub.channels for sub in self.subscribers)

    def publish(
        self, channel: Channel, event: str, payload: str, *, not_to: Collection[int] = ()
    ) -> None:
        """Offer the event to every subscriber but the people of `not_to` (those who hide
        its author: `objects.hiding`)."""
        for subscriber in list(self.subscribers):
            if subscriber.actor_id in not_to:
                continue
            subscriber.offer(channel, event, payload)
            if subscriber.dropped:
                log.info("dropped a streaming client that fell behind")
                self.subscribers.discard(subscriber)

    async def close(self) -> None:
        """End every stream and the feed (the instance is stopping)."""
        for subscriber in self.subscribers:
            subscriber._drop()
        self.subscribers.clear()
        if self._feed_task is not None:
            self._feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._feed_task

"""The push worker: sends queued `PushJob`s to their subscriptions' push services.

Each push is the JSON Mastodon sends, encrypted for the subscription (RFC 8291,
aes128gcm) and signed with the instance's VAPID key (RFC 8292), POSTed through the
instance's HTTP client (the SSRF guard). A 2xx is done; 404 or 410 means the
subscription is gone, so it is removed (with its queued pushes); 429 and 5xx (and
network errors) are retried with backoff, honouring Retry-After; other answers fail.

Delivery is at least once: the outcome is written after the push service answered, so a
crash between the two sends that push again once the lease is released. Push services
and clients show a notification once per `notification_id` tag, so a repeat is harmless;
losing one would not be.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import http_ece
import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor, ApiToken
from federation.db import utcnow
from federation.errors import FederationError, UnsafeURLError
from federation.leases import Leases
from federation.queue import DONE, FAILED, finish_held, retry_values, run_until_stopped
from federation.settings import Settings
from objects.html import plain_text
from objects.models import Note, Notification
from objects.push_models import PushJob, PushSubscription, VapidKey
from outbox.delivery import parse_retry_after
from outbox.vapid import b64url_decode

log = logging.getLogger(__name__)
BATCH = 100
CONCURRENCY = 8
# About a day of retries with the backoff of federation.queue (10 s doubling, capped at 6 h).
MAX_ATTEMPTS = 15
# How long a push service keeps a push for an offline device (Mastodon's figure: two days).
TTL_SECONDS = 48 * 3600
BODY_CHARACTERS = 140
TITLES = {
    "mention": "You were mentioned by {name}",
    "favourite": "{name} favourited your post",
    "reblog": "{name} boosted your post",
    "follow": "{name} is now following you",
    "follow_request": "New follow request from {name}",
    "update": "{name} edited a post",
    "ourdesign.fork": "{name} forked your design",
}


@dataclass
class Push:
    """What one job sends, read in the claim's transaction."""

    job: PushJob
    subscription: PushSubscription
    payload: dict[str, Any]


class PushWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        vapid: VapidKey,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        identity: str = "unnamed",
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.settings = settings
        self.vapid = Vapid02.from_pem(vapid.private_pem.encode("ascii"))
        # `sub` may be our http:// base URL (a test instance), which strict mode refuses.
        self.vapid.conf["no-strict"] = True
        self.clock = clock
        self.wakeup = asyncio.Event()
        self.stopping = asyncio.Event()
        # Pushes go to a few services (the browsers' and phones' vendors), so a handful at
        # a time keeps a slow one from holding up the rest without crowding any.
        self._sending = asyncio.Semaphore(CONCURRENCY)
        self.leases = Leases(
            sessions,
            PushJob,
            identity=identity,
            duration=dt.timedelta(seconds=settings.queue_lease_seconds),
            clock=lambda: self.clock(),
        )

    async def run_once(self) -> int:
        """Claim and send one batch of due pushes; return how many were tried. Each outcome
        is written as its push completes, under the lease."""
        token = self.leases.token()
        async with self.sessions() as session:
            jobs = await self.leases.claim(session, token, limit=BATCH)
            pushes = [await self._push_of(session, job) for job in jobs]
            await session.commit()
        if not jobs:
            return 0
        async with self.leases.holding(token):
            await asyncio.gather(*(self._attempt(push, token) for push in pushes if push))
        return len(jobs)

    async def _attempt(self, push: Push, token: str) -> None:
        """Send one push and write its outcome at once (a crash resends only the pushes
        that were on the wire)."""
        async with self._sending:
            if self.stopping.is_set():
                return  # left to the next process: the lease is given back
            values = await self._send(push)
        async with self.sessions() as session:
            if values is None:  # gone: its queued pushes go with it
                await session.execute(
                    delete(PushSubscription).where(PushSubscription.id == push.subscription.id)
                )
            else:
                await finish_held(session, PushJob, push.job.id, token, values)
            await session.commit()

    async def run_forever(self, stop: asyncio.Event) -> None:
        self.stopping = stop
        await run_until_stopped(
            self.run_once,
            self.wakeup,
            stop,
            name=__name__,
            grace_seconds=self.settings.stop_grace_seconds,
        )

    async def _push_of(self, session: AsyncSession, job: PushJob) -> Push | None:
        subscription = await session.get(PushSubscription, job.subscription_id)
        notification = await session.get(Notification, job.notification_id)
        if subscription is None or notification is None:
            return None  # removed since (the cascade takes the job too)
        if await session.scalar(
            select(ApiToken.revoked_at).where(ApiToken.id == subscription.token_id)
        ):
            await session.delete(subscription)  # revoked since it was queued: never sent
            return None
        sender = await session.get(Actor, notification.from_actor_id)
        note_text = None
        if notification.object_uri is not None:
            content = await session.scalar(
                select(Note.content).where(Note.uri == notification.object_uri)
            )
            note_text = None if content is None else plain_text(content)
        return Push(job, subscription, self._payload(notification, sender, note_text))

    def _payload(
        self, notification: Notification, sender: Actor | None, note_text: str | None
    ) -> dict[str, Any]:
        """Mastodon's push payload. Bearer tokens are stored hashed only, so the token the
        client subscribed with cannot be sent back: `access_token` is empty, and clients
        fetch the notification with the token they hold."""
        name = (sender.name or sender.username) if sender is not None else "Someone"
        body = note_text if note_text is not None else ""
        if not body and sender is not None:
            body = plain_text(sender.summary)
        return {
            "access_token": "",
            "preferred_locale": "en",
            "notification_id": str(notification.id),
            "notification_type": notification.kind,
            "icon": self._icon(sender),
            "title": TITLES.get(notification.kind, "{name}").format(name=name),
            "body": body[:BODY_CHARACTERS],
        }

    def _icon(self, sender: Actor | None) -> str:
        icon = (sender.document or {}).get("icon") if sender is not None else None
        if isinstance(icon, dict) and isinstance(icon.get("url"), str):
            return str(icon["url"])
        return f"{self.settings.base_url}/avatars/missing.png"

    def _request(self, push: Push) -> tuple[bytes, dict[str, str]]:
        """The encrypted body (RFC 8291, a fresh key per push) and the headers."""
        body = http_ece.encrypt(
            json.dumps(push.payload).encode("utf-8"),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=b64url_decode(push.subscription.p256dh),
            auth_secret=b64url_decode(push.subscription.auth),
            version="aes128gcm",
        )
        parts = urlsplit(push.subscription.endpoint)
        contact = self.settings.coop_contact_email
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": f"mailto:{contact}" if contact else self.settings.base_url,
            "exp": int(time.time()) + 12 * 3600,
        }
        headers = self.vapid.sign(claims) | {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
            "Urgency": "normal",
        }
        return bytes(body), headers

    async def _send(self, push: Push) -> dict[str, Any] | None:
        """The job's columns after this attempt; None when the subscription is gone."""
        job, now = push.job, self.clock()
        done = {"attempts": job.attempts + 1}
        try:
            body, headers = self._request(push)
            answer = await self.client.post(
                push.subscription.endpoint, content=body, headers=headers
            )
        except UnsafeURLError as exc:  # the SSRF guard: retrying would not change its answer
            return done | {"state": FAILED, "last_error": str(exc)[:1000]}
        except (httpx.HTTPError, FederationError, OSError) as exc:
            log.warning("push %s not sent: %r", job.id, exc)
            return retry_values(job.attempts, MAX_ATTEMPTS, now) | {
                "last_error": f"{type(exc).__name__}: {exc}"[:1000]
            }
        except (ValueError, http_ece.ECEException) as exc:  # keys not on the curve
            return done | {"state": FAILED, "last_error": f"bad subscription keys: {exc}"[:1000]}
        status = answer.status_code
        if 200 <= status < 300:
            return done | {"state": DONE, "last_status": status, "last_error": None}
        if status in (404, 410):
            log.info("push subscription %s is gone (%s): removed", push.subscription.id, status)
            return None
        error = {"last_status": status, "last_error": answer.text[:1000]}
        if status == 429 or status >= 500:
            wait = parse_retry_after(answer.headers.get("retry-after"), now)
            return error | retry_values(
                job.attempts, MAX_ATTEMPTS, now, not_before=wait or dt.timedelta(0)
            )
        return done | error | {"state": FAILED}

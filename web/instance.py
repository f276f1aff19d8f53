"""One running instance: engine, sessions, HTTP client, resolver, receiver and workers.

Built by `web.instance_start.open_instance` in the app's lifespan; nothing here exists at
import time, so several
instances can run in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from actors.moderation import domain_rules
from actors.resolve import ActorResolver
from actors.token_use import TokenUses
from federation.blocks import DomainBlocks
from federation.db import REDOABLE_COMMITS
from federation.notify import CommitNotices
from federation.settings import Settings
from federation.signatures import CavageAuth
from federation.urls import LocalUrls
from inbox.receive import Receiver
from inbox.worker import InboxWorker
from objects.blobs import BlobStore
from objects.licences import LicencePolicy
from objects.sandbox import Sandbox
from outbox.delivery import DeliveryWorker
from outbox.scheduled import ScheduledStatusWorker
from outbox.thumbnails import ThumbnailWorker
from web.answer_cache import AnswerCache
from web.mail import MailWorker
from web.sign_in_cache import SignInCache
from web.streaming import StreamHub

log = logging.getLogger(__name__)
# Other processes (a `worker`, a second `serve`) see a changed block list within this time.
BLOCKS_REFRESH_SECONDS = 10.0


@dataclass
class Instance:
    settings: Settings
    urls: LocalUrls
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient
    resolver: ActorResolver
    receiver: Receiver
    inbox_worker: InboxWorker
    delivery_worker: DeliveryWorker
    thumbnail_worker: ThumbnailWorker
    scheduled_worker: ScheduledStatusWorker
    policy: LicencePolicy
    blobs: BlobStore
    blocks: DomainBlocks
    answers: AnswerCache
    sign_ins: SignInCache
    # Where untrusted files are read: limited child processes, never this one.
    sandbox: Sandbox
    fetch_auth: CavageAuth | None = None
    # Only when mail is set up (settings.smtp_host).
    mail_worker: MailWorker | None = None
    streaming: StreamHub = field(default_factory=StreamHub)
    # Other processes' commits, heard on PostgreSQL (federation.notify).
    notices: CommitNotices = field(default_factory=CommitNotices)
    # When tokens were last used, written in batches (actors.token_use).
    token_uses: TokenUses = field(default_factory=TokenUses)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def wake_delivery(self) -> None:
        self.delivery_worker.wakeup.set()

    def wake_scheduled(self) -> None:
        self.scheduled_worker.wakeup.set()

    def wake_mail(self) -> None:
        if self.mail_worker is not None:
            self.mail_worker.wakeup.set()

    def start_workers(self) -> None:
        redoable = REDOABLE_COMMITS.set(True)  # inherited by the workers' tasks only
        self._tasks += [
            asyncio.create_task(self.inbox_worker.run_forever(self._stop)),
            asyncio.create_task(self.delivery_worker.run_forever(self._stop)),
            asyncio.create_task(self.thumbnail_worker.run_forever(self._stop)),
            asyncio.create_task(self.scheduled_worker.run_forever(self._stop)),
        ]
        if self.mail_worker is not None:
            self._tasks.append(asyncio.create_task(self.mail_worker.run_forever(self._stop)))
        REDOABLE_COMMITS.reset(redoable)

    def start_refreshing(self) -> None:
        self._tasks.append(asyncio.create_task(self.refresh_blocks_forever(self._stop)))
        self._tasks.append(asyncio.create_task(self.listen_forever(self._stop)))
        self._tasks.append(
            asyncio.create_task(self.token_uses.flush_forever(self.sessions, self._stop))
        )

    async def listen_forever(self, stop: asyncio.Event) -> None:
        """Hear other processes' commits until `stop` (PostgreSQL; SQLite keeps polling)."""
        if self.engine.dialect.name == "postgresql":
            await self.notices.listen_forever(self.settings.effective_database_url, stop)

    async def reload_blocks(self) -> None:
        async with self.sessions() as session:
            self.blocks.replace(await domain_rules(session))

    async def refresh_blocks_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), BLOCKS_REFRESH_SECONDS)
            if stop.is_set():
                return
            try:
                await self.reload_blocks()
            except Exception:
                log.exception("could not reload the domain blocks; keeping the previous list")

    async def stop_workers(self) -> None:
        self._stop.set()
        self.inbox_worker.wakeup.set()
        self.delivery_worker.wakeup.set()
        self.thumbnail_worker.wakeup.set()
        self.scheduled_worker.wakeup.set()
        self.wake_mail()
        await self.streaming.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def instance_of(request: Request) -> Instance:
    """The instance serving a request (the app's lifespan put it there)."""
    instance: Instance = request.app.state.instance
    return instance

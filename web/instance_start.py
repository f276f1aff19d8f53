"""Opening an instance: migrating its database, connecting its HTTP client and assembling
its resolver, receiver and workers (web.instance.Instance). Nothing here runs at import
time, so several instances can run in one process."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.moderation import domain_rules
from actors.resolve import ActorResolver
from actors.service import ensure_instance_actor
from federation.blocks import DomainBlocks
from federation.changes import content_changes, sign_in_changes
from federation.db import make_engine, make_session_factory
from federation.http import build_http_client
from federation.keys import load_rsa_private_pem
from federation.leases import WorkerIdentity, release_identities
from federation.notify import CONTENT, SIGN_IN, CommitNotices
from federation.queue import Wakeup
from federation.settings import Settings
from federation.signatures import CavageAuth
from federation.urls import LocalUrls
from inbox.context import HandlerContext
from inbox.design_gate import DesignGate
from inbox.receive import Receiver
from inbox.worker import InboxWorker
from objects.blobs import BlobStore
from objects.licences import LicencePolicy
from objects.object_store import open_blob_store
from objects.sandbox import ParserLimits, Sandbox
from outbox.coop import set_up_coop
from outbox.delivery import DeliveryWorker
from outbox.scheduled import ScheduledStatusWorker
from outbox.thumbnails import ThumbnailWorker
from web.answer_cache import AnswerCache
from web.instance import Instance
from web.mail import MailWorker
from web.schema import migrate
from web.sign_in_cache import SignInCache
from web.streaming import StreamHub


@contextlib.asynccontextmanager
async def open_instance(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    run_migrations: bool = True,
) -> AsyncIterator[Instance]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    client = build_http_client(settings, transport=transport)
    identity, dead = WorkerIdentity.acquire(settings.data_dir)
    files = contextlib.AsyncExitStack()
    try:
        if run_migrations:
            # Not `engine`: a migration may rightly run past the statement deadline.
            migrator = make_engine(settings, bounded=False)
            try:
                await migrate(migrator, settings)
            finally:
                await migrator.dispose()
        blobs = await files.enter_async_context(open_blob_store(settings))
        instance = await _assemble(settings, engine, client, identity.name, blobs)
        # Rows our dead predecessors (a killed process, this one's last run) still hold
        # are due again now, not when their leases would have run out.
        await release_identities(instance.sessions, dead)
        yield instance
    finally:
        identity.close()
        await files.aclose()
        await client.aclose()
        await engine.dispose()


async def _instance_actor(sessions: async_sessionmaker[AsyncSession], urls: LocalUrls) -> Actor:
    """Created on the first start; a `worker` starting alongside `serve` may race us to it."""
    try:
        async with sessions() as session:
            actor = await ensure_instance_actor(session, urls)
            await session.commit()
            return actor
    except IntegrityError:
        async with sessions() as session:
            return await ensure_instance_actor(session, urls)


async def _assemble(
    settings: Settings,
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    identity: str,
    blobs: BlobStore,
) -> Instance:
    urls = LocalUrls(settings.base_url)
    sessions = make_session_factory(engine)
    changes, sign_ins = content_changes(), sign_in_changes()
    changes.watch(engine)
    sign_ins.watch(engine)
    notices = CommitNotices()
    notices.watch(engine)
    async with sessions() as session:
        blocks = DomainBlocks(await domain_rules(session))
    client.event_hooks["request"].append(blocks.check_request)
    instance_actor = await _instance_actor(sessions, urls)
    await set_up_coop(sessions, urls, settings)
    assert instance_actor.private_key_pem is not None
    fetch_auth = CavageAuth(
        instance_actor.public_key_id, load_rsa_private_pem(instance_actor.private_key_pem)
    )
    resolver = ActorResolver(sessions, client, settings, lambda: fetch_auth)
    policy = LicencePolicy(settings.default_license, settings.license_refs)
    delivery = DeliveryWorker(sessions, client, settings, blocks=blocks, identity=identity)
    streaming = StreamHub(settings.max_anonymous_streams_per_address)

    def after_inbox_batch() -> None:
        delivery.wakeup.set()
        streaming.wake()  # its subscribers see the batch's statuses now, not at the next poll

    inbox_worker = InboxWorker(
        sessions,
        HandlerContext(urls, resolver, policy, blocks),
        on_published=after_inbox_batch,
        # A batch's writes hold SQLite's one connection; smaller batches let received
        # activities in sooner. Measured (bench/inbox.py): 40 keeps up with 1,000/s at a p99
        # near 40 ms; 30 falls behind, 50 lets the p99 at full speed pass 50 ms.
        batch_size=200 if engine.dialect.name == "postgresql" else 40,
        identity=identity,
        lease=dt.timedelta(seconds=settings.queue_lease_seconds),
        fetch_attempts=settings.delivery_max_attempts,
        grace_seconds=settings.stop_grace_seconds,
    )
    receiver = Receiver(
        sessions,
        resolver,
        window=settings.signature_window_seconds,
        on_stored=inbox_worker.wakeup.set,
        gate=DesignGate(sessions, resolver, policy).check,
        blocks=blocks,
    )
    sandbox = Sandbox(
        ParserLimits(
            settings.parser_memory_mb,
            settings.parser_cpu_seconds,
            settings.parser_timeout_seconds,
        ),
        processes=settings.parser_processes,
    )
    _hear(notices, changes.bump, sign_ins.bump, streaming, inbox_worker, delivery)
    thumbnails = ThumbnailWorker(
        sessions,
        blobs,
        urls,
        policy,
        sandbox,
        client=client,
        on_published=delivery.wakeup.set,
        identity=identity,
    )
    mail = MailWorker(sessions, settings, identity=identity) if settings.mail_enabled else None
    _wake_on(notices, "thumbnail", thumbnails.wakeup)
    if mail is not None:
        _wake_on(notices, "mail", mail.wakeup)
    return Instance(
        settings=settings,
        urls=urls,
        engine=engine,
        sessions=sessions,
        client=client,
        resolver=resolver,
        receiver=receiver,
        inbox_worker=inbox_worker,
        delivery_worker=delivery,
        thumbnail_worker=thumbnails,
        scheduled_worker=ScheduledStatusWorker(
            sessions,
            resolver,
            on_published=after_inbox_batch,  # the same wake-ups: deliveries and streams
            identity=identity,
            lease=dt.timedelta(seconds=settings.queue_lease_seconds),
        ),
        policy=policy,
        blobs=blobs,
        blocks=blocks,
        answers=AnswerCache(changes, settings.answer_cache_seconds),
        sign_ins=SignInCache(sign_ins, settings.answer_cache_seconds),
        sandbox=sandbox,
        fetch_auth=fetch_auth,
        mail_worker=mail,
        streaming=streaming,
        notices=notices,
    )


def _hear(
    notices: CommitNotices,
    content_changed: Callable[[], None],
    sign_in_changed: Callable[[], None],
    streaming: StreamHub,
    inbox_worker: InboxWorker,
    delivery: DeliveryWorker,
) -> None:
    """What another process's commit wakes here: caches, the stream feed, queue workers."""
    notices.on(CONTENT, content_changed)
    notices.on(CONTENT, streaming.wake)
    notices.on(SIGN_IN, sign_in_changed)
    streaming.heard_elsewhere = notices.connected
    _wake_on(notices, "inbox", inbox_worker.wakeup)
    _wake_on(notices, "delivery", delivery.wakeup)


def _wake_on(notices: CommitNotices, topic: str, wakeup: Wakeup) -> None:
    """Wake a queue's workers when any process queues work for it; poll slowly meanwhile."""
    notices.on(topic, wakeup.set)
    wakeup.heard_elsewhere = notices.connected

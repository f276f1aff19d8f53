"""The thumbnail worker: draws queued 3D files and tells followers about the pictures.

A job row is the record: it is claimed under a lease (a crashed worker's claim expires and
the job is due again), the drawing runs in a limited child process (objects.sandbox) that
is killed when it goes over (a hostile file fails its job with the reason instead of
taking the server's memory), the PNG goes into the blob store, and the job is marked done
in the same commit as an Update of every local version Page it now pictures, so Mastodon
shows the image.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.db import utcnow
from federation.errors import FetchError
from federation.queue import (
    DONE,
    FAILED,
    Wakeup,
    claim_due,
    new_token,
    retry_values,
    run_until_stopped,
)
from federation.urls import LocalUrls
from objects.blobs import BlobStore
from objects.design_models import DesignVersion, Project, VersionFile
from objects.designs import record_cid, version_files
from objects.licences import LicencePolicy
from objects.mirror import mirror_blob
from objects.sandbox import Sandbox
from objects.thumbnail_models import ThumbnailJob
from objects.thumbnails import (
    MAX_SOURCE_BYTES,
    ThumbnailError,
    draw_thumbnail,
    page_thumbnail,
)
from outbox.designs import send_page_update

log = logging.getLogger(__name__)
# Longer than any drawing should take, so a claim outlives its work.
LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 3


class ThumbnailWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStore,
        urls: LocalUrls,
        policy: LicencePolicy,
        sandbox: Sandbox,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        on_published: Callable[[], None] = lambda: None,
        identity: str = "unnamed",
    ) -> None:
        self.identity = identity
        self.sessions = sessions
        self.client = client
        self.blobs = blobs
        self.urls = urls
        self.policy = policy
        self.sandbox = sandbox
        self.clock = clock
        self.on_published = on_published
        self.wakeup = Wakeup()

    async def run_forever(self, stop: asyncio.Event) -> None:
        await run_until_stopped(self.run_once, self.wakeup, stop, name=__name__)

    async def run_once(self, limit: int = 2) -> int:
        """Claim and draw a few due jobs (drawing takes a core); return how many."""
        now = self.clock()
        async with self.sessions() as session:
            jobs = list(
                await claim_due(
                    session,
                    ThumbnailJob,
                    now=now,
                    limit=limit,
                    lease=LEASE,
                    token=new_token(self.identity),
                )
            )
            # Counted when claimed, so that a file that kills the worker (out of memory, say)
            # is given up after a few tries instead of taking it down forever.
            for job in jobs:
                job.attempts += 1
            await session.commit()
        for job in jobs:
            await self._make(job, now)
        return len(jobs)

    async def _make(self, job: ThumbnailJob, now: dt.datetime) -> None:
        if job.attempts > MAX_ATTEMPTS:
            error = f"drawing {job.file_name} stopped the worker {MAX_ATTEMPTS} times; given up"
            await self._record(job, {"state": FAILED}, error)
            return
        try:
            await self._fetch_if_elsewhere(job)
            png = await draw_thumbnail(self.sandbox, self.blobs, job.source_sha256, job.file_name)
            blob = await self.blobs.put_bytes(png)
        except ThumbnailError as exc:  # the file's fault, limits included: not tried again
            await self._record(job, {"state": FAILED}, exc.message)
            return
        except FetchError as exc:  # the other instance may answer later
            await self._record(job, retry_values(job.attempts - 1, MAX_ATTEMPTS, now), exc.message)
            return
        except Exception as exc:  # a disk trouble, or no child could start: try again later
            log.exception("drawing %s failed", job.source_sha256)
            values = retry_values(job.attempts - 1, MAX_ATTEMPTS, now)
            await self._record(job, values, f"{type(exc).__name__}: {exc}")
            return
        async with self.sessions() as session:
            await _finish(session, job, blob.sha256)
            updated = await self._update_pages(session, job.source_sha256)
            await session.commit()
        if updated:
            self.on_published()

    async def _fetch_if_elsewhere(self, job: ThumbnailJob) -> None:
        """A copy of a file one of our forks keeps on another instance (see objects.mirror);
        FetchError (retried) when it cannot be had."""
        if self.client is None or await self.blobs.aget(job.source_sha256) is not None:
            return
        async with self.sessions() as session:
            url = await session.scalar(
                select(VersionFile.remote_url)
                .join(DesignVersion, DesignVersion.id == VersionFile.version_id)
                .where(
                    VersionFile.sha256 == job.source_sha256,
                    VersionFile.remote_url.is_not(None),
                    DesignVersion.local.is_(True),
                )
                .limit(1)
            )
        if url is not None:
            blob = await mirror_blob(
                self.client, self.blobs, url, job.source_sha256, max_bytes=MAX_SOURCE_BYTES
            )
            if blob.cid is not None:
                async with self.sessions() as session:
                    await record_cid(session, blob.sha256, blob.cid)
                    await session.commit()

    async def _record(self, job: ThumbnailJob, values: dict[str, object], error: str) -> None:
        async with self.sessions() as session:
            await session.execute(
                update(ThumbnailJob)
                .where(ThumbnailJob.id == job.id, ThumbnailJob.lease_token == job.lease_token)
                .values(**values, locked_until=None, lease_token=None, last_error=error[:1000])
            )
            await session.commit()

    async def _update_pages(self, session: AsyncSession, source_sha256: str) -> int:
        """Send an Update of each local version Page this thumbnail now pictures."""
        rows = await session.execute(
            select(DesignVersion, Actor)
            .join(VersionFile, VersionFile.version_id == DesignVersion.id)
            .join(Project, Project.id == DesignVersion.project_id)
            .join(Actor, Actor.id == Project.actor_id)
            .where(
                VersionFile.sha256 == source_sha256,
                DesignVersion.local.is_(True),
                DesignVersion.deleted_at.is_(None),
            )
        )
        # A version holding the same file twice is one Page (no DISTINCT: JSON columns).
        pictured = {version.id: (version, actor) for version, actor in rows.all()}
        sent = 0
        for version, project_actor in pictured.values():
            files = await version_files(session, version)
            if await page_thumbnail(session, files) == source_sha256:
                await send_page_update(session, self.urls, self.policy, version, project_actor)
                sent += 1
        return sent


async def _finish(session: AsyncSession, job: ThumbnailJob, thumbnail_sha256: str) -> None:
    await session.execute(
        update(ThumbnailJob)
        .where(ThumbnailJob.id == job.id, ThumbnailJob.lease_token == job.lease_token)
        .values(
            state=DONE,
            locked_until=None,
            lease_token=None,
            last_error=None,
            thumbnail_sha256=thumbnail_sha256,
        )
    )

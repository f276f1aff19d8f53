"""Upload quotas: what a local person may still store, and the ledger of what they stored.

Every upload is read by `web.uploads.read_upload`, which takes an `UploadQuota` (made here,
for the uploader) and refuses, while the bytes stream in, a body that would pass it: a 413
that says the quota, what is used and what is left, and nothing stays stored. Committing
the upload writes its files to the ledger (`UploadUsage`), so the next upload counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Account, Actor
from federation.errors import FederationError
from objects.blobs import StoredBlob, human_bytes
from objects.media_models import UploadUsage


class QuotaExceeded(FederationError):
    """An upload would take its sender past their upload quota."""

    status = 413


@dataclass(frozen=True)
class UploadQuota:
    """The uploader, what they have stored, and their quota (None: no quota)."""

    sessions: async_sessionmaker[AsyncSession]
    actor_id: int
    used: int
    quota: int | None

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.used)

    def check(self, incoming: int) -> None:
        """QuotaExceeded if `incoming` more bytes would pass the quota."""
        remaining = self.remaining
        if remaining is not None and incoming > remaining:
            assert self.quota is not None
            raise QuotaExceeded(
                f"this upload would pass your upload quota of {human_bytes(self.quota)} "
                f"({human_bytes(self.used)} used, {human_bytes(remaining)} left); send "
                "smaller files, or ask an admin to raise your quota"
            )

    async def record(self, stored: Sequence[StoredBlob]) -> None:
        """Write the stored files to the ledger (their own transaction)."""
        if not stored:
            return
        async with self.sessions() as session:
            session.add_all(
                UploadUsage(actor_id=self.actor_id, sha256=blob.sha256, size=blob.size)
                for blob in stored
            )
            await session.commit()


async def upload_quota(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, default_quota: int
) -> UploadQuota:
    """`actor`'s quota: their account's own (0: they may upload nothing), else
    `default_quota` (0: no quota)."""
    async with sessions() as session:
        used = await stored_bytes(session, actor.id)
        own = await session.scalar(
            select(Account.upload_quota_bytes).where(Account.actor_id == actor.id)
        )
    quota = own if own is not None else (default_quota or None)
    return UploadQuota(sessions, actor.id, used, quota)


async def stored_bytes(session: AsyncSession, actor_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(UploadUsage.size), 0)).where(UploadUsage.actor_id == actor_id)
    )
    return int(total or 0)


async def set_upload_quota(session: AsyncSession, account: Account, quota: int | None) -> None:
    """Give `account` its own quota in bytes, or None for the instance's default."""
    if quota is not None and quota < 0:
        raise FederationError("a quota is a number of bytes, 0 or more", status=422)
    account.upload_quota_bytes = quota
    await session.flush()

"""The inbox's side of design admission: designs carried by received activities are admitted
(`objects.admission`) before they are stored, and a refused sender gets a `Reject`.

The inbox request (`inbox.design_gate`) admits a Create or Update at once, so that the
sender hears 422 with the reason; the worker admits it again just before storing it, as
whatever it depends on (its upstream, a version that arrived in between) may have changed,
and admits an announced design the same way. Only an admitted version can be stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.errors import FederationError, ValidationError
from federation.urls import LocalUrls
from inbox.context import HandlerContext
from inbox.models import InboxItem
from objects.admission import AdmittedVersion, UpstreamUnavailable, admit_remote_version
from objects.design_convert import is_design
from objects.licences import LicenceError
from outbox import activities
from outbox.publish import publish

log = logging.getLogger(__name__)
ADMITTED_TYPES = frozenset({"Create", "Update"})


def refusal_reason(exc: FederationError) -> str:
    """What the sender is told: a licence refusal as it is, anything else as the design's."""
    if isinstance(exc, LicenceError):
        return exc.message
    return f"the design was refused: {exc.message}"


async def admit_carried(
    sessions: async_sessionmaker[AsyncSession],
    ctx: HandlerContext,
    activity: dict[str, Any],
    signer: Actor,
    *,
    retry: bool = False,
) -> AdmittedVersion | None:
    """The admitted design a Create or Update carries embedded; None when it carries none.
    A refusal raises LicenceError with the sender's reason, after sending the `Reject`;
    with `retry`, an upstream that cannot be fetched now raises UpstreamUnavailable and
    sends nothing (the worker tries again later)."""
    obj = activity.get("object")
    if activity.get("type") not in ADMITTED_TYPES or not is_design(obj):
        return None
    try:
        return await admit_remote_version(
            sessions,
            ctx.resolver,
            ctx.policy,
            obj,
            update=activity["type"] == "Update",
            project_actor=signer,
        )
    except FederationError as exc:
        if retry and isinstance(exc, UpstreamUnavailable):
            raise
        reason = refusal_reason(exc)
        await send_reject(sessions, ctx.urls, activity, signer.uri, reason)
        raise LicenceError(reason) from exc


@dataclass
class BatchAdmission:
    """The worker's admission of a batch: per item id, the admitted design, a refusal
    (its sender got a Reject), or a failure to judge it now (the item is retried)."""

    admitted: dict[int, AdmittedVersion] = field(default_factory=dict)
    refused: set[int] = field(default_factory=set)
    later: dict[int, Exception] = field(default_factory=dict)


async def admit_items(
    sessions: async_sessionmaker[AsyncSession], ctx: HandlerContext, items: list[InboxItem]
) -> BatchAdmission:
    """The worker's admission, before its transaction, of each item carrying a design: the
    inbox admitted it on arrival, but what it depends on may have changed since."""
    batch = BatchAdmission()
    for item in items:
        if item.type not in ADMITTED_TYPES or not is_design(item.payload.get("object")):
            continue
        async with sessions() as session:
            signer = await session.scalar(select(Actor).where(Actor.uri == item.actor_uri))
        if signer is None or signer.suspended_at is not None:
            continue  # unhandled, as any activity whose actor we lack or suspended
        if ctx.blocks.is_suspended(item.actor_uri):
            continue
        try:
            found = await admit_carried(sessions, ctx, item.payload, signer, retry=True)
        except UpstreamUnavailable as exc:
            batch.later[item.id] = exc
        except LicenceError as exc:
            log.info("inbox item %s: design refused: %s", item.id, exc.message)
            batch.refused.add(item.id)
        else:
            if found is not None:
                batch.admitted[item.id] = found
    return batch


async def send_reject(
    sessions: async_sessionmaker[AsyncSession],
    urls: LocalUrls,
    activity: dict[str, Any],
    sender_uri: str,
    reason: str,
) -> None:
    """A `Reject` of `activity` from our instance actor to its sender, `summary` the reason."""
    async with sessions() as session:
        instance_actor = await session.scalar(select(Actor).where(Actor.uri == urls.instance_actor))
        if instance_actor is None:
            raise ValidationError("the instance actor is missing", status=500)
        refused = {"id": activity["id"], "type": activity["type"], "actor": sender_uri}
        reject = activities.reject(urls, instance_actor, refused, reason)
        # `to` names the sender, so its (shared) inbox gets the one delivery.
        await publish(session, urls, instance_actor, reject)
        await session.commit()

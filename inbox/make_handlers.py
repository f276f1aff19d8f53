"""Makes received through federation: a Create of a Note carrying `makeOf`.

The inbox request (`inbox.design_gate`) admits the make at once (`objects.makes.admit_make`,
the one decision for every path), so that a refused sender hears 422 and gets a `Reject`
with the reason, as for a refused fork. The worker admits it again in its transaction
before recording it, as the version may have changed (been deleted) meanwhile. A make of a
version this instance does not have (it reached us as a follower of the maker) is kept as
the plain post it also is.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from federation.errors import FederationError, ValidationError
from inbox.context import HandlerContext
from inbox.design_admission import send_reject
from objects.convert import parse_remote_note
from objects.licences import LicenceError
from objects.makes import admit_make, is_make, parse_remote_make, record_make
from objects.notes import get_note, insert_remote_note
from outbox.comments import store_received_note

log = logging.getLogger(__name__)


async def admit_carried_make(
    sessions: async_sessionmaker[AsyncSession],
    ctx: HandlerContext,
    activity: dict[str, Any],
    signer: Actor,
) -> None:
    """Refuse (Reject sent, LicenceError raised) a Create of a make that may not be recorded
    here; a make of a version we do not have passes, to be kept as a plain post."""
    obj = activity.get("object")
    if activity.get("type") != "Create" or not is_make(obj):
        return
    try:
        spec = parse_remote_make(obj)
        async with sessions() as session:
            await admit_make(session, ctx.policy, spec, signer)
    except LicenceError as exc:
        reason = exc.message
    except ValidationError as exc:
        if exc.status == 404:
            return
        reason = f"the make was refused: {exc.message}"
    else:
        return
    await send_reject(sessions, ctx.urls, activity, signer.uri, reason)
    raise LicenceError(reason)


async def on_create_make(
    ctx: HandlerContext, session: AsyncSession, obj: dict[str, Any], actor: Actor
) -> None:
    data = parse_remote_note(obj)
    if data.attributed_to != actor.uri or await get_note(session, data.uri) is not None:
        return  # not the sender's own, or delivered again
    try:
        admitted = await admit_make(session, ctx.policy, parse_remote_make(obj), actor)
    except FederationError as exc:
        if isinstance(exc, ValidationError) and exc.status == 404:
            await store_received_note(session, ctx.urls, data, actor)
            return
        log.info("make %s refused: %s", data.uri, exc.message)
        return
    note = await insert_remote_note(session, data, actor, ctx.urls.is_local)
    await session.flush()
    await record_make(session, admitted, note, actor)

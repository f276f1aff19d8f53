"""Received `Flag` activities: reports from other instances' moderators or members.

Mastodon sends a Flag from its instance actor with `object` = [reported account, reported
statuses...] (ActivityPub::FlagSerializer); we file one report per local actor it names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation_models import Report
from actors.reports import MAX_COMMENT, report_by_uri
from inbox.context import HandlerContext
from objects.convert import id_list
from outbox.reports import local_targets


async def on_flag(
    ctx: HandlerContext, session: AsyncSession, activity: dict[str, Any], actor: Actor
) -> None:
    # Reports from a domain whose block rejects them are dropped, as Mastodon does.
    if ctx.blocks.rejects_reports(actor.domain):
        return
    targets = await local_targets(session, id_list(activity.get("object")))
    content = activity.get("content")
    comment = content[:MAX_COMMENT] if isinstance(content, str) else ""
    for target_id, object_uris in sorted(targets.items()):
        uri = _report_uri(activity["id"], target_id, several=len(targets) > 1)
        if await report_by_uri(session, uri) is not None:
            continue  # the same Flag delivered again
        session.add(
            Report(
                uri=uri,
                origin_domain=actor.domain,
                target_id=target_id,
                object_uris=object_uris,
                comment=comment,
            )
        )


def _report_uri(activity_id: str, target_id: int, *, several: bool) -> str:
    """Report.uri is unique: a Flag naming several of our actors files one report each."""
    return f"{activity_id}#target-{target_id}" if several else activity_id

"""Mastodon's Notification entity, a page at a time: for the notifications routes and for
the streaming feed, which import this, never each other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from objects.convert import iso_ms
from objects.models import Notification
from objects.notifications import FAVOURITE, FORK, MENTION, REBLOG
from web.instance import Instance
from web.mastodon.filtering import screened_entities
from web.mastodon.paging import items_by_uri
from web.mastodon.status import account_entities

WITH_STATUS = (FAVOURITE, REBLOG, MENTION, "status", FORK, "update")
SHOWN_AS = {FORK: "status"}  # stored kind -> the type Mastodon apps know
OUR_TYPES = {FORK: "fork"}


async def notification_entities(
    session: AsyncSession, instance: Instance, me: Actor, rows: Sequence[Notification]
) -> list[dict[str, Any]]:
    """The page's entities, its statuses and accounts each looked up once for the page; a
    notification whose status the person may not read is left out."""
    items = await items_by_uri(session, {row.object_uri for row in _with_status(rows)}, me)
    # A notification whose status the person's filters hide is left out like the others.
    kept, built = await screened_entities(
        session, instance, me, "notifications", list(items.values())
    )
    statuses = {item.uri: entity for item, entity in zip(kept, built, strict=True)}
    accounts = await account_entities(session, instance.urls, {r.from_actor_id for r in rows})
    shown = []
    for row in rows:
        status = statuses.get(row.object_uri or "")
        if row.from_actor_id in accounts and (status is not None or row.kind not in WITH_STATUS):
            shown.append(_entity(row, accounts[row.from_actor_id], status))
    return shown


def _with_status(rows: Sequence[Notification]) -> list[Notification]:
    return [row for row in rows if row.kind in WITH_STATUS and row.object_uri]


def _entity(
    row: Notification, account: dict[str, Any], status: dict[str, Any] | None
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": str(row.id),
        "type": SHOWN_AS.get(row.kind, row.kind),
        "created_at": iso_ms(row.created_at),
        "group_key": f"ungrouped-{row.id}",
        "account": account,
    }
    if status is not None:
        entity["status"] = status
    if row.kind in OUR_TYPES:
        entity["ourdesign_type"] = OUR_TYPES[row.kind]
    return entity

"""A Delete or an Undo cancels what it would chase: pending deliveries of the same object.

When a note is deleted before its Create reached an inbox, or a Follow, Like or Announce
is undone before it went out, sending the first and then the second only makes the peer
store and then drop it (and a peer that ignores a Delete of an unknown object keeps the
note for good). So the pending, unclaimed deliveries of those activities to the same
inboxes are cancelled, and where none of them was ever attempted the Delete or Undo is not
sent there either: that peer never heard of the object. A delivery already on the wire is
left alone; the Delete or Undo follows it, in order (outbox.delivery).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.db import utcnow
from federation.queue import CANCELLED, PENDING
from outbox.models import Delivery, OutboxActivity

# What each kind of withdrawal cancels: activities about the same object, or the very
# activity undone.
CANCELS_SAME_OBJECT: dict[str, tuple[str, ...]] = {"Delete": ("Create", "Update")}
CANCELS_ACTIVITY: dict[str, tuple[str, ...]] = {"Undo": ("Follow", "Like", "Announce")}


async def cancel_superseded(
    session: AsyncSession, activity: OutboxActivity, inboxes: set[str]
) -> set[str]:
    """Cancel the pending deliveries `activity` withdraws to `inboxes`; return the inboxes
    it still has to be sent to. The caller commits."""
    superseded = _superseded(activity)
    if superseded is None or not inboxes or not activity.object_uri:
        return inboxes
    now = utcnow()
    rows = (
        await session.execute(
            select(Delivery.id, Delivery.inbox_url, Delivery.attempts)
            .join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
            .where(
                superseded,
                OutboxActivity.actor_id == activity.actor_id,
                OutboxActivity.id != activity.id,
                Delivery.inbox_url.in_(inboxes),
                Delivery.state == PENDING,
                or_(Delivery.locked_until.is_(None), Delivery.locked_until <= now),
            )
        )
    ).all()
    if not rows:
        return inboxes
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_([row.id for row in rows]), Delivery.state == PENDING)
        .values(state=CANCELLED, last_error=f"cancelled by {activity.type} {activity.uri}")
        .execution_options(synchronize_session=False)
    )
    unheard = {row.inbox_url for row in rows} - {row.inbox_url for row in rows if row.attempts}
    return inboxes - unheard


def _superseded(activity: OutboxActivity) -> ColumnElement[bool] | None:
    if activity.type in CANCELS_SAME_OBJECT:
        types = CANCELS_SAME_OBJECT[activity.type]
        return OutboxActivity.type.in_(types) & (OutboxActivity.object_uri == activity.object_uri)
    if activity.type in CANCELS_ACTIVITY:
        types = CANCELS_ACTIVITY[activity.type]
        return OutboxActivity.type.in_(types) & (OutboxActivity.uri == activity.object_uri)
    return None

"""Received polls and votes: a remote Question becomes a poll here (and its `Update`s
refresh the counts); a vote on our poll (a Note naming an option, in reply to the
Question) is counted and the new counts are sent back out."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.errors import ValidationError
from inbox.context import HandlerContext
from objects.convert import first_id
from objects.notes import get_note
from objects.polls import poll_of, record_votes, store_remote_poll, vote_choice
from outbox.polls import send_poll_update


def is_vote(obj: dict[str, Any]) -> bool:
    """Mastodon's test: a Note with a `name` replying to something (and no text)."""
    return (
        obj.get("type") == "Note"
        and isinstance(obj.get("name"), str)
        and first_id(obj.get("inReplyTo")) is not None
        and not obj.get("content")
    )


async def on_vote(
    ctx: HandlerContext, session: AsyncSession, obj: dict[str, Any], actor: Actor
) -> bool:
    """Count a remote person's vote on our poll; False when `obj` votes on no poll of ours
    (then it is an ordinary note)."""
    question = first_id(obj.get("inReplyTo")) or ""
    poll = await poll_of(session, question)
    if poll is None or not poll.local:
        return False
    choice = vote_choice(poll, obj)
    note = await get_note(session, question)
    if choice is None or note is None or note.deleted_at is not None:
        return True  # a vote for no option, or on a deleted poll: dropped
    try:
        votes = await record_votes(session, poll, actor, [choice], one_by_one=True)
    except ValidationError:
        return True  # closed, or a second vote on a one-choice poll: not counted
    for row in votes:
        row.uri = str(obj.get("id"))
    author = await session.get(Actor, note.actor_id)
    assert author is not None
    await send_poll_update(session, ctx.urls, author, note)
    return True


async def on_question(session: AsyncSession, obj: dict[str, Any]) -> None:
    """A received Question (created or updated): its poll as its server says."""
    if obj.get("type") == "Question" and isinstance(obj.get("id"), str):
        await store_remote_poll(session, obj["id"], obj)

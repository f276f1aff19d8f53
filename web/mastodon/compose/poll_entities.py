"""Mastodon's Poll entity, and the poll a new status asks, as apps send it: JSON
(`"poll": {"options": [...], "expires_in": 300}`) or a form (`poll[options][]=…`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from objects.convert import iso
from objects.models import Poll, PollVote
from objects.polls import PollDraft, check_poll, expired

TRUE_WORDS = ("true", "1", "on", "yes")


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in TRUE_WORDS)


def poll_in(body: dict[str, Any]) -> PollDraft | None:
    """The poll of a POST /api/v1/statuses, checked (None: it has none)."""
    poll = body.get("poll")
    if isinstance(poll, dict):
        fields = poll
    else:
        prefix = "poll["
        fields = {
            name[len(prefix) : -1]: value
            for name, value in body.items()
            if name.startswith(prefix) and name.endswith("]")
        }
    if not fields:
        return None
    options = fields.get("options")
    return check_poll(
        options,
        fields.get("expires_in", ""),
        _flag(fields.get("multiple")),
        _flag(fields.get("hide_totals")),
    )


async def polls_by_note(
    session: AsyncSession, viewer: Actor | None, note_uris: Iterable[str]
) -> tuple[dict[str, Poll], dict[int, list[int]]]:
    """The polls of the notes, and the viewer's choices in each (by poll id): two queries."""
    uris = set(note_uris)
    if not uris:
        return {}, {}
    polls = {
        poll.note_uri: poll
        for poll in await session.scalars(select(Poll).where(Poll.note_uri.in_(uris)))
    }
    return polls, await own_votes(session, viewer, [poll.id for poll in polls.values()])


async def own_votes(
    session: AsyncSession, viewer: Actor | None, poll_ids: list[int]
) -> dict[int, list[int]]:
    if viewer is None or not poll_ids:
        return {}
    rows = await session.execute(
        select(PollVote.poll_id, PollVote.choice)
        .where(PollVote.actor_id == viewer.id, PollVote.poll_id.in_(poll_ids))
        .order_by(PollVote.choice)
    )
    found: dict[int, list[int]] = {}
    for poll_id, choice in rows.all():
        found.setdefault(poll_id, []).append(choice)
    return found


def poll_entity(poll: Poll, mine: list[int] | None, *, is_author: bool) -> dict[str, Any]:
    """Mastodon's Poll; with hide_totals the counts are null until it ends (but for its
    author)."""
    ended = expired(poll)
    hidden = poll.hide_totals and not ended and not is_author
    return {
        "id": str(poll.id),
        "expires_at": iso(poll.expires_at) if poll.expires_at else None,
        "expired": ended,
        "multiple": poll.multiple,
        "votes_count": sum(poll.counts),
        "voters_count": poll.voters_count if poll.multiple else sum(poll.counts),
        "options": [
            {"title": title, "votes_count": None if hidden else count}
            for title, count in zip(poll.options, poll.counts, strict=True)
        ],
        "emojis": [],
        "voted": bool(mine),
        "own_votes": mine or [],
    }

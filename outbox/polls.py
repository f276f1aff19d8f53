"""Votes and poll results on the wire, as Mastodon sends them.

A vote is a `Create` of a `Note` whose `name` is the chosen option and whose `inReplyTo`
is the Question, addressed to the poll's author only, one per choice. Our poll's counts go
out as an `Update` of the Question to its audience and, privately (`bcc`), to the voters,
so that a remote voter sees the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.urls import LocalUrls
from federation.vocab import AS_CONTEXT
from objects.models import Note, Poll, PollVote
from objects.polls import record_votes
from outbox import activities
from outbox.publish import publish


async def vote(
    session: AsyncSession,
    urls: LocalUrls,
    voter: Actor,
    note: Note,
    poll: Poll,
    choices: Sequence[int],
) -> None:
    """A local person's vote: counted, then sent (to a remote poll's author) or announced
    (our poll's new counts); the caller commits."""
    votes = await record_votes(session, poll, voter, choices)
    author = await session.get(Actor, note.actor_id)
    assert author is not None
    if poll.local:
        await send_poll_update(session, urls, author, note)
        return
    for row in votes:
        row.uri = f"{voter.uri}#votes/{row.id}"
        await publish(session, urls, voter, _vote_activity(voter, author, note, poll, row))


def _vote_activity(
    voter: Actor, author: Actor, note: Note, poll: Poll, row: PollVote
) -> dict[str, Any]:
    assert row.uri is not None
    return {
        "@context": AS_CONTEXT,
        "id": f"{row.uri}/activity",
        "type": "Create",
        "actor": voter.uri,
        "to": [author.uri],
        "object": {
            "id": row.uri,
            "type": "Note",
            "name": poll.options[row.choice],
            "attributedTo": voter.uri,
            "to": [author.uri],
            "inReplyTo": note.uri,
        },
    }


async def send_poll_update(
    session: AsyncSession, urls: LocalUrls, author: Actor, note: Note
) -> None:
    """Our poll's current counts, as an `Update` of the Question (see `objects.polls`)."""
    voters = await session.scalars(
        select(Actor.uri)
        .join(PollVote, PollVote.actor_id == Actor.id)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.note_uri == note.uri, Actor.local.is_(False))
        .distinct()
    )
    activity = activities.update_note(urls, author, note)
    activity["bcc"] = sorted(set(voters))
    await publish(session, urls, author, activity)

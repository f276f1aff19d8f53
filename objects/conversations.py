"""A person's conversations, as Mastodon's conversations API shows them: threads of direct
statuses the person may read (`objects.visibility` decides; no one else's direct statuses
are ever among them), less those of accounts they hide (`objects.hiding`).

A conversation is a chain of direct replies; its id is its first direct note's. It is
found from the latest MAX_NOTES direct notes, so a very old conversation drops off the
list, as on a Mastodon server that pruned it. `ConversationMark` keeps what the person
did: read up to a note, removed up to a note (a newer status brings it back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import visible
from objects.conversation_models import ConversationMark
from objects.hiding import wanted_by
from objects.models import Note
from objects.visibility import DIRECT, readable_by

MAX_NOTES = 2000


@dataclass
class Conversation:
    root_id: int
    notes: list[Note]  # newest first
    mark: ConversationMark | None

    @property
    def last(self) -> Note:
        return self.notes[0]

    def unread_for(self, me: Actor) -> bool:
        read = self.mark.read_through if self.mark else 0
        return any(note.id > read and note.actor_id != me.id for note in self.notes)

    def participant_uris(self) -> set[str]:
        addressed = {
            uri for note in self.notes for uri in [*note.to.get("to", []), *note.to.get("cc", [])]
        }
        return addressed


async def conversations_of(session: AsyncSession, me: Actor) -> list[Conversation]:
    """The person's conversations not removed since their last status, latest first."""
    notes = list(
        await session.scalars(
            select(Note)
            .join(Actor, Actor.id == Note.actor_id)
            .where(
                Note.visibility == DIRECT,
                Note.deleted_at.is_(None),
                visible(),
                readable_by(me),
                wanted_by(me, Note),
            )
            .order_by(Note.id.desc())
            .limit(MAX_NOTES)
        )
    )
    by_uri = {note.uri: note for note in notes}
    threads: dict[int, list[Note]] = {}
    for note in notes:  # newest first, so each thread's notes are too
        threads.setdefault(_root(note, by_uri).id, []).append(note)
    marks = {
        mark.root_note_id: mark
        for mark in await session.scalars(
            select(ConversationMark).where(ConversationMark.actor_id == me.id)
        )
    }
    found = [Conversation(root, thread, marks.get(root)) for root, thread in threads.items()]
    shown = [c for c in found if c.mark is None or c.last.id > c.mark.removed_through]
    return sorted(shown, key=lambda c: c.last.id, reverse=True)


def _root(note: Note, by_uri: dict[str, Note]) -> Note:
    seen = {note.uri}
    while note.in_reply_to in by_uri and note.in_reply_to not in seen:
        note = by_uri[note.in_reply_to]
        seen.add(note.uri)
    return note


async def mark(
    session: AsyncSession, me: Actor, conversation: Conversation, *, removed: bool
) -> None:
    """Mark the conversation read (and with `removed`, removed) up to its last status; the
    caller commits."""
    row = conversation.mark
    if row is None:
        row = ConversationMark(
            actor_id=me.id, root_note_id=conversation.root_id, read_through=0, removed_through=0
        )
        session.add(row)
        conversation.mark = row
    row.read_through = max(row.read_through, conversation.last.id)
    if removed:
        row.removed_through = max(row.removed_through, conversation.last.id)


async def participant_ids(
    session: AsyncSession, me: Actor, conversations: Iterable[Conversation]
) -> dict[int, list[int]]:
    """For each conversation, the other accounts in it: authors and those addressed."""
    chosen = list(conversations)
    uris = set().union(*(c.participant_uris() for c in chosen)) if chosen else set()
    known = dict(
        (uri, actor_id)
        for uri, actor_id in await session.execute(
            select(Actor.uri, Actor.id).where(Actor.uri.in_(uris), visible())
        )
    )
    found: dict[int, list[int]] = {}
    for conversation in chosen:
        ids = [note.actor_id for note in reversed(conversation.notes)]
        ids += [known[uri] for uri in sorted(conversation.participant_uris()) if uri in known]
        found[conversation.root_id] = [i for i in dict.fromkeys(ids) if i != me.id]
    return found

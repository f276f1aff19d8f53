"""Polls: Mastodon's polls, ActivityStreams' `Question` with `oneOf` (one choice) or
`anyOf` (several). The same rules for our polls and remote ones, for votes cast here and
votes received (`outbox.polls` sends them, `inbox.poll_handlers` receives them).

Our poll's Question fields live in its note's document (`question`), rewritten whenever a
vote is counted, so that every way the note is served or sent shows the current counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from federation.db import utcnow
from federation.errors import ValidationError
from objects.convert import iso, parse_time
from objects.html import plain_text
from objects.models import Note, Poll, PollVote

MAX_OPTIONS = 4
MAX_REMOTE_OPTIONS = 20
MAX_OPTION_CHARS = 50
MIN_EXPIRY_SECONDS = 300
MAX_EXPIRY_SECONDS = 2_629_746  # a month, as Mastodon allows
QUESTION = "question"  # the note document's key for our poll's Question fields


@dataclass(frozen=True)
class PollDraft:
    options: list[str]
    expires_in: int
    multiple: bool
    hide_totals: bool


def check_poll(options: Any, expires_in: Any, multiple: bool, hide_totals: bool) -> PollDraft:
    """A new poll as Mastodon checks one: 2 to 4 distinct options of at most 50 characters,
    open from five minutes to a month."""
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise ValidationError(f"a poll needs 2 to {MAX_OPTIONS} options (poll[options][])")
    titles = [option.strip() if isinstance(option, str) else "" for option in options]
    if any(not title or len(title) > MAX_OPTION_CHARS for title in titles):
        raise ValidationError(f"each poll option is text of 1 to {MAX_OPTION_CHARS} characters")
    if len(set(titles)) != len(titles):
        raise ValidationError("the poll's options must differ from each other")
    seconds = str(expires_in).strip()
    if not seconds.isdigit() or not MIN_EXPIRY_SECONDS <= int(seconds) <= MAX_EXPIRY_SECONDS:
        raise ValidationError(
            f"poll[expires_in] is seconds from {MIN_EXPIRY_SECONDS} to {MAX_EXPIRY_SECONDS}"
        )
    return PollDraft(titles, int(seconds), multiple, hide_totals)


def expired(poll: Poll, now: dt.datetime | None = None) -> bool:
    return poll.expires_at is not None and poll.expires_at <= (now or utcnow())


def add_local_poll(session: AsyncSession, note: Note, draft: PollDraft) -> Poll:
    """Our new poll on a note about to be sent: its Question fields go in the document."""
    poll = Poll(
        note_uri=note.uri,
        local=True,
        multiple=draft.multiple,
        hide_totals=draft.hide_totals,
        expires_at=utcnow() + dt.timedelta(seconds=draft.expires_in),
        options=draft.options,
        counts=[0] * len(draft.options),
        voters_count=0,
    )
    session.add(poll)
    note.document = {**(note.document or {}), QUESTION: question_fields(poll)}
    return poll


def question_fields(poll: Poll) -> dict[str, Any]:
    """The poll as Mastodon's NoteSerializer writes a Question's own fields."""
    options = [
        {"type": "Note", "name": title, "replies": {"type": "Collection", "totalItems": count}}
        for title, count in zip(poll.options, poll.counts, strict=True)
    ]
    fields: dict[str, Any] = {
        "anyOf" if poll.multiple else "oneOf": options,
        "votersCount": poll.voters_count,
    }
    if poll.expires_at is not None:
        fields["endTime"] = iso(poll.expires_at)
        if expired(poll):
            fields["closed"] = iso(poll.expires_at)
    return fields


async def poll_of(session: AsyncSession, note_uri: str) -> Poll | None:
    return await session.scalar(select(Poll).where(Poll.note_uri == note_uri))


async def record_votes(
    session: AsyncSession,
    poll: Poll,
    voter: Actor,
    choices: Sequence[int],
    *,
    one_by_one: bool = False,
) -> list[PollVote]:
    """The voter's choices, checked as Mastodon checks them (the poll open, a valid option,
    one choice unless multiple, no second vote); the counts follow. `one_by_one`: a remote
    voter's choices in a multiple-choice poll arrive one activity each."""
    if expired(poll):
        raise ValidationError("Validation failed: The poll has already ended")
    wanted = list(dict.fromkeys(choices))
    if not wanted or any(not 0 <= choice < len(poll.options) for choice in wanted):
        raise ValidationError(f"choices are option numbers from 0 to {len(poll.options) - 1}")
    if len(wanted) > 1 and not poll.multiple:
        raise ValidationError("this poll takes one choice")
    earlier = await session.scalar(
        select(PollVote.id).where(PollVote.poll_id == poll.id, PollVote.actor_id == voter.id)
    )
    if earlier is not None and one_by_one and poll.multiple:
        chosen = await session.scalars(
            select(PollVote.choice).where(
                PollVote.poll_id == poll.id, PollVote.actor_id == voter.id
            )
        )
        wanted = [choice for choice in wanted if choice not in set(chosen)]
        if not wanted:
            return []
    elif earlier is not None:
        raise ValidationError("Validation failed: You have already voted on this poll")
    votes = [PollVote(poll_id=poll.id, actor_id=voter.id, choice=choice) for choice in wanted]
    session.add_all(votes)
    await session.flush()
    if poll.local:
        await recount(session, poll)
    else:  # counted here until the poll's server sends the new counts
        poll.counts = [c + (i in wanted) for i, c in enumerate(poll.counts)]
        poll.voters_count += 1
    return votes


async def recount(session: AsyncSession, poll: Poll) -> None:
    """Our poll's counts from its votes, and its Question fields in the note's document."""
    rows = await session.execute(
        select(PollVote.choice, func.count())
        .where(PollVote.poll_id == poll.id)
        .group_by(PollVote.choice)
    )
    by_choice: dict[int, int] = {choice: count for choice, count in rows.all()}
    poll.counts = [by_choice.get(i, 0) for i in range(len(poll.options))]
    poll.voters_count = int(
        await session.scalar(
            select(func.count(distinct(PollVote.actor_id))).where(PollVote.poll_id == poll.id)
        )
        or 0
    )
    poll.updated_at = utcnow()
    note = await session.scalar(select(Note).where(Note.uri == poll.note_uri))
    if note is not None:
        note.document = {**(note.document or {}), QUESTION: question_fields(poll)}


# Remote polls


def parse_question(doc: dict[str, Any]) -> tuple[list[str], list[int], bool] | None:
    """A received Question's options, their counts and whether several may be chosen."""
    multiple = isinstance(doc.get("anyOf"), list)
    items = doc.get("anyOf") if multiple else doc.get("oneOf")
    if not isinstance(items, list) or not items:
        return None
    titles: list[str] = []
    counts: list[int] = []
    for item in items[:MAX_REMOTE_OPTIONS]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        titles.append(plain_text(item["name"], 200))
        replies = item.get("replies")
        total = replies.get("totalItems") if isinstance(replies, dict) else 0
        counts.append(total if isinstance(total, int) and total >= 0 else 0)
    return titles, counts, multiple


async def store_remote_poll(session: AsyncSession, note_uri: str, doc: dict[str, Any]) -> None:
    """Keep (or refresh) a received Question's poll: options, counts, voters and end."""
    parsed = parse_question(doc) if doc.get("type") == "Question" else None
    if parsed is None:
        return
    titles, counts, multiple = parsed
    closed, ends = doc.get("closed"), doc.get("endTime")
    voters = doc.get("votersCount")
    poll = await poll_of(session, note_uri)
    if poll is None:
        poll = Poll(note_uri=note_uri, local=False, options=titles, multiple=multiple)
        session.add(poll)
    elif poll.options != titles:
        return  # another poll under the same note: not something Mastodon sends
    poll.counts = counts
    poll.voters_count = voters if isinstance(voters, int) and voters >= 0 else max(counts)
    if isinstance(closed, str):
        poll.expires_at = parse_time(closed)
    elif closed:  # `closed: true`, as some servers say it
        poll.expires_at = min(poll.expires_at or utcnow(), utcnow())
    else:
        poll.expires_at = parse_time(ends) if isinstance(ends, str) else None
    poll.updated_at = utcnow()


def vote_choice(poll: Poll, doc: dict[str, Any]) -> int | None:
    """The option a received vote (a Note with `name` = the option) chooses."""
    name = doc.get("name")
    if not isinstance(name, str) or name not in poll.options:
        return None
    return poll.options.index(name)

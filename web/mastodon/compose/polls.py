"""Mastodon's polls: read one, vote in one. Creating a poll is part of posting a status
(`web.mastodon_polls.poll_in`); the rules are `objects.polls`', the wire `outbox.polls`'."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from federation.errors import ValidationError
from objects.models import Note, Poll
from outbox.polls import vote
from web.account_json import form_or_json, listed_fields
from web.bearer import token_actor, viewer_actor
from web.instance import instance_of
from web.mastodon.compose.poll_entities import own_votes, poll_entity
from web.mastodon.paging import NOT_FOUND
from web.mastodon.reading import check_readable
from web.request_input import whole_id
from web.scopes import ScopedRoute


async def _readable_poll(
    session: AsyncSession, viewer: Actor | None, poll_id: str
) -> tuple[Poll, Note]:
    poll = await session.get(Poll, whole_id(poll_id, NOT_FOUND))
    note = (
        None
        if poll is None
        else await session.scalar(select(Note).where(Note.uri == poll.note_uri))
    )
    # The status's own rule (visibility, shown author, blocks), so a poll is no side door.
    await check_readable(session, viewer, note)
    assert poll is not None and note is not None
    return poll, note


async def _entity(session: AsyncSession, viewer: Actor | None, poll: Poll, note: Note) -> Any:
    mine = (await own_votes(session, viewer, [poll.id])).get(poll.id)
    return poll_entity(poll, mine, is_author=viewer is not None and viewer.id == note.actor_id)


async def get_poll(request: Request) -> Response:
    instance = instance_of(request)
    viewer = await viewer_actor(request)
    async with instance.sessions() as session:
        poll, note = await _readable_poll(session, viewer, request.path_params["id"])
        return JSONResponse(await _entity(session, viewer, poll, note))


def _choices(body: dict[str, Any]) -> list[int]:
    raw = body.get("choices")
    values = raw if isinstance(raw, list) else [] if raw in (None, "") else [raw]
    if not values or not all(str(value).isdigit() and len(str(value)) < 4 for value in values):
        raise ValidationError("choices[] are the numbers of the options chosen, from 0")
    return [int(value) for value in values]


async def vote_in_poll(request: Request) -> Response:
    """Vote (once); a closed poll, an unknown option or a second vote is 422."""
    instance = instance_of(request)
    me = await token_actor(request)
    body = await form_or_json(request, instance.settings.max_body_bytes, listed_fields)
    choices = _choices(body)
    async with instance.sessions() as session:
        poll, note = await _readable_poll(session, me, request.path_params["id"])
        await vote(session, instance.urls, me, note, poll, choices)
        await session.commit()
        entity = await _entity(session, me, poll, note)
    instance.wake_delivery()
    return JSONResponse(entity)


routes = [
    ScopedRoute("/api/v1/polls/{id}", get_poll, methods=["GET"], scope="read:statuses"),
    ScopedRoute("/api/v1/polls/{id}/votes", vote_in_poll, methods=["POST"], scope="write:statuses"),
]

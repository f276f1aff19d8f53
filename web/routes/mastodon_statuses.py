"""Mastodon's client API for statuses: posting, reading, deleting, threads, favourites, boosts.

Writes go through `outbox.c2s.submit` (and a reply to a design version through
`outbox.comments`), so they federate exactly as posts to the ActivityPub outbox do.
Status ids are explained in `web.mastodon_status`.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.moderation import visible
from federation.errors import FederationError, ValidationError
from federation.vocab import PUBLIC
from objects.design_models import DesignVersion
from objects.designs import project_of
from objects.html import plain_text, text_to_html
from objects.models import ANNOUNCE, LIKE, Interaction, Note
from outbox.c2s import submit
from outbox.comments import add_comment, check_comment, resolve_comment_target
from web.account_json import form_pairs
from web.http import json_body
from web.instance import Instance, instance_of
from web.mastodon_paging import NOT_FOUND, find_item
from web.mastodon_status import Item, account_entities, status_context, status_entities
from web.oauth import scoped_actor
from web.stream_audience import publish_delete

IDEMPOTENCY_SECONDS = 3600
MAX_THREAD = 200
MAX_REACTORS = 40
READ = "read:statuses"
WRITE_STATUSES = "write:statuses"
WRITE_FAVOURITES = "write:favourites"
READABLE = ("public", "unlisted")


# Reading


async def viewer_of(request: Request, scope: str = READ) -> Actor | None:
    """The signed-in person when the request carries a token; reading needs none."""
    if "authorization" not in request.headers:
        return None
    return await scoped_actor(request, scope)


async def entities(
    session: AsyncSession, instance: Instance, viewer: Actor | None, items: list[Item]
) -> list[dict[str, Any]]:
    context = await status_context(
        session,
        instance.urls,
        instance.policy,
        viewer,
        items,
        rejects_media=instance.blocks.rejects_media,
    )
    return status_entities(items, context)


async def readable_item(session: AsyncSession, viewer: Actor | None, status_id: str) -> Item:
    """The status, if it exists, is not deleted, its author is shown and the viewer may see it."""
    item = await find_item(session, status_id)
    if item is None or item.deleted_at is not None or not await _author_shown(session, item):
        raise FederationError(NOT_FOUND, status=404)
    if isinstance(item, Note) and not await _may_read(session, viewer, item):
        raise FederationError(NOT_FOUND, status=404)
    return item


async def _author_shown(session: AsyncSession, item: Item) -> bool:
    actor: Actor | None
    if isinstance(item, DesignVersion):
        actor = (await project_of(session, item))[1]
    else:
        actor = await session.get(Actor, item.actor_id)
    return actor is not None and actor.deleted_at is None and actor.suspended_at is None


async def _may_read(session: AsyncSession, viewer: Actor | None, note: Note) -> bool:
    if note.visibility in READABLE:
        return True
    if viewer is None:
        return False
    if viewer.id == note.actor_id:
        return True
    if note.visibility == "followers":
        state = await session.scalar(
            select(Follow.state).where(
                Follow.follower_id == viewer.id, Follow.followee_id == note.actor_id
            )
        )
        return state == FOLLOW_ACCEPTED
    return viewer.uri in note.to.get("to", []) + note.to.get("cc", [])


async def get_status(request: Request) -> Response:
    instance = instance_of(request)
    viewer = await viewer_of(request)
    async with instance.sessions() as session:
        item = await readable_item(session, viewer, request.path_params["id"])
        [entity] = await entities(session, instance, viewer, [item])
    return JSONResponse(entity)


async def status_thread(request: Request) -> Response:
    """Ancestors oldest first, then every reply below the status (up to MAX_THREAD)."""
    instance = instance_of(request)
    viewer = await viewer_of(request)
    async with instance.sessions() as session:
        item = await readable_item(session, viewer, request.path_params["id"])
        ancestors = await _ancestors(session, viewer, item)
        descendants = await _descendants(session, viewer, item.uri)
        shown = await entities(session, instance, viewer, [*ancestors, *descendants])
    return JSONResponse(
        {"ancestors": shown[: len(ancestors)], "descendants": shown[len(ancestors) :]}
    )


async def _ancestors(session: AsyncSession, viewer: Actor | None, item: Item) -> list[Item]:
    found: list[Item] = []
    parent_uri = item.in_reply_to if isinstance(item, Note) else None
    while parent_uri and len(found) < MAX_THREAD:
        parent: Item | None = await session.scalar(select(Note).where(Note.uri == parent_uri))
        if parent is None:
            parent = await session.scalar(
                select(DesignVersion).where(DesignVersion.uri == parent_uri)
            )
        if parent is None or parent.deleted_at is not None:
            break
        if isinstance(parent, Note) and not await _may_read(session, viewer, parent):
            break
        found.append(parent)
        parent_uri = parent.in_reply_to if isinstance(parent, Note) else None
    return found[::-1]


async def _descendants(session: AsyncSession, viewer: Actor | None, uri: str) -> list[Note]:
    """Replies level by level (one query per level), then in publication order."""
    found: list[Note] = []
    frontier = [uri]
    while frontier and len(found) < MAX_THREAD:
        replies = await session.scalars(
            select(Note)
            .join(Actor, Actor.id == Note.actor_id)
            .where(Note.in_reply_to.in_(frontier), Note.deleted_at.is_(None), visible())
            .order_by(Note.id)
            .limit(MAX_THREAD - len(found))
        )
        level = [note for note in replies if await _may_read(session, viewer, note)]
        found += level
        frontier = [note.uri for note in level]
    return sorted(found, key=lambda note: (note.published, note.id))


# Posting and deleting


async def post_status(request: Request) -> Response:
    instance = instance_of(request)
    me = await scoped_actor(request, WRITE_STATUSES)
    body = await _status_body(request, instance)
    key = request.headers.get("idempotency-key", "").strip()
    earlier = _remembered(request, me, key)
    if earlier is not None:
        return await _answer(instance, me, earlier)
    text, spoiler, visibility = _check_status(body)
    parent_id = body.get("in_reply_to_id")
    parent_id = str(parent_id) if parent_id not in (None, "") else None
    note_uri = await _publish_status(instance, me, text, spoiler, visibility, parent_id)
    _remember(request, me, key, note_uri)
    instance.wake_delivery()
    instance.streaming.wake()
    return await _answer(instance, me, note_uri)


async def _answer(instance: Instance, me: Actor, note_uri: str) -> Response:
    async with instance.sessions() as session:
        note = await session.scalar(select(Note).where(Note.uri == note_uri))
        assert note is not None
        [entity] = await entities(session, instance, me, [note])
    return JSONResponse(entity)


async def _status_body(request: Request, instance: Instance) -> dict[str, Any]:
    pairs = await form_pairs(request)
    if pairs is None:
        return await json_body(request, instance.settings.max_body_bytes)
    body: dict[str, Any] = {}
    for name, value in pairs:
        if name.endswith("[]"):
            body.setdefault(name[:-2], []).append(value)
        else:
            body[name] = value
    return body


def _check_status(body: dict[str, Any]) -> tuple[str, str | None, str]:
    if body.get("media_ids"):
        raise ValidationError("media attachments are not supported yet: leave out media_ids")
    if body.get("poll"):
        raise ValidationError("polls are not supported")
    text = body.get("status")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("Validation failed: Text can't be blank")
    visibility = body.get("visibility") or "public"
    if visibility not in ("public", "unlisted"):
        raise ValidationError(
            f"visibility {visibility!r:.40} is not supported yet: use public or unlisted"
        )
    spoiler = body.get("spoiler_text")
    spoiler = spoiler.strip() if isinstance(spoiler, str) and spoiler.strip() else None
    check_comment(text, spoiler)
    return text.strip(), spoiler, str(visibility)


async def _publish_status(
    instance: Instance,
    me: Actor,
    text: str,
    spoiler: str | None,
    visibility: str,
    parent_id: str | None,
) -> str:
    """Store and send the note; returns its URI."""
    parent = await _parent(instance, me, parent_id)
    if isinstance(parent, DesignVersion):
        return await _comment_on_design(instance, me, parent, text, spoiler, visibility)
    followers = me.followers_url or ""
    to, cc = ([PUBLIC], [followers]) if visibility == "public" else ([followers], [PUBLIC])
    # Mastodon's `status` is plain text: made HTML here, so "<" in it is text, not markup.
    content = text_to_html(text)
    note: dict[str, Any] = {"type": "Note", "content": content, "to": to, "cc": cc}
    if spoiler:
        note |= {"summary": spoiler, "sensitive": True}
    if parent is not None:
        note["inReplyTo"] = parent.uri
    async with instance.sessions() as session:
        row = await submit(session, instance.resolver, me, note)
        await session.commit()
    assert row.object_uri is not None
    return row.object_uri


async def _parent(instance: Instance, me: Actor, parent_id: str | None) -> Item | None:
    if parent_id is None:
        return None
    async with instance.sessions() as session:
        try:
            return await readable_item(session, me, parent_id)
        except FederationError as error:
            raise ValidationError(f"in_reply_to_id: {error.message}", status=404) from error


async def _comment_on_design(
    instance: Instance,
    me: Actor,
    version: DesignVersion,
    text: str,
    spoiler: str | None,
    visibility: str,
) -> str:
    """A reply to a design version is a comment on the design: public, sent to the project."""
    if visibility != "public":
        raise ValidationError("a reply to a design is a public comment: use visibility public")
    target = await resolve_comment_target(
        instance.sessions, instance.resolver, instance.policy, version.uri
    )
    async with instance.sessions() as session:
        note, _ = await add_comment(session, instance.urls, me, target, text, summary=spoiler)
        await session.commit()
    return note.uri


# Idempotency keys live in memory, per running instance (no table): a restart forgets them.


def _seen_keys(request: Request) -> dict[tuple[int, str], tuple[float, str]]:
    if not hasattr(request.app.state, "status_idempotency"):
        request.app.state.status_idempotency = {}
    seen: dict[tuple[int, str], tuple[float, str]] = request.app.state.status_idempotency
    return seen


def _remembered(request: Request, me: Actor, key: str) -> str | None:
    if not key:
        return None
    seen = _seen_keys(request)
    now = time.monotonic()
    for stale in [k for k, (at, _) in seen.items() if now - at > IDEMPOTENCY_SECONDS]:
        del seen[stale]
    found = seen.get((me.id, key))
    return found[1] if found else None


def _remember(request: Request, me: Actor, key: str, note_uri: str) -> None:
    if key:
        _seen_keys(request)[(me.id, key[:200])] = (time.monotonic(), note_uri)


async def delete_status(request: Request) -> Response:
    """Delete one's own note; the answer is the status as it was, with its text."""
    instance = instance_of(request)
    me = await scoped_actor(request, WRITE_STATUSES)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
        if not isinstance(item, Note) or item.actor_id != me.id:
            raise FederationError(NOT_FOUND, status=404)
        [entity] = await entities(session, instance, me, [item])
        await submit(session, instance.resolver, me, {"type": "Delete", "object": item.uri})
        await session.commit()
    instance.wake_delivery()
    await publish_delete(instance, item)
    return JSONResponse({**entity, "text": plain_text(entity["content"])})


# Favourites and boosts


async def favourite(request: Request) -> Response:
    return await _react(request, LIKE, undo=False)


async def unfavourite(request: Request) -> Response:
    return await _react(request, LIKE, undo=True)


async def reblog(request: Request) -> Response:
    return await _react(request, ANNOUNCE, undo=False)


async def unreblog(request: Request) -> Response:
    return await _react(request, ANNOUNCE, undo=True)


async def _react(request: Request, kind: str, *, undo: bool) -> Response:
    """Like or Announce (or undo one) through the outbox; doing it twice changes nothing."""
    instance = instance_of(request)
    me = await scoped_actor(request, WRITE_FAVOURITES if kind == LIKE else WRITE_STATUSES)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
        if isinstance(item, DesignVersion):
            raise ValidationError("favourites and boosts of designs are not supported yet")
        sent = await session.scalar(
            select(Interaction.uri).where(
                Interaction.kind == kind,
                Interaction.actor_id == me.id,
                Interaction.object_uri == item.uri,
            )
        )
        if undo and sent is not None:
            await submit(session, instance.resolver, me, {"type": "Undo", "object": sent})
        elif not undo and sent is None:
            await submit(session, instance.resolver, me, {"type": kind, "object": item.uri})
        await session.commit()
        await session.refresh(item)
        [entity] = await entities(session, instance, me, [item])
    instance.wake_delivery()
    return JSONResponse(entity)


async def favourited_by(request: Request) -> Response:
    return await _reactors(request, LIKE)


async def reblogged_by(request: Request) -> Response:
    return await _reactors(request, ANNOUNCE)


async def _reactors(request: Request, kind: str) -> Response:
    """Who liked or boosted the status, newest first (the latest MAX_REACTORS)."""
    instance = instance_of(request)
    viewer = await viewer_of(request)
    async with instance.sessions() as session:
        item = await readable_item(session, viewer, request.path_params["id"])
        rows = await session.scalars(
            select(Actor.id)
            .join(Interaction, Interaction.actor_id == Actor.id)
            .where(Interaction.kind == kind, Interaction.object_uri == item.uri, visible())
            .order_by(Interaction.id.desc())
            .limit(MAX_REACTORS)
        )
        ids = list(rows)
        accounts = await account_entities(session, instance.urls, ids)
    return JSONResponse([accounts[i] for i in ids if i in accounts])


routes = [
    Route("/api/v1/statuses", post_status, methods=["POST"]),
    Route("/api/v1/statuses/{id}", get_status, methods=["GET"]),
    Route("/api/v1/statuses/{id}", delete_status, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}/context", status_thread, methods=["GET"]),
    Route("/api/v1/statuses/{id}/favourite", favourite, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unfavourite", unfavourite, methods=["POST"]),
    Route("/api/v1/statuses/{id}/reblog", reblog, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unreblog", unreblog, methods=["POST"]),
    Route("/api/v1/statuses/{id}/favourited_by", favourited_by, methods=["GET"]),
    Route("/api/v1/statuses/{id}/reblogged_by", reblogged_by, methods=["GET"]),
]

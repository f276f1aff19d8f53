"""ActivityPub endpoints: actors, inboxes, outboxes, collections and objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.collections import count_follows, follows_page
from actors.models import Actor
from actors.proof_keys import signed_actor_document
from actors.service import INSTANCE_ACTOR_USERNAME, get_local_actor
from federation.errors import FederationError
from federation.vocab import ACTIVITY_MEDIA_TYPES
from objects.convert import note_to_as
from objects.models import Note
from objects.notes import note_with_author, replies_page
from objects.resolve import ensure_note
from objects.visibility import shown_to_all
from outbox.actor_documents import actor_document as build_actor_document
from outbox.c2s import referenced_notes, submit
from outbox.collections import count_outbox, outbox_page
from outbox.models import OutboxActivity
from web.bearer import token_actor
from web.http import (
    PAGE_SIZE,
    ActivityResponse,
    ordered_collection,
    ordered_page,
)
from web.instance import instance_of
from web.negotiation import see_page, wants_html
from web.request_input import json_body, limited_body, local_actor_or_404, query_int
from web.scopes import PUBLIC, ScopedRoute


async def actor_document(request: Request) -> Response:
    """The actor's ActivityStreams document (its page is `web.pages.actors.actor_html`)."""
    actor = await local_actor_or_404(request)
    instance = instance_of(request)
    async with instance.sessions() as session:
        doc = await build_actor_document(session, actor, instance.urls, instance.settings)
        doc = await signed_actor_document(session, actor, doc)
        await session.commit()  # the proof key, when this was its first need
    return ActivityResponse(doc)


async def instance_actor(request: Request) -> Response:
    instance = instance_of(request)
    if wants_html(request):
        return see_page("/")
    async with instance.sessions() as session:
        actor = await get_local_actor(session, INSTANCE_ACTOR_USERNAME)
        assert actor is not None
        doc = await build_actor_document(session, actor, instance.urls, instance.settings)
        doc = await signed_actor_document(session, actor, doc)
        await session.commit()
    return ActivityResponse(doc)


async def inbox(request: Request) -> Response:
    instance = instance_of(request)
    if "username" in request.path_params:
        await local_actor_or_404(request)
    body = await _read_activity_body(request, instance.settings.max_body_bytes)
    url = (
        instance.urls.base_url
        + request.url.path
        + (f"?{request.url.query}" if request.url.query else "")
    )
    received = await instance.receiver.receive(request.method, url, request.headers, body)
    return JSONResponse(
        {"status": received.message, "id": received.activity_id}, status_code=received.status
    )


async def _read_activity_body(request: Request, limit: int) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACTIVITY_MEDIA_TYPES:
        raise FederationError(
            f"send activities as application/activity+json, not {media_type or 'no content type'}",
            status=415,
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FederationError(f"the body is larger than {limit} bytes", status=413)
    return await limited_body(request, limit)


async def outbox_get(request: Request) -> Response:
    actor = await local_actor_or_404(request)
    assert actor.outbox is not None
    if wants_html(request):
        return see_page(actor.uri)
    async with instance_of(request).sessions() as session:
        if "page" not in request.query_params:
            return ActivityResponse(
                ordered_collection(actor.outbox, await count_outbox(session, actor))
            )
        rows = await outbox_page(
            session, actor, before=query_int(request, "max_id"), limit=PAGE_SIZE
        )
    items = [
        {k: v for k, v in payload.items() if k not in ("@context", "proof")} for _, payload in rows
    ]
    return ActivityResponse(_page(request, actor.outbox, items, rows, "max_id"))


def _page(
    request: Request, collection: str, items: list[Any], rows: list[Any], cursor: str
) -> dict[str, Any]:
    next_cursor = rows[-1][0] if len(rows) == PAGE_SIZE else None
    return ordered_page(collection, str(request.url), items, next_cursor, cursor)


async def outbox_post(request: Request) -> Response:
    instance = instance_of(request)
    actor = await local_actor_or_404(request)
    await _authorize(request, actor)
    body = await json_body(request, instance.settings.max_body_bytes)
    for uri in referenced_notes(body):
        await ensure_note(instance.sessions, instance.resolver, uri)
    async with instance.sessions() as session:
        row = await submit(session, instance.resolver, actor, body)
        await session.commit()
    instance.wake_delivery()
    return ActivityResponse(row.payload, status_code=201, headers={"Location": row.uri})


async def _authorize(request: Request, actor: Actor) -> None:
    owner = await token_actor(request)
    if owner.id != actor.id:
        raise FederationError("this token may only post to its own user's outbox", status=403)


async def follows_collection(request: Request) -> Response:
    actor = await local_actor_or_404(request)
    followers = request.url.path.endswith("/followers")
    collection = actor.followers_url if followers else actor.following_url
    assert collection is not None
    if wants_html(request):
        return see_page(actor.uri)
    async with instance_of(request).sessions() as session:
        if "page" not in request.query_params:
            total = await count_follows(session, actor, followers=followers)
            return ActivityResponse(ordered_collection(collection, total))
        before = query_int(request, "max_id")
        rows = await follows_page(
            session, actor, followers=followers, before=before, limit=PAGE_SIZE
        )
    return ActivityResponse(_page(request, collection, [uri for _, uri in rows], rows, "max_id"))


async def note_document(request: Request) -> Response:
    """The note's ActivityStreams document, for anyone when anyone may read it (a browser
    gets the page instead: web.pages.notes.note_html, joined in web.app)."""
    instance = instance_of(request)
    uri = f"{instance.urls.base_url}/notes/{request.path_params['note_id']}"
    async with instance.sessions() as session:
        row = await note_with_author(session, uri)
    if row is None:
        raise FederationError("there is no such note", status=404)
    note, author = row
    if not shown_to_all(note):  # no signed fetches here: only what anyone may read
        raise FederationError("there is no such note", status=404)
    return ActivityResponse(
        note_to_as(note, author.uri), status_code=410 if note.deleted_at else 200
    )


async def note_replies(request: Request) -> Response:
    instance = instance_of(request)
    uri = f"{instance.urls.base_url}/notes/{request.path_params['note_id']}"
    collection = f"{uri}/replies"
    async with instance.sessions() as session:
        note = await session.scalar(select(Note).where(Note.uri == uri))
        if note is None or not shown_to_all(note):
            raise FederationError("there is no such note", status=404)
        if wants_html(request):
            return see_page(f"{uri}#comments")
        if "page" not in request.query_params:
            # replies_count counts the replies anyone may read: those the pages list.
            return ActivityResponse(ordered_collection(collection, note.replies_count))
        notes = await replies_page(
            session, uri, None, after_id=query_int(request, "min_id"), limit=PAGE_SIZE
        )
    rows = [(n.id, n.uri) for n in notes]
    return ActivityResponse(_page(request, collection, [n.uri for n in notes], rows, "min_id"))


async def activity_document(request: Request) -> Response:
    instance = instance_of(request)
    uri = f"{instance.urls.base_url}/activities/{request.path_params['activity_id']}"
    async with instance.sessions() as session:
        row = await session.scalar(select(OutboxActivity).where(OutboxActivity.uri == uri))
    if row is None or not row.public:
        raise FederationError("there is no such activity", status=404)
    if wants_html(request):
        return see_page(_page_of_activity(row.payload, instance.urls.base_url))
    return ActivityResponse(row.payload)


def _page_of_activity(payload: dict[str, Any], base_url: str) -> str:
    """What a browser sees for an activity: its object when that is ours, else its actor."""
    target = payload.get("object")
    if isinstance(target, dict):
        target = target.get("id")
    for uri in (target, payload.get("actor")):
        if isinstance(uri, str) and uri.startswith(f"{base_url}/"):
            return uri
    return "/"


routes = [
    Route("/actor", instance_actor),
    Route("/inbox", inbox, methods=["POST"]),
    Route("/users/{username}/inbox", inbox, methods=["POST"]),
    ScopedRoute("/users/{username}/outbox", outbox_get, methods=["GET"], scope=PUBLIC),
    ScopedRoute("/users/{username}/outbox", outbox_post, methods=["POST"], scope="write"),
    Route("/users/{username}/followers", follows_collection),
    Route("/users/{username}/following", follows_collection),
    Route("/notes/{note_id}/replies", note_replies),
    Route("/activities/{activity_id}", activity_document),
]

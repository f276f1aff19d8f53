"""Editing statuses as Mastodon does: PUT /api/v1/statuses/:id, its history and its source.

The edit goes through `outbox.edits` (an `Update` in the transactional outbox); earlier
versions are `objects.models.NoteEdit` rows, kept for received edits too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.errors import FederationError, ValidationError
from objects.convert import iso_ms
from objects.html import plain_text, text_to_html
from objects.models import Note, NoteEdit
from outbox.comments import check_comment
from outbox.edits import SOURCE, NoteChange, edit_local_note
from web.account_json import form_or_json, language_of, listed_fields
from web.bearer import token_actor, viewer_actor
from web.instance import instance_of
from web.mastodon.entity_lists import entities
from web.mastodon.paging import NOT_FOUND
from web.mastodon.reading import readable_item
from web.mastodon.status import shown_attachments
from web.request_input import whole_id
from web.scopes import ScopedRoute

MAX_HISTORY = 100


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "on"))


def _change(body: dict[str, Any]) -> NoteChange:
    if body.get("poll") or any(name.startswith("poll[") for name in body):
        raise ValidationError("a poll cannot be changed by an edit: delete and post again")
    text = body.get("status")
    text = text.strip() if isinstance(text, str) else ""
    spoiler = body.get("spoiler_text")
    spoiler = spoiler.strip() if isinstance(spoiler, str) and spoiler.strip() else None
    media_ids: list[int] | None = None
    if "media_ids" in body:
        raw = body["media_ids"]
        values = raw if isinstance(raw, list) else [] if raw in (None, "") else [raw]
        media_ids = [
            whole_id(str(v), f"media_ids: {str(v)!r:.40} is not the id of an upload", status=422)
            for v in values
        ]
    if not text and not media_ids:
        raise ValidationError("Validation failed: Text can't be blank")
    if text:
        check_comment(text, spoiler)
    return NoteChange(
        html=text_to_html(text) if text else "",
        text=text,
        spoiler=spoiler,
        sensitive=_flag(body.get("sensitive")),
        media_ids=media_ids,
        language=language_of(body),
    )


async def edit_status(request: Request) -> Response:
    """The author's edit; the answer is the edited status (`edited_at` set)."""
    instance = instance_of(request)
    me = await token_actor(request)
    body = await form_or_json(request, instance.settings.max_body_bytes, listed_fields)
    change = _change(body)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
        if not isinstance(item, Note) or item.actor_id != me.id:
            raise FederationError(NOT_FOUND, status=404)
        await edit_local_note(session, instance.urls, me, item, change)
        await session.commit()
        await session.refresh(item)
        [entity] = await entities(session, instance, me, [item])
    instance.wake_delivery()
    instance.streaming.wake()
    return JSONResponse(entity)


async def status_history(request: Request) -> Response:
    """Every version, oldest first, the current one last (one only if never edited)."""
    instance = instance_of(request)
    viewer = await viewer_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, viewer, request.path_params["id"])
        [current] = await entities(session, instance, viewer, [item])
        earlier: list[NoteEdit] = []
        if isinstance(item, Note):
            found = await session.scalars(
                select(NoteEdit)
                .where(NoteEdit.note_uri == item.uri)
                .order_by(NoteEdit.created_at, NoteEdit.id)
                .limit(MAX_HISTORY)
            )
            earlier = list(found)
    account = current["account"]
    versions = [
        {
            "content": edit.content,
            "spoiler_text": edit.summary or "",
            "sensitive": edit.sensitive,
            "created_at": iso_ms(edit.created_at),
            "account": account,
            "poll": None,
            "media_attachments": shown_attachments(
                f"{current['id']}-edit{edit.id}", (edit.document or {}).get("attachment", [])
            ),
            "emojis": [],
        }
        for edit in earlier
    ]
    versions.append(
        {
            "content": current["content"],
            "spoiler_text": current["spoiler_text"],
            "sensitive": current["sensitive"],
            "created_at": current["edited_at"] or current["created_at"],
            "account": account,
            "poll": _poll_options(current.get("poll")),
            "media_attachments": current["media_attachments"],
            "emojis": [],
        }
    )
    return JSONResponse(versions)


def _poll_options(poll: dict[str, Any] | None) -> dict[str, Any] | None:
    if not poll:
        return None
    return {"options": [{"title": option["title"]} for option in poll["options"]]}


async def status_source(request: Request) -> Response:
    """The author's own text, to edit it: what they wrote, else the content as plain text."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
    if not isinstance(item, Note) or item.actor_id != me.id:
        raise FederationError(NOT_FOUND, status=404)
    source = (item.document or {}).get(SOURCE)
    return JSONResponse(
        {
            "id": str(item.id),
            "text": source if isinstance(source, str) else plain_text(item.content),
            "spoiler_text": item.summary or "",
        }
    )


routes = [
    ScopedRoute("/api/v1/statuses/{id}", edit_status, methods=["PUT"], scope="write:statuses"),
    ScopedRoute(
        "/api/v1/statuses/{id}/history", status_history, methods=["GET"], scope="read:statuses"
    ),
    ScopedRoute(
        "/api/v1/statuses/{id}/source", status_source, methods=["GET"], scope="read:statuses"
    ),
]

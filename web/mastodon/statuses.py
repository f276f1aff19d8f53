"""Mastodon's client API for statuses: posting, reading, deleting, threads, favourites, boosts.

Writes go through `outbox.c2s.submit` (and a reply to a design version through
`outbox.comments`), so they federate exactly as posts to the ActivityPub outbox do.
Status ids are explained in `web.mastodon.status`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.lookup import resolve_remote
from actors.models import Actor
from actors.moderation import visible
from actors.service import secret_hash
from federation.db import utcnow
from federation.errors import FederationError, ValidationError
from federation.vocab import PUBLIC
from objects.design_models import DesignVersion
from objects.hashtags import hashtag_objects, link_hashtags, tags_in_text
from objects.hiding import wanted, wanted_by
from objects.html import plain_text, text_to_html
from objects.media_models import Bookmark, StatusIdempotencyKey
from objects.models import ANNOUNCE, LIKE, Interaction, Note
from objects.polls import PollDraft
from objects.search import Item
from objects.visibility import may_read, readable_by
from outbox.c2s import MAX_MEDIA, submit
from outbox.comments import add_comment, check_comment, resolve_comment_target
from outbox.edits import keep_source
from outbox.scheduled import check_scheduled_at, schedule_status
from web.account_json import form_or_json, language_of, listed_fields
from web.bearer import token_actor, viewer_actor
from web.instance import Instance, instance_of
from web.mastodon.compose.poll_entities import poll_in
from web.mastodon.compose.scheduled_entities import parse_scheduled_at, scheduled_entities
from web.mastodon.entity_lists import accounts_json, entities
from web.mastodon.filtering import screened_entities
from web.mastodon.paging import (
    NOT_FOUND,
    find_shown,
    ids_link_header,
    items_by_uri,
    read_id_page,
)
from web.mastodon.reading import readable_item
from web.mastodon.status import MASTODON_VISIBILITY
from web.mastodon.streaming.audience import publish_delete
from web.request_input import whole_id
from web.scopes import ScopedRoute

IDEMPOTENCY_SECONDS = 3600
MAX_THREAD = 200
MAX_REACTORS = 40
READ = "read:statuses"
WRITE_STATUSES = "write:statuses"
WRITE_FAVOURITES = "write:favourites"
READ_BOOKMARKS = "read:bookmarks"
WRITE_BOOKMARKS = "write:bookmarks"
# Mastodon's visibilities to ours (a private status is for the followers).
VISIBILITIES = {mastodon: ours for ours, mastodon in MASTODON_VISIBILITY.items()}
MAX_MENTIONS = 20
# @user or @user@host, not inside a word, an e-mail address or a URL path.
MENTION = re.compile(
    r"(?<![\w@/.])@([a-z0-9_][a-z0-9_.-]*[a-z0-9_]|[a-z0-9_])(?:@([a-z0-9.-]+(?::[0-9]+)?))?", re.I
)


# Reading


async def get_status(request: Request) -> Response:
    """The status; a boost's id ("r7") shows the boost, wrapping its original."""
    instance = instance_of(request)
    viewer = await viewer_actor(request)
    async with instance.sessions() as session:
        shown = await find_shown(session, request.path_params["id"])
        if isinstance(shown, Interaction):
            found = await entities(session, instance, viewer, [shown])
            if not found or not await _booster_shown(session, shown):
                raise FederationError(NOT_FOUND, status=404)
            return JSONResponse(found[0])
        item = await readable_item(session, viewer, request.path_params["id"])
        [entity] = await entities(session, instance, viewer, [item])
    return JSONResponse(entity)


async def _booster_shown(session: AsyncSession, boost: Interaction) -> bool:
    actor = await session.get(Actor, boost.actor_id)
    return actor is not None and actor.deleted_at is None and actor.suspended_at is None


async def status_thread(request: Request) -> Response:
    """Ancestors oldest first, then every reply below the status (up to MAX_THREAD)."""
    instance = instance_of(request)
    viewer = await viewer_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, viewer, request.path_params["id"])
        # Neither side of the thread shows what the viewer hid (`objects.hiding`).
        ancestors = await wanted(session, viewer, await _ancestors(session, viewer, item))
        descendants = await _descendants(session, viewer, item.uri)
        kept, shown = await screened_entities(
            session, instance, viewer, "thread", [*ancestors, *descendants]
        )
    above = sum(1 for each in kept if any(each is ancestor for ancestor in ancestors))
    return JSONResponse({"ancestors": shown[:above], "descendants": shown[above:]})


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
        if not await may_read(session, viewer, parent):
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
            .where(
                Note.in_reply_to.in_(frontier),
                Note.deleted_at.is_(None),
                visible(),
                readable_by(viewer),
                wanted_by(viewer, Note),
            )
            .order_by(Note.id)
            .limit(MAX_THREAD - len(found))
        )
        level = list(replies)
        found += level
        frontier = [note.uri for note in level]
    return sorted(found, key=lambda note: (note.published, note.id))


# Posting and deleting


@dataclass(frozen=True)
class StatusDraft:
    """A checked POST /api/v1/statuses: what to post, before anything is looked up."""

    text: str
    spoiler: str | None
    visibility: str  # ours: public, unlisted, followers or direct
    media_ids: list[int]
    parent_id: str | None
    language: str | None = None
    poll: PollDraft | None = None


async def post_status(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    body = await form_or_json(request, instance.settings.max_body_bytes, listed_fields)
    key = _key_hash(request)
    earlier = await _remembered(instance, me, key)
    if earlier is not None:
        return await _answer(instance, me, earlier)
    draft = _check_status(body)
    scheduled_at = parse_scheduled_at(body.get("scheduled_at"))
    if scheduled_at is not None:
        return await _schedule(instance, me, draft, body, scheduled_at)
    try:
        note_uri = await _publish_status(instance, me, draft, key)
    except IntegrityError:
        # The same key, sent again while the first request was still posting: its note wins.
        earlier = await _remembered(instance, me, key)
        if earlier is None:
            raise
        return await _answer(instance, me, earlier)
    instance.wake_delivery()
    instance.streaming.wake()
    return await _answer(instance, me, note_uri)


async def _answer(instance: Instance, me: Actor, note_uri: str) -> Response:
    async with instance.sessions() as session:
        note = await session.scalar(select(Note).where(Note.uri == note_uri))
        if note is None:
            raise FederationError(NOT_FOUND, status=404)
        [entity] = await entities(session, instance, me, [note])
    return JSONResponse(entity)


def _check_status(body: dict[str, Any]) -> StatusDraft:
    poll = poll_in(body)
    media_ids = _media_ids(body.get("media_ids"))
    if poll is not None and media_ids:
        raise ValidationError("a status can have media or a poll, not both")
    text = body.get("status")
    text = text.strip() if isinstance(text, str) else ""
    if not text and not media_ids:
        raise ValidationError("Validation failed: Text can't be blank")
    visibility = body.get("visibility") or "public"
    if visibility not in VISIBILITIES:
        raise ValidationError(
            f"visibility {visibility!r:.40} is not known: use public, unlisted, private or direct"
        )
    spoiler = body.get("spoiler_text")
    spoiler = spoiler.strip() if isinstance(spoiler, str) and spoiler.strip() else None
    if text:
        check_comment(text, spoiler)
    parent_id = body.get("in_reply_to_id")
    parent_id = str(parent_id) if parent_id not in (None, "") else None
    return StatusDraft(
        text, spoiler, VISIBILITIES[visibility], media_ids, parent_id, language_of(body), poll
    )


def _media_ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [] if value in (None, "") else [value]
    if len(values) > MAX_MEDIA:
        raise ValidationError(f"a status can have at most {MAX_MEDIA} media attachments")
    return [
        whole_id(
            str(raw),
            f"media_ids: {str(raw)!r:.40} is not the id of an upload",
            status=ValidationError.status,
        )
        for raw in values
    ]


async def _publish_status(
    instance: Instance, me: Actor, draft: StatusDraft, key: str | None
) -> str:
    """Store and send the note (with its idempotency key, in one transaction); its URI."""
    parent = await _parent(instance, me, draft.parent_id)
    if isinstance(parent, DesignVersion):
        return await _comment_on_design(instance, me, parent, draft, key)
    note = await _note_of(instance, me, draft, parent)
    async with instance.sessions() as session:
        row = await submit(
            session, instance.resolver, me, note, media_ids=draft.media_ids, poll=draft.poll
        )
        assert row.object_uri is not None
        await keep_source(session, row.object_uri, draft.text)
        await _remember(session, me, key, row.object_uri)
        await session.commit()
    return row.object_uri


async def _note_of(
    instance: Instance, me: Actor, draft: StatusDraft, parent: Item | None
) -> dict[str, Any]:
    """The note to post for the draft: its HTML, addressing and mentions (looked up now)."""
    mentioned = await _mentioned(instance, me, draft.text)
    to, cc = _addressing(me, draft.visibility, mentioned)
    # Mastodon's `status` is plain text: made HTML here, so "<" in it is text, not markup.
    base_url = instance.urls.base_url
    content = link_hashtags(text_to_html(draft.text), base_url)
    note: dict[str, Any] = {"type": "Note", "content": content, "to": to, "cc": cc}
    tags = [
        {"type": "Mention", "href": actor.uri, "name": f"@{actor.handle}"} for actor in mentioned
    ]
    if tags := tags + hashtag_objects(tags_in_text(draft.text), base_url):
        note["tag"] = tags
    if draft.spoiler:
        note |= {"summary": draft.spoiler, "sensitive": True}
    if parent is not None:
        note["inReplyTo"] = parent.uri
    if draft.language:  # as Mastodon sends it: the content under its language
        note["contentMap"] = {draft.language: note["content"]}
    return note


async def _schedule(
    instance: Instance, me: Actor, draft: StatusDraft, body: dict[str, Any], when: dt.datetime
) -> Response:
    """Keep the status for the scheduled-status worker instead of posting it now."""
    check_scheduled_at(when, utcnow())
    if draft.poll is not None:
        raise ValidationError("a poll cannot be scheduled: post it without scheduled_at")
    parent = await _parent(instance, me, draft.parent_id)
    if isinstance(parent, DesignVersion):
        raise ValidationError(
            "a comment on a design cannot be scheduled: post it without scheduled_at"
        )
    note = await _note_of(instance, me, draft, parent)
    async with instance.sessions() as session:
        row = await schedule_status(
            session, me, when, note, draft.media_ids, _scheduled_params(body, draft)
        )
        await session.commit()
        [entity] = await scheduled_entities(session, instance.urls, [row])
    instance.wake_scheduled()
    return JSONResponse(entity)


def _scheduled_params(body: dict[str, Any], draft: StatusDraft) -> dict[str, Any]:
    """The parameters as Mastodon shows them back in a ScheduledStatus."""
    return {
        "text": draft.text,
        "poll": None,
        "media_ids": [str(i) for i in draft.media_ids] or None,
        "sensitive": bool(body.get("sensitive")) if body.get("sensitive") is not None else None,
        "spoiler_text": draft.spoiler,
        "visibility": body.get("visibility") or "public",
        "in_reply_to_id": draft.parent_id,
        "language": body.get("language") if isinstance(body.get("language"), str) else None,
        "idempotency": None,
        "scheduled_at": None,
        "application_id": None,
        "with_rate_limit": False,
    }


def _addressing(me: Actor, visibility: str, mentioned: list[Actor]) -> tuple[list[str], list[str]]:
    """Mastodon's addressing: public and unlisted swap to and cc; private goes to the
    followers, direct to the people mentioned only. Those mentioned are always addressed."""
    followers = me.followers_url or ""
    people = [actor.uri for actor in mentioned]
    if visibility == "public":
        return [PUBLIC], [followers, *people]
    if visibility == "unlisted":
        return [followers], [PUBLIC, *people]
    if visibility == "followers":
        return [followers], people
    # Direct to nobody: addressed to the author alone, so that it reaches no one else.
    return people or [me.uri], []


async def _mentioned(instance: Instance, me: Actor, text: str) -> list[Actor]:
    """The accounts `@user` (here) and `@user@host` in the text name. Known ones are looked
    up here; an unknown remote one is asked of its server (before any session is opened).
    A handle that cannot be found is left as plain text, as Mastodon does."""
    handles = [
        (user.lower(), (host or instance.urls.host).lower().rstrip("."))
        for user, host in MENTION.findall(text)
    ]
    wanted = list(dict.fromkeys(handles))[:MAX_MENTIONS]
    if not wanted:
        return []
    known = await _known_actors(instance, wanted)
    found: list[Actor] = []
    for handle in wanted:
        actor = known.get(handle)
        if actor is None and handle[1] != instance.urls.host:
            actor = await resolve_remote(instance, f"{handle[0]}@{handle[1]}")
        if actor is not None and actor.id not in {me.id, *(a.id for a in found)}:
            found.append(actor)
    return found


async def _known_actors(
    instance: Instance, handles: list[tuple[str, str]]
) -> dict[tuple[str, str], Actor]:
    names = {user for user, _ in handles}
    async with instance.sessions() as session:
        rows = await session.scalars(
            select(Actor).where(func.lower(Actor.username).in_(names), visible())
        )
        return {
            (actor.username.lower(), actor.domain.lower()): actor
            for actor in rows
            if (actor.username.lower(), actor.domain.lower()) in handles
        }


async def _parent(instance: Instance, me: Actor, parent_id: str | None) -> Item | None:
    if parent_id is None:
        return None
    async with instance.sessions() as session:
        try:
            return await readable_item(session, me, parent_id)
        except FederationError as error:
            raise ValidationError(f"in_reply_to_id: {error.message}", status=404) from error


async def _comment_on_design(
    instance: Instance, me: Actor, version: DesignVersion, draft: StatusDraft, key: str | None
) -> str:
    """A reply to a design version is a comment on the design: public, sent to the project."""
    if draft.visibility != "public":
        raise ValidationError("a reply to a design is a public comment: use visibility public")
    if draft.media_ids or draft.poll or not draft.text:
        raise ValidationError("a comment on a design is text: media cannot be attached to it")
    target = await resolve_comment_target(
        instance.sessions, instance.resolver, instance.policy, version.uri
    )
    async with instance.sessions() as session:
        note, _ = await add_comment(
            session, instance.urls, me, target, draft.text, summary=draft.spoiler
        )
        await _remember(session, me, key, note.uri)
        await session.commit()
    return note.uri


# Idempotency keys: a retry within the hour, after a restart or on another process, gets the
# note the key first posted. The key row is written in the transaction that posts the note.


def _key_hash(request: Request) -> str | None:
    key = request.headers.get("idempotency-key", "").strip()
    return secret_hash(key) if key else None


def _key_cutoff() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=IDEMPOTENCY_SECONDS)


async def _remembered(instance: Instance, me: Actor, key: str | None) -> str | None:
    if key is None:
        return None
    async with instance.sessions() as session:
        return await session.scalar(
            select(StatusIdempotencyKey.note_uri).where(
                StatusIdempotencyKey.account_id == me.id,
                StatusIdempotencyKey.key_hash == key,
                StatusIdempotencyKey.created_at > _key_cutoff(),
            )
        )


async def _remember(session: AsyncSession, me: Actor, key: str | None, note_uri: str) -> None:
    if key is None:
        return
    # The person's expired keys go first, so that an old key may be used again.
    await session.execute(
        delete(StatusIdempotencyKey).where(
            StatusIdempotencyKey.account_id == me.id,
            StatusIdempotencyKey.created_at <= _key_cutoff(),
        )
    )
    session.add(StatusIdempotencyKey(account_id=me.id, key_hash=key, note_uri=note_uri))
    await session.flush()


async def delete_status(request: Request) -> Response:
    """Delete one's own note; the answer is the status as it was, with its text. A boost's
    id (`r…`) withdraws one's own boost, as on Mastodon, and never deletes what it boosted."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        boost = await find_shown(session, request.path_params["id"])
        if isinstance(boost, Interaction):
            if boost.actor_id != me.id:
                raise FederationError(NOT_FOUND, status=404)
            [entity] = await entities(session, instance, me, [boost])
            await submit(session, instance.resolver, me, {"type": "Undo", "object": boost.uri})
            await session.commit()
            instance.wake_delivery()
            return JSONResponse(entity)
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
    me = await token_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
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
        boosted = kind == ANNOUNCE and not undo
        shown = await _boost_or(session, me, item) if boosted else item
        [entity] = await entities(session, instance, me, [shown])
    instance.wake_delivery()
    instance.streaming.wake()  # a boost is streamed to the booster's followers
    return JSONResponse(entity)


async def _boost_or(session: AsyncSession, me: Actor, item: Item) -> Item | Interaction:
    """What a reblog answers, as Mastodon does: the new status wrapping the original (the
    person's boost of it)."""
    boost = await session.scalar(
        select(Interaction).where(
            Interaction.kind == ANNOUNCE,
            Interaction.actor_id == me.id,
            Interaction.object_uri == item.uri,
        )
    )
    return item if boost is None else boost


async def favourited_by(request: Request) -> Response:
    return await _reactors(request, LIKE)


async def reblogged_by(request: Request) -> Response:
    return await _reactors(request, ANNOUNCE)


async def _reactors(request: Request, kind: str) -> Response:
    """Who liked or boosted the status, newest first (the latest MAX_REACTORS)."""
    instance = instance_of(request)
    viewer = await viewer_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, viewer, request.path_params["id"])
        reactors = await session.scalars(
            select(Actor)
            .join(Interaction, Interaction.actor_id == Actor.id)
            .where(Interaction.kind == kind, Interaction.object_uri == item.uri, visible())
            .order_by(Interaction.id.desc())
            .limit(MAX_REACTORS)
        )
        accounts = await accounts_json(session, instance, list(reactors))
    return JSONResponse(accounts)


# Bookmarks


async def bookmark(request: Request) -> Response:
    return await _bookmark(request, keep=True)


async def unbookmark(request: Request) -> Response:
    return await _bookmark(request, keep=False)


async def _bookmark(request: Request, *, keep: bool) -> Response:
    """Keep (or stop keeping) a readable status; doing it twice changes nothing."""
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        item = await readable_item(session, me, request.path_params["id"])
        mine = (Bookmark.account_id == me.id) & (Bookmark.status_uri == item.uri)
        if not keep:
            await session.execute(delete(Bookmark).where(mine))
        elif await session.scalar(select(Bookmark.id).where(mine)) is None:
            session.add(Bookmark(account_id=me.id, status_uri=item.uri))
        await session.commit()
        [entity] = await entities(session, instance, me, [item])
    return JSONResponse(entity)


async def bookmarks(request: Request) -> Response:
    """The signed-in person's bookmarks, newest first, paged by bookmark id."""
    instance = instance_of(request)
    me = await token_actor(request)
    query = select(Bookmark.id, Bookmark.status_uri).where(Bookmark.account_id == me.id)
    async with instance.sessions() as session:
        rows = await read_id_page(session, request, query, Bookmark.id)
        items = await _bookmarked_items(session, me, [uri for _, uri in rows])
        shown = await entities(session, instance, me, items)
    headers = ids_link_header(request, [bookmark_id for bookmark_id, _ in rows])
    return JSONResponse(shown, headers=headers)


async def _bookmarked_items(session: AsyncSession, me: Actor, uris: list[str]) -> list[Item]:
    """The statuses behind the URIs, in their order, leaving out what is gone or hidden."""
    found = await items_by_uri(session, uris, me, shown_only=True)
    return [found[uri] for uri in uris if uri in found]


routes = [
    ScopedRoute("/api/v1/statuses", post_status, methods=["POST"], scope=WRITE_STATUSES),
    ScopedRoute("/api/v1/statuses/{id}", get_status, methods=["GET"], scope=READ),
    ScopedRoute("/api/v1/statuses/{id}", delete_status, methods=["DELETE"], scope=WRITE_STATUSES),
    ScopedRoute("/api/v1/statuses/{id}/context", status_thread, methods=["GET"], scope=READ),
    ScopedRoute(
        "/api/v1/statuses/{id}/favourite", favourite, methods=["POST"], scope=WRITE_FAVOURITES
    ),
    ScopedRoute(
        "/api/v1/statuses/{id}/unfavourite", unfavourite, methods=["POST"], scope=WRITE_FAVOURITES
    ),
    ScopedRoute("/api/v1/statuses/{id}/reblog", reblog, methods=["POST"], scope=WRITE_STATUSES),
    ScopedRoute("/api/v1/statuses/{id}/unreblog", unreblog, methods=["POST"], scope=WRITE_STATUSES),
    ScopedRoute(
        "/api/v1/statuses/{id}/favourited_by", favourited_by, methods=["GET"], scope="read:accounts"
    ),
    ScopedRoute(
        "/api/v1/statuses/{id}/reblogged_by", reblogged_by, methods=["GET"], scope="read:accounts"
    ),
    ScopedRoute(
        "/api/v1/statuses/{id}/bookmark", bookmark, methods=["POST"], scope=WRITE_BOOKMARKS
    ),
    ScopedRoute(
        "/api/v1/statuses/{id}/unbookmark", unbookmark, methods=["POST"], scope=WRITE_BOOKMARKS
    ),
    ScopedRoute("/api/v1/bookmarks", bookmarks, methods=["GET"], scope=READ_BOOKMARKS),
]

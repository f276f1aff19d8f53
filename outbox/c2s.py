"""ActivityPub client-to-server: what a local actor POSTs to its own outbox.

Remote lookups (WebFinger, actor and note fetches) happen before the write;
the change, the activity and its deliveries then commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, FOLLOW_PENDING, Actor, Follow
from actors.resolve import ActorResolver
from federation.db import utcnow
from federation.errors import ValidationError
from federation.urls import LocalUrls
from federation.vocab import PUBLIC, is_public
from objects.convert import NOTE_TYPES, first_id, id_list, media_to_as
from objects.designs import clean_tags, get_version, project_of
from objects.hashtags import (
    MAX_NOTE_TAGS,
    hashtag_objects,
    hashtags_of,
    reindex_hashtags,
    tags_in_text,
)
from objects.hiding import blocks, blocks_between
from objects.html import plain_text, sanitize_html, text_to_html
from objects.media_models import MediaAttachment
from objects.models import ANNOUNCE, LIKE, Note
from objects.notes import (
    add_interaction,
    add_local_note,
    keep_previous_version,
    remove_interaction,
    tombstone_note,
)
from objects.notifications import follow_kind, notify
from objects.polls import PollDraft, add_local_poll
from objects.resolve import find_or_fetch_note
from objects.visibility import may_read, visibility_of
from outbox import activities
from outbox.models import OutboxActivity
from outbox.publish import publish

Submit = Callable[[AsyncSession, ActorResolver, Actor, dict[str, Any]], Awaitable[OutboxActivity]]
SUPPORTED = ("Create", "Update", "Follow", "Undo", "Like", "Announce", "Delete")
MAX_MEDIA = 4
NOT_ALLOWED = "This action is not allowed: the account blocks you, or you block it"
MAX_MENTIONS = 50


async def submit(
    session: AsyncSession,
    resolver: ActorResolver,
    actor: Actor,
    body: dict[str, Any],
    *,
    media_ids: Sequence[int] = (),
    poll: PollDraft | None = None,
) -> OutboxActivity:
    """Apply one client-submitted activity (or bare Note); the caller commits.

    `media_ids`: the actor's own uploads, not yet attached, to attach to a new note;
    `poll`: a poll the new note asks (it is then sent as a Question).
    """
    kind = body.get("type")
    if kind in NOTE_TYPES:
        body = {"type": "Create", "object": body, "to": body.get("to"), "cc": body.get("cc")}
        kind = "Create"
    if kind == "Create":
        return await _create(session, resolver, actor, body, media_ids, poll)
    if media_ids or poll:
        raise ValidationError("media and polls can only be part of a new note")
    handler = _SUBMITTERS.get(str(kind))
    if handler is None:
        raise ValidationError(
            f"cannot post a {kind!r} to the outbox; supported: {', '.join(SUPPORTED)}"
        )
    return await handler(session, resolver, actor, body)


def referenced_notes(body: dict[str, Any]) -> list[str]:
    """Notes a submission refers to (a reply's parent, what is liked or boosted), which the
    caller fetches before opening the transaction (see `objects.resolve.ensure_note`)."""
    kind, obj = body.get("type"), body.get("object")
    if kind in NOTE_TYPES:
        obj = body
    elif kind in ("Like", "Announce"):
        return [uri] if (uri := first_id(obj)) else []
    elif kind != "Create":
        return []
    parent = first_id(obj.get("inReplyTo")) if isinstance(obj, dict) else None
    return [parent] if parent else []


async def _create(
    session: AsyncSession,
    resolver: ActorResolver,
    actor: Actor,
    body: dict[str, Any],
    media_ids: Sequence[int] = (),
    poll: PollDraft | None = None,
) -> OutboxActivity:
    obj = body.get("object")
    if not isinstance(obj, dict) or obj.get("type", "Note") != "Note":
        raise ValidationError("Create needs an object of type Note")
    content = obj.get("content")
    if not isinstance(content, str):
        content = ""
    if not content.strip() and not media_ids:
        raise ValidationError("the note needs some content")
    to, cc = _addressing(actor, obj, body)
    parent_uri = first_id(obj.get("inReplyTo"))
    if parent_uri:
        parent = await _readable_note(session, resolver, actor, parent_uri)
        author = await session.get(Actor, parent.actor_id)
        if author is not None and author.uri not in to + cc:
            cc.append(author.uri)
    note = Note(
        uri=resolver.urls.new_note(),
        actor_id=actor.id,
        local=True,
        in_reply_to=parent_uri,
        content=_note_html(content) if content.strip() else "",
        summary=obj.get("summary") if isinstance(obj.get("summary"), str) else None,
        sensitive=obj.get("sensitive") is True,
        visibility=visibility_of(to, cc, actor.followers_url),
        to={"to": to, "cc": cc},
        language=_language(obj),
    )
    note.url = note.uri
    hashtags = hashtag_objects(_hashtag_names(obj, note.content), resolver.urls.base_url)
    if tags := [*_mentions(obj.get("tag")), *hashtags]:
        note.document = {"tag": tags}
    await add_local_note(session, note)
    await session.flush()
    await attach_media(session, resolver, actor, note, media_ids)
    if poll is not None:
        add_local_poll(session, note, poll)
    return await publish(
        session, resolver.urls, actor, activities.create_note(resolver.urls, actor, note)
    )


def _language(obj: dict[str, Any]) -> str | None:
    """The language a client gave as the key of `contentMap`, as Mastodon sends it."""
    content_map = obj.get("contentMap")
    if isinstance(content_map, dict) and len(content_map) == 1:
        [language] = content_map
        if isinstance(language, str) and 0 < len(language) <= 16:
            return language
    return None


def _addressing(
    actor: Actor, obj: dict[str, Any], body: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """The note's to and cc as given. Unaddressed, it is public; a public note without a cc
    goes to the followers too. Nothing else is added: a note to named people stays theirs."""
    to = id_list(obj.get("to") or body.get("to"))
    cc = id_list(obj.get("cc") or body.get("cc"))
    if not to and not cc:
        to = [PUBLIC]
    if not cc and is_public(to):
        cc = [actor.followers_url or ""]
    return to, cc


def _mentions(value: Any) -> list[dict[str, str]]:
    """The note's Mention tags (Mastodon reads a direct note as direct only for those named)."""
    items = value if isinstance(value, list) else [value]
    return [
        {"type": "Mention", "href": item["href"], "name": plain_text(item["name"], 300)}
        for item in items[:MAX_MENTIONS]
        if isinstance(item, dict)
        and item.get("type") == "Mention"
        and isinstance(item.get("href"), str)
        and isinstance(item.get("name"), str)
    ]


async def attach_media(
    session: AsyncSession,
    resolver: ActorResolver,
    actor: Actor,
    note: Note,
    media_ids: Sequence[int],
) -> None:
    """Claim the uploads for the note, in the order given; refused unless every one is the
    actor's own and still unattached (the caller's transaction is then abandoned)."""
    if not media_ids:
        return
    wanted = list(dict.fromkeys(media_ids))
    if len(wanted) > MAX_MEDIA:
        raise ValidationError(f"a status can have at most {MAX_MEDIA} media attachments")
    positions = {media_id: place for place, media_id in enumerate(wanted)}
    # One conditional UPDATE: two posts racing for the same upload cannot both claim it.
    claimed = await session.execute(
        update(MediaAttachment)
        .where(
            MediaAttachment.id.in_(wanted),
            MediaAttachment.account_id == actor.id,
            MediaAttachment.note_id.is_(None),
        )
        .values(note_id=note.id, position=case(positions, value=MediaAttachment.id))
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != len(wanted):
        raise ValidationError(
            "media_ids: each must be the id of one of your own uploads that is not attached "
            "to a status yet"
        )
    rows = await session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(wanted)))
    by_id = {row.id: row for row in rows}
    attachments = [media_to_as(resolver.urls.base_url, by_id[i]) for i in wanted]
    note.document = {**(note.document or {}), "attachment": attachments}


async def _follow(
    session: AsyncSession, resolver: ActorResolver, actor: Actor, body: dict[str, Any]
) -> OutboxActivity:
    target_ref = first_id(body.get("object"))
    if not target_ref:
        raise ValidationError("Follow needs an object: a handle (@user@host) or an actor URL")
    is_url = target_ref.startswith(("https://", "http://"))
    target = await (
        resolver.get_actor(target_ref) if is_url else resolver.resolve_handle(target_ref)
    )
    if target.id == actor.id:
        raise ValidationError("you cannot follow yourself")
    if await blocks_between(session, actor.id, target.id):
        raise ValidationError(NOT_ALLOWED, status=403)
    activity = activities.follow(resolver.urls, actor, target)
    follow = await session.scalar(
        select(Follow).where(Follow.follower_id == actor.id, Follow.followee_id == target.id)
    )
    is_new = follow is None
    if follow is None:
        follow = Follow(follower_id=actor.id, followee_id=target.id, uri=activity["id"])
        session.add(follow)
    follow.uri = activity["id"]
    local_auto = target.local and not target.manually_approves_followers
    follow.state = FOLLOW_ACCEPTED if local_auto else FOLLOW_PENDING
    if is_new:  # a local target is told now; a remote one's server tells them
        await notify(session, target, follow_kind(follow.state), actor)
    return await publish(session, resolver.urls, actor, activity)


async def _undo(
    session: AsyncSession, resolver: ActorResolver, actor: Actor, body: dict[str, Any]
) -> OutboxActivity:
    original = await session.scalar(
        select(OutboxActivity).where(
            OutboxActivity.uri == first_id(body.get("object")), OutboxActivity.actor_id == actor.id
        )
    )
    if original is None or original.type not in ("Follow", "Like", "Announce"):
        raise ValidationError(
            "Undo needs the id of one of your own Follow, Like or Announce activities"
        )
    return await undo_sent(session, resolver.urls, actor, original)


async def undo_sent(
    session: AsyncSession, urls: LocalUrls, actor: Actor, original: OutboxActivity
) -> OutboxActivity:
    """Withdraw the actor's own Follow, Like or Announce and tell its audience (an Undo)."""
    if original.type == "Follow":
        await session.execute(delete(Follow).where(Follow.uri == original.uri))
    else:
        await remove_interaction(session, original.uri, actor)
    return await publish(session, urls, actor, activities.undo(urls, actor, original.payload))


async def _react(
    session: AsyncSession, resolver: ActorResolver, actor: Actor, body: dict[str, Any]
) -> OutboxActivity:
    object_uri = first_id(body.get("object"))
    if not object_uri:
        raise ValidationError(f"{body['type']} needs an object: the URL of a note")
    version = await get_version(session, object_uri)
    if version is not None and version.deleted_at is None:
        # A design version is liked or boosted like a note: sent to its project actor.
        author = (await project_of(session, version))[1]
    else:
        note = await _readable_note(session, resolver, actor, object_uri)
        object_uri = note.uri
        found = await session.get(Actor, note.actor_id)
        assert found is not None
        author = found
    build = activities.like if body["type"] == "Like" else activities.announce
    activity = build(resolver.urls, actor, object_uri, author)
    kind = LIKE if body["type"] == "Like" else ANNOUNCE
    if not await add_interaction(
        session, kind, activity["id"], actor, object_uri, resolver.urls.is_local
    ):
        raise ValidationError(f"you have already sent a {kind} of {object_uri}", status=409)
    return await publish(session, resolver.urls, actor, activity)


async def _readable_note(
    session: AsyncSession, resolver: ActorResolver, actor: Actor, uri: str
) -> Note:
    """The note a reply or reaction refers to, if the actor may read it: one they may not
    is answered as if it did not exist, so that its existence is not confirmed either."""
    note = await find_or_fetch_note(session, resolver, uri)
    if not await may_read(session, actor, note):
        raise ValidationError(f"there is no note {uri}", status=404)
    if await blocks(session, note.actor_id, actor.id):
        # As on Mastodon: who blocks you cannot be replied to, favourited or boosted.
        raise ValidationError(NOT_ALLOWED, status=403)
    return note


async def _delete(
    session: AsyncSession, resolver: ActorResolver, actor: Actor, body: dict[str, Any]
) -> OutboxActivity:
    note_uri = first_id(body.get("object"))
    note = await session.scalar(select(Note).where(Note.uri == note_uri, Note.actor_id == actor.id))
    if note is None or note.deleted_at is not None:
        raise ValidationError("Delete needs the id of one of your own notes", status=404)
    recipients = note.to.get("to", []) + note.to.get("cc", [])
    await tombstone_note(session, note)
    await session.execute(
        update(OutboxActivity)
        .where(OutboxActivity.object_uri == note.uri, OutboxActivity.type == "Create")
        .values(public=False)
    )
    activity = activities.delete_note(resolver.urls, actor, note)
    activity["cc"] = sorted({*activity["cc"], *recipients} - {PUBLIC})
    return await publish(session, resolver.urls, actor, activity)


async def _update(
    session: AsyncSession, resolver: ActorResolver, actor: Actor, body: dict[str, Any]
) -> OutboxActivity:
    """The author edits a note (a comment): its content and content warning."""
    obj = body.get("object")
    note_uri = first_id(obj)
    note = await session.scalar(select(Note).where(Note.uri == note_uri, Note.actor_id == actor.id))
    if not isinstance(obj, dict) or note is None or note.deleted_at is not None:
        raise ValidationError(
            "Update needs an object with the id of one of your own notes", status=404
        )
    content = obj.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ValidationError("the edited note needs some content")
    keep_previous_version(session, note)
    note.content = _note_html(content)
    if "summary" in obj:
        note.summary = obj["summary"] if isinstance(obj["summary"], str) else None
    note.edited_at = utcnow()
    # The edited text's hashtags replace the old ones, here and in the Update sent.
    names = _hashtag_names(obj, note.content)
    kept = [t for t in (note.document or {}).get("tag", []) if t.get("type") != "Hashtag"]
    tags = [*kept, *hashtag_objects(names, resolver.urls.base_url)]
    note.document = {**(note.document or {}), "tag": tags}
    await reindex_hashtags(session, note.uri, names)
    await session.flush()
    return await publish(
        session, resolver.urls, actor, activities.update_note(resolver.urls, actor, note)
    )


def _hashtag_names(obj: dict[str, Any], html: str) -> list[str]:
    """Hashtags the client tagged, and those written in the text (C2S clients may not tag)."""
    names = [*hashtags_of(obj.get("tag")), *tags_in_text(plain_text(html, 100_000))]
    return list(clean_tags(names))[:MAX_NOTE_TAGS]


def _note_html(content: str) -> str:
    """A client may send HTML or plain text; either way it is stored sanitised."""
    return sanitize_html(content if "<" in content else text_to_html(content))


_SUBMITTERS: dict[str, Submit] = {
    "Create": _create,
    "Update": _update,
    "Follow": _follow,
    "Undo": _undo,
    "Like": _react,
    "Announce": _react,
    "Delete": _delete,
}

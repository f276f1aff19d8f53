"""Mastodon's Status entity, for notes and for design versions, built a page at a time.

Status ids: a note's is its row id ("123"); a design version's is "v" and its row id
("v45"); a boost's (an Announce, shown as Mastodon shows a reblog: a status of the booster's
whose `reblog` is the original) is "r" and its interaction's row id ("r7"). They never
collide. Timelines order statuses by publication time (ties by
kind, then row id), not by id: see `web.mastodon.paging`.

Every builder here takes a whole page, so a page costs a fixed handful of queries (the
accounts, their counts, the viewer's interactions, reply parents, version projects and
files) however many statuses it holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.service import actors_by_id
from federation.urls import LocalUrls, web_url_or_none
from objects.convert import iso_ms, media_url
from objects.design_convert import file_url
from objects.design_models import DesignVersion, Project, VersionFile
from objects.designs import PREVIEW_TYPES, files_of, is_remote_image, licence_of, project_actor_ids
from objects.html import plain_text
from objects.licences import LicencePolicy, licence_words
from objects.media_models import Bookmark, MediaAttachment
from objects.models import ANNOUNCE, LIKE, Interaction, Note, Poll
from objects.pin_models import Pin
from objects.search import Item
from objects.tag_models import NoteTag
from objects.thumbnails import HEIGHT, WIDTH, model_format, thumbnail_path, thumbnails_for
from objects.visibility import readable_by
from web.mastodon.compose.poll_entities import poll_entity, polls_by_note
from web.mastodon.entities import account_entity, shown_fields

VERSION_PREFIX = "v"
REBLOG_PREFIX = "r"
# What a timeline holds: statuses, and boosts of them (Announce interactions).
Shown = Note | DesignVersion | Interaction
# Our stored visibilities to Mastodon's names.
MASTODON_VISIBILITY = {
    "public": "public",
    "unlisted": "unlisted",
    "followers": "private",
    "direct": "direct",
}


def status_id(item: Shown) -> str:
    if isinstance(item, Interaction):
        return f"{REBLOG_PREFIX}{item.id}"
    return f"{VERSION_PREFIX}{item.id}" if isinstance(item, DesignVersion) else str(item.id)


@dataclass
class StatusContext:
    """What a page of statuses needs besides its rows, each looked up once for the page."""

    urls: LocalUrls
    policy: LicencePolicy
    viewer: Actor | None
    accounts: dict[int, dict[str, Any]] = field(default_factory=dict)
    version_actor: dict[int, int] = field(default_factory=dict)  # version id -> project actor
    files: dict[int, list[VersionFile]] = field(default_factory=dict)
    parents: dict[str, tuple[str, int]] = field(default_factory=dict)  # uri -> (id, actor)
    mine: set[tuple[str, str]] = field(default_factory=set)  # (kind, object uri)
    media_rejected: set[int] = field(default_factory=set)  # actor ids whose images we hide
    media: dict[int, list[MediaAttachment]] = field(default_factory=dict)  # by local note id
    bookmarks: set[str] = field(default_factory=set)  # URIs the viewer bookmarked
    pinned: set[str] = field(default_factory=set)  # URIs of the viewer's pinned notes
    note_tags: dict[str, list[str]] = field(default_factory=dict)  # note uri -> hashtags
    # Likes and Announces of design versions by anyone, (kind, version uri) -> count: notes
    # keep counters of their own, versions are counted from the interactions.
    version_interactions: dict[tuple[str, str], int] = field(default_factory=dict)
    thumbnails: dict[str, str] = field(default_factory=dict)  # 3D file sha256 -> its PNG's
    polls: dict[str, Poll] = field(default_factory=dict)  # by note uri
    own_votes: dict[int, list[int]] = field(default_factory=dict)  # poll id -> viewer's choices


async def account_entities(
    session: AsyncSession, urls: LocalUrls, actor_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """Account entities with real counts, for many actors in four queries."""
    return await entities_of_actors(session, urls, await _actors(session, actor_ids))


async def _actors(session: AsyncSession, actor_ids: Iterable[int]) -> list[Actor]:
    return list((await actors_by_id(session, actor_ids)).values())


async def entities_of_actors(
    session: AsyncSession, urls: LocalUrls, actors: Sequence[Actor]
) -> dict[int, dict[str, Any]]:
    """Account entities with real counts for actors already loaded, in one query."""
    ids = {actor.id for actor in actors}
    if not ids:
        return {}
    counts = await _account_counts(session, ids)
    latest = await _last_status_times(session, ids)
    return {
        actor.id: account_entity(
            actor,
            urls,
            followers=counts.get(("followers", actor.id), 0),
            following=counts.get(("following", actor.id), 0),
            statuses=counts.get(("statuses", actor.id), 0),
            fields=shown_fields(actor),
            last_status_at=latest.get(actor.id),
        )
        for actor in actors
    }


async def _last_status_times(session: AsyncSession, ids: set[int]) -> dict[int, dt.datetime]:
    """When each actor last posted something anyone may read: a note, or for a project a
    design version (one query)."""
    notes = (
        select(Note.actor_id, func.max(Note.published))
        .where(Note.actor_id.in_(ids), Note.deleted_at.is_(None), readable_by(None))
        .group_by(Note.actor_id)
    )
    versions = (
        select(Project.actor_id, func.max(DesignVersion.published))
        .join(DesignVersion, DesignVersion.project_id == Project.id)
        .where(Project.actor_id.in_(ids), DesignVersion.deleted_at.is_(None))
        .group_by(Project.actor_id)
    )
    latest: dict[int, dt.datetime] = {}
    for query in (notes, versions):
        for actor_id, moment in await session.execute(query):
            if moment is not None and (actor_id not in latest or moment > latest[actor_id]):
                latest[actor_id] = moment
    return latest


async def _account_counts(session: AsyncSession, ids: set[int]) -> dict[tuple[str, int], int]:
    """(what, actor id) -> count of accepted followers, accepted followings, and live notes
    anyone may read plus, for a project, its live versions."""
    accepted = Follow.state == FOLLOW_ACCEPTED
    parts = [
        ("followers", Follow.followee_id, accepted),
        ("following", Follow.follower_id, accepted),
        # Shown to anyone: counts only what anyone may read (`objects.visibility`).
        ("statuses", Note.actor_id, Note.deleted_at.is_(None) & readable_by(None)),
    ]
    # A project's statuses are its design versions (the statuses its account shows).
    versions = (
        select(literal("statuses"), Project.actor_id, func.count())
        .select_from(DesignVersion)
        .join(Project, Project.id == DesignVersion.project_id)
        .where(Project.actor_id.in_(ids), DesignVersion.deleted_at.is_(None))
        .group_by(Project.actor_id)
    )
    counted = union_all(
        *(
            select(literal(what), column, func.count())
            .where(column.in_(ids), condition)
            .group_by(column)
            for what, column, condition in parts
        ),
        versions,
    )
    rows = await session.execute(counted)
    found: dict[tuple[str, int], int] = {}
    for what, actor_id, count in rows.all():
        found[(what, actor_id)] = found.get((what, actor_id), 0) + count
    return found


async def status_context(
    session: AsyncSession,
    urls: LocalUrls,
    policy: LicencePolicy,
    viewer: Actor | None,
    items: Sequence[Item],
    *,
    rejects_media: Any = None,
    boosters: Iterable[int] = (),
) -> StatusContext:
    """Look up, for the whole page, what its statuses show (`boosters`: the accounts of the
    page's boosts, whose originals are among `items`)."""
    context = StatusContext(urls=urls, policy=policy, viewer=viewer)
    notes = [item for item in items if isinstance(item, Note)]
    versions = [item for item in items if isinstance(item, DesignVersion)]
    by_project = await project_actor_ids(session, {v.project_id for v in versions})
    context.version_actor = {v.id: by_project[v.project_id] for v in versions}
    context.files = await files_of(session, versions)
    context.thumbnails = await thumbnails_for(session, _drawable(versions, context.files))
    context.parents = await _parents(session, {n.in_reply_to for n in notes if n.in_reply_to})
    actor_ids = {n.actor_id for n in notes} | set(context.version_actor.values()) | set(boosters)
    actors = await _actors(session, actor_ids)
    context.accounts = await entities_of_actors(session, urls, actors)
    context.mine = await _viewer_interactions(session, viewer, [item.uri for item in items])
    context.bookmarks = await _viewer_bookmarks(session, viewer, [item.uri for item in items])
    context.pinned = await _viewer_pins(session, viewer, [n.id for n in notes])
    context.note_tags = await _note_tags(session, [n.uri for n in notes])
    context.version_interactions = await _interaction_counts(session, [v.uri for v in versions])
    context.media = await _uploaded_media(session, [n.id for n in notes if n.local])
    context.polls, context.own_votes = await polls_by_note(session, viewer, [n.uri for n in notes])
    if rejects_media is not None:
        context.media_rejected = _media_rejected(actors, rejects_media)
    return context


async def _parents(session: AsyncSession, uris: set[str | None]) -> dict[str, tuple[str, int]]:
    """Each parent's status id and author (a version's author is its project actor)."""
    wanted = {uri for uri in uris if uri}
    if not wanted:
        return {}
    found: dict[str, tuple[str, int]] = {}
    notes = await session.execute(
        select(Note.uri, Note.id, Note.actor_id).where(Note.uri.in_(wanted))
    )
    for uri, note_id, actor_id in notes.all():
        found[uri] = (str(note_id), actor_id)
    versions = await session.execute(
        select(DesignVersion.uri, DesignVersion.id, Project.actor_id)
        .join(Project, Project.id == DesignVersion.project_id)
        .where(DesignVersion.uri.in_(wanted))
    )
    for uri, version_id, actor_id in versions.all():
        found[uri] = (f"{VERSION_PREFIX}{version_id}", actor_id)
    return found


async def _viewer_interactions(
    session: AsyncSession, viewer: Actor | None, uris: list[str]
) -> set[tuple[str, str]]:
    if viewer is None or not uris:
        return set()
    rows = await session.execute(
        select(Interaction.kind, Interaction.object_uri).where(
            Interaction.actor_id == viewer.id, Interaction.object_uri.in_(uris)
        )
    )
    return set(rows.all())


async def _interaction_counts(session: AsyncSession, uris: list[str]) -> dict[tuple[str, str], int]:
    if not uris:
        return {}
    rows = await session.execute(
        select(Interaction.kind, Interaction.object_uri, func.count())
        .where(Interaction.object_uri.in_(uris))
        .group_by(Interaction.kind, Interaction.object_uri)
    )
    return {(kind, uri): count for kind, uri, count in rows.all()}


async def _viewer_bookmarks(
    session: AsyncSession, viewer: Actor | None, uris: list[str]
) -> set[str]:
    if viewer is None or not uris:
        return set()
    rows = await session.scalars(
        select(Bookmark.status_uri).where(
            Bookmark.account_id == viewer.id, Bookmark.status_uri.in_(uris)
        )
    )
    return set(rows)


async def _viewer_pins(
    session: AsyncSession, viewer: Actor | None, note_ids: list[int]
) -> set[str]:
    if viewer is None or not note_ids:
        return set()
    rows = await session.scalars(
        select(Note.uri)
        .join(Pin, Pin.note_id == Note.id)
        .where(Pin.actor_id == viewer.id, Note.id.in_(note_ids))
    )
    return set(rows)


async def _note_tags(session: AsyncSession, uris: list[str]) -> dict[str, list[str]]:
    if not uris:
        return {}
    found: dict[str, list[str]] = {}
    rows = await session.execute(
        select(NoteTag.note_uri, NoteTag.name).where(NoteTag.note_uri.in_(uris))
    )
    for uri, name in rows.all():
        found.setdefault(uri, []).append(name)
    return found


async def _uploaded_media(
    session: AsyncSession, note_ids: list[int]
) -> dict[int, list[MediaAttachment]]:
    if not note_ids:
        return {}
    found: dict[int, list[MediaAttachment]] = {}
    rows = await session.scalars(
        select(MediaAttachment).where(MediaAttachment.note_id.in_(note_ids))
    )
    for media in rows:
        assert media.note_id is not None
        found.setdefault(media.note_id, []).append(media)
    return found


def _media_rejected(actors: Sequence[Actor], rejects_media: Any) -> set[int]:
    """Actors on domains whose media a domain block rejects: we never link their images."""
    return {actor.id for actor in actors if rejects_media(actor.domain)}


# Entities


def status_entities(items: Sequence[Item], context: StatusContext) -> list[dict[str, Any]]:
    return [status_entity(item, context) for item in items]


def status_entity(item: Item, context: StatusContext) -> dict[str, Any]:
    if isinstance(item, DesignVersion):
        return _version_status(item, context)
    return _note_status(item, context)


def _note_status(note: Note, context: StatusContext) -> dict[str, Any]:
    parent = context.parents.get(note.in_reply_to or "")
    return {
        **_common(note.uri, context),
        "id": str(note.id),
        "url": web_url_or_none(note.url) or note.uri,
        "created_at": iso_ms(note.published),
        "edited_at": iso_ms(note.edited_at) if note.edited_at else None,
        "account": context.accounts[note.actor_id],
        "content": note.content,
        "spoiler_text": note.summary or "",
        "sensitive": note.sensitive,
        "visibility": MASTODON_VISIBILITY.get(note.visibility, "direct"),
        "language": note.language,
        "in_reply_to_id": parent[0] if parent else None,
        "in_reply_to_account_id": str(parent[1]) if parent else None,
        "media_attachments": _note_media(note, context),
        "tags": _tags(context.note_tags.get(note.uri, []), context),
        "card": None,
        "favourites_count": note.likes_count,
        "reblogs_count": note.announces_count,
        "replies_count": note.replies_count,
        "poll": _poll(note, context),
    }


def _poll(note: Note, context: StatusContext) -> dict[str, Any] | None:
    poll = context.polls.get(note.uri)
    if poll is None:
        return None
    viewer = context.viewer
    return poll_entity(
        poll,
        context.own_votes.get(poll.id),
        is_author=viewer is not None and viewer.id == note.actor_id,
    )


def _version_status(version: DesignVersion, context: StatusContext) -> dict[str, Any]:
    actor_id = context.version_actor[version.id]
    images = _preview_images(context, version, actor_id)
    media = [_attachment(context.urls, version, image) for image in images]
    if not media and version.local:
        media = _thumbnail_media(context, version)
    tags = version.tags.get("tags", [])
    return {
        **_common(version.uri, context),
        "id": f"{VERSION_PREFIX}{version.id}",
        "url": version.uri,
        "created_at": iso_ms(version.published),
        "edited_at": iso_ms(version.edited_at) if version.edited_at else None,
        "account": context.accounts[actor_id],
        "content": version_content(version, context.policy),
        "spoiler_text": "",
        "sensitive": False,
        "visibility": "public",
        "language": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "media_attachments": media,
        "tags": _tags(tags, context),
        "card": _card(version, media),
        "favourites_count": context.version_interactions.get((LIKE, version.uri), 0),
        "reblogs_count": context.version_interactions.get((ANNOUNCE, version.uri), 0),
        "replies_count": version.replies_count,
    }


def reblog_entity(
    boost: Interaction, original: dict[str, Any], context: StatusContext
) -> dict[str, Any]:
    """A boost as Mastodon shows a reblog: the booster's own status, empty, wrapping the
    original; the viewer's favourite, boost and bookmark are the original's."""
    return {
        **original,
        "id": f"{REBLOG_PREFIX}{boost.id}",
        "uri": boost.uri,
        "url": None,
        "created_at": iso_ms(boost.created_at),
        "edited_at": None,
        "account": context.accounts[boost.actor_id],
        "content": "",
        "spoiler_text": "",
        "sensitive": False,
        "visibility": "public",
        "language": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
        "reblog": original,
        "favourites_count": 0,
        "reblogs_count": 0,
        "replies_count": 0,
        "pinned": False,
        "application": None,
    }


def _tags(names: Sequence[str], context: StatusContext) -> list[dict[str, str]]:
    return [{"name": name, "url": f"{context.urls.base_url}/tags/{name}"} for name in names]


def _common(uri: str, context: StatusContext) -> dict[str, Any]:
    return {
        "uri": uri,
        "reblog": None,
        "mentions": [],
        "emojis": [],
        "favourited": (LIKE, uri) in context.mine,
        "reblogged": (ANNOUNCE, uri) in context.mine,
        "bookmarked": uri in context.bookmarks,
        "muted": False,
        "pinned": uri in context.pinned,
        "poll": None,
        "application": None,
        "filtered": [],
    }


def version_content(version: DesignVersion, policy: LicencePolicy) -> str:
    """The version as a post: its name, summary, licence and a link to it (HTML)."""
    parts = [f"<p><strong>{escape(version.name)}</strong></p>"]
    if version.summary:
        parts.append(f"<p>{escape(version.summary)}</p>")
    licence = licence_words(policy, licence_of(version))
    parts.append(f"<p>Licence: {escape(licence)}</p>")
    link = escape(version.uri, quote=True)
    parts.append(f'<p><a href="{link}">{escape(version.uri)}</a></p>')
    return "".join(parts)


def _preview_images(
    context: StatusContext, version: DesignVersion, actor_id: int
) -> list[VersionFile]:
    images = [
        file
        for file in context.files.get(version.id, [])
        if file.preview and file.media_type in PREVIEW_TYPES
    ]
    if actor_id in context.media_rejected:
        images = [file for file in images if not is_remote_image(file)]
    return images


def _drawable(versions: list[DesignVersion], files: dict[int, list[VersionFile]]) -> set[str]:
    """Our own 3D files of our own versions: those whose thumbnails a status may show."""
    return {
        file.sha256
        for version in versions
        if version.local
        for file in files.get(version.id, [])
        if model_format(file.filename)
    }


def _thumbnail_media(context: StatusContext, version: DesignVersion) -> list[dict[str, Any]]:
    """A version without preview images shows the thumbnail the worker drew of its 3D file."""
    files = context.files.get(version.id, [])
    if any(file.preview for file in files):
        return []
    drawn = next((file for file in files if file.sha256 in context.thumbnails), None)
    if drawn is None:
        return []
    return [
        _image_entity(
            f"{VERSION_PREFIX}{version.id}-{drawn.id}-thumbnail",
            context.urls.base_url + thumbnail_path(drawn.sha256),
            f"{version.name}: a picture of {drawn.filename}",
            meta=_image_meta(WIDTH, HEIGHT),
        )
    ]


def _attachment(urls: LocalUrls, version: DesignVersion, file: VersionFile) -> dict[str, Any]:
    return _image_entity(
        f"{VERSION_PREFIX}{version.id}-{file.id}",
        file_url(urls.base_url, file),
        f"{version.name}: {file.filename}",
        remote_url=file.remote_url,
    )


def _note_media(note: Note, context: StatusContext) -> list[dict[str, Any]]:
    """A local note's uploads; a received note's image attachments, unless its domain's
    media are rejected (then we never link them)."""
    if note.local:
        return [media_entity(context.urls, m) for m in _in_note_order(note, context)]
    if note.actor_id in context.media_rejected:
        return []
    attachments = (note.document or {}).get("attachment", [])
    return [
        _remote_media(note, index, attachment)
        for index, attachment in enumerate(attachments)
        if _is_image(attachment)
    ]


def shown_attachments(name: str, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Image attachments kept as ActivityStreams JSON (an earlier version of a note) as
    MediaAttachments named `{name}-{position}`."""
    return [
        _image_entity(
            f"{name}-{index}",
            attachment["url"],
            attachment.get("name"),
            meta=_image_meta(attachment.get("width"), attachment.get("height")),
            blurhash=attachment.get("blurhash"),
        )
        for index, attachment in enumerate(attachments)
        if _is_image(attachment) and isinstance(attachment.get("url"), str)
    ]


def _in_note_order(note: Note, context: StatusContext) -> list[MediaAttachment]:
    return sorted(context.media.get(note.id, []), key=lambda media: media.position)


def _is_image(attachment: dict[str, Any]) -> bool:
    media_type = str(attachment.get("mediaType", ""))
    return media_type.startswith("image/") or attachment.get("type") == "Image"


def media_entity(urls: LocalUrls, media: MediaAttachment) -> dict[str, Any]:
    """Mastodon's MediaAttachment for an upload of ours."""
    meta = _image_meta(media.width, media.height) or {}
    return _image_entity(
        str(media.id),
        media_url(urls.base_url, media),
        media.description,
        meta=meta | {"focus": {"x": media.focus_x, "y": media.focus_y}},
        blurhash=media.blurhash,
    )


def _remote_media(note: Note, index: int, attachment: dict[str, Any]) -> dict[str, Any]:
    # Received attachments have no row: the note's id and their position name them.
    return _image_entity(
        f"{note.id}-{index}",
        attachment["url"],
        attachment.get("name"),
        meta=_image_meta(attachment.get("width"), attachment.get("height")),
        remote_url=attachment["url"],
        blurhash=attachment.get("blurhash"),
    )


def _image_entity(
    media_id: str,
    url: str,
    description: str | None,
    *,
    meta: dict[str, Any] | None = None,
    remote_url: str | None = None,
    blurhash: str | None = None,
) -> dict[str, Any]:
    """Mastodon's MediaAttachment of an image, shown at `url` (no separate preview size)."""
    return {
        "id": media_id,
        "type": "image",
        "url": url,
        "preview_url": url,
        "remote_url": remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": description,
        "blurhash": blurhash,
    }


def _image_meta(width: int | None, height: int | None) -> dict[str, Any] | None:
    if not width or not height:
        return None
    original = {"width": width, "height": height, "size": f"{width}x{height}"}
    return {"original": original | {"aspect": width / height}}


def _card(version: DesignVersion, media: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "url": version.uri,
        "title": version.name,
        "description": version.summary or plain_text(version.content)[:300],
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": "",
        "provider_url": "",
        "html": "",
        "width": 0,
        "height": 0,
        "image": media[0]["url"] if media else None,
        "embed_url": "",
        "blurhash": None,
    }

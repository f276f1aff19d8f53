"""Comments: a local person's Note in reply to a design version or to another note.

Finding what is commented on may need the network (a remote version or note we have not
seen), so it happens first, in `resolve_comment_target`, with short transactions of its
own. `add_comment` then adds the note, its Create and the deliveries to the caller's
session; the caller commits once. A comment carries no licence (NOASSERTION): it can be
shown, never forked or bundled into a design.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import ValidationError
from federation.urls import LocalUrls
from federation.vocab import PUBLIC
from objects.convert import RemoteNoteData
from objects.design_convert import is_design
from objects.design_models import DesignVersion
from objects.design_resolve import store_fetched_version
from objects.designs import get_version, project_of
from objects.html import sanitize_html
from objects.licences import LicencePolicy
from objects.linked_text import linked_text_to_html
from objects.models import Note
from objects.notes import add_local_note, get_note, insert_remote_note
from objects.resolve import store_fetched_note
from objects.visibility import visibility_of
from outbox import activities
from outbox.designs import after_comment
from outbox.models import OutboxActivity
from outbox.publish import publish

MAX_COMMENT_CHARS = 20_000
MAX_SUMMARY_CHARS = 500


@dataclass(frozen=True)
class CommentTarget:
    """What a comment replies to: a design version (then `recipient` is its project actor)
    or a note (then `recipient` is the note's author)."""

    uri: str
    is_version: bool
    recipient: str
    inbox: str | None = None  # the project actor's inbox, for a version


async def resolve_comment_target(
    sessions: async_sessionmaker[AsyncSession],
    resolver: ActorResolver,
    policy: LicencePolicy,
    uri: str,
) -> CommentTarget:
    """The version or note at `uri`: stored, or fetched, checked and stored (network first)."""
    async with sessions() as session:
        known = await _known_target(session, uri)
    if known is not None:
        return known
    if resolver.urls.is_local(uri):
        raise ValidationError(f"there is no design version or note {uri}", status=404)
    doc = await resolver.fetch_document(uri)
    if is_design(doc):
        version, project_actor = await store_fetched_version(sessions, resolver, policy, doc)
        return _version_target(version, project_actor)

    async def store(session: AsyncSession, data: RemoteNoteData, author: Actor) -> None:
        await store_received_note(session, resolver.urls, data, author)

    data, author, _ = await store_fetched_note(sessions, resolver, doc, store=store)
    return CommentTarget(uri=data.uri, is_version=False, recipient=author.uri)


async def store_received_note(
    session: AsyncSession, urls: LocalUrls, data: RemoteNoteData, author: Actor
) -> None:
    """Store a remote note once, as delivered: counted where it replies, and passed on by
    the local project whose version it comments on."""
    if await get_note(session, data.uri) is None:
        note = await insert_remote_note(session, data, author, urls.is_local)
        await after_comment(session, urls, note)


async def _known_target(session: AsyncSession, uri: str) -> CommentTarget | None:
    version = await get_version(session, uri)
    if version is not None:
        return _version_target(version, (await project_of(session, version))[1])
    note = await get_note(session, uri)
    if note is None:
        return None
    if note.deleted_at is not None:
        raise ValidationError(f"the note {uri} was deleted; it takes no replies", status=410)
    author = await session.get(Actor, note.actor_id)
    assert author is not None
    return CommentTarget(uri=note.uri, is_version=False, recipient=author.uri)


def _version_target(version: DesignVersion, project_actor: Actor) -> CommentTarget:
    if version.deleted_at is not None:
        raise ValidationError(
            f"the version {version.uri} was deleted; it takes no comments", status=410
        )
    return CommentTarget(
        uri=version.uri,
        is_version=True,
        recipient=project_actor.uri,
        inbox=project_actor.delivery_inbox,
    )


async def add_comment(
    session: AsyncSession,
    urls: LocalUrls,
    author: Actor,
    target: CommentTarget,
    content: str,
    *,
    summary: str | None = None,
) -> tuple[Note, OutboxActivity]:
    """Add the note and publish its Create; the caller commits.

    Public, copied to the author's followers and to whoever the target belongs to (the
    project actor of a version, the author of a note), so their servers receive it.
    """
    text = check_comment(content, summary)
    cc = list(dict.fromkeys(a for a in (author.followers_url, target.recipient) if a))
    cc = [address for address in cc if address != author.uri]
    note = Note(
        uri=urls.new_note(),
        actor_id=author.id,
        local=True,
        in_reply_to=target.uri,
        content=sanitize_html(linked_text_to_html(text, urls.base_url)),
        summary=summary.strip() if summary and summary.strip() else None,
        sensitive=bool(summary and summary.strip()),
        visibility=visibility_of([PUBLIC], cc, author.followers_url),
        to={"to": [PUBLIC], "cc": cc},
    )
    note.url = note.uri
    await add_local_note(session, note)  # counts it on the parent note or version
    await session.flush()
    inboxes = (target.inbox,) if target.inbox else ()
    row = await publish(
        session, urls, author, activities.create_note(urls, author, note), also_inboxes=inboxes
    )
    if target.is_version:
        await after_comment(session, urls, note)  # a local project passes it on
    return note, row


def check_comment(content: str, summary: str | None) -> str:
    """The comment's text, stripped; refuses empty or overlong text (check before fetching)."""
    if not isinstance(content, str) or not content.strip():
        raise ValidationError("a comment needs some content: give it as text in 'content'")
    if len(content) > MAX_COMMENT_CHARS:
        raise ValidationError(f"a comment is at most {MAX_COMMENT_CHARS} characters long")
    if summary is not None and (not isinstance(summary, str) or len(summary) > MAX_SUMMARY_CHARS):
        raise ValidationError(
            f"a content warning ('summary') is text of at most {MAX_SUMMARY_CHARS} characters"
        )
    return content.strip()

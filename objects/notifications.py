"""Who is told about what: the one place that decides notifications.

Recipients are local people. What concerns a project (a follow of it, a reply to or a
mention of it, a like of one of its versions, a fork of it) is told to the project's
local maintainers instead: a project actor has no account to read notifications with.
Nobody is told about their own action, nothing is recorded from a suspended actor, and
nothing from an account the recipient hides (`objects.hiding`: blocks, mutes, domains).

Rows are only added to the session. The inbox worker handles a batch in one transaction
and writes all of the batch's notifications with one executemany
(`federation.db.insert_new_rows`); elsewhere the commit writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import FOLLOW_PENDING, Actor
from federation.db import utcnow
from federation.vocab import is_public
from objects.design_models import PROJECT_ACTOR_TYPE, DesignVersion, Project, ProjectMaintainer
from objects.hiding import not_hiding
from objects.models import ANNOUNCE, LIKE, Interaction, Note, Notification
from objects.visibility import readers_among

FOLLOW = "follow"
FOLLOW_REQUEST = "follow_request"
FAVOURITE = "favourite"
REBLOG = "reblog"
MENTION = "mention"
UPDATE = "update"  # a status one boosted was edited
FORK = "ourdesign.fork"
INTERACTION_KINDS = {LIKE: FAVOURITE, ANNOUNCE: REBLOG}


@dataclass(frozen=True)
class LocalOwner:
    """Whose a note or design version is, when it is ours: a local note's author, or a
    local version's project (whose maintainers are told)."""

    author_id: int | None = None
    project_id: int | None = None


def add_notifications(
    session: AsyncSession,
    recipient_ids: Iterable[int],
    kind: str,
    sender: Actor,
    object_uri: str | None = None,
) -> None:
    """One notification per recipient, leaving out the sender and suspended senders."""
    if sender.suspended_at is not None:
        return
    now = utcnow()
    for recipient_id in dict.fromkeys(recipient_ids):
        if recipient_id != sender.id:
            session.add(
                Notification(
                    recipient_id=recipient_id,
                    kind=kind,
                    from_actor_id=sender.id,
                    object_uri=object_uri,
                    created_at=now,
                )
            )


def follow_kind(state: str) -> str:
    return FOLLOW_REQUEST if state == FOLLOW_PENDING else FOLLOW


async def notify(
    session: AsyncSession,
    recipient: Actor,
    kind: str,
    sender: Actor,
    object_uri: str | None = None,
) -> None:
    """Tell a local actor (a local project: its maintainers); remote actors are not told."""
    if not recipient.local:
        return
    if recipient.type == PROJECT_ACTOR_TYPE:
        recipients = await maintainers(session, project_actor_ids=[recipient.id])
    else:
        recipients = [recipient.id]
    recipients = await not_hiding(session, sender, recipients)
    add_notifications(session, recipients, kind, sender, object_uri)


async def maintainers(
    session: AsyncSession,
    *,
    project_ids: Iterable[int] = (),
    project_actor_ids: Iterable[int] = (),
) -> list[int]:
    """The local maintainers of these projects (by row id or by project actor id)."""
    by_id, by_actor = list(project_ids), list(project_actor_ids)
    if not by_id and not by_actor:
        return []
    rows = await session.scalars(
        select(ProjectMaintainer.actor_id)
        .join(Project, Project.id == ProjectMaintainer.project_id)
        .join(Actor, Actor.id == ProjectMaintainer.actor_id)
        .where(Actor.local, or_(Project.id.in_(by_id), Project.actor_id.in_(by_actor)))
    )
    return list(rows)


# Whether a URI is ours (`LocalUrls.is_local`): what cannot be local is not looked up.
IsLocal = Callable[[str], bool]


async def notify_note(
    session: AsyncSession,
    note: Note,
    author: Actor,
    parent: LocalOwner,
    is_local: IsLocal | None = None,
) -> None:
    """A new note is a "mention" for the local owner of what it replies to and for the local
    actors it is addressed to (Mastodon addresses everyone it mentions), of those who may
    read it: a direct reply to someone else tells the parent's author nothing."""
    if author.suspended_at is not None:
        return
    recipients = await _owners(session, parent)
    recipients += await _addressed(session, note, author, is_local)
    readers = await readers_among(session, note, recipients)
    readers = await not_hiding(session, author, readers)
    add_notifications(session, readers, MENTION, author, note.uri)


async def notify_interaction(
    session: AsyncSession,
    kind: str,
    sender: Actor,
    object_uri: str,
    owner: LocalOwner | None,
    is_local: IsLocal | None = None,
) -> None:
    """A Like or Announce of a local note or design version (`owner` None: the object is
    no note, so it is looked up among versions, unless `is_local` says it is not ours)."""
    if owner is None:
        if is_local is not None and not is_local(object_uri):
            return  # only local versions have owners to tell
        owner = await version_owner(session, object_uri)
    recipients = await _owners(session, owner)
    recipients = await not_hiding(session, sender, recipients)
    add_notifications(session, recipients, INTERACTION_KINDS[kind], sender, object_uri)


async def version_owner(session: AsyncSession, uri: str) -> LocalOwner:
    project_id = await session.scalar(
        select(DesignVersion.project_id).where(DesignVersion.uri == uri, DesignVersion.local)
    )
    return LocalOwner(project_id=project_id)


async def _owners(session: AsyncSession, owner: LocalOwner) -> list[int]:
    if owner.author_id is not None:
        return [owner.author_id]
    if owner.project_id is not None:
        return await maintainers(session, project_ids=[owner.project_id])
    return []


async def _addressed(
    session: AsyncSession, note: Note, author: Actor, is_local: IsLocal | None = None
) -> list[int]:
    """Local people (and local projects' maintainers) named in the note's to and cc.

    Only actual actor addresses are looked up: a note to the public and the author's
    followers, the usual case, costs no query; nor do only remote addresses, when
    `is_local` tells them apart."""
    addresses = [*note.to.get("to", []), *note.to.get("cc", [])]
    skipped = {author.uri, author.followers_url}
    wanted = {
        a
        for a in addresses
        if a not in skipped and not is_public([a]) and (is_local is None or is_local(a))
    }
    if not wanted:
        return []
    rows = await session.execute(
        select(Actor.id, Actor.type).where(Actor.uri.in_(wanted), Actor.local)
    )
    people: list[int] = []
    projects: list[int] = []
    for actor_id, actor_type in rows.all():
        (projects if actor_type == PROJECT_ACTOR_TYPE else people).append(actor_id)
    return people + await maintainers(session, project_actor_ids=projects)


async def notify_edit(session: AsyncSession, note: Note, author: Actor) -> None:
    """Tell the local people who boosted the note that it was edited, as Mastodon does."""
    with session.no_autoflush:  # in an inbox batch: no flush of the batch per lookup
        boosters = await session.scalars(
            select(Actor.id)
            .join(Interaction, Interaction.actor_id == Actor.id)
            .where(
                Interaction.kind == ANNOUNCE,
                Interaction.object_uri == note.uri,
                Actor.local.is_(True),
            )
        )
        add_notifications(session, list(boosters), UPDATE, author, note.uri)

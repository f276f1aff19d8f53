"""What a person chose not to see: the one rule every timeline, notification list, thread
and stream of theirs crosses.

A person hides an account by blocking or muting it (a mute may end, and may leave their
notifications shown), and every account of a domain by blocking that domain. An account
that blocks the person is hidden from them too: as on Mastodon, a block hides each side
from the other. Hidden accounts' statuses (notes, and the versions of their projects) are
left out of the person's timelines and threads, and their notifications out of the
person's notifications.

`wanted_by` is the SQL condition the listings use (`web.mastodon_paging.fetch_page` applies
it to every source of every timeline, so none can leave it out); `hidden_ids` loads the
same set for lists already in hand (threads, streams). This is a filter of what a person
reads, apart from who may read what at all (`objects.visibility`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, inspect, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.relation_models import AccountBlock, AccountMute, PersonDomainBlock
from federation.db import utcnow
from objects.design_models import DesignVersion, Project
from objects.models import Interaction, Note, Notification

Item = TypeVar("Item", bound=Note | DesignVersion)


def _hidden_selects(
    viewer_id: int, *, notifications: bool, own_choices: bool = True
) -> list[Select[int]]:
    """The ids of the accounts hidden from the viewer, as several selects (NOT IN each);
    without `own_choices`, only those that block the viewer."""
    blocking_me = select(AccountBlock.actor_id).where(AccountBlock.target_id == viewer_id)
    if not own_choices:
        return [blocking_me]
    muted = select(AccountMute.target_id).where(
        AccountMute.actor_id == viewer_id,
        or_(AccountMute.expires_at.is_(None), AccountMute.expires_at > utcnow()),
    )
    if notifications:
        muted = muted.where(AccountMute.notifications)
    return [
        select(AccountBlock.target_id).where(AccountBlock.actor_id == viewer_id),
        blocking_me,
        muted,
        select(Actor.id)
        .join(PersonDomainBlock, PersonDomainBlock.domain == Actor.domain)
        .where(PersonDomainBlock.actor_id == viewer_id),
    ]


def shown_accounts(
    viewer: Actor | None, column: Any, *, notifications: bool = False, own_choices: bool = True
) -> ColumnElement[bool]:
    """The rows whose account `column` is not hidden from the viewer."""
    if viewer is None:
        return true()
    hidden = _hidden_selects(viewer.id, notifications=notifications, own_choices=own_choices)
    return and_(*(column.not_in(ids) for ids in hidden))


def wanted_by(viewer: Actor | None, model: Any, *, own_choices: bool = True) -> ColumnElement[bool]:
    """The rows of `model` (Note, DesignVersion, Notification or a boost's Interaction, or an
    alias of one) that
    come from no account hidden from the viewer. Without `own_choices` (an account's own
    statuses, which Mastodon shows to who opens that account even if they muted or
    blocked it) only accounts that block the viewer are left out."""
    kind = inspect(model).mapper.class_
    if kind is Note:
        return shown_accounts(viewer, model.actor_id, own_choices=own_choices)
    if kind is DesignVersion:
        if viewer is None:
            return true()
        hidden_projects = select(Project.id).where(
            ~shown_accounts(viewer, Project.actor_id, own_choices=own_choices)
        )
        shown: ColumnElement[bool] = model.project_id.not_in(hidden_projects)
        return shown
    if kind is Notification:
        return shown_accounts(viewer, model.from_actor_id, notifications=True)
    if kind is Interaction:  # a boost, hidden with its booster
        return shown_accounts(viewer, model.actor_id, own_choices=own_choices)
    raise TypeError(f"no hiding rule for {kind.__name__}")


async def hidden_ids(
    session: AsyncSession, viewer: Actor | None, *, notifications: bool = False
) -> set[int]:
    """The ids of the accounts hidden from the viewer (for lists already loaded)."""
    if viewer is None:
        return set()
    found: set[int] = set()
    for ids in _hidden_selects(viewer.id, notifications=notifications):
        found.update(await session.scalars(ids))
    return found


async def wanted(session: AsyncSession, viewer: Actor | None, items: Sequence[Item]) -> list[Item]:
    """The items, in order, less those of accounts hidden from the viewer."""
    hidden = await hidden_ids(session, viewer)
    if not hidden:
        return list(items)
    project_ids = {item.project_id for item in items if isinstance(item, DesignVersion)}
    owners: dict[int, int] = {}
    if project_ids:
        rows = await session.execute(
            select(Project.id, Project.actor_id).where(Project.id.in_(project_ids))
        )
        owners = {project_id: actor_id for project_id, actor_id in rows.all()}
    return [item for item in items if _author_of(item, owners) not in hidden]


def _author_of(item: Note | DesignVersion, owners: dict[int, int]) -> int | None:
    if isinstance(item, Note):
        return item.actor_id
    return owners.get(item.project_id)


async def blocks(session: AsyncSession, blocker: int, blocked: int) -> bool:
    """Whether `blocker` blocks `blocked` (one way)."""
    found = await session.scalar(
        select(AccountBlock.id).where(
            AccountBlock.actor_id == blocker, AccountBlock.target_id == blocked
        )
    )
    return found is not None


async def blocks_between(session: AsyncSession, one: int, other: int) -> bool:
    """Whether either of the two accounts blocks the other."""
    found = await session.scalar(
        select(AccountBlock.id).where(
            ((AccountBlock.actor_id == one) & (AccountBlock.target_id == other))
            | ((AccountBlock.actor_id == other) & (AccountBlock.target_id == one))
        )
    )
    return found is not None


async def not_hiding(session: AsyncSession, sender: Actor, recipient_ids: list[int]) -> list[int]:
    """Those of the recipients who do not hide the sender from their notifications, in
    order: what a hidden account does is never recorded for them (one query, none for no
    recipients), beside the listings' own filter."""
    if not recipient_ids:
        return recipient_ids
    now = utcnow()
    hiding = select(AccountBlock.actor_id).where(
        AccountBlock.target_id == sender.id, AccountBlock.actor_id.in_(recipient_ids)
    )
    blocked = select(AccountBlock.target_id).where(
        AccountBlock.actor_id == sender.id, AccountBlock.target_id.in_(recipient_ids)
    )
    muting = select(AccountMute.actor_id).where(
        AccountMute.target_id == sender.id,
        AccountMute.actor_id.in_(recipient_ids),
        AccountMute.notifications,
        or_(AccountMute.expires_at.is_(None), AccountMute.expires_at > now),
    )
    domain = select(PersonDomainBlock.actor_id).where(
        PersonDomainBlock.domain == sender.domain, PersonDomainBlock.actor_id.in_(recipient_ids)
    )
    with session.no_autoflush:
        found = set(await session.scalars(hiding.union(blocked, muting, domain)))
    return [i for i in recipient_ids if i not in found]


async def hiders_of(
    session: AsyncSession, author_ids: Collection[int], reader_ids: Collection[int]
) -> dict[int, set[int]]:
    """For each author, those of the readers who hide them (for pushing to streams)."""
    found: dict[int, set[int]] = {author: set() for author in author_ids}
    if not author_ids or not reader_ids:
        return found
    authors, readers = list(author_ids), list(reader_ids)
    pairs = [
        select(AccountBlock.target_id, AccountBlock.actor_id).where(
            AccountBlock.target_id.in_(authors), AccountBlock.actor_id.in_(readers)
        ),
        select(AccountBlock.actor_id, AccountBlock.target_id).where(
            AccountBlock.actor_id.in_(authors), AccountBlock.target_id.in_(readers)
        ),
        select(AccountMute.target_id, AccountMute.actor_id).where(
            AccountMute.target_id.in_(authors),
            AccountMute.actor_id.in_(readers),
            or_(AccountMute.expires_at.is_(None), AccountMute.expires_at > utcnow()),
        ),
        select(Actor.id, PersonDomainBlock.actor_id)
        .join(PersonDomainBlock, PersonDomainBlock.domain == Actor.domain)
        .where(Actor.id.in_(authors), PersonDomainBlock.actor_id.in_(readers)),
    ]
    for query in pairs:
        for author, reader in await session.execute(query):
            found[author].add(reader)
    return found

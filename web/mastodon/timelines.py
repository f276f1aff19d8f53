"""Mastodon's timelines: home, public, a hashtag's, a list's, and one account's statuses.

Notes and design versions are mixed, newest first, paged as `web.mastodon.paging` explains,
less what the reader hides (`objects.hiding`, applied by the pager) and what their filters
of the timeline's context hide (`web.mastodon.filtering`). Home and account timelines show
boosts as Mastodon shows reblogs (`web.mastodon.status`). Home also shows public notes and
designs carrying the hashtags the viewer follows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.moderation import publicly_listed, visible
from actors.relation_models import AccountList, ListMember
from federation.db import is_postgres
from federation.errors import FederationError
from objects.design_models import DesignVersion, Project, ProjectMaintainer
from objects.designs import clean_tags
from objects.hashtags import followed_names
from objects.models import Interaction, Note
from objects.note_filters import note_has_media, note_tagged, version_has_files
from objects.pin_models import Pin
from objects.search import listed_versions, tags_contain
from objects.tag_models import NoteTag
from objects.visibility import boost_shown, listed_publicly, readable_by, readable_by_followers
from web.bearer import token_actor, viewer_actor
from web.instance import instance_of
from web.mastodon.entity_lists import visible_actor
from web.mastodon.filtering import filtered_page
from web.mastodon.paging import (
    NOT_FOUND,
    PerAuthor,
    Source,
    link_header,
    page_request,
    query_flag,
)
from web.request_input import whole_id
from web.scopes import ScopedRoute


def _notes(listed: bool = False) -> Select[Any]:
    shown = publicly_listed() if listed else visible()
    return (
        select(Note).join(Actor, Actor.id == Note.actor_id).where(Note.deleted_at.is_(None), shown)
    )


def _versions() -> Select[Any]:
    return (
        select(DesignVersion)
        .join(Project, Project.id == DesignVersion.project_id)
        .join(Actor, Actor.id == Project.actor_id)
        .where(DesignVersion.deleted_at.is_(None), visible())
    )


Sources = Callable[[AsyncSession], Awaitable[list[Source]]]


async def _answer(
    request: Request, viewer: Actor | None, sources: Sources, context: str
) -> Response:
    """A page of the statuses `sources` select, less what the viewer's filters of this
    context hide, kept in the answer cache until a write."""
    instance = instance_of(request)

    async def build() -> Response:
        async with instance.sessions() as session:
            # The sources first: an account that is not shown is a 404 before a bad cursor.
            selected = await sources(session)
            page = await page_request(session, request)
            items, shown = await filtered_page(session, instance, viewer, context, page, selected)
        return JSONResponse(shown, headers=link_header(request, items))

    return await instance.answers.answer(request, viewer.id if viewer else None, build)


def _readable_by_follower(me: Actor, note: Any) -> ColumnElement[bool]:
    shown: ColumnElement[bool] = note.deleted_at.is_(None) & readable_by_followers(me, note)
    return shown


async def home(request: Request) -> Response:
    """Notes by people the viewer follows (all but direct ones; none by accounts on their
    exclusive lists) and their own; versions of projects they follow or maintain.
    Each followed account's notes are one index seek, so a page costs the same however
    many notes the others have written."""
    me = await token_actor(request)

    async def sources(session: AsyncSession) -> list[Source]:
        followees = list(
            await session.scalars(
                select(Follow.followee_id)
                .join(Actor, Actor.id == Follow.followee_id)
                .where(Follow.follower_id == me.id, Follow.state == FOLLOW_ACCEPTED, visible())
                .where(Follow.followee_id.not_in(_in_exclusive_lists(me)))
            )
        )
        mine = select(Note).where(Note.deleted_at.is_(None), Note.actor_id == me.id)
        theirs = PerAuthor(
            Note,
            lambda note: note.deleted_at.is_(None) & readable_by_followers(me, note),
            followees,
        )
        maintained = select(ProjectMaintainer.project_id).where(ProjectMaintainer.actor_id == me.id)
        versions = _versions().where(
            or_(Project.actor_id.in_(followees), Project.id.in_(maintained))
        )
        boosts = PerAuthor(Interaction, boost_shown, [me.id, *followees])
        tags = await followed_names(session, me.id)
        if not tags:
            return [mine, theirs, versions, boosts]
        # Followed hashtags: public posts and designs by anyone not already listed above.
        tagged_notes = _notes(listed=True).where(
            listed_publicly(),
            Note.actor_id.not_in([me.id, *followees]),
            Note.uri.in_(select(NoteTag.note_uri).where(NoteTag.name.in_(tags))),
        )
        postgres = is_postgres(session)
        tagged_versions = listed_versions().where(
            Project.actor_id.not_in(followees),
            Project.id.not_in(maintained),
            or_(*(tags_contain(DesignVersion.tags, tag, postgres=postgres) for tag in tags)),
        )
        return [mine, theirs, versions, boosts, tagged_notes, tagged_versions]

    return await _answer(request, me, sources, "home")


def _in_exclusive_lists(me: Actor) -> Select[Any]:
    """The accounts on the person's exclusive lists: seen in those lists, not in home."""
    return (
        select(ListMember.target_id)
        .join(AccountList, AccountList.id == ListMember.list_id)
        .where(AccountList.actor_id == me.id, AccountList.exclusive)
    )


async def list_timeline(request: Request) -> Response:
    """Notes and versions of the list's accounts that the person still follows, with the
    replies its `replies_policy` lets in; someone else's list is 404."""
    me = await token_actor(request)

    async def sources(session: AsyncSession) -> list[Source]:
        chosen = await session.scalar(
            select(AccountList).where(
                AccountList.id == whole_id(request.path_params["id"], NOT_FOUND),
                AccountList.actor_id == me.id,
            )
        )
        if chosen is None:
            raise FederationError(NOT_FOUND, status=404)
        members = list(
            await session.scalars(
                select(ListMember.target_id)
                .join(Actor, Actor.id == ListMember.target_id)
                .join(Follow, Follow.followee_id == ListMember.target_id)
                .where(ListMember.list_id == chosen.id, visible())
                .where(Follow.follower_id == me.id, Follow.state == FOLLOW_ACCEPTED)
            )
        )
        replies = _replies_shown(chosen.replies_policy, me, members)
        notes = PerAuthor(
            Note, lambda note: _readable_by_follower(me, note) & replies(note), members
        )
        return [notes, _versions().where(Project.actor_id.in_(members))]

    return await _answer(request, me, sources, "home")


def _replies_shown(
    policy: str, me: Actor, members: list[int]
) -> Callable[[Any], ColumnElement[bool]]:
    """Which notes a list shows by its replies policy: "none", no replies; "list", replies
    to its accounts (or the person); "followed", replies to anyone the person follows."""
    parent = aliased(Note, name="parent")
    if policy == "followed":
        followed = select(Follow.followee_id).where(
            Follow.follower_id == me.id, Follow.state == FOLLOW_ACCEPTED
        )
        answered = select(parent.uri).where(
            or_(parent.actor_id.in_(followed), parent.actor_id == me.id)
        )
    else:
        answered = select(parent.uri).where(parent.actor_id.in_([*members, me.id]))

    def shown(note: Any) -> ColumnElement[bool]:
        if policy == "none":
            return note.in_reply_to.is_(None)  # type: ignore[no-any-return]
        return or_(note.in_reply_to.is_(None), note.in_reply_to.in_(answered))

    return shown


async def public(request: Request) -> Response:
    """Public notes and every design version; ?local=true or ?remote=true narrows them."""
    viewer = await viewer_actor(request)

    async def sources(_session: AsyncSession) -> list[Source]:
        notes = _notes(listed=True).where(listed_publicly())
        versions = listed_versions()
        if query_flag(request, "local"):
            return [notes.where(Note.local), versions.where(DesignVersion.local)]
        if query_flag(request, "remote"):
            return [notes.where(~Note.local), versions.where(~DesignVersion.local)]
        return [notes, versions]

    return await _answer(request, viewer, sources, "public")


async def tag(request: Request) -> Response:
    """Public notes and design versions carrying the tag."""
    viewer = await viewer_actor(request)
    names = clean_tags([request.path_params["hashtag"]])
    if not names:
        return JSONResponse([])

    async def sources(session: AsyncSession) -> list[Source]:
        has_tag = tags_contain(DesignVersion.tags, names[0], postgres=is_postgres(session))
        versions = listed_versions().where(has_tag)
        notes = _notes(listed=True).where(listed_publicly(), note_tagged(names[0]))
        if query_flag(request, "local"):
            versions = versions.where(DesignVersion.local)
            notes = notes.where(Note.local)
        return [notes, versions]

    return await _answer(request, viewer, sources, "public")


async def account_statuses(request: Request) -> Response:
    """The account's notes that the viewer may read, and, for a project, its versions. The
    account is looked up while building the answer, so that a kept answer costs no query."""
    viewer = await viewer_actor(request)

    async def sources(session: AsyncSession) -> list[Source]:
        actor = await visible_actor(session, request.path_params["id"])
        notes = _notes().where(Note.actor_id == actor.id, readable_by(viewer))
        if query_flag(request, "pinned"):  # pinned notes only (a project pins nothing)
            return [notes.where(Note.id.in_(select(Pin.note_id).where(Pin.actor_id == actor.id)))]
        if query_flag(request, "exclude_replies"):
            notes = notes.where(Note.in_reply_to.is_(None))
        versions = _versions().where(Project.actor_id == actor.id)
        if query_flag(request, "only_media"):
            notes = notes.where(note_has_media(postgres=is_postgres(session)))
            versions = versions.where(version_has_files())
        if tagged := request.query_params.get("tagged"):
            names = clean_tags([tagged])
            if not names:
                return []
            notes = notes.where(note_tagged(names[0]))
            postgres = is_postgres(session)
            versions = versions.where(tags_contain(DesignVersion.tags, names[0], postgres=postgres))
        filtered = query_flag(request, "only_media") or "tagged" in request.query_params
        if filtered or query_flag(request, "exclude_reblogs"):
            return [notes, versions]  # boosts carry no media or tags of their own
        boosts = select(Interaction).where(Interaction.actor_id == actor.id, boost_shown())
        return [notes, versions, boosts]

    return await _answer(request, viewer, sources, "account")


READ = "read:statuses"

routes = [
    ScopedRoute("/api/v1/timelines/home", home, methods=["GET"], scope=READ),
    ScopedRoute("/api/v1/timelines/public", public, methods=["GET"], scope=READ),
    ScopedRoute("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"], scope=READ),
    ScopedRoute("/api/v1/timelines/list/{id}", list_timeline, methods=["GET"], scope="read:lists"),
    ScopedRoute("/api/v1/accounts/{id}/statuses", account_statuses, methods=["GET"], scope=READ),
]

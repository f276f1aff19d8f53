"""Finding actors: known ones by handle or name, remote ones fetched by handle or URL.

One place for every face: Mastodon's account lookup and search, reports, the search page,
follows from the pages and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.moderation import visible
from actors.resolve import ActorResolver
from actors.service import get_local_actor
from federation.blocks import DomainBlocks
from federation.errors import FederationError
from federation.urls import LocalUrls
from federation.webfinger import parse_handle


class Directory(Protocol):
    """What finding an actor needs (a running instance has it all)."""

    sessions: async_sessionmaker[AsyncSession]
    resolver: ActorResolver
    blocks: DomainBlocks
    urls: LocalUrls


def is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


async def known_by_handle(session: AsyncSession, instance: Directory, acct: str) -> Actor | None:
    username, _, host = acct.strip().lstrip("@").partition("@")
    host = host or instance.urls.host
    query = select(Actor).where(
        func.lower(Actor.username) == username.lower(),
        func.lower(Actor.domain) == host.lower(),
        visible(),
    )
    return await session.scalar(query.limit(1))


async def resolve_remote(instance: Directory, ref: str) -> Actor | None:
    """A remote person by handle or URL, fetched; None when it cannot be found or its
    domain is blocked."""
    try:
        return await remote_actor(instance, ref)
    except FederationError:
        return None


async def remote_actor(instance: Directory, ref: str, *, check_blocks: bool = True) -> Actor | None:
    """The person a URL or handle names, fetched (network first: the resolver uses sessions
    of its own); None when the handle is one of ours. Blocked domains raise unless
    `check_blocks` is off (a report may name an account on a blocked domain)."""
    if is_url(ref):
        if check_blocks:
            instance.blocks.check(ref)
        return await instance.resolver.get_actor(ref)
    _, host = parse_handle(ref)
    if check_blocks:
        instance.blocks.check(host)
    if host == instance.urls.host:
        return None
    return await instance.resolver.resolve_handle(ref)


async def actor_by_ref(
    instance: Directory, ref: str, not_found: str, *, check_blocks: bool = True
) -> Actor:
    """The actor a URL or handle names: others fetched (`remote_actor`), ours looked up,
    404 with `not_found` when we have no such person."""
    actor = await remote_actor(instance, ref, check_blocks=check_blocks)
    if actor is not None:
        return actor
    username, _ = parse_handle(ref)
    return await local_actor(instance, username, not_found)


async def local_actor(instance: Directory, username: str, not_found: str) -> Actor:
    """One of our people by user name, in a session of its own; 404 with `not_found`."""
    async with instance.sessions() as session:
        actor = await get_local_actor(session, username)
    if actor is None:
        raise FederationError(not_found, status=404)
    return actor


def known_accounts(query: str) -> Select[Any]:
    """Shown accounts whose username or name contains the query (user or user@host), local
    ones first."""
    username, _, host = query.partition("@")
    pattern = f"%{username.lower()}%"
    where = or_(func.lower(Actor.username).like(pattern), func.lower(Actor.name).like(pattern))
    rows = select(Actor).where(where, visible(), Actor.type != "Application")
    if host:
        rows = rows.where(func.lower(Actor.domain).like(f"{host.lower()}%"))
    return rows.order_by(Actor.local.desc(), Actor.id)


@dataclass(frozen=True)
class SearchRequest:
    text: str
    types: tuple[str, ...]
    viewer: Actor | None
    resolve: bool  # only with a token, as Mastodon
    limit: int
    offset: int
    account_id: int | None
    following: bool


async def find_accounts(instance: Directory, wanted: SearchRequest) -> list[Actor]:
    query = wanted.text.lstrip("@")
    if wanted.resolve and ("@" in query or is_url(query)):
        found = await _resolved_account(instance, query)
        return [found] if found is not None and wanted.offset == 0 else []
    if not query or is_url(query):
        return []
    rows = known_accounts(query)
    if wanted.following and wanted.viewer is not None:
        followed = select(Follow.followee_id).where(
            Follow.follower_id == wanted.viewer.id, Follow.state == FOLLOW_ACCEPTED
        )
        rows = rows.where(Actor.id.in_(followed))
    async with instance.sessions() as session:
        return list(await session.scalars(rows.offset(wanted.offset).limit(wanted.limit)))


async def _resolved_account(instance: Directory, query: str) -> Actor | None:
    async with instance.sessions() as session:
        known = await known_by_handle(session, instance, query) if not is_url(query) else None
        if known is None and is_url(query):
            known = await session.scalar(select(Actor).where(Actor.uri == query))
    if known is not None:
        return known if known.suspended_at is None else None
    found = await resolve_remote(instance, query)
    return found if found is not None and found.suspended_at is None else None

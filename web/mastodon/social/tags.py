"""Mastodon's hashtags: a tag, following and unfollowing it, and the tags one follows.
Following a tag brings its public notes and designs into one's home timeline."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from objects.hashtags import follow_tag, followed_names, one_tag, tag_url, unfollow_tag
from web.bearer import token_actor, viewer_actor
from web.instance import instance_of
from web.mastodon.paging import page_limit
from web.scopes import ScopedRoute, both

DEFAULT_FOLLOWED = 100
MAX_FOLLOWED_PAGE = 200


def _tag(base_url: str, name: str, *, following: bool | None) -> dict[str, Any]:
    url = tag_url(base_url, name)
    entity: dict[str, Any] = {"id": name, "name": name, "url": url, "history": []}
    if following is not None:
        entity["following"] = following
    return entity


async def get_tag(request: Request) -> Response:
    instance = instance_of(request)
    name = one_tag(request.path_params["name"])
    viewer = await viewer_actor(request)
    following = None
    if viewer is not None:
        async with instance.sessions() as session:
            following = name in await followed_names(session, viewer.id)
    return JSONResponse(_tag(instance.urls.base_url, name, following=following))


async def follow(request: Request) -> Response:
    return await _change(request, follow=True)


async def unfollow(request: Request) -> Response:
    return await _change(request, follow=False)


async def _change(request: Request, *, follow: bool) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    name = one_tag(request.path_params["name"])
    async with instance.sessions() as session:
        await (follow_tag if follow else unfollow_tag)(session, me.id, name)
    return JSONResponse(_tag(instance.urls.base_url, name, following=follow))


async def followed_tags(request: Request) -> Response:
    """The tags one follows, in the order they were followed (`limit`, 100, at most 200)."""
    instance = instance_of(request)
    me = await token_actor(request)
    limit = page_limit(request, DEFAULT_FOLLOWED, MAX_FOLLOWED_PAGE)
    async with instance.sessions() as session:
        names = (await followed_names(session, me.id))[:limit]
    return JSONResponse([_tag(instance.urls.base_url, n, following=True) for n in names])


READ_TAG = ("read:statuses", "read:follows")
routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/tags/{name}", get_tag, methods=["GET"], scope=READ_TAG),
    ScopedRoute("/api/v1/tags/{name}/follow", follow, methods=["POST"], scope="write:follows"),
    ScopedRoute("/api/v1/tags/{name}/unfollow", unfollow, methods=["POST"], scope="write:follows"),
    *both("/api/v1/followed_tags", followed_tags, methods=["GET"], scope="read:follows"),
]

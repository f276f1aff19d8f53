"""Mastodon's search: GET /api/v2/search (hashtags as entities) and /api/v1/search (hashtags
as names).

Reading needs no token. With a token (scope read:search) and resolve=true, a handle or URL
is looked up on its server: a person, a note, or a design version (whose licence is checked
as for any received design; a refused one is simply not found). Blocked domains give no
results rather than an error, since a search is not a request for that domain.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.lookup import (
    SearchRequest,
    find_accounts,
    is_url,
)
from federation.errors import ValidationError
from objects.hiding import wanted as shown_to
from objects.search import Item, fetch_item, known_item, statuses_matching, tags_matching
from objects.visibility import readable
from web.bearer import viewer_actor
from web.instance import Instance, instance_of
from web.mastodon.entity_lists import entities
from web.mastodon.paging import page_limit, query_flag
from web.mastodon.status import entities_of_actors
from web.request_input import whole_id
from web.scopes import ScopedRoute

MAX_OFFSET = 10_000
TYPES = ("accounts", "statuses", "hashtags")


async def search_request(request: Request) -> SearchRequest:
    params = request.query_params
    kind = params.get("type", "")
    if kind and kind not in TYPES:
        raise ValidationError(f"'type' must be one of {', '.join(TYPES)}")
    viewer = await viewer_actor(request)
    return SearchRequest(
        text=params.get("q", "").strip()[:500],
        types=(kind,) if kind else TYPES,
        viewer=viewer,
        resolve=viewer is not None and query_flag(request, "resolve"),
        limit=page_limit(request),
        offset=min(_whole(params.get("offset"), "offset") or 0, MAX_OFFSET),
        account_id=_whole(params.get("account_id"), "account_id"),
        following=query_flag(request, "following"),
    )


def _whole(value: str | None, name: str) -> int | None:
    if not value:
        return None
    return whole_id(value, f"{name!r} must be a whole number", status=ValidationError.status)


# Accounts


# Statuses


async def find_statuses(instance: Instance, wanted: SearchRequest) -> list[Item]:
    """What matches, less the statuses of accounts the viewer hides (`objects.hiding`), as
    every timeline leaves them out."""
    if not wanted.text:
        return []
    if is_url(wanted.text):
        found = await _status_by_url(instance, wanted)
        items = [found] if found is not None and wanted.offset == 0 else []
    else:
        async with instance.sessions() as session:
            items = await statuses_matching(
                session, wanted.text, wanted.offset, wanted.limit, wanted.account_id
            )
    if not items or wanted.viewer is None:
        return items
    async with instance.sessions() as session:
        return await shown_to(session, wanted.viewer, items)


async def _status_by_url(instance: Instance, wanted: SearchRequest) -> Item | None:
    """What we have is shown to anyone; fetching needs resolve (and so a token)."""
    if instance.blocks.is_suspended(wanted.text):
        return None
    async with instance.sessions() as session:
        known = await known_item(session, wanted.text, wanted.viewer)
    if known is not None or not wanted.resolve or instance.urls.is_local(wanted.text):
        return known
    return await fetch_item(instance, wanted.text)


# The route


async def search_results(request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    wanted = await search_request(request)
    accounts = await find_accounts(instance, wanted) if "accounts" in wanted.types else []
    statuses = await find_statuses(instance, wanted) if "statuses" in wanted.types else []
    tags: list[str] = []
    async with instance.sessions() as session:
        if "hashtags" in wanted.types and not is_url(wanted.text):
            tags = await tags_matching(session, wanted.text, wanted.offset, wanted.limit)
        by_id = await entities_of_actors(session, instance.urls, accounts)
        statuses = await readable(session, wanted.viewer, statuses)  # fetched ones too
        status_list = await entities(session, instance, wanted.viewer, statuses)
    return {
        "accounts": [by_id[a.id] for a in accounts],
        "statuses": status_list,
        "hashtags": [
            {"name": tag, "url": f"{instance.urls.base_url}/tags/{tag}", "history": []}
            for tag in tags
        ],
    }


async def search_v2(request: Request) -> Response:
    return JSONResponse(await search_results(request))


async def search_v1(request: Request) -> Response:
    """The old shape: hashtags as plain names."""
    results = await search_results(request)
    results["hashtags"] = [tag["name"] for tag in results["hashtags"]]
    return JSONResponse(results)


routes = [
    ScopedRoute("/api/v2/search", search_v2, methods=["GET"], scope="read:search"),
    ScopedRoute("/api/v1/search", search_v1, methods=["GET"], scope="read:search"),
]

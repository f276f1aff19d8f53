"""Mastodon's filters v2 (`/api/v2/filters`), their keywords, and filters v1 read as
Mastodon 4 shows them. Applying them to what a person reads is `web.mastodon.filtering`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from federation.db import utcnow
from federation.errors import FederationError, ValidationError
from objects.filter_models import ACTIONS, CONTEXTS, WARN, FilterKeyword, StatusFilter
from objects.filters import ActiveFilter, filters_of
from web.bearer import token_actor
from web.instance import instance_of
from web.mastodon.filtering import filter_entity, keyword_entity, v1_filter_entities
from web.mastodon.forms import app_params
from web.mastodon.paging import NOT_FOUND
from web.request_input import whole_id
from web.scopes import ScopedRoute, both

MAX_FILTERS = 100
MAX_KEYWORDS = 100
MAX_TEXT = 255
MAX_SECONDS = 10 * 366 * 24 * 3600
TRUE = ("true", "1", "on", "yes")
READ_FILTERS = "read:filters"
WRITE_FILTERS = "write:filters"


# Reading what an app sent


def _title(params: dict[str, Any]) -> str:
    title = params.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("'title' is required: the filter's name")
    if len(title.strip()) > MAX_TEXT:
        raise ValidationError(f"'title' is longer than {MAX_TEXT} characters")
    return title.strip()


def _contexts(params: dict[str, Any]) -> list[str]:
    value = params.get("context")
    listed = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    if not listed or any(each not in CONTEXTS for each in listed):
        raise ValidationError(f"'context' must list one or more of {', '.join(CONTEXTS)}")
    return list(dict.fromkeys(listed))


def _action(params: dict[str, Any]) -> str:
    action = params.get("filter_action", WARN)
    if action not in ACTIONS:
        raise ValidationError(f"'filter_action' must be one of {', '.join(ACTIONS)}")
    return str(action)


def _expiry(params: dict[str, Any]) -> dt.datetime | None:
    """`expires_in` seconds from now; empty or none: never."""
    value = params.get("expires_in")
    if value is None or value == "":
        return None
    seconds = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        seconds = int(value)
    if seconds is None or not 0 < seconds <= MAX_SECONDS:
        raise ValidationError("'expires_in' must be a number of seconds, or empty for never")
    return utcnow() + dt.timedelta(seconds=seconds)


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value is True or str(value).lower() in TRUE


def _keyword_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("each keyword needs a 'keyword': the words to look for")
    if len(value.strip()) > MAX_TEXT:
        raise ValidationError(f"a keyword is longer than {MAX_TEXT} characters")
    return value.strip()


def _keyword_changes(params: dict[str, Any]) -> list[dict[str, Any]]:
    value = params.get("keywords_attributes", [])
    if isinstance(value, dict):  # keywords_attributes[0][keyword] read as an object by index
        value = list(value.values())
    if not isinstance(value, list) or not all(isinstance(each, dict) for each in value):
        raise ValidationError("'keywords_attributes' must be a list of {keyword, whole_word}")
    if len(value) > MAX_KEYWORDS:
        raise ValidationError(f"at most {MAX_KEYWORDS} keywords")
    return value


# Storing


async def _own(session: AsyncSession, me: Actor, raw_id: str) -> StatusFilter:
    row = await session.scalar(
        select(StatusFilter).where(
            StatusFilter.id == whole_id(raw_id, NOT_FOUND), StatusFilter.actor_id == me.id
        )
    )
    if row is None:
        raise FederationError(NOT_FOUND, status=404)
    return row


async def _own_keyword(session: AsyncSession, me: Actor, raw_id: str) -> FilterKeyword:
    row = await session.scalar(
        select(FilterKeyword)
        .join(StatusFilter, StatusFilter.id == FilterKeyword.filter_id)
        .where(FilterKeyword.id == whole_id(raw_id, NOT_FOUND), StatusFilter.actor_id == me.id)
    )
    if row is None:
        raise FederationError(NOT_FOUND, status=404)
    return row


async def _apply_keywords(
    session: AsyncSession, row: StatusFilter, changes: list[dict[str, Any]]
) -> None:
    """Add keywords (no id), change or, with `_destroy`, remove the filter's own (by id)."""
    for change in changes:
        raw_id = change.get("id")
        if raw_id in (None, ""):
            keyword = _keyword_text(change.get("keyword"))
            whole = _flag(change.get("whole_word"), True)
            session.add(FilterKeyword(filter_id=row.id, keyword=keyword, whole_word=whole))
            continue
        found = await session.scalar(
            select(FilterKeyword).where(
                FilterKeyword.id == whole_id(str(raw_id), NOT_FOUND),
                FilterKeyword.filter_id == row.id,
            )
        )
        if found is None:
            raise FederationError(f"this filter has no keyword {raw_id}", status=404)
        if _flag(change.get("_destroy"), False):
            await session.delete(found)
            continue
        if "keyword" in change:
            found.keyword = _keyword_text(change["keyword"])
        if "whole_word" in change:
            found.whole_word = _flag(change["whole_word"], found.whole_word)
    await session.flush()
    count = await session.scalar(
        select(func.count()).select_from(FilterKeyword).where(FilterKeyword.filter_id == row.id)
    )
    if (count or 0) > MAX_KEYWORDS:
        raise ValidationError(f"a filter has at most {MAX_KEYWORDS} keywords")


async def _entity(session: AsyncSession, row: StatusFilter) -> dict[str, Any]:
    keywords = await session.scalars(
        select(FilterKeyword).where(FilterKeyword.filter_id == row.id).order_by(FilterKeyword.id)
    )
    return filter_entity(ActiveFilter(row, list(keywords)))


# Routes


async def index(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        found = await filters_of(session, me)
    return JSONResponse([filter_entity(each) for each in found])


async def index_v1(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        found = await filters_of(session, me)
    return JSONResponse(v1_filter_entities(found))


async def create(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    row = StatusFilter(
        actor_id=me.id,
        title=_title(params),
        contexts={"contexts": _contexts(params)},
        action=_action(params),
        expires_at=_expiry(params),
    )
    changes = _keyword_changes(params)
    if any(change.get("id") not in (None, "") for change in changes):
        raise ValidationError("a new filter's keywords have no 'id' yet")
    async with instance.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(StatusFilter).where(StatusFilter.actor_id == me.id)
        )
        if (count or 0) >= MAX_FILTERS:
            raise ValidationError(f"you have {MAX_FILTERS} filters already; delete one first")
        session.add(row)
        await session.flush()
        await _apply_keywords(session, row, changes)
        await session.commit()
        return JSONResponse(await _entity(session, row))


async def show(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        row = await _own(session, me, request.path_params["id"])
        return JSONResponse(await _entity(session, row))


async def update(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    async with instance.sessions() as session:
        row = await _own(session, me, request.path_params["id"])
        if "title" in params:
            row.title = _title(params)
        if "context" in params:
            row.contexts = {"contexts": _contexts(params)}
        if "filter_action" in params:
            row.action = _action(params)
        if "expires_in" in params:
            row.expires_at = _expiry(params)
        await _apply_keywords(session, row, _keyword_changes(params))
        await session.commit()
        return JSONResponse(await _entity(session, row))


async def remove(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        row = await _own(session, me, request.path_params["id"])
        await session.execute(delete(FilterKeyword).where(FilterKeyword.filter_id == row.id))
        await session.delete(row)
        await session.commit()
    return JSONResponse({})


async def keywords(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        row = await _own(session, me, request.path_params["id"])
        found = await session.scalars(
            select(FilterKeyword)
            .where(FilterKeyword.filter_id == row.id)
            .order_by(FilterKeyword.id)
        )
        return JSONResponse([keyword_entity(k) for k in found])


async def add_keyword(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    keyword = FilterKeyword(
        keyword=_keyword_text(params.get("keyword")),
        whole_word=_flag(params.get("whole_word"), True),
    )
    async with instance.sessions() as session:
        row = await _own(session, me, request.path_params["id"])
        keyword.filter_id = row.id
        session.add(keyword)
        await session.commit()
        return JSONResponse(keyword_entity(keyword))


async def show_keyword(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        keyword = await _own_keyword(session, me, request.path_params["id"])
        return JSONResponse(keyword_entity(keyword))


async def update_keyword(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    params = await app_params(request, instance.settings.max_body_bytes)
    async with instance.sessions() as session:
        keyword = await _own_keyword(session, me, request.path_params["id"])
        if "keyword" in params:
            keyword.keyword = _keyword_text(params["keyword"])
        if "whole_word" in params:
            keyword.whole_word = _flag(params["whole_word"], keyword.whole_word)
        await session.commit()
        return JSONResponse(keyword_entity(keyword))


async def remove_keyword(request: Request) -> Response:
    me = await token_actor(request)
    async with instance_of(request).sessions() as session:
        keyword = await _own_keyword(session, me, request.path_params["id"])
        await session.delete(keyword)
        await session.commit()
    return JSONResponse({})


routes = [
    *both("/api/v1/filters", index_v1, methods=["GET"], scope=READ_FILTERS),
    *both("/api/v2/filters", index, methods=["GET"], scope=READ_FILTERS),
    ScopedRoute("/api/v2/filters", create, methods=["POST"], scope=WRITE_FILTERS),
    ScopedRoute("/api/v2/filters/keywords/{id}", show_keyword, methods=["GET"], scope=READ_FILTERS),
    ScopedRoute(
        "/api/v2/filters/keywords/{id}", update_keyword, methods=["PUT"], scope=WRITE_FILTERS
    ),
    ScopedRoute(
        "/api/v2/filters/keywords/{id}", remove_keyword, methods=["DELETE"], scope=WRITE_FILTERS
    ),
    ScopedRoute("/api/v2/filters/{id}", show, methods=["GET"], scope=READ_FILTERS),
    ScopedRoute("/api/v2/filters/{id}", update, methods=["PUT"], scope=WRITE_FILTERS),
    ScopedRoute("/api/v2/filters/{id}", remove, methods=["DELETE"], scope=WRITE_FILTERS),
    ScopedRoute("/api/v2/filters/{id}/keywords", keywords, methods=["GET"], scope=READ_FILTERS),
    ScopedRoute(
        "/api/v2/filters/{id}/keywords", add_keyword, methods=["POST"], scope=WRITE_FILTERS
    ),
]

"""Paging statuses as Mastodon pages: max_id, since_id, min_id, limit and Link headers.

Notes, design versions and boosts (Announce interactions) share timelines but have
separate row ids, so no id alone orders a page. Every status sorts by a key (published
time, kind, row id), notes before versions before boosts made at the same instant; a
cursor is any status id, and the page holds the statuses whose keys are below (max_id) or
above (since_id, min_id) that status's key. Each source (notes, versions, boosts) is
queried with the bound and the limit, then the few rows are merged: a page costs one query
per source, each an index-ordered seek.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple
from urllib.parse import urlencode

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Select,
    bindparam,
    false,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from starlette.requests import Request

from actors.models import Actor
from actors.moderation import visible
from federation.db import is_postgres
from federation.errors import FederationError, ValidationError
from objects.design_models import DesignVersion, Project
from objects.hiding import wanted_by
from objects.models import ANNOUNCE, Interaction, Note
from objects.search import Item
from objects.visibility import readable
from web.mastodon.status import REBLOG_PREFIX, VERSION_PREFIX, Shown, status_id
from web.request_input import ID_DIGITS, whole_id

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
NOT_FOUND = "Record not found"
PAGING_PARAMS = ("max_id", "since_id", "min_id", "limit")
RANK = {Note: 0, DesignVersion: 1, Interaction: 2}
Row = TypeVarTuple("Row")


@dataclass(frozen=True, order=True)
class Key:
    published: dt.datetime
    rank: int
    row_id: int


@dataclass(frozen=True)
class PageRequest:
    limit: int
    max_key: Key | None = None
    since_key: Key | None = None
    min_key: Key | None = None


def key_of(item: Shown) -> Key:
    return Key(item.published, RANK[type(item)], item.id)


Model = type[Note] | type[DesignVersion] | type[Interaction]


def parse_status_id(value: str) -> tuple[Model, int]:
    """The model and row id a status id names (404 when it names nothing)."""
    model: Model = Note
    digits = value
    for prefix, named in ((VERSION_PREFIX, DesignVersion), (REBLOG_PREFIX, Interaction)):
        if value.startswith(prefix):
            model, digits = named, value[len(prefix) :]
    return model, whole_id(digits, NOT_FOUND)


async def find_shown(session: AsyncSession, value: str) -> Shown | None:
    """The status or boost a status id names."""
    model, row_id = parse_status_id(value)
    found: Shown | None = await session.get(model, row_id)
    if isinstance(found, Interaction) and found.kind != ANNOUNCE:
        return None
    return found


async def find_item(session: AsyncSession, value: str) -> Item | None:
    """The status an id names; a boost's id names its original, as on Mastodon (favouriting
    or replying to a reblog acts on what was boosted)."""
    found = await find_shown(session, value)
    if not isinstance(found, Interaction):
        return found
    note = await session.scalar(select(Note).where(Note.uri == found.object_uri))
    if note is not None:
        return note
    return await session.scalar(select(DesignVersion).where(DesignVersion.uri == found.object_uri))


async def items_by_uri(
    session: AsyncSession,
    uris: Iterable[str | None],
    viewer: Actor | None,
    *,
    shown_only: bool = False,
) -> dict[str, Item]:
    """Notes and design versions not deleted that the viewer may read, by URI (two queries,
    and one more for followers-only notes); with `shown_only`, not those of suspended or
    deleted actors either."""
    wanted = {uri for uri in uris if uri}
    if not wanted:
        return {}
    notes = select(Note).where(Note.uri.in_(wanted), Note.deleted_at.is_(None))
    versions = select(DesignVersion).where(
        DesignVersion.uri.in_(wanted), DesignVersion.deleted_at.is_(None)
    )
    if shown_only:
        notes = notes.join(Actor, Actor.id == Note.actor_id).where(visible())
        versions = (
            versions.join(Project, Project.id == DesignVersion.project_id)
            .join(Actor, Actor.id == Project.actor_id)
            .where(visible())
        )
    found: list[Item] = [*await session.scalars(notes), *await session.scalars(versions)]
    return {item.uri: item for item in await readable(session, viewer, found)}


def page_limit(request: Request, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """`limit` as Mastodon reads it: a default when absent, clamped to 1..maximum."""
    raw = request.query_params.get("limit", "")
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 6:
        raise ValidationError("'limit' must be a whole number")
    return max(1, min(int(raw), maximum))


def query_flag(request: Request, name: str) -> bool:
    """A query flag as Mastodon reads it: "true" or "1" (any case) is set."""
    return request.query_params.get(name, "").lower() in ("true", "1")


async def page_request(session: AsyncSession, request: Request) -> PageRequest:
    keys = {name: await _cursor_key(session, request, name) for name in PAGING_PARAMS[:3]}
    return PageRequest(
        limit=page_limit(request),
        max_key=keys["max_id"],
        since_key=keys["since_id"],
        min_key=keys["min_id"],
    )


async def _cursor_key(session: AsyncSession, request: Request, name: str) -> Key | None:
    """The key of the status a cursor names; a cursor that names no status here bounds
    nothing, as on Mastodon, whose apps keep cursors from other timelines and servers
    (a 422 made them show an error instead of the page)."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        item = await find_shown(session, raw)
    except FederationError:
        return None
    return None if item is None else key_of(item)


@dataclass(frozen=True)
class PerAuthor:
    """The rows of `model` by each of `authors` that meet `condition` (given the model or an
    alias of it): read with one index seek per author, so a page costs the same however much
    the authors, or anyone else, have written. The statement's size does not grow with the
    authors: they go in as one parameter (a JSON array on SQLite, an array on PostgreSQL)."""

    model: Any
    condition: Callable[[Any], ColumnElement[bool]]
    authors: Sequence[int]


Source = Select[Any] | PerAuthor


async def fetch_page(
    session: AsyncSession,
    page: PageRequest,
    sources: Sequence[Source],
    viewer: Actor | None,
    *,
    own_choices: bool = True,
) -> list[Shown]:
    """Newest first; `sources` select Note, DesignVersion or Interaction (boost) rows
    (already filtered). Every source is narrowed to what the viewer has not hidden
    (`objects.hiding`): a timeline cannot leave out the blocks, mutes and domain blocks of
    the person reading it (an account's own page, `own_choices=False`, leaves out only
    accounts blocking them)."""
    found: list[Shown] = []
    for source in sources:
        if isinstance(source, PerAuthor):
            wanted_rows = _wanted_per_author(source, viewer, own_choices)
            found += await _read_per_author(session, wanted_rows, page)
        else:
            model = source.column_descriptions[0]["entity"]
            wanted = source.where(wanted_by(viewer, model, own_choices=own_choices))
            found += list(await session.scalars(_seek(wanted, model, page)))
    oldest_first = page.min_key is not None
    found.sort(key=key_of, reverse=not oldest_first)
    chosen = found[: page.limit]
    return chosen[::-1] if oldest_first else chosen


def _wanted_per_author(source: PerAuthor, viewer: Actor | None, own_choices: bool) -> PerAuthor:
    condition = source.condition

    def wanted(rows: Any) -> ColumnElement[bool]:
        return condition(rows) & wanted_by(viewer, rows, own_choices=own_choices)

    return PerAuthor(source.model, wanted, source.authors)


def _seek(query: Select[Any], model: Any, page: PageRequest) -> Select[Any]:
    """`query` on `model` bounded by the page's cursors, in the page's order, a page long."""
    return _ordered(_bounded(query, model, page), model, page).limit(page.limit)


def _ordered(query: Select[Any], model: Any, page: PageRequest) -> Select[Any]:
    oldest_first = page.min_key is not None
    order = (model.published, model.id)
    return query.order_by(*(c.asc() if oldest_first else c.desc() for c in order))


async def _read_per_author(
    session: AsyncSession, source: PerAuthor, page: PageRequest
) -> list[Shown]:
    if not source.authors:
        return []
    model = source.model
    per_author = _per_author_postgres if is_postgres(session) else _per_author_sqlite
    rows = per_author(source, aliased(model), page)
    return list(await session.scalars(_ordered(rows, model, page).limit(page.limit)))


def _per_author_postgres(source: PerAuthor, theirs: Any, page: PageRequest) -> Select[Any]:
    """A LATERAL subquery runs the seek once per author; only the page's rows are loaded."""
    authors = func.unnest(bindparam("authors", list(source.authors), ARRAY(BigInteger)))
    each = authors.table_valued("value").render_derived(name="author")
    newest = _author_seek(source, theirs, each, page).lateral("newest")
    ids = select(newest.c.id).select_from(each).join(newest, true())
    ids = _ordered(ids, newest.c, page).limit(page.limit)
    return select(source.model).where(source.model.id.in_(ids))


def _per_author_sqlite(source: PerAuthor, theirs: Any, page: PageRequest) -> Select[Any]:
    """SQLite has no LATERAL; a correlated IN over json_each runs the seek once per author."""
    # json_each names its own columns, `value` among them.
    each = func.json_each(json.dumps(list(source.authors))).table_valued("value").alias()
    seek = _author_seek(source, theirs, each, page).with_only_columns(theirs.id)
    model = source.model
    return select(model).select_from(each).join(model, model.id.in_(seek.correlate(each)))


def _author_seek(source: PerAuthor, theirs: Any, each: Any, page: PageRequest) -> Select[Any]:
    """The page's seek in one author's rows (`theirs`: an alias of the model)."""
    # Labelled: a boost's `published` is a synonym, which would keep its column's name.
    query = select(theirs.id, theirs.published.label("published")).where(
        theirs.actor_id == each.c.value, source.condition(theirs)
    )
    return _seek(query, theirs, page)


def _bounded(query: Select[Any], model: Any, page: PageRequest) -> Select[Any]:
    if page.max_key is not None:
        query = query.where(_compare(model, page.max_key, older=True))
    for key in (page.since_key, page.min_key):
        if key is not None:
            query = query.where(_compare(model, key, older=False))
    return query


def _compare(model: Any, key: Key, *, older: bool) -> ColumnElement[bool]:
    """Rows of `model` whose key is below (older) or above `key`."""
    rank = RANK[inspect(model).mapper.class_]
    same_time = model.published == key.published
    if rank == key.rank:
        tie = same_time & (model.id < key.row_id if older else model.id > key.row_id)
    elif (rank < key.rank) == older:
        tie = same_time
    else:
        tie = false()
    beyond = model.published < key.published if older else model.published > key.published
    bound: ColumnElement[bool] = beyond | tie
    return bound


def link_header(request: Request, items: Sequence[Shown]) -> dict[str, str]:
    """Mastodon's Link header: next (older, max_id) and prev (newer, min_id)."""
    if not items:
        return {}
    return id_link_header(
        request, status_id(items[0]), status_id(items[-1]), limit=page_limit(request)
    )


def id_link_header(
    request: Request, newest: str, oldest: str, *, limit: int, keep_filters: bool = True
) -> dict[str, str]:
    """next (older than `oldest`: max_id) and prev (newer than `newest`: min_id); the other
    query parameters are kept unless `keep_filters` is False."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGING_PARAMS]
    base = str(request.url.replace(query=""))
    first = [("limit", str(limit)), *(kept if keep_filters else [])]
    next_url = f"{base}?{urlencode([*first, ('max_id', oldest)])}"
    prev_url = f"{base}?{urlencode([*first, ('min_id', newest)])}"
    return {"Link": f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'}


async def read_id_page(
    session: AsyncSession,
    request: Request,
    query: Select[*Row],
    column: Any,
    *,
    default: int = DEFAULT_LIMIT,
    maximum: int = MAX_LIMIT,
) -> Sequence[tuple[*Row]]:
    """A page of `query`'s rows paged by one id `column` (max_id, since_id, min_id, limit),
    newest first; a min_id page is read oldest first and turned round. A cursor that is no
    id at all (a status id such as "v1" from another list) bounds nothing, as on Mastodon."""
    params = request.query_params
    bounds = {
        name: int(raw)
        for name in PAGING_PARAMS[:3]
        if (raw := params.get(name)) and raw.isdigit() and len(raw) <= ID_DIGITS
    }
    if "max_id" in bounds:
        query = query.where(column < bounds["max_id"])
    if "since_id" in bounds:
        query = query.where(column > bounds["since_id"])
    oldest_first = "min_id" in bounds
    if oldest_first:
        query = query.where(column > bounds["min_id"])
    order = column.asc() if oldest_first else column.desc()
    paged = query.order_by(order).limit(page_limit(request, default, maximum))
    rows = list(await session.execute(paged))
    return rows[::-1] if oldest_first else rows


def ids_link_header(
    request: Request,
    ids: Sequence[int],
    *,
    default: int = DEFAULT_LIMIT,
    maximum: int = MAX_LIMIT,
    keep_filters: bool = True,
) -> dict[str, str]:
    """`id_link_header` for a page of rows paged by id, newest first; none for no rows."""
    if not ids:
        return {}
    limit = page_limit(request, default, maximum)
    return id_link_header(
        request, str(ids[0]), str(ids[-1]), limit=limit, keep_filters=keep_filters
    )

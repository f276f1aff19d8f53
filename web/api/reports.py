"""Reports (Mastodon's POST /api/v1/reports), the moderators' queue, account actions and
the audit log. The rules live in `actors.reports`; this module reads requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from actors.lookup import actor_by_ref, is_url, local_actor
from actors.models import Actor
from actors.moderation_models import Report
from actors.reports import (
    act_on_account,
    assign_report,
    audit_page,
    check_category,
    check_comment,
    get_report,
    list_reports,
    reopen_report,
    resolve_report,
    unassign_report,
    undo_account_action,
)
from federation.errors import FederationError
from outbox.reports import forward_report, objects_of
from web.api.report_shapes import admin_reports_json, audit_json, report_json
from web.api.shapes import text_field
from web.bearer import staff_actor, token_actor
from web.instance import Instance, instance_of
from web.request_input import json_body, query_int, whole_id
from web.scopes import ScopedRoute

DEFAULT_LIMIT = 40
MAX_LIMIT = 200


# --- filing a report ---------------------------------------------------------------------


async def create_report(request: Request) -> Response:
    instance = instance_of(request)
    reporter = await token_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    category = check_category(text_field(body, "category") or "other")
    comment = check_comment(text_field(body, "comment") or "")
    forward = _bool_field(body, "forward")
    target = await _target(instance, text_field(body, "account_id", required=True) or "")
    if target.id == reporter.id:
        raise FederationError("you cannot report your own account", status=422)
    async with instance.sessions() as session:
        target = await session.merge(target)
        report = Report(
            reporter_id=reporter.id,
            target_id=target.id,
            object_uris=await objects_of(session, target, _status_ids(body)),
            comment=comment,
            category=category,
        )
        session.add(report)
        if forward and not target.local and not instance.blocks.is_suspended(target.domain):
            await forward_report(session, instance.urls, report, target)
        await session.commit()
        shown = report_json(report, target)
    instance.wake_delivery()
    return JSONResponse(shown)


def _bool_field(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0, None):
        return False
    raise FederationError(f"{name!r} must be true or false", status=400)


def _status_ids(body: dict[str, Any]) -> list[str]:
    value = body.get("status_ids", [])
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise FederationError("'status_ids' must be a list of ids or URIs", status=400)
    return [str(v) for v in value]


async def _target(instance: Instance, ref: str) -> Actor:
    """The reported account: our numeric id, an actor URI, a handle user@domain, or a local
    name. Remote ones are fetched first, even from blocked domains."""
    ref = ref.strip()
    not_found = f"there is no account {ref!r:.80} here"
    if is_url(ref) or "@" in ref.lstrip("@"):
        return await actor_by_ref(instance, ref, not_found, check_blocks=False)
    if ref.isdigit() and len(ref) <= 18:
        async with instance.sessions() as session:
            return await _actor_by_id(session, int(ref))
    return await local_actor(instance, ref.lstrip("@"), not_found)


async def _actor_by_id(session: AsyncSession, actor_id: int) -> Actor:
    actor: Actor | None = await session.get(Actor, actor_id)
    if actor is None or actor.deleted_at is not None:
        raise FederationError(
            f"there is no account {actor_id}; give an account id, actor URI or user@domain",
            status=404,
        )
    return actor


# --- the moderators' queue ---------------------------------------------------------------


async def admin_reports(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    resolved = _flag_param(request, "resolved")
    limit = _limit(request)
    async with instance.sessions() as session:
        rows = await list_reports(
            session, resolved=resolved, limit=limit, max_id=query_int(request, "max_id")
        )
        shown = await admin_reports_json(session, rows)
    return JSONResponse(shown, headers=_next_link(request, [r.id for r in rows], limit))


async def admin_report(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    async with instance.sessions() as session:
        report = await get_report(session, _path_id(request))
        (shown,) = await admin_reports_json(session, [report])
    return JSONResponse(shown)


ReportChange = Callable[[AsyncSession, Report, Actor], Awaitable[None]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _report_action(change: ReportChange) -> Endpoint:
    """A POST on one report: staff only, audited by `change`, answered with the report."""

    async def endpoint(request: Request) -> Response:
        instance = instance_of(request)
        moderator = await staff_actor(request)
        async with instance.sessions() as session:
            report = await get_report(session, _path_id(request))
            await change(session, report, moderator)
            await session.commit()
            (shown,) = await admin_reports_json(session, [report])
        return JSONResponse(shown)

    return endpoint


# --- account actions ---------------------------------------------------------------------


async def account_action(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    body = await json_body(request, instance.settings.max_body_bytes)
    action = text_field(body, "type", required=True) or ""
    text = text_field(body, "text") or ""
    report_id = body.get("report_id")
    async with instance.sessions() as session:
        target = await _actor_by_id(session, _path_id(request))
        report = None
        if report_id is not None:
            report_row_id = whole_id(
                str(report_id), "'report_id' must be a report's id", status=400
            )
            report = await get_report(session, report_row_id)
        await act_on_account(session, moderator, target, action, text=text, report=report)
        await session.commit()
    return JSONResponse({})


def _undo(action: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        instance = instance_of(request)
        moderator = await staff_actor(request)
        async with instance.sessions() as session:
            target = await _actor_by_id(session, _path_id(request))
            await undo_account_action(session, moderator, target, action)
            await session.commit()
        return JSONResponse({})

    return endpoint


# --- the audit log -----------------------------------------------------------------------


async def audit_log(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    limit = _limit(request)
    async with instance.sessions() as session:
        rows = await audit_page(session, limit=limit, max_id=query_int(request, "max_id"))
        shown = await audit_json(session, rows)
    return JSONResponse(shown, headers=_next_link(request, [e.id for e in rows], limit))


# --- parameters --------------------------------------------------------------------------


def _path_id(request: Request) -> int:
    value = request.path_params["id"]
    return whole_id(value, f"{value!r:.40} is not an id (a whole number)")


def _flag_param(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise FederationError(f"?{name}= must be true or false", status=400)
    return value in ("true", "1")


def _limit(request: Request) -> int:
    limit = query_int(request, "limit") or DEFAULT_LIMIT
    return min(max(limit, 1), MAX_LIMIT)


def _next_link(request: Request, ids: list[int], limit: int) -> dict[str, str]:
    """Mastodon's paging: a Link header to the next (older) page while pages are full."""
    if len(ids) < limit:
        return {}
    params = {k: v for k, v in request.query_params.items() if k != "max_id"}
    params["max_id"] = str(min(ids))
    query = "&".join(f"{k}={v}" for k, v in params.items())
    base = instance_of(request).urls.base_url
    return {"Link": f'<{base}{request.url.path}?{query}>; rel="next"'}


routes: list[BaseRoute] = [
    ScopedRoute("/api/v1/reports", create_report, methods=["POST"], scope="write:reports"),
    ScopedRoute(
        "/api/v1/admin/reports", admin_reports, methods=["GET"], scope="admin:read:reports"
    ),
    ScopedRoute(
        "/api/v1/admin/reports/{id}", admin_report, methods=["GET"], scope="admin:read:reports"
    ),
    ScopedRoute(
        "/api/v1/admin/reports/{id}/assign_to_self",
        _report_action(assign_report),
        methods=["POST"],
        scope="admin:write:reports",
    ),
    ScopedRoute(
        "/api/v1/admin/reports/{id}/unassign",
        _report_action(unassign_report),
        methods=["POST"],
        scope="admin:write:reports",
    ),
    ScopedRoute(
        "/api/v1/admin/reports/{id}/resolve",
        _report_action(resolve_report),
        methods=["POST"],
        scope="admin:write:reports",
    ),
    ScopedRoute(
        "/api/v1/admin/reports/{id}/reopen",
        _report_action(reopen_report),
        methods=["POST"],
        scope="admin:write:reports",
    ),
    ScopedRoute(
        "/api/v1/admin/accounts/{id}/action",
        account_action,
        methods=["POST"],
        scope="admin:write:accounts",
    ),
    ScopedRoute(
        "/api/v1/admin/accounts/{id}/unsilence",
        _undo("unsilence"),
        methods=["POST"],
        scope="admin:write:accounts",
    ),
    ScopedRoute(
        "/api/v1/admin/accounts/{id}/unsuspend",
        _undo("unsuspend"),
        methods=["POST"],
        scope="admin:write:accounts",
    ),
    ScopedRoute("/api/v1/admin/audit_log", audit_log, methods=["GET"], scope="admin:read"),
]

"""The report and audit-log API's shapes: subsets of Mastodon's Report, Admin::Report and
Admin::Account entities, so that Mastodon moderation clients read them.

Ids are strings, as on Mastodon. `action_taken` is Mastodon's boolean (the report is
resolved); `action` says which action closed it (none, silence, suspend).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Account, Actor
from actors.moderation_models import REPORT_RESOLVED, AuditEntry, Report
from actors.service import actors_by_id
from objects.convert import iso


async def roles_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(
        select(Account.actor_id, Account.role).where(Account.actor_id.in_(set(ids)))
    )
    return {actor_id: role for actor_id, role in rows.all()}


def account_json(actor: Actor) -> dict[str, Any]:
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": actor.username if actor.local else actor.handle,
        "url": actor.url or actor.uri,
        "uri": actor.uri,
    }


def admin_account_json(actor: Actor | None, role: str | None = None) -> dict[str, Any] | None:
    if actor is None:
        return None
    return {
        "id": str(actor.id),
        "username": actor.username,
        "domain": None if actor.local else actor.domain,
        "created_at": iso(actor.created_at),
        "role": role,
        "suspended": actor.suspended_at is not None,
        "silenced": actor.silenced_at is not None,
        "account": account_json(actor),
    }


def report_json(report: Report, target: Actor) -> dict[str, Any]:
    """What the reporter sees (Mastodon's Report entity)."""
    return {
        "id": str(report.id),
        "action_taken": report.state == REPORT_RESOLVED,
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": list(report.object_uris),
        "target_account": account_json(target),
    }


def admin_report_json(
    report: Report, actors: dict[int, Actor], roles: dict[int, str]
) -> dict[str, Any]:
    """What moderators see (Mastodon's Admin::Report entity); remote reporters stay unnamed."""

    def admin(actor_id: int | None) -> dict[str, Any] | None:
        if actor_id is None:
            return None
        return admin_account_json(actors.get(actor_id), roles.get(actor_id))

    return {
        "id": str(report.id),
        "action_taken": report.state == REPORT_RESOLVED,
        "action": report.action_taken,
        "action_taken_at": iso(report.resolved_at) if report.resolved_at else None,
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.resolved_at or report.created_at),
        "account": admin(report.reporter_id),
        "origin_domain": report.origin_domain,
        "uri": report.uri,
        "target_account": admin(report.target_id),
        "assigned_account": admin(report.assigned_to_id),
        "statuses": list(report.object_uris),
    }


async def admin_reports_json(
    session: AsyncSession, reports: Iterable[Report]
) -> list[dict[str, Any]]:
    reports = list(reports)
    ids = [i for r in reports for i in (r.reporter_id, r.target_id, r.assigned_to_id)]
    actors = await actors_by_id(session, ids)
    roles = await roles_by_id(session, actors)
    return [admin_report_json(report, actors, roles) for report in reports]


async def audit_json(session: AsyncSession, entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    entries = list(entries)
    moderators = await actors_by_id(session, (e.moderator_id for e in entries))

    def moderator(entry: AuditEntry) -> dict[str, Any] | None:
        actor = moderators.get(entry.moderator_id) if entry.moderator_id is not None else None
        return account_json(actor) if actor is not None else None

    return [
        {
            "id": str(entry.id),
            "action": entry.action,
            "target_type": entry.target_type,
            "target": entry.target,
            # null: the action was taken on the server's command line.
            "moderator": moderator(entry),
            "detail": entry.detail,
            "created_at": iso(entry.created_at),
        }
        for entry in entries
    ]

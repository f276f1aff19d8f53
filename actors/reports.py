"""Reports and account actions: the moderators' decisions on rows, each one audited.

The web routes and the command line both call these, so a decision is checked and recorded
the same way wherever it is made. `moderator` is None for the command line on the server
itself. The caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import BY_DOMAIN, ROLES, Actor
from actors.moderation import (
    record_audit,
    silence_actor,
    suspend_actor,
    unsilence_actor,
    unsuspend_actor,
)
from actors.moderation_models import (
    REPORT_CATEGORIES,
    REPORT_OPEN,
    REPORT_RESOLVED,
    AuditEntry,
    Report,
)
from actors.service import INSTANCE_ACTOR_USERNAME, roles_of
from federation.db import utcnow
from federation.errors import FederationError, ValidationError

# Mastodon's limit on a report's comment, so that a forwarded Flag is never cut short there.
MAX_COMMENT = 1000
ACTIONS = ("none", "silence", "suspend")
UNDO_ACTIONS = ("unsilence", "unsuspend")


def check_category(category: str) -> str:
    if category not in REPORT_CATEGORIES:
        raise ValidationError(
            f"category must be one of {', '.join(REPORT_CATEGORIES)}, not {category!r:.40}"
        )
    return category


def check_comment(comment: str) -> str:
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"the comment is longer than {MAX_COMMENT} characters")
    return comment


async def get_report(session: AsyncSession, report_id: int) -> Report:
    report = await session.get(Report, report_id)
    if report is None:
        raise FederationError(
            f"there is no report {report_id}; list them with GET /api/v1/admin/reports",
            status=404,
        )
    return report


async def report_by_uri(session: AsyncSession, uri: str) -> Report | None:
    return await session.scalar(select(Report).where(Report.uri == uri))


async def list_reports(
    session: AsyncSession, *, resolved: bool, limit: int, max_id: int | None = None
) -> Sequence[Report]:
    """Newest first; `max_id` continues below the last id of the previous page."""
    query = select(Report).where(Report.state == (REPORT_RESOLVED if resolved else REPORT_OPEN))
    if max_id is not None:
        query = query.where(Report.id < max_id)
    return (await session.scalars(query.order_by(Report.id.desc()).limit(limit))).all()


async def audit_page(
    session: AsyncSession, *, limit: int, max_id: int | None = None
) -> Sequence[AuditEntry]:
    query = select(AuditEntry)
    if max_id is not None:
        query = query.where(AuditEntry.id < max_id)
    return (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))).all()


# --- the report queue ---------------------------------------------------------------------


async def assign_report(session: AsyncSession, report: Report, moderator: Actor) -> None:
    report.assigned_to_id = moderator.id
    await record_audit(session, moderator, "report.assign", "report", str(report.id))


async def unassign_report(session: AsyncSession, report: Report, moderator: Actor | None) -> None:
    report.assigned_to_id = None
    await record_audit(session, moderator, "report.unassign", "report", str(report.id))


async def resolve_report(
    session: AsyncSession, report: Report, moderator: Actor | None, action_taken: str = "none"
) -> None:
    report.state = REPORT_RESOLVED
    report.resolved_at = utcnow()
    report.action_taken = action_taken
    await record_audit(
        session, moderator, "report.resolve", "report", str(report.id), action_taken=action_taken
    )


async def reopen_report(session: AsyncSession, report: Report, moderator: Actor | None) -> None:
    report.state = REPORT_OPEN
    report.resolved_at = None
    report.action_taken = None
    await record_audit(session, moderator, "report.reopen", "report", str(report.id))


# --- account actions ------------------------------------------------------------------------


async def check_may_act(session: AsyncSession, moderator: Actor | None, target: Actor) -> None:
    if target.local and target.username == INSTANCE_ACTOR_USERNAME:
        raise FederationError("the instance actor cannot be suspended or silenced", status=403)
    if moderator is None:  # the command line on the server may act on anyone
        return
    if moderator.id == target.id:
        raise FederationError("moderators cannot act on their own account", status=403)
    roles = await roles_of(session, [target, moderator])
    if ROLES.index(roles[target.id]) > ROLES.index(roles[moderator.id]):
        raise FederationError(
            f"{target.handle} is an admin; only another admin can act on them", status=403
        )


async def act_on_account(
    session: AsyncSession,
    moderator: Actor | None,
    target: Actor,
    action: str,
    *,
    text: str = "",
    report: Report | None = None,
) -> None:
    """Mastodon's admin account action: none, silence or suspend, optionally closing a report."""
    if action not in ACTIONS:
        raise ValidationError(f"type must be one of {', '.join(ACTIONS)}, not {action!r:.40}")
    if report is not None and report.target_id != target.id:
        raise ValidationError(f"report {report.id} is not about {target.handle}")
    await check_may_act(session, moderator, target)
    if action == "suspend":
        suspend_actor(target)
    elif action == "silence":
        silence_actor(target)
    await record_audit(
        session,
        moderator,
        f"account.{action}",
        "account",
        target.uri,
        text=text,
        report_id=report.id if report is not None else None,
    )
    if report is not None:
        await resolve_report(session, report, moderator, action)


async def undo_account_action(
    session: AsyncSession, moderator: Actor | None, target: Actor, action: str
) -> None:
    """unsuspend or unsilence; a domain block's suspension is lifted with the block."""
    if action not in UNDO_ACTIONS:
        raise ValidationError(f"the action must be one of {', '.join(UNDO_ACTIONS)}")
    await check_may_act(session, moderator, target)
    flag = "suspended" if action == "unsuspend" else "silenced"
    if getattr(target, f"{flag}_by") == BY_DOMAIN:
        raise FederationError(
            f"{target.handle} is {flag} by a block of its domain; lift the domain block instead",
            status=409,
        )
    if action == "unsuspend":
        unsuspend_actor(target)
    else:
        unsilence_actor(target)
    await record_audit(session, moderator, f"account.{action}", "account", target.uri)

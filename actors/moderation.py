"""Moderation rules on rows: domain blocks, suspending and silencing actors, the audit log.

A domain block is mirrored onto its actors' `suspended_*`/`silenced_*` columns (marked
`BY_DOMAIN`), so every query that hides suspended or silenced actors needs no join on the
block list, and lifting the block restores exactly what it hid. The caller commits.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import BY_ACCOUNT, BY_DOMAIN, Actor
from actors.moderation_models import SEVERITIES, AuditEntry, DomainBlock
from federation.blocks import (
    NOOP,
    SILENCE,
    SUSPEND,
    BlockedDomainError,
    DomainBlocks,
    DomainRule,
    normalise_domain,
)
from federation.db import utcnow
from federation.errors import ValidationError


def visible(model: type[Actor] = Actor) -> ColumnElement[bool]:
    """Actors whose content may be shown at all (not deleted, not suspended)."""
    return model.deleted_at.is_(None) & model.suspended_at.is_(None)


def publicly_listed(model: type[Actor] = Actor) -> ColumnElement[bool]:
    """Actors whose content may appear in public listings and searches."""
    return visible(model) & model.silenced_at.is_(None)


async def record_audit(
    session: AsyncSession,
    moderator: Actor | None,
    action: str,
    target_type: str,
    target: str,
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        moderator_id=moderator.id if moderator is not None else None,
        action=action,
        target_type=target_type,
        target=target,
        detail=detail,
    )
    session.add(entry)
    return entry


# --- one actor ------------------------------------------------------------------------------


def suspend_actor(actor: Actor) -> None:
    actor.suspended_at = utcnow()
    actor.suspended_by = BY_ACCOUNT


def unsuspend_actor(actor: Actor) -> None:
    actor.suspended_at = None
    actor.suspended_by = None


def silence_actor(actor: Actor) -> None:
    actor.silenced_at = utcnow()
    actor.silenced_by = BY_ACCOUNT


def unsilence_actor(actor: Actor) -> None:
    actor.silenced_at = None
    actor.silenced_by = None


# --- domains ----------------------------------------------------------------------------------


def refuse_blocked(blocks: DomainBlocks, actor: Actor) -> None:
    """No follows of, forks of or comments on suspended actors or domains."""
    blocks.check(actor.domain)
    if actor.suspended_at is not None:
        raise BlockedDomainError(f"{actor.handle} is suspended by this instance's moderators")


def check_block_domain(domain: str, *, local_host: str) -> str:
    normalised = normalise_domain(domain)
    if not normalised or ("." not in normalised and normalised != "localhost"):
        raise ValidationError(f"{domain!r} is not a domain name (example: spam.example)")
    if normalised == normalise_domain(local_host):
        raise ValidationError("this instance cannot block its own domain")
    return normalised


async def domain_blocks(session: AsyncSession) -> Sequence[DomainBlock]:
    return (await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))).all()


async def domain_rules(session: AsyncSession) -> list[DomainRule]:
    return [
        DomainRule(b.domain, b.severity, b.reject_media, b.reject_reports)
        for b in await domain_blocks(session)
    ]


async def get_domain_block(session: AsyncSession, domain: str) -> DomainBlock | None:
    return await session.scalar(
        select(DomainBlock).where(DomainBlock.domain == normalise_domain(domain))
    )


async def put_domain_block(
    session: AsyncSession,
    domain: str,
    *,
    local_host: str,
    severity: str = SUSPEND,
    reject_media: bool = False,
    reject_reports: bool = False,
    private_comment: str = "",
    public_comment: str = "",
    obfuscate: bool = False,
    known: MutableMapping[str, DomainBlock] | None = None,
) -> tuple[DomainBlock, bool]:
    """Create or change the block of `domain` and mirror it onto that domain's actors;
    returns the block and whether it was created. `known`: the blocks by domain, loaded
    beforehand (`domain_blocks`) to save a query, and kept up to date here."""
    if severity not in SEVERITIES:
        raise ValidationError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    domain = check_block_domain(domain, local_host=local_host)
    if known is None:
        block = await get_domain_block(session, domain)
    else:
        block = known.get(domain)
    created = block is None
    if block is None:
        block = DomainBlock(domain=domain)
        session.add(block)
        if known is not None:
            known[domain] = block
    block.severity = severity
    block.reject_media = reject_media
    block.reject_reports = reject_reports
    block.private_comment = private_comment
    block.public_comment = public_comment
    block.obfuscate = obfuscate
    await session.flush()
    await _mirror_onto_actors(session, domain, severity)
    return block, created


async def lift_domain_block(session: AsyncSession, domain: str) -> DomainBlock | None:
    """Remove the block; returns the removed row, or None if there was none."""
    block = await get_domain_block(session, domain)
    if block is None:
        return None
    await session.delete(block)
    await session.flush()
    await _mirror_onto_actors(session, block.domain, NOOP)
    return block


async def _mirror_onto_actors(session: AsyncSession, domain: str, severity: str) -> None:
    # Actor.domain is host[:port]; the block covers every port and subdomain.
    of_domain = or_(
        Actor.domain == domain,
        Actor.domain.startswith(f"{domain}:", autoescape=True),
        Actor.domain.endswith(f".{domain}", autoescape=True),
        Actor.domain.contains(f".{domain}:", autoescape=True),
    )
    now = utcnow()
    await _set_flag(session, of_domain, "suspended", now if severity == SUSPEND else None)
    await _set_flag(session, of_domain, "silenced", now if severity == SILENCE else None)


async def _set_flag(
    session: AsyncSession, of_domain: ColumnElement[bool], flag: str, since: Any
) -> None:
    at, by = getattr(Actor, f"{flag}_at"), getattr(Actor, f"{flag}_by")
    remote = Actor.local.is_(False) & of_domain
    if since is None:
        query = update(Actor).where(remote, by == BY_DOMAIN).values({at: None, by: None})
    else:
        query = update(Actor).where(remote, at.is_(None)).values({at: since, by: BY_DOMAIN})
    await session.execute(query.execution_options(synchronize_session=False))

"""Domain blocks over HTTP, in the shape of Mastodon's admin API, and the public list.

Moderators and admins only (except the public list). Every change is audited, committed,
and then loaded into this process's `DomainBlocks` at once; other processes reload within
`web.instance.BLOCKS_REFRESH_SECONDS`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.models import Actor
from actors.moderation import get_domain_block, lift_domain_block, put_domain_block, record_audit
from actors.moderation_models import DomainBlock
from federation.errors import FederationError, ValidationError
from web.account_json import fields_of
from web.bearer import staff_actor
from web.blocklists import block_json, export_csv, import_csv, public_block_entries
from web.instance import Instance, instance_of
from web.request_input import limited_body
from web.scopes import PUBLIC, ScopedRoute

TEXT_FIELDS = ("severity", "private_comment", "public_comment")
FLAG_FIELDS = ("reject_media", "reject_reports", "obfuscate")


async def list_blocks(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    async with instance.sessions() as session:
        blocks = await session.scalars(select(DomainBlock).order_by(DomainBlock.id))
        return JSONResponse([block_json(block) for block in blocks])


async def get_block(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    async with instance.sessions() as session:
        block = await _block_or_404(session, request)
    return JSONResponse(block_json(block))


async def create_block(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    fields = await _fields(request, instance)
    domain = fields.pop("domain", None)
    if not isinstance(domain, str) or not domain.strip():
        raise ValidationError("'domain' is required (example: spam.example)")
    async with instance.sessions() as session:
        existing = await get_domain_block(session, domain)
        if existing is not None:
            raise ValidationError(
                f"{existing.domain} is already blocked; change that block with "
                f"PUT /api/v1/admin/domain_blocks/{existing.id}"
            )
        doc = await _save_block(session, instance, moderator, "create", domain, fields, fields)
    await instance.reload_blocks()
    return JSONResponse(doc)


async def update_block(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    fields = await _fields(request, instance)
    fields.pop("domain", None)  # a block keeps its domain; delete it and block another
    async with instance.sessions() as session:
        block = await _block_or_404(session, request)
        current = {name: getattr(block, name) for name in (*TEXT_FIELDS, *FLAG_FIELDS)}
        doc = await _save_block(
            session, instance, moderator, "update", block.domain, current | fields, fields
        )
    await instance.reload_blocks()
    return JSONResponse(doc)


async def _save_block(
    session: AsyncSession,
    instance: Instance,
    moderator: Actor,
    change: str,
    domain: str,
    settings: dict[str, Any],
    changed: dict[str, Any],
) -> dict[str, Any]:
    """Store the block with `settings`, audit the `changed` fields, commit; its JSON."""
    block, _ = await put_domain_block(session, domain, local_host=instance.urls.host, **settings)
    await record_audit(
        session, moderator, f"domain_block.{change}", "domain", block.domain, **changed
    )
    await session.commit()
    return block_json(block)


async def delete_block(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    async with instance.sessions() as session:
        block = await _block_or_404(session, request)
        await lift_domain_block(session, block.domain)
        await record_audit(session, moderator, "domain_block.delete", "domain", block.domain)
        await session.commit()
    await instance.reload_blocks()
    return JSONResponse({})


async def export_blocks(request: Request) -> Response:
    instance = instance_of(request)
    await staff_actor(request)
    async with instance.sessions() as session:
        text = await export_csv(session)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="domain_blocks.csv"'},
    )


async def import_blocks(request: Request) -> Response:
    instance = instance_of(request)
    moderator = await staff_actor(request)
    text = await _csv_body(request, instance.settings.max_body_bytes)
    async with instance.sessions() as session:
        summary = await import_csv(
            session, text, local_host=instance.urls.host, moderator=moderator
        )
        await session.commit()
    await instance.reload_blocks()
    return JSONResponse(summary.counts())


async def public_blocks(request: Request) -> Response:
    async with instance_of(request).sessions() as session:
        return JSONResponse(await public_block_entries(session))


# --- input -------------------------------------------------------------------------------------


async def _block_or_404(session: AsyncSession, request: Request) -> DomainBlock:
    block = await session.get(DomainBlock, request.path_params["id"])
    if block is None:
        raise FederationError(
            "there is no such domain block; GET /api/v1/admin/domain_blocks lists them",
            status=404,
        )
    return block


async def _fields(request: Request, instance: Instance) -> dict[str, Any]:
    """The block's fields from JSON or a form, as Mastodon's clients send either."""
    body = await fields_of(request, instance.settings.max_body_bytes)
    fields: dict[str, Any] = {}
    if "domain" in body:
        fields["domain"] = body["domain"]
    for name in TEXT_FIELDS:
        if body.get(name) is not None:
            fields[name] = _text(body[name], name)
    for name in FLAG_FIELDS:
        if body.get(name) is not None:
            fields[name] = _flag(body[name], name)
    return fields


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{name!r} must be text")
    return value.strip()


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "on", "false", "0", "off", ""):
        return value.lower() in ("true", "1", "on")
    raise ValidationError(f"{name!r} must be true or false")


async def _csv_body(request: Request, limit: int) -> str:
    raw = await limited_body(request, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"the CSV is not UTF-8 text: {exc}") from exc


routes = [
    ScopedRoute("/api/v1/instance/domain_blocks", public_blocks, methods=["GET"], scope=PUBLIC),
    ScopedRoute(
        "/api/v1/admin/domain_blocks",
        list_blocks,
        methods=["GET"],
        scope="admin:read:domain_blocks",
    ),
    ScopedRoute(
        "/api/v1/admin/domain_blocks",
        create_block,
        methods=["POST"],
        scope="admin:write:domain_blocks",
    ),
    ScopedRoute(
        "/api/v1/admin/domain_blocks/export",
        export_blocks,
        methods=["GET"],
        scope="admin:read:domain_blocks",
    ),
    ScopedRoute(
        "/api/v1/admin/domain_blocks/import",
        import_blocks,
        methods=["POST"],
        scope="admin:write:domain_blocks",
    ),
    ScopedRoute(
        "/api/v1/admin/domain_blocks/{id:int}",
        get_block,
        methods=["GET"],
        scope="admin:read:domain_blocks",
    ),
    ScopedRoute(
        "/api/v1/admin/domain_blocks/{id:int}",
        update_block,
        methods=["PUT"],
        scope="admin:write:domain_blocks",
    ),
    ScopedRoute(
        "/api/v1/admin/domain_blocks/{id:int}",
        delete_block,
        methods=["DELETE"],
        scope="admin:write:domain_blocks",
    ),
]

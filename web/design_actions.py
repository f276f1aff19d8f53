"""What publishing, forking, commenting, recording a make and following do, for the JSON
API and the pages alike: both call these, so both apply the same rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors.lookup import actor_by_ref
from actors.models import Actor, Follow
from actors.moderation import refuse_blocked
from actors.service import ConflictError
from federation.errors import FederationError, ValidationError
from objects.design_models import DesignVersion, Project, VersionFile
from objects.design_resolve import fetch_remote_version, find_or_fetch_version
from objects.designs import (
    VersionSpec,
    get_version,
    licence_of,
    version_files,
)
from objects.licences import LicenceError, LicenceTerms
from objects.make_models import Make
from objects.makes import MakeSpec
from objects.models import Note
from outbox.c2s import submit
from outbox.comments import add_comment, check_comment, resolve_comment_target
from outbox.coop import fork_as_member, publish_member_version
from outbox.designs import ForkRequest
from outbox.makes import add_make
from web.instance import Instance


def refuse_deleted(version: DesignVersion) -> None:
    if version.deleted_at is not None:
        raise FederationError(f"the version {version.uri} was deleted", status=410)


async def add_published_version(
    session: AsyncSession,
    instance: Instance,
    project: Project,
    project_actor: Actor,
    spec: VersionSpec,
) -> tuple[DesignVersion, list[VersionFile]]:
    """Publish a local version in the caller's session (the API and the web form share it)."""
    version = await publish_member_version(
        session, instance.urls, instance.policy, instance.settings, project, project_actor, spec
    )
    return version, await version_files(session, version)


async def fork_request(
    instance: Instance,
    forker: Actor,
    upstream_uri: str,
    slug: str,
    name: str | None,
    licence: LicenceTerms | None,
) -> ForkRequest:
    """What a fork of `upstream_uri` needs, the upstream fetched and stored if remote."""
    upstream, upstream_actor = await find_or_fetch_version(
        instance.sessions, instance.resolver, instance.policy, upstream_uri
    )
    refuse_deleted(upstream)
    refuse_blocked(instance.blocks, upstream_actor)
    return ForkRequest(
        forker=forker,
        upstream=upstream,
        upstream_project=upstream_actor,
        slug=slug.strip(),
        name=(name or "").strip() or upstream.name,
        licence=licence or licence_of(upstream),
    )


async def store_fork(
    instance: Instance, request: ForkRequest
) -> tuple[Project, Actor, DesignVersion, list[VersionFile]]:
    """Publish the fork (its licence checked by `fork`) in a session of its own."""
    try:
        async with instance.sessions() as session:
            project, actor, version = await fork_as_member(
                session, instance.urls, instance.policy, instance.settings, request
            )
            files = await version_files(session, version)
            await session.commit()
    except IntegrityError as exc:
        raise ConflictError(f"the handle {request.slug!r} was taken just now") from exc
    instance.wake_delivery()
    return project, actor, version, files


async def fork_upstream(instance: Instance, upstream_uri: str) -> tuple[str, LicenceTerms]:
    """The name and licence of the version to fork, without storing a fetched one."""
    async with instance.sessions() as session:
        upstream = await get_version(session, upstream_uri)
    if upstream is not None:
        refuse_deleted(upstream)
        return upstream.name, licence_of(upstream)
    if instance.urls.is_local(upstream_uri):
        raise ValidationError(f"there is no design version {upstream_uri}", status=404)
    admitted = await fetch_remote_version(
        instance.sessions, instance.resolver, instance.policy, upstream_uri
    )
    return admitted.spec.name, admitted.spec.licence


def fork_refusal(
    instance: Instance, forker: Actor, upstream: LicenceTerms, chosen: LicenceTerms
) -> str | None:
    """Why the policy refuses this fork by `forker`, or None when it allows it."""
    try:
        instance.policy.check_fork(upstream, chosen, forker.entity_kind)
    except LicenceError as error:
        return error.message
    return None


# Comments, follows, lineage


async def post_comment(
    instance: Instance, author: Actor, parent_uri: str, content: str, summary: str | None
) -> Note:
    """Comment on a version or reply to a note (the API and the web form share it)."""
    check_comment(content, summary)
    instance.blocks.check(parent_uri)
    target = await resolve_comment_target(
        instance.sessions, instance.resolver, instance.policy, parent_uri.strip()
    )
    async with instance.sessions() as session:
        note, _ = await add_comment(
            session, instance.urls, author, target, content, summary=summary
        )
        await session.commit()
    instance.wake_delivery()
    return note


async def post_make(
    instance: Instance, maker: Actor, spec: MakeSpec, text: str, media_ids: list[int]
) -> tuple[Make, Note]:
    """Record a make of a version (a remote one fetched and admitted first) and publish it;
    the API and the version page's form share it, and `objects.makes.admit_make` decides."""
    instance.blocks.check(spec.version_uri)
    await find_or_fetch_version(
        instance.sessions, instance.resolver, instance.policy, spec.version_uri
    )
    async with instance.sessions() as session:
        make, note = await add_make(
            session, instance.resolver, instance.policy, maker, spec, text, media_ids
        )
        await session.commit()
    instance.wake_delivery()
    return make, note


async def follow_actor(instance: Instance, follower: Actor, ref: str) -> tuple[Actor, str | None]:
    """`follower` follows the actor a handle or URL names (ours looked up, others through
    WebFinger and a fetch); the target and the follow's state. Delivery is woken."""
    ref = ref.strip()
    target = await actor_by_ref(instance, ref, f"there is no {ref!r:.80} here")
    refuse_blocked(instance.blocks, target)
    async with instance.sessions() as session:
        await submit(session, instance.resolver, follower, {"type": "Follow", "object": target.uri})
        state = await session.scalar(
            select(Follow.state).where(
                Follow.follower_id == follower.id, Follow.followee_id == target.id
            )
        )
        await session.commit()
    instance.wake_delivery()
    return target, state

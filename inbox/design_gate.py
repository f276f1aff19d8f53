"""Licence enforcement on received designs, before anything is stored.

A Create or Update carrying a design is checked against the same policy as a local
publication: a present and valid licence, a fork compatible with its upstream (fetched,
origin-checked, when we do not have it), the entity kind, and irrevocability. A refusal
answers 422 with the reason, sends the sender a `Reject` whose `summary` is that reason,
and stores nothing of the design.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import FederationError, ValidationError
from federation.urls import LocalUrls, host_of
from inbox.origin import check_origin
from objects.design_convert import is_design, parse_remote_version
from objects.design_resolve import fetch_remote_version
from objects.designs import VersionSpec, get_version, licence_of, project_for_actor
from objects.licences import LicenceError, LicencePolicy, LicenceTerms
from outbox import activities
from outbox.publish import publish

CHECKED_TYPES = frozenset({"Create", "Update"})


class DesignGate:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        resolver: ActorResolver,
        policy: LicencePolicy,
    ) -> None:
        self.sessions = sessions
        self.resolver = resolver
        self.policy = policy

    @property
    def urls(self) -> LocalUrls:
        return self.resolver.urls

    async def check(self, activity: dict[str, Any], signer: Actor) -> dict[str, Any]:
        """The activity to store: checked, with a design sent by reference embedded, so that
        the worker stores exactly what was checked (and a Create's object fetched here
        embedded too, so that it is not fetched again)."""
        if activity["type"] not in CHECKED_TYPES:
            return activity
        obj = activity.get("object")
        if isinstance(obj, str) and host_of(obj) == signer.domain:
            fetched = await self._dereference(obj)
            if is_design(fetched):
                activity = {**activity, "object": fetched}
                check_origin(activity, signer)
                obj = fetched
            elif fetched is not None and activity["type"] == "Create":
                # Kept, so that the worker does not fetch it a second time.
                return {**activity, "object": fetched}
        if not is_design(obj):
            return activity
        try:
            await self._check_design(activity["type"], obj, signer)
        except LicenceError as exc:
            await self._reject(activity, signer, exc.message)
            raise
        except FederationError as exc:
            reason = f"the design was refused: {exc.message}"
            await self._reject(activity, signer, reason)
            raise LicenceError(reason) from exc
        return activity

    async def _dereference(self, uri: str) -> dict[str, Any] | None:
        """The object behind a URL, or None when it cannot be had now (the worker tries
        again, and never stores a design it had to fetch itself: see
        `InboxWorker._dereference`)."""
        try:
            return await self.resolver.fetch_document(uri)
        except FederationError:
            return None

    async def _check_design(self, kind: str, obj: dict[str, Any], signer: Actor) -> None:
        spec = parse_remote_version(obj, self.policy)
        async with self.sessions() as session:
            existing = await get_version(session, obj["id"])
            if existing is not None and kind == "Update":
                self.policy.check_irrevocable(
                    licence_of(existing), spec.licence, version=existing.label
                )
            upstream_uri = spec.upstream_uri or await _project_upstream(session, signer)
            known_upstream = await get_version(session, upstream_uri) if upstream_uri else None
            upstream_licence = licence_of(known_upstream) if known_upstream else None
        if upstream_uri is None:
            return
        if upstream_licence is None:
            upstream_licence = await self._fetched_licence(upstream_uri)
        self._check_fork(upstream_uri, upstream_licence, spec, signer)

    async def _fetched_licence(self, upstream_uri: str) -> LicenceTerms:
        if self.urls.is_local(upstream_uri):
            raise LicenceError(f"the upstream design {upstream_uri} does not exist here")
        try:
            spec, _ = await fetch_remote_version(self.resolver, self.policy, upstream_uri)
        except LicenceError:
            raise
        except FederationError as exc:
            raise LicenceError(
                f"the upstream design {upstream_uri} could not be fetched to check the fork's"
                f" licence ({exc.message}); try again later"
            ) from exc
        return spec.licence

    def _check_fork(
        self, upstream_uri: str, upstream: LicenceTerms, spec: VersionSpec, signer: Actor
    ) -> None:
        try:
            self.policy.check_fork(upstream, spec.licence, signer.entity_kind)
        except LicenceError as exc:
            raise LicenceError(f"the fork of {upstream_uri} is refused: {exc.message}") from exc

    async def _reject(self, activity: dict[str, Any], signer: Actor, reason: str) -> None:
        async with self.sessions() as session:
            instance_actor = await session.scalar(
                select(Actor).where(Actor.uri == self.urls.instance_actor)
            )
            if instance_actor is None:
                raise ValidationError("the instance actor is missing", status=500)
            refused = {"id": activity["id"], "type": activity["type"], "actor": signer.uri}
            reject = activities.reject(self.urls, instance_actor, refused, reason)
            # `to` names the signer, so its (shared) inbox gets the one delivery.
            await publish(session, self.urls, instance_actor, reject)
            await session.commit()


async def _project_upstream(session: AsyncSession, signer: Actor) -> str | None:
    """A later version of a fork is still a fork: its project's upstream applies."""
    project = await project_for_actor(session, signer)
    return project.upstream_uri if project is not None else None

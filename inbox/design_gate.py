"""Licence enforcement on received designs, before anything is stored.

A Create or Update carrying a design is admitted (`objects.admission`, through
`inbox.design_admission`) by the same rules as every other path that stores a remote
version: a present and valid licence, a fork compatible with its upstream (fetched,
origin-checked, when we do not have it), the entity kind, irrevocability and no lineage
cycle. A make (a Create of a Note with `makeOf`) is admitted by `objects.makes`. A
refusal answers 422 with the reason, sends the sender a `Reject` whose `summary`
is that reason, and stores nothing of the design.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.errors import FederationError
from federation.urls import LocalUrls, host_of
from inbox.context import HandlerContext
from inbox.design_admission import ADMITTED_TYPES, admit_carried
from inbox.make_handlers import admit_carried_make
from inbox.origin import check_origin
from objects.design_convert import is_design
from objects.licences import LicencePolicy


class DesignGate:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        resolver: ActorResolver,
        policy: LicencePolicy,
    ) -> None:
        self.sessions = sessions
        self.context = HandlerContext(resolver.urls, resolver, policy)
        self.resolver = resolver

    @property
    def urls(self) -> LocalUrls:
        return self.resolver.urls

    async def check(self, activity: dict[str, Any], signer: Actor) -> dict[str, Any]:
        """The activity to store: checked, with a design sent by reference embedded, so that
        the worker stores exactly what was checked (and a Create's object fetched here
        embedded too, so that it is not fetched again)."""
        if activity["type"] not in ADMITTED_TYPES:
            return activity
        obj = activity.get("object")
        if isinstance(obj, str) and host_of(obj) == signer.domain:
            fetched = await self._dereference(obj)
            if is_design(fetched):
                activity = {**activity, "object": fetched}
                check_origin(activity, signer)
            elif fetched is not None and activity["type"] == "Create":
                # Kept, so that the worker does not fetch it a second time.
                return {**activity, "object": fetched}
        await admit_carried(self.sessions, self.context, activity, signer)
        await admit_carried_make(self.sessions, self.context, activity, signer)
        return activity

    async def _dereference(self, uri: str) -> dict[str, Any] | None:
        """The object behind a URL, or None when it cannot be had now (the worker tries
        again, and never stores a design it had to fetch itself: see
        `InboxWorker._dereference`)."""
        try:
            return await self.resolver.fetch_document(uri)
        except FederationError:
            return None

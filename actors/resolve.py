"""Resolving remote actors and their keys: signed fetch, origin checks, caching.

A fetched document's `id` must equal the URL it came from; if it differs we
refetch once by its `id`, and refuse if that does not settle it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urldefrag

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.convert import apply_remote_actor, parse_remote_actor
from actors.key_failures import KeyFailureMemory, KeyFetchRefused
from actors.models import Actor
from federation.db import utcnow
from federation.errors import FederationError, FetchError, OriginError, SignatureError
from federation.http import fetch_json
from federation.settings import Settings
from federation.urls import LocalUrls
from federation.webfinger import resolve_handle


class ActorNotFound(FetchError):
    status = 404


class KeyOwnerError(SignatureError):
    """The key's document and its owner's disagree about whose key it is: whoever signed
    with it is not authenticated as anyone (401, like every other signature problem)."""


def _check_key_owner(actor_doc: dict[str, Any], key_id: str) -> None:
    key = actor_doc.get("publicKey")
    key = key[0] if isinstance(key, list) and key else key
    if isinstance(key, dict) and key.get("owner", actor_doc.get("id")) != actor_doc.get("id"):
        raise KeyOwnerError(
            f"the key {key_id} is owned by {str(key.get('owner'))[:200]!r}, not by the actor "
            f"{str(actor_doc.get('id'))[:200]} that lists it"
        )


# Every signed request looks up its key; remembering recent owners spares a query per request.
# Entries are short-lived and dropped when the actor updates or deletes itself.
KEY_CACHE_SIZE = 10_000
KEY_CACHE_SECONDS = 300.0


class ActorResolver:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        fetch_auth: Callable[[], httpx.Auth | None],
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.settings = settings
        self.urls = LocalUrls(settings.base_url)
        self._fetch_auth = fetch_auth
        self._key_owners: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
        self.key_failures = KeyFailureMemory(settings.key_failure_cache_seconds)

    async def fetch_document(self, url: str) -> dict[str, Any]:
        """GET a remote document, signed by the instance actor, whose id is its URL."""
        url = urldefrag(url).url
        final_url, doc = await self._get(url)
        doc_id = doc.get("id")
        if doc_id in (url, final_url):
            return doc
        if not isinstance(doc_id, str):
            raise OriginError(f"the document at {url} has no id")
        final_url, doc = await self._get(doc_id)
        if doc.get("id") not in (doc_id, final_url):
            raise OriginError(f"the document at {doc_id} claims to be {doc.get('id')!r}")
        return doc

    async def _get(self, url: str) -> tuple[str, dict[str, Any]]:
        return await fetch_json(
            self.client, url, auth=self._fetch_auth(), max_bytes=self.settings.max_fetch_bytes
        )

    async def get_actor(self, uri: str, *, refresh: bool = False) -> Actor:
        uri = urldefrag(uri).url
        async with self.sessions() as session:
            actor = await session.scalar(select(Actor).where(Actor.uri == uri))
        if actor is not None and (actor.local or not refresh):
            if actor.deleted_at is not None:
                raise ActorNotFound(f"the actor {uri} has been deleted", status=410)
            return actor
        if self.urls.is_local(uri):
            raise ActorNotFound(f"there is no local actor {uri}")
        return await self._store(parse_remote_actor(await self.fetch_document(uri)))

    async def actor_for_key(self, key_id: str, *, refresh: bool = False) -> Actor:
        """The actor owning `key_id`; `refresh` refetches it unless fetched very recently."""
        cached = None if refresh else self._cached_owner(key_id)
        if cached is not None:
            return cached
        actor = await self._remembering_failures(key_id, refresh=refresh)
        self._key_owners[key_id] = (time.monotonic(), actor)
        if len(self._key_owners) > KEY_CACHE_SIZE:
            self._key_owners.popitem(last=False)
        return actor

    async def _remembering_failures(self, key_id: str, *, refresh: bool) -> Actor:
        """`_owner_of_key`, refused at once when the key or its host failed moments ago."""
        try:
            return await self._owner_of_key(key_id, refresh=refresh)
        except KeyFetchRefused:
            raise
        except FederationError as exc:
            self.key_failures.remember(key_id, exc)
            raise

    def forget(self, actor_uri: str) -> None:
        """Drop cached keys of an actor that changed (Update or Delete of itself)."""
        for key_id in [k for k, (_, a) in self._key_owners.items() if a.uri == actor_uri]:
            del self._key_owners[key_id]

    def _cached_owner(self, key_id: str) -> Actor | None:
        entry = self._key_owners.get(key_id)
        if entry is None or time.monotonic() - entry[0] > KEY_CACHE_SECONDS:
            return None
        self._key_owners.move_to_end(key_id)
        return entry[1]

    async def _owner_of_key(self, key_id: str, *, refresh: bool) -> Actor:
        async with self.sessions() as session:
            actor = await session.scalar(
                select(Actor).where(Actor.public_key_id == key_id).limit(1)
            )
        if actor is not None and not (refresh and self._may_refetch(actor)):
            return actor
        self.key_failures.check(key_id)
        doc = await self.fetch_document(key_id)
        owner = doc.get("owner") if "inbox" not in doc else doc.get("id")
        if not isinstance(owner, str):
            raise FetchError(f"the key document {key_id} names no owner")
        if owner != doc.get("id"):
            doc = await self.fetch_document(owner)
        _check_key_owner(doc, key_id)
        data = parse_remote_actor(doc)
        if data.public_key_id != key_id:
            raise KeyOwnerError(f"the key {key_id} does not belong to {data.uri}")
        self.key_failures.forget(key_id)
        return await self._store(data)

    async def resolve_handle(self, handle: str) -> Actor:
        actor_uri = await resolve_handle(self.client, handle, scheme=self.settings.scheme)
        return await self.get_actor(actor_uri)

    def _may_refetch(self, actor: Actor) -> bool:
        if actor.local:
            return False
        last = actor.key_fetched_at
        interval = dt.timedelta(seconds=self.settings.key_refetch_interval_seconds)
        return last is None or utcnow() - last >= interval

    async def _store(self, data: Any) -> Actor:
        """Insert or update the actor row; a concurrent insert of the same actor is fine."""
        self.forget(data.uri)
        for _ in range(2):
            async with self.sessions() as session:
                row = await session.scalar(select(Actor).where(Actor.uri == data.uri))
                if row is None:
                    row = Actor(uri=data.uri)
                    session.add(row)
                elif row.local:
                    raise OriginError(f"{data.uri} is a local actor")
                apply_remote_actor(row, data)
                row.key_fetched_at = utcnow()
                row.deleted_at = None
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    continue
                return row
        raise FetchError(f"could not store the actor {data.uri}")

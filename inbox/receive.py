"""The inbox request: verify, check origin, de-duplicate, store raw, answer 202.

Nothing slow happens here except fetching an unknown key; processing is the
worker's job. Every refusal raises a FederationError and stores nothing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.models import Actor
from actors.proof_check import verified_controllers
from actors.resolve import ActorResolver
from federation.blocks import BlockedDomainError, DomainBlocks
from federation.db import column_length, utcnow
from federation.errors import (
    FetchError,
    SignatureError,
    ValidationError,
)
from federation.json_input import parse_json
from federation.keys import load_public_pem
from federation.queue import PENDING
from federation.signatures import (
    ParsedSignature,
    check_signature_policy,
    parse_signature,
    verify_signature,
)
from inbox.intake import InboxIntake
from inbox.models import InboxItem
from inbox.origin import check_origin
from objects.convert import first_id

PROVEN_OBJECT_ACTIVITIES = frozenset({"Create", "Update", "Announce"})


@dataclass(frozen=True)
class Received:
    status: int
    message: str
    activity_id: str


class Receiver:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        resolver: ActorResolver,
        *,
        window: int,
        on_stored: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
        gate: Callable[[dict[str, Any], Actor], Awaitable[dict[str, Any]]] | None = None,
        blocks: DomainBlocks | None = None,
    ) -> None:
        self.gate = gate
        self.blocks = blocks if blocks is not None else DomainBlocks()
        self.intake = InboxIntake(sessions)
        self.resolver = resolver
        self.window = window
        self.on_stored = on_stored
        self.clock = clock

    async def receive(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Received:
        parsed = parse_signature(method, url, headers)
        check_signature_policy(parsed, method, headers, body, self.clock(), self.window)
        activity = parse_activity(body)
        # Before any key fetch: a suspended domain gets nothing from us, not even a GET.
        for uri in (parsed.key_id, first_id(activity["actor"]) or ""):
            self.blocks.check(uri)
        try:
            signer = await self._verified_signer(parsed)
        except FetchError as exc:
            if is_self_delete(activity):
                return Received(
                    202, "a Delete of an actor we cannot fetch: nothing to do", activity["id"]
                )
            raise SignatureError(
                f"could not fetch the signing key {parsed.key_id}: {exc.message}"
            ) from exc
        check_origin(activity, signer)
        await self._check_proofs(activity)
        if signer.suspended_at is not None:
            raise BlockedDomainError(f"{signer.uri} is suspended by this instance's moderators")
        if self.gate is not None:
            activity = await self.gate(activity, signer)
        return await self._store(activity, signer)

    async def _check_proofs(self, activity: dict[str, Any]) -> None:
        """Integrity proofs on the activity, and on the object it creates, updates or shares,
        must hold: a forged or altered one is refused here, before anything is stored
        (FEP-8b32). An activity embedded in an Accept, Reject or Undo is a reference that
        servers re-serialise (dropping its context), so a proof on it is not checked."""
        await verified_controllers(self.resolver, activity)
        obj = activity.get("object")
        if isinstance(obj, dict) and activity["type"] in PROVEN_OBJECT_ACTIVITIES:
            await verified_controllers(self.resolver, obj)

    async def _verified_signer(self, parsed: ParsedSignature) -> Actor:
        """The key's owner; a failing signature refetches the key once (key rotation)."""
        actor = await self.resolver.actor_for_key(parsed.key_id)
        try:
            verify_signature(parsed, public_key(actor.public_key_pem))
            return actor
        except SignatureError:
            fresh = await self.resolver.actor_for_key(parsed.key_id, refresh=True)
            if fresh.public_key_pem == actor.public_key_pem:
                raise
            verify_signature(parsed, public_key(fresh.public_key_pem))
            return fresh

    async def _store(self, activity: dict[str, Any], signer: Actor) -> Received:
        if not await self.intake.store(_new_item(activity, signer)):
            return Received(202, "already received", activity["id"])
        self.on_stored()
        return Received(202, "accepted", activity["id"])


def _new_item(activity: dict[str, Any], signer: Actor) -> dict[str, Any]:
    now = utcnow()
    return {
        "activity_uri": activity["id"],
        "actor_uri": signer.uri,
        "type": str(activity["type"])[:64],
        "payload": activity,
        "received_at": now,
        "next_attempt_at": now,
        "state": PENDING,
        "attempts": 0,
    }


@functools.lru_cache(maxsize=4096)
def public_key(pem: str) -> PublicKeyTypes:
    return load_public_pem(pem)


def parse_activity(body: bytes) -> dict[str, Any]:
    activity = parse_json(body, "the activity")
    if not isinstance(activity, dict):
        raise ValidationError("the body must be a JSON object (an activity)", status=400)
    for name in ("id", "type"):
        if not isinstance(activity.get(name), str):
            raise ValidationError(f"the activity needs a string {name!r}", status=400)
    max_id_length = column_length(InboxItem.activity_uri)
    if max_id_length is not None and len(activity["id"]) > max_id_length:
        raise ValidationError(
            f"the activity id is longer than {max_id_length} characters", status=400
        )
    if first_id(activity.get("actor")) is None:
        raise ValidationError("the activity needs an 'actor'", status=400)
    return activity


def is_self_delete(activity: dict[str, Any]) -> bool:
    return activity["type"] == "Delete" and first_id(activity.get("object")) == first_id(
        activity.get("actor")
    )

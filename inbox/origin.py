"""Origin checks on a received activity: the signer is its actor, and what it claims to
own is on its host (the lesson of Mastodon CVE-2024-23832)."""

from __future__ import annotations

from typing import Any

from actors.models import Actor
from federation.errors import OriginError, ValidationError
from federation.urls import host_of, is_web_url
from objects.convert import first_id

OWN_OBJECT_TYPES = frozenset({"Create", "Update", "Delete"})


def check_origin(activity: dict[str, Any], signer: Actor) -> None:
    """The signer is the actor, and what it claims to own is on its host."""
    actor_uri = first_id(activity["actor"])
    if actor_uri != signer.uri:
        raise OriginError(
            f"the request is signed by {signer.uri} but the activity's actor is {actor_uri}",
            status=401,
        )
    if host_of(activity["id"]) != signer.domain:
        raise OriginError(f"the activity id {activity['id']} is not on the actor's host")
    obj = activity.get("object")
    object_id = first_id(obj)
    if object_id is not None and not is_web_url(object_id):
        raise ValidationError(
            f"the object id {object_id[:200]!r} is not an http or https URL: ids must be one"
        )
    if activity["type"] in OWN_OBJECT_TYPES and isinstance(obj, dict):
        _check_own_object(obj, signer)


def _check_own_object(obj: dict[str, Any], signer: Actor) -> None:
    object_id = first_id(obj)
    if object_id is not None and host_of(object_id) != signer.domain:
        raise OriginError(f"the object {object_id} is not on the host of its actor {signer.uri}")
    author = first_id(obj.get("attributedTo"))
    if author is not None and author != signer.uri:
        raise OriginError(f"the object is attributed to {author}, not to the sender {signer.uri}")

"""Building the activities local actors send. Pure functions: dicts in, dicts out."""

from __future__ import annotations

from typing import Any

from actors.models import Actor
from federation.db import utcnow
from federation.urls import LocalUrls
from federation.vocab import AS_CONTEXT, MAKE_CONTEXT, PUBLIC
from objects.convert import iso, note_to_as, tombstone_as
from objects.models import Note


def _activity(urls: LocalUrls, actor: Actor, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": urls.new_activity(),
        "type": kind,
        "actor": actor.uri,
        "object": obj,
        **extra,
    }


def create_note(urls: LocalUrls, actor: Actor, note: Note) -> dict[str, Any]:
    obj = note_to_as(note, actor.uri, with_context=False)
    activity = _activity(
        urls, actor, "Create", obj, to=obj["to"], cc=obj["cc"], published=obj["published"]
    )
    if "makeOf" in obj:
        activity["@context"] = MAKE_CONTEXT  # the make's own terms (objects.makes)
    return activity


def update_note(urls: LocalUrls, actor: Actor, note: Note) -> dict[str, Any]:
    obj = note_to_as(note, actor.uri, with_context=False)
    return _activity(urls, actor, "Update", obj, to=obj["to"], cc=obj["cc"])


def delete_note(urls: LocalUrls, actor: Actor, note: Note) -> dict[str, Any]:
    assert note.deleted_at is not None
    tombstone = tombstone_as(note.uri, note.deleted_at, with_context=False)
    return _activity(urls, actor, "Delete", tombstone, to=[PUBLIC], cc=[actor.followers_url])


def follow(urls: LocalUrls, actor: Actor, target: Actor) -> dict[str, Any]:
    return _activity(urls, actor, "Follow", target.uri, to=[target.uri])


def accept(urls: LocalUrls, actor: Actor, follow_activity: dict[str, Any]) -> dict[str, Any]:
    return _activity(urls, actor, "Accept", follow_activity, to=[follow_activity["actor"]])


def reject(urls: LocalUrls, actor: Actor, activity: dict[str, Any], reason: str) -> dict[str, Any]:
    return _activity(urls, actor, "Reject", activity, to=[activity["actor"]], summary=reason)


def undo(urls: LocalUrls, actor: Actor, original: dict[str, Any]) -> dict[str, Any]:
    # Without its context its proof no longer holds: the Undo's own proof speaks for it.
    inner = {k: v for k, v in original.items() if k not in ("@context", "proof")}
    return _activity(
        urls, actor, "Undo", inner, to=original.get("to", []), cc=original.get("cc", [])
    )


def like(urls: LocalUrls, actor: Actor, note_uri: str, author: Actor) -> dict[str, Any]:
    return _activity(urls, actor, "Like", note_uri, to=[author.uri])


def announce(urls: LocalUrls, actor: Actor, note_uri: str, author: Actor) -> dict[str, Any]:
    return _activity(
        urls,
        actor,
        "Announce",
        note_uri,
        to=[PUBLIC],
        cc=[author.uri, actor.followers_url],
        published=iso(utcnow()),
    )


def update_actor(urls: LocalUrls, actor: Actor, actor_doc: dict[str, Any]) -> dict[str, Any]:
    # Without its context its proof no longer holds: the Update's own proof speaks for it.
    inner = {k: v for k, v in actor_doc.items() if k not in ("@context", "proof")}
    return _activity(urls, actor, "Update", inner, to=[PUBLIC], cc=[actor.followers_url])


def block(urls: LocalUrls, actor: Actor, target: Actor) -> dict[str, Any]:
    return _activity(urls, actor, "Block", target.uri, to=[target.uri])

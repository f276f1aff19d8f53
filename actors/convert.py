"""Converters between actor rows and ActivityStreams JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.maker_space import maker_space_of, maker_space_to_as, parse_maker_space
from actors.models import ENTITY_KINDS, Actor
from federation.db import column_length
from federation.errors import ValidationError
from federation.urls import LocalUrls, host_of, is_web_url, web_url_or_none
from federation.vocab import ACTOR_CONTEXT, ACTOR_TYPES


def actor_to_as(actor: Actor, urls: LocalUrls) -> dict[str, Any]:
    """The actor document of a local actor."""
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": actor.uri,
        "type": actor.type,
        "preferredUsername": actor.username,
        "name": actor.name or actor.username,
        "summary": actor.summary,
        "url": actor.url,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers_url,
        "following": actor.following_url,
        # Mastodon's pinned posts (served by web.routes.featured).
        "featured": f"{actor.uri}/collections/featured" if actor.type == "Person" else None,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "entityKind": actor.entity_kind,
        "publicKey": {
            "id": actor.public_key_id,
            "owner": actor.uri,
            "publicKeyPem": actor.public_key_pem,
        },
        "published": actor.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attachment": [
            {"type": "PropertyValue", "name": name, "value": value}
            for name, value in profile_fields(actor)
        ]
        or None,
        "makerSpace": _maker_space(actor),
    }
    return {key: value for key, value in doc.items() if value is not None}


def _maker_space(actor: Actor) -> dict[str, Any] | None:
    space = maker_space_of(actor)
    return None if space is None else maker_space_to_as(space)


def profile_fields(actor: Actor) -> list[tuple[str, str]]:
    """A local person's profile fields (name, value). They live in `document`, which holds
    nothing else for local actors, so that adding them needed no new column."""
    attachment = (actor.document or {}).get("attachment") or []
    return [
        (item["name"], item["value"])
        for item in attachment
        if isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("value"), str)
    ]


def set_profile_fields(actor: Actor, fields: list[tuple[str, str]]) -> None:
    attachment = [{"type": "PropertyValue", "name": n, "value": v} for n, v in fields]
    # A new dict, so the JSON column sees the change.
    actor.document = {**(actor.document or {}), "attachment": attachment}


@dataclass(frozen=True)
class RemoteActorData:
    """A validated remote actor document."""

    uri: str
    type: str
    username: str
    domain: str
    name: str
    summary: str
    url: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers_url: str | None
    following_url: str | None
    manually_approves_followers: bool
    entity_kind: str
    public_key_id: str
    public_key_pem: str
    # What it can make (`actors.maker_space`), as published; None when it publishes none
    # or an invalid one (the rest of the document still counts).
    maker_space: dict[str, Any] | None = None
    # What we keep of the rest: the Multikeys its object integrity proofs verify against.
    document: dict[str, Any] | None = None


def parse_remote_actor(doc: dict[str, Any]) -> RemoteActorData:
    """Validate an actor document; raise ValidationError saying what is wrong."""
    uri = _required_str(doc, "id")
    actor_type = doc.get("type")
    if actor_type not in ACTOR_TYPES:
        raise ValidationError(f"{uri} is a {actor_type!r}, not an actor type")
    key = _public_key(doc, uri)
    endpoints = doc.get("endpoints")
    if not isinstance(endpoints, dict):
        endpoints = {}
    kind = doc.get("entityKind")
    data = RemoteActorData(
        uri=uri,
        type=str(actor_type),
        username=_optional_str(doc, "preferredUsername") or uri.rstrip("/").rsplit("/", 1)[-1],
        domain=host_of(uri),
        name=(_optional_str(doc, "name") or "").replace("\x00", "")[: column_length(Actor.name)],
        summary=(_optional_str(doc, "summary") or "").replace("\x00", ""),
        url=_link(doc.get("url")),
        inbox=_required_url(doc, "inbox", uri),
        shared_inbox=_same_host_or_none(_optional_str(endpoints, "sharedInbox"), uri),
        outbox=web_url_or_none(_optional_str(doc, "outbox")),
        followers_url=web_url_or_none(_optional_str(doc, "followers")),
        following_url=web_url_or_none(_optional_str(doc, "following")),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        entity_kind=kind if kind in ENTITY_KINDS else "unknown",
        public_key_id=key[0],
        public_key_pem=key[1],
        maker_space=_remote_maker_space(doc.get("makerSpace")),
        document=_proof_keys(doc, uri),
    )
    _check_storable(data)
    return data


def _check_storable(data: RemoteActorData) -> None:
    """Refuse values the actors table cannot hold, rather than fail in the database."""
    for name, value in data.__dict__.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise ValidationError(
                f"the {name} of actor {data.uri[:200]!r} contains a NUL character"
            )
        limit = column_length(getattr(Actor, name))
        if limit is not None and len(value) > limit:
            raise ValidationError(
                f"the {name} of actor {data.uri[:200]} is longer than {limit} characters"
            )


def _public_key(doc: dict[str, Any], uri: str) -> tuple[str, str]:
    key = doc.get("publicKey")
    if isinstance(key, list) and key:
        key = key[0]
    if not isinstance(key, dict):
        raise ValidationError(f"actor {uri} has no publicKey")
    key_id = _required_str(key, "id")
    pem = _required_str(key, "publicKeyPem")
    if key.get("owner", uri) != uri:
        raise ValidationError(f"the publicKey of {uri} is owned by {key.get('owner')!r}")
    if host_of(key_id) != host_of(uri):
        raise ValidationError(f"the key {key_id} is not on the host of its actor {uri}")
    return key_id, pem


def _proof_keys(doc: dict[str, Any], uri: str) -> dict[str, Any] | None:
    """The actor's `assertionMethod` Multikeys that it controls, on its own host (FEP-521a)."""
    listed = doc.get("assertionMethod")
    items = listed if isinstance(listed, list) else [listed]
    keys = [
        {name: item[name] for name in ("id", "type", "controller", "publicKeyMultibase")}
        for item in items[:8]
        if isinstance(item, dict)
        and item.get("type") == "Multikey"
        and item.get("controller") == uri
        and isinstance(item.get("id"), str)
        and host_of(item["id"]) == host_of(uri)
        and isinstance(item.get("publicKeyMultibase"), str)
        and len(item["publicKeyMultibase"]) < 200
    ]
    return {"assertionMethod": keys} if keys else None


def _required_str(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"the document lacks a string {name!r}")
    return value


def _required_url(doc: dict[str, Any], name: str, uri: str) -> str:
    value = _required_str(doc, name)
    if host_of(value) != host_of(uri):
        raise ValidationError(f"the {name} of {uri} is on another host ({value})")
    return value


def _optional_str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    return value if isinstance(value, str) else None


def _same_host_or_none(value: str | None, uri: str) -> str | None:
    if value is None or not is_web_url(value):
        return None
    return value if host_of(value) == host_of(uri) else None


def _link(value: Any) -> str | None:
    """The actor's profile link: only an http(s) one is kept (never rendered otherwise)."""
    if isinstance(value, str):
        return web_url_or_none(value)
    if isinstance(value, dict) and isinstance(value.get("href"), str):
        return str(value["href"])
    if isinstance(value, list) and value:
        return _link(value[0])
    return None


def _remote_maker_space(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        return maker_space_to_as(parse_maker_space(value))
    except ValidationError:
        return None


def apply_remote_actor(row: Actor, data: RemoteActorData) -> None:
    for name, value in data.__dict__.items():
        if name != "maker_space":
            setattr(row, name, value)
    document = {k: v for k, v in (row.document or {}).items() if k != "makerSpace"}
    if data.maker_space is not None:
        document["makerSpace"] = data.maker_space
    row.document = document or None
    row.local = False

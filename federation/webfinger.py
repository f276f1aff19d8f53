"""The WebFinger client: turn `@user@host` into the URL of an ActivityPub actor (RFC 7033)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from federation.errors import FetchError, ValidationError
from federation.http import fetch_json

JRD_ACCEPT = "application/jrd+json, application/json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"

_USER = re.compile(r"[^\s@/?#:]+")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?")


def parse_handle(handle: str) -> tuple[str, str]:
    """(user, host) from `@user@host`, `user@host` or `acct:user@host`; host is lowercased."""
    text = handle.strip()
    if text.lower().startswith("acct:"):
        text = text[len("acct:") :]
    elif text.startswith("@"):
        text = text[1:]
    user, sep, host = text.partition("@")
    host = host.lower()
    if not sep or not _USER.fullmatch(user) or not _HOST.fullmatch(host):
        raise ValidationError(f"{handle!r} is not a valid handle: expected @user@host")
    return user, host


async def resolve_handle(
    client: httpx.AsyncClient, handle: str, *, scheme: str = "https", max_bytes: int = 200_000
) -> str:
    """The actor URL that `handle`'s server advertises as its `self` link."""
    jrd = await fetch_jrd(client, handle, scheme=scheme, max_bytes=max_bytes)
    href = _self_link(jrd)
    if href is None:
        raise FetchError(f"the WebFinger answer for {handle} has no ActivityPub self link")
    parts = urlsplit(href)
    # The actor may live on another host than the handle (split domains), but must be web.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"the WebFinger answer for {handle} links to {href!r}, not an http(s) URL")
    return href


async def fetch_jrd(
    client: httpx.AsyncClient, handle: str, *, scheme: str = "https", max_bytes: int = 200_000
) -> dict[str, Any]:
    """The WebFinger answer (JRD) of `handle`'s server about it."""
    user, host = parse_handle(handle)
    resource = quote(f"acct:{user}@{host}", safe=":@")
    url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
    _, jrd = await fetch_json(client, url, max_bytes=max_bytes, accept=JRD_ACCEPT)
    return jrd


def _self_link(jrd: dict[str, Any]) -> str | None:
    links = jrd.get("links")
    if not isinstance(links, list):
        return None
    for link in links:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        href = link.get("href")
        if isinstance(href, str) and _is_activity_type(link.get("type")):
            return href
    return None


def _is_activity_type(media_type: object) -> bool:
    """application/activity+json, or application/ld+json with the ActivityStreams profile."""
    if not isinstance(media_type, str):
        return False
    main, *params = (part.strip() for part in media_type.split(";"))
    if main.lower() == "application/activity+json":
        return True
    if main.lower() != "application/ld+json":
        return False
    profiles = (p.partition("=")[2].strip().strip('"') for p in params if p.startswith("profile="))
    return any(AS_PROFILE in profile.split() for profile in profiles)


# The WebFinger link whose `template` is the page that follows `{uri}` from that server.
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"


def our_subscribe_template(base_url: str) -> str:
    """Where other servers send people to follow `{uri}` from here (our WebFinger answer)."""
    return f"{base_url}/authorize_interaction?uri={{uri}}"

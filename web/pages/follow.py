""" "Follow from your instance": where a person's own server lets them follow one of ours.

Mastodon and others advertise, in their WebFinger answer, a link of rel
`http://ostatus.org/schema/1.0/subscribe` whose `template` holds `{uri}`: the page on
their server that follows the account at that URI. The WebFinger request goes through
the instance's client, whose SSRF guard checks every address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from federation.errors import FederationError
from federation.webfinger import SUBSCRIBE_REL, fetch_jrd, our_subscribe_template, parse_handle
from web.instance import Instance

MAX_JRD_BYTES = 200_000


async def subscribe_url(instance: Instance, handle: str, target_uri: str) -> str:
    """The page on `handle`'s own server that follows `target_uri`; FederationError with a
    message for the person when the handle is wrong or their server offers no such page."""
    user, host = parse_handle(handle)
    if host == instance.urls.host:
        return our_subscribe_template(instance.urls.base_url).replace(
            "{uri}", quote(target_uri, safe="")
        )
    try:
        jrd = await fetch_jrd(
            instance.client, handle, scheme=instance.settings.scheme, max_bytes=MAX_JRD_BYTES
        )
    except FederationError as error:
        raise FederationError(
            f"could not ask {host} about @{user}@{host} ({error.message}); check the handle",
            status=502,
        ) from error
    template = subscribe_template(jrd)
    if template is None:
        raise FederationError(
            f"{host} does not offer a 'follow from your instance' page; search for "
            f"{target_uri} on your server and follow from there",
            status=422,
        )
    return template.replace("{uri}", quote(target_uri, safe=""))


def subscribe_template(jrd: dict[str, Any]) -> str | None:
    """The subscribe link's template, when it is an http(s) URL with a `{uri}` slot."""
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != SUBSCRIBE_REL:
            continue
        template = link.get("template")
        if not isinstance(template, str) or "{uri}" not in template:
            continue
        parts = urlsplit(template.replace("{uri}", "x"))
        if parts.scheme in ("http", "https") and parts.hostname:
            return template
    return None

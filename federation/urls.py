"""The URL scheme of a local instance: one place that knows every local path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from federation.errors import ValidationError

WEB_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class LocalUrls:
    base_url: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc.lower()

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def key_id(self, actor_uri: str) -> str:
        return f"{actor_uri}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def profile(self, username: str) -> str:
        return f"{self.base_url}/@{username}"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base_url}/actor"

    def new_note(self) -> str:
        return f"{self.base_url}/notes/{uuid.uuid4().hex}"

    def new_activity(self) -> str:
        return f"{self.base_url}/activities/{uuid.uuid4().hex}"

    def is_local(self, uri: str) -> bool:
        parts = urlsplit(uri)
        return f"{parts.scheme}://{parts.netloc.lower()}" == self.base_url.lower()


def host_of(uri: str) -> str:
    """host[:port] of an http(s) URL, lower case.

    Any other scheme (`javascript://peer/...`, `data:`, a relative reference) is refused
    here, so that every origin check that compares hosts refuses it too: such an id would
    otherwise pass as "on the sender's host" and later be rendered as a link."""
    if not is_web_url(uri):
        raise ValidationError(
            f"{str(uri)[:200]!r} is not an http or https URL: ids and links must be one"
        )
    return urlsplit(uri).netloc.lower().rsplit("@", 1)[-1]


def is_web_url(uri: object) -> bool:
    """An absolute http(s) URL with a host: the only kind of id or link we accept."""
    if not isinstance(uri, str):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts.scheme.lower() in WEB_SCHEMES and bool(host)


def web_url_or_none(uri: object) -> str | None:
    """`uri` when it is an http(s) URL, else None: for optional links we may drop."""
    return uri if isinstance(uri, str) and is_web_url(uri) else None

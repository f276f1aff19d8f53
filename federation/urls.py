"""The URL scheme of a local instance: one place that knows every local path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit


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
    """host[:port] of a URL, lower case; '' when there is none."""
    return urlsplit(uri).netloc.lower().rsplit("@", 1)[-1]

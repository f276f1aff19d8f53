"""What a handler needs: the instance's URLs, the actor resolver and the licence policy."""

from __future__ import annotations

from dataclasses import dataclass

from actors.resolve import ActorResolver
from federation.urls import LocalUrls
from objects.licences import LicencePolicy


@dataclass(frozen=True)
class HandlerContext:
    urls: LocalUrls
    resolver: ActorResolver
    policy: LicencePolicy

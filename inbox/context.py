"""What a handler needs: the instance's URLs, the actor resolver, the licence policy and
the domain blocks."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.resolve import ActorResolver
from federation.blocks import DomainBlocks
from federation.urls import LocalUrls
from objects.licences import LicencePolicy


@dataclass(frozen=True)
class HandlerContext:
    urls: LocalUrls
    resolver: ActorResolver
    policy: LicencePolicy
    blocks: DomainBlocks = field(default_factory=DomainBlocks)

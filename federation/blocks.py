"""The instance's domain blocks as an in-memory policy, consulted on every hop.

The rows live in the database (`actors.moderation_models.DomainBlock`); whoever changes
them calls `replace`, and every process reloads them every few seconds, so a block reaches
the inbox, the fetcher and the delivery worker without a query per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from federation.errors import FetchError

SUSPEND = "suspend"
SILENCE = "silence"
NOOP = "noop"


@dataclass(frozen=True)
class DomainRule:
    domain: str
    severity: str
    reject_media: bool = False
    reject_reports: bool = False


class BlockedDomainError(FetchError):
    """A request to or from a suspended domain (a FetchError, so fetchers treat it as one)."""

    status = 403


def normalise_domain(value: str) -> str:
    """The lower-case host of a domain, handle, or URL, without port or trailing dot."""
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.rpartition("@")[2]
    host, _, _port = text.partition(":")
    return host.rstrip(".")


class DomainBlocks:
    """Blocks by domain; a block covers its subdomains too, the most specific rule wins."""

    def __init__(self, rules: Iterable[DomainRule] = ()) -> None:
        self._rules: dict[str, DomainRule] = {}
        self.replace(rules)

    def replace(self, rules: Iterable[DomainRule]) -> None:
        self._rules = {normalise_domain(rule.domain): rule for rule in rules}

    def __len__(self) -> int:
        return len(self._rules)

    def rule_for(self, host_or_url: str) -> DomainRule | None:
        if not self._rules:
            return None
        host = normalise_domain(host_or_url)
        while host:
            rule = self._rules.get(host)
            if rule is not None:
                return rule
            _, _, host = host.partition(".")
        return None

    def is_suspended(self, host_or_url: str) -> bool:
        rule = self.rule_for(host_or_url)
        return rule is not None and rule.severity == SUSPEND

    def is_silenced(self, host_or_url: str) -> bool:
        rule = self.rule_for(host_or_url)
        return rule is not None and rule.severity == SILENCE

    def rejects_media(self, host_or_url: str) -> bool:
        rule = self.rule_for(host_or_url)
        return rule is not None and (rule.reject_media or rule.severity == SUSPEND)

    def rejects_reports(self, host_or_url: str) -> bool:
        rule = self.rule_for(host_or_url)
        return rule is not None and (rule.reject_reports or rule.severity == SUSPEND)

    async def check_request(self, request: httpx.Request) -> None:
        """An httpx request hook: no fetch from, and no delivery to, a suspended domain."""
        self.check(request.url.host)

    def check(self, host_or_url: str) -> None:
        """Raise BlockedDomainError if the domain is suspended."""
        if self.is_suspended(host_or_url):
            raise BlockedDomainError(
                f"{normalise_domain(host_or_url)} is blocked by this instance's moderators"
            )

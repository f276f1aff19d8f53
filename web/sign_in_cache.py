"""Whom a bearer token signs in, remembered for reads.

Mastodon apps send their token with every poll; checking it costs a few database round
trips, more than answering a kept timeline. A successful check is remembered under the
token's hash until this process commits a write to tokens, people or accounts (a revoked
token, a suspended person, a changed role) or `max_age` passes (for such writes by another
process). Only reads use it: a request that changes something always checks the token
against the database.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from actors.models import Actor, ApiToken
from actors.service import secret_hash
from federation.changes import TableChanges

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class SignIn:
    generation: int
    checked_at: float
    actor: Actor
    token: ApiToken


class SignInCache:
    def __init__(
        self, changes: TableChanges, max_age: float, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.changes = changes
        self.max_age = max_age
        self.max_entries = max_entries
        self._known: OrderedDict[str, SignIn] = OrderedDict()

    def get(self, token: str) -> SignIn | None:
        key = secret_hash(token)
        known = self._known.get(key)
        if known is None:
            return None
        fresh = time.monotonic() - known.checked_at < self.max_age
        if known.generation != self.changes.generation or not fresh:
            del self._known[key]
            return None
        self._known.move_to_end(key)
        return known

    def keep(self, token: str, generation: int, actor: Actor, row: ApiToken) -> None:
        """Remember a check that began at `generation` (a write since then makes it stale)."""
        if self.max_age <= 0:
            return
        self._known[secret_hash(token)] = SignIn(generation, time.monotonic(), actor, row)
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)

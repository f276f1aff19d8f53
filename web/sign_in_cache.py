"""Whom a bearer token signs in, remembered for reads.

Mastodon apps send their token with every poll; checking it costs a few database round
trips, more than answering a kept timeline. A successful check is remembered under the
token's hash until this process commits a write to tokens, people or accounts (a revoked
token, a suspended person, a changed role) or `max_age` passes (for such writes by another
process). Only reads use it: a request that changes something always checks the token
against the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.models import Actor, ApiToken
from actors.service import secret_hash
from federation.changes import KeptUntilChanged, TableChanges

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class SignIn:
    actor: Actor | None  # None for an app's own token (client credentials)
    token: ApiToken


class SignInCache:
    def __init__(self, changes: TableChanges, max_age: float) -> None:
        self.kept: KeptUntilChanged[str, SignIn] = KeptUntilChanged(changes, max_age, MAX_ENTRIES)

    def get(self, token: str) -> SignIn | None:
        return self.kept.get(secret_hash(token))

    def keep(self, token: str, generation: int, actor: Actor, row: ApiToken) -> None:
        """Remember a check that began at `generation` (a write since then makes it stale)."""
        self.kept.keep(secret_hash(token), generation, SignIn(actor, row))

"""A token's use is noted in memory and written in batches, never by the request itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.models import ApiToken
from tests.support import get


async def _last_used(node: Any) -> list[Any]:
    async with node.instance.sessions() as session:
        return list(await session.scalars(select(ApiToken.last_used_at).order_by(ApiToken.id)))


async def test_requests_write_nothing_and_a_flush_writes_every_use_at_once(nodes: Any) -> None:
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await a.user("bob")
    generation = a.instance.answers.kept.changes.generation
    for token in (alice_token, bob_token, alice_token):
        answer = await get(a, "/api/v1/accounts/verify_credentials", token)
        assert answer.status_code == 200
    assert await _last_used(a) == [None, None]  # no request wrote
    assert a.instance.answers.kept.changes.generation == generation  # nor emptied the cache
    assert await a.instance.token_uses.flush(a.instance.sessions) == 2
    first = await _last_used(a)
    assert all(at is not None for at in first)
    assert await a.instance.token_uses.flush(a.instance.sessions) == 0  # nothing new
    await get(a, "/api/v1/accounts/verify_credentials", bob_token)
    await a.instance.token_uses.flush(a.instance.sessions)
    second = await _last_used(a)
    assert second[0] == first[0] and second[1] > first[1]

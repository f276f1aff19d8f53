"""How timelines are read: one seek per followed account, and answers kept until a write."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update

from actors.service import token_row
from federation.changes import written_table
from federation.db import make_engine, utcnow
from objects.models import Note
from tests.support import Node, call, get
from tests.test_mastodon_statuses import post


async def posted_id(node: Node, token: str, text: str, **fields: Any) -> str:
    status_id: str = (await post(node, token, text, **fields))["id"]
    return status_id


def ids_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [status["id"] for status in response.json()]


def test_written_table() -> None:
    assert written_table("INSERT INTO notes (uri) VALUES (?)") == "notes"
    assert written_table("  update actors SET name=?") == "actors"
    assert written_table('DELETE FROM "follows" WHERE id = ?') == "follows"
    assert written_table("SELECT * FROM notes") is None
    assert written_table("WITH x AS (SELECT 1) SELECT * FROM x") is None


async def test_home_pages_through_many_followed_accounts(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("reader")
    people = [await a.user(f"p{n}") for n in range(6)]
    for actor, _ in people[:5]:
        followed = await call(a, "POST", f"/api/v1/accounts/{actor.id}/follow", token)
        assert followed.json()["following"] is True, followed.text
    expected = []
    for round_ in range(3):
        for n, (_, their_token) in enumerate(people):
            status_id = await posted_id(a, their_token, f"p{n} round {round_}")
            if n < 5:  # p5 is not followed
                expected.append(status_id)
        expected.append(await posted_id(a, token, f"mine {round_}"))
    # Neither someone else's direct message nor one of an unfollowed account shows.
    await posted_id(a, people[0][1], "only for @p1", visibility="direct")
    expected.reverse()

    seen: list[str] = []
    path = "/api/v1/timelines/home?limit=4"
    while path:
        page = await get(a, path, token)
        seen += ids_of(page)
        following = page.links.get("next", {}).get("url")
        path = following.removeprefix("https://a.test") if following and page.json() else ""
    assert seen == expected

    newer = await get(a, "/api/v1/timelines/home", token, min_id=expected[7], limit="3")
    assert ids_of(newer) == expected[4:7]
    since = await get(a, "/api/v1/timelines/home", token, since_id=expected[7], limit="3")
    assert ids_of(since) == expected[:3]


async def test_a_write_shows_at_once_and_a_kept_answer_is_per_viewer(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    first = await posted_id(a, token, "first")
    assert ids_of(await get(a, "/api/v1/timelines/public")) == [first]
    assert ids_of(await get(a, "/api/v1/timelines/public")) == [first]  # kept

    second = await posted_id(a, token, "second")
    assert ids_of(await get(a, "/api/v1/timelines/public")) == [second, first]

    liked = await call(a, "POST", f"/api/v1/statuses/{second}/favourite", token)
    assert liked.status_code == 200, liked.text
    mine = (await get(a, "/api/v1/timelines/public", token)).json()
    anyone = (await get(a, "/api/v1/timelines/public")).json()
    assert mine[0]["favourited"] is True and mine[0]["favourites_count"] == 1
    assert anyone[0]["favourited"] is False and anyone[0]["favourites_count"] == 1


async def test_reading_with_a_token_writes_nothing_that_invalidates(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await posted_id(a, token, "hello")
    await get(a, "/api/v1/timelines/home", token)
    changes = a.instance.answers.kept.changes
    before = changes.generation
    for _ in range(3):
        await get(a, "/api/v1/timelines/home", token)
    assert changes.generation == before


async def test_another_process_write_shows_after_the_age_limit(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    status_id = await posted_id(a, token, "before")
    a.instance.answers.kept.max_age = 0.5
    assert "before" in (await get(a, "/api/v1/timelines/public")).json()[0]["content"]

    await rewrite_in_another_process(a, status_id, "<p>after</p>")
    # This process saw no write: the kept answer stands until its age limit.
    assert "before" in (await get(a, "/api/v1/timelines/public")).json()[0]["content"]
    await asyncio.sleep(0.6)
    assert "after" in (await get(a, "/api/v1/timelines/public")).json()[0]["content"]


async def test_the_cache_can_be_turned_off(nodes: Any) -> None:
    a = await nodes("a.test", answer_cache_seconds=0)
    _, token = await a.user("alice")
    status_id = await posted_id(a, token, "before")
    await get(a, "/api/v1/timelines/public")
    await rewrite_in_another_process(a, status_id, "<p>after</p>")
    assert "after" in (await get(a, "/api/v1/timelines/public")).json()[0]["content"]


async def rewrite_in_another_process(node: Node, status_id: str, content: str) -> None:
    """Change a note through an engine of its own, as another process would."""
    other_process = make_engine(node.instance.settings)
    try:
        async with other_process.begin() as conn:
            await conn.execute(
                update(Note).where(Note.id == int(status_id)).values(content=content)
            )
    finally:
        await other_process.dispose()


async def test_a_remembered_sign_in_ends_with_a_revoke_or_a_suspension(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bob, bob_token = await a.user("bob")
    _, admin_token = await a.user("root", role="admin")
    for person in (token, bob_token):
        assert (await get(a, "/api/v1/timelines/home", person)).status_code == 200  # kept

    async with a.instance.sessions() as session:  # as /oauth/revoke does
        row = await token_row(session, token)
        assert row is not None
        row.revoked_at = utcnow()
        await session.commit()
    assert (await get(a, "/api/v1/timelines/home", token)).status_code == 401

    action = {"type": "suspend"}
    path = f"/api/v1/admin/accounts/{bob.id}/action"
    suspended = await call(a, "POST", path, admin_token, json=action)
    assert suspended.status_code == 200, suspended.text
    assert (await get(a, "/api/v1/timelines/home", bob_token)).status_code == 403

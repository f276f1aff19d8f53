"""Conversations: threads of direct statuses, for the people in them only."""

from __future__ import annotations

from typing import Any

from tests.support import call, get, settle
from tests.test_mastodon_blocks import account_id, act
from tests.test_mastodon_statuses import post


async def conversations(node: Any, token: str, **params: Any) -> list[dict[str, Any]]:
    response = await get(node, "/api/v1/conversations", token, **params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_direct_threads_are_conversations_for_their_people_only(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    _, cy_token = await a.user("cy")
    _, dan_token = await b.user("dan")

    first = await post(a, bea_token, "@alice a secret lamp", visibility="direct")
    await post(a, bea_token, "Public words")
    reply = await post(
        a, token, "@bea tell me more", visibility="direct", in_reply_to_id=first["id"]
    )
    other = await post(b, dan_token, "@alice@a.test from afar", visibility="direct")
    await settle(a, b)

    found = await conversations(a, token)
    assert len(found) == 2
    latest, older = found
    dan = await account_id(a, token, "dan@b.test")
    assert [x["id"] for x in latest["accounts"]] == [dan] and latest["unread"] is True
    assert "from afar" in latest["last_status"]["content"] and other["id"]
    assert older["id"] == first["id"] and older["last_status"]["id"] == reply["id"]
    assert [x["id"] for x in older["accounts"]] == [str(bea.id)]
    assert older["unread"] is True  # bea's status came after nothing alice read
    assert latest["last_status"]["visibility"] == "direct"

    # Bea sees the same thread; cy, no one's addressee, sees none, nor the statuses.
    [hers] = await conversations(a, bea_token)
    assert hers["id"] == first["id"] and [x["id"] for x in hers["accounts"]] == [str(alice.id)]
    assert hers["unread"] is True  # alice's reply is unread for her
    assert await conversations(a, cy_token) == []
    assert (await get(a, f"/api/v1/statuses/{first['id']}", cy_token)).status_code == 404
    assert (await get(a, f"/api/v1/statuses/{first['id']}")).status_code == 404
    public = (await get(a, "/api/v1/timelines/public")).json()
    assert all(s["visibility"] != "direct" for s in public)
    for path in (f"/api/v1/conversations/{first['id']}/read",):
        assert (await call(a, "POST", path, cy_token)).status_code == 404

    # Read, then removed until a newer status comes.
    marked = await act(a, token, f"/api/v1/conversations/{first['id']}/read")
    assert marked["unread"] is False and marked["id"] == first["id"]
    listed = {c["id"]: c for c in await conversations(a, token)}
    assert listed[first["id"]]["unread"] is False
    gone = await call(a, "DELETE", f"/api/v1/conversations/{first['id']}", token)
    assert gone.status_code == 200 and gone.json() == {}
    assert [c["id"] for c in await conversations(a, token)] == [latest["id"]]
    await post(a, bea_token, "@alice still there?", visibility="direct", in_reply_to_id=reply["id"])
    back = await conversations(a, token)
    assert [c["id"] for c in back] == [first["id"], latest["id"]] and back[0]["unread"]

    # Paged by the id of each conversation's last status.
    [page] = [await conversations(a, token, limit="1")]
    assert [c["id"] for c in page] == [first["id"]]
    rest = await conversations(a, token, limit="1", max_id=page[0]["last_status"]["id"])
    assert [c["id"] for c in rest] == [latest["id"]]

"""Polls: created with a status, read and voted through the Mastodon API, closed when they
end, and federated as Mastodon federates them: a `Question`, votes as Notes naming an
option, counts in `Update`s. Across two real instances, and with Mastodon's own JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update

from federation.db import utcnow
from objects.convert import iso
from objects.models import Poll
from tests.support import Node, call, get, settle
from tests.test_mastodon_payloads import Scene, scene  # noqa: F401  (the fixture)
from tests.test_mastodon_statuses import post

QUESTION = "https://mastodon.test/users/alice/statuses/112233445566770001"
POLL = {"options": ["Red", "Green", "Blue"], "expires_in": 600}


async def end_poll(node: Node, poll_id: str) -> None:
    """Move the poll's end into the past, as if its time had passed."""
    async with node.instance.sessions() as session:
        ended = utcnow() - dt.timedelta(seconds=1)
        await session.execute(update(Poll).where(Poll.id == int(poll_id)).values(expires_at=ended))
        await session.commit()


async def vote(node: Node, token: str, poll_id: str, *choices: int) -> Any:
    path = f"/api/v1/polls/{poll_id}/votes"
    return await call(node, "POST", path, token, json={"choices": list(choices)})


async def test_post_vote_and_close_a_poll(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    _, carol_token = await a.user("carol")
    status = await post(a, token, "Which colour?", poll=POLL)
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == POLL["options"]
    assert poll["expired"] is False and poll["multiple"] is False and poll["votes_count"] == 0

    voted = await vote(a, bea_token, poll["id"], 1)
    assert voted.status_code == 200, voted.text
    assert voted.json()["voted"] is True and voted.json()["own_votes"] == [1]
    assert [o["votes_count"] for o in voted.json()["options"]] == [0, 1, 0]
    assert (await vote(a, bea_token, poll["id"], 2)).status_code == 422  # a second vote
    assert (await vote(a, carol_token, poll["id"], 0, 1)).status_code == 422  # one choice only
    assert (await vote(a, carol_token, poll["id"], 7)).status_code == 422  # no such option
    read = (await get(a, f"/api/v1/polls/{poll['id']}", carol_token)).json()
    assert read["votes_count"] == 1 and read["voted"] is False
    shown = (await get(a, f"/api/v1/statuses/{status['id']}", bea_token)).json()
    assert shown["poll"]["own_votes"] == [1]
    # The note is a Question with the counts, as Mastodon serves one.
    async with a.client() as client:
        served = await client.get(status["uri"], headers={"Accept": "application/activity+json"})
    question = served.json()
    assert question["type"] == "Question" and question["votersCount"] == 1
    assert [o["replies"]["totalItems"] for o in question["oneOf"]] == [0, 1, 0]

    await end_poll(a, poll["id"])
    late = await vote(a, carol_token, poll["id"], 0)
    assert late.status_code == 422 and "ended" in late.json()["error"]
    ended = (await get(a, f"/api/v1/polls/{poll['id']}")).json()
    assert ended["expired"] is True and ended["votes_count"] == 1


async def test_poll_options_are_checked_and_totals_can_be_hidden(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    for bad in (
        {"options": ["Only one"], "expires_in": 600},
        {"options": ["Same", "Same"], "expires_in": 600},
        {"options": ["A", "B"], "expires_in": 5},
        {"options": ["A", "B", "C", "D", "E"], "expires_in": 600},
    ):
        refused = await call(
            a, "POST", "/api/v1/statuses", token, json={"status": "?", "poll": bad}
        )
        assert refused.status_code == 422, bad
    # A form, as Mastodon.py and other apps send it.
    form = [
        ("status", "Pick any"),
        ("poll[options][]", "Tea"),
        ("poll[options][]", "Coffee"),
        ("poll[expires_in]", "3600"),
        ("poll[multiple]", "true"),
        ("poll[hide_totals]", "true"),
    ]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode(form)
    posted = await call(a, "POST", "/api/v1/statuses", token, content=body, headers=headers)
    assert posted.status_code == 200, posted.text
    poll = posted.json()["poll"]
    assert poll["multiple"] is True and [o["title"] for o in poll["options"]] == ["Tea", "Coffee"]
    both = await vote(a, bea_token, poll["id"], 0, 1)
    assert both.status_code == 200, both.text
    assert [o["votes_count"] for o in both.json()["options"]] == [None, None]  # hidden
    mine = (await get(a, f"/api/v1/polls/{poll['id']}", token)).json()
    assert [o["votes_count"] for o in mine["options"]] == [1, 1]  # but not from its author
    assert mine["voters_count"] == 1


async def test_a_poll_across_two_instances(nodes: Any) -> None:
    """A posts a poll, B votes, A counts it, and B sees the result after A's Update."""
    a = await nodes("a.test")
    b = await nodes("b.test")
    _, token = await a.user("alice")
    _, bea_token = await b.user("bea")
    follow = await b.post_outbox("bea", bea_token, {"type": "Follow", "object": "alice@a.test"})
    assert follow.status_code == 201, follow.text
    await settle(a, b)
    status = await post(a, token, "Which colour?", poll=POLL)
    await settle(a, b)
    [remote] = (await get(b, "/api/v1/timelines/home", bea_token)).json()
    assert [o["title"] for o in remote["poll"]["options"]] == POLL["options"]
    assert remote["poll"]["expires_at"] == status["poll"]["expires_at"]

    voted = await vote(b, bea_token, remote["poll"]["id"], 2)
    assert voted.status_code == 200, voted.text
    assert voted.json()["own_votes"] == [2]
    await settle(a, b)
    counted = (await get(a, f"/api/v1/polls/{status['poll']['id']}")).json()
    assert [o["votes_count"] for o in counted["options"]] == [0, 0, 1]
    assert counted["voters_count"] == 1
    # A's vote Note never became a status there.
    assert (await get(a, f"/api/v1/statuses/{status['id']}")).json()["replies_count"] == 0

    _, carol_token = await a.user("carol")
    assert (await vote(a, carol_token, status["poll"]["id"], 0)).status_code == 200
    await settle(a, b)
    seen = (await get(b, f"/api/v1/polls/{remote['poll']['id']}", bea_token)).json()
    assert [o["votes_count"] for o in seen["options"]] == [1, 0, 1]
    assert seen["voters_count"] == 2 and seen["own_votes"] == [2]
    # Counts changing are no edit.
    history = (await get(b, f"/api/v1/statuses/{remote['id']}/history")).json()
    assert len(history) == 1

    # Fetched rather than delivered (a search on a third instance), it is a poll too.
    c = await nodes("c.test")
    _, dan_token = await c.user("dan")
    found = await get(c, "/api/v2/search", dan_token, q=status["uri"], resolve="true")
    [fetched] = found.json()["statuses"]
    assert [o["votes_count"] for o in fetched["poll"]["options"]] == [1, 0, 1]


def question(first: int = 3, voters: int = 3, ends: dt.datetime | None = None) -> dict[str, str]:
    end = ends or utcnow() + dt.timedelta(days=1)
    return {"end_time": iso(end), "first": str(first), "voters": str(voters)}


async def test_a_mastodon_question_becomes_a_poll_we_vote_in(scene: Scene) -> None:  # noqa: F811
    await scene.accept(scene.payload("create_question", **question()))
    note = await scene.note(QUESTION)
    assert note is not None
    path = f"/api/v1/statuses/{note.id}"
    poll = (await get(scene.od, path, scene.bob_token)).json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["0.4 mm", "0.6 mm"]
    assert [o["votes_count"] for o in poll["options"]] == [3, 0] and poll["voters_count"] == 3

    voted = await vote(scene.od, scene.bob_token, poll["id"], 1)
    assert voted.status_code == 200, voted.text
    await settle(scene.od)
    [sent] = [d.activity for d in scene.mastodon.received if d.activity["type"] == "Create"]
    assert sent["to"] == ["https://mastodon.test/users/alice"]
    vote_note = sent["object"]
    assert vote_note["type"] == "Note" and vote_note["name"] == "0.6 mm"
    assert vote_note["inReplyTo"] == QUESTION and "content" not in vote_note

    # Mastodon's Update with the new counts: the poll follows, no edit is recorded.
    refreshed = scene.payload("create_question", **question(first=3, voters=4))
    refreshed["object"]["oneOf"][1]["replies"]["totalItems"] = 1
    refreshed |= {"id": f"{QUESTION}#updates/1", "type": "Update"}
    await scene.accept(refreshed)
    poll = (await get(scene.od, path, scene.bob_token)).json()["poll"]
    assert [o["votes_count"] for o in poll["options"]] == [3, 1] and poll["voters_count"] == 4
    assert poll["own_votes"] == [1]
    assert len((await get(scene.od, f"{path}/history")).json()) == 1

    # Ended there: Mastodon's last Update says `closed`; a vote here is then refused.
    ended = utcnow() - dt.timedelta(minutes=1)
    closing = scene.payload("create_question", **question(first=3, voters=4, ends=ended))
    closing["object"]["oneOf"][1]["replies"]["totalItems"] = 1
    closing["object"]["closed"] = iso(ended)
    closing |= {"id": f"{QUESTION}#updates/2", "type": "Update"}
    await scene.accept(closing)
    poll = (await get(scene.od, path, scene.bob_token)).json()["poll"]
    assert poll["expired"] is True
    _, dora_token = await scene.od.user("dora")
    assert (await vote(scene.od, dora_token, poll["id"], 0)).status_code == 422


async def test_a_mastodon_vote_is_counted_and_the_voter_gets_the_counts(
    scene: Scene,  # noqa: F811
) -> None:
    status = await post(scene.od, scene.bob_token, "Filament?", poll={**POLL, "multiple": False})
    ballot = scene.payload("create_vote", choice="Green", question=status["uri"])
    await scene.accept(ballot)
    await settle(scene.od)
    counted = (await get(scene.od, f"/api/v1/polls/{status['poll']['id']}")).json()
    assert [o["votes_count"] for o in counted["options"]] == [0, 1, 0]
    # Mastodon's vote is no reply, and the voter's server hears the new counts.
    assert (await get(scene.od, f"/api/v1/statuses/{status['id']}")).json()["replies_count"] == 0
    [update] = [d.activity for d in scene.mastodon.received if d.activity["type"] == "Update"]
    assert update["object"]["type"] == "Question" and update["object"]["votersCount"] == 1
    assert [o["replies"]["totalItems"] for o in update["object"]["oneOf"]] == [0, 1, 0]
    assert "bcc" not in update  # the voters are addressed privately

    # The same voter again, or a name that is no option: nothing more is counted.
    again = scene.payload("create_vote", choice="Blue", question=status["uri"])
    again["id"] = again["id"].replace("4242", "4243")
    again["object"]["id"] = again["object"]["id"].replace("4242", "4243")
    await scene.accept(again)
    counted = (await get(scene.od, f"/api/v1/polls/{status['poll']['id']}")).json()
    assert [o["votes_count"] for o in counted["options"]] == [0, 1, 0]


async def test_whom_the_author_blocks_can_neither_read_nor_vote_in_the_poll(nodes: Any) -> None:
    """The poll routes cross the status's own rule: a blocked account sees a 404, as it does
    for the status, and its vote is not counted."""
    a = await nodes("a.test")
    _, token = await a.user("alice")
    bob, bob_token = await a.user("bob")
    status = await post(a, token, "Which colour?", poll=POLL)
    blocked = await call(a, "POST", f"/api/v1/accounts/{bob.id}/block", token)
    assert blocked.status_code == 200, blocked.text
    poll_id = status["poll"]["id"]
    assert (await get(a, f"/api/v1/polls/{poll_id}", bob_token)).status_code == 404
    assert (await vote(a, bob_token, poll_id, 0)).status_code == 404
    read = (await get(a, f"/api/v1/polls/{poll_id}", token)).json()
    assert read["votes_count"] == 0

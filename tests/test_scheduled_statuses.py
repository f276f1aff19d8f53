"""Scheduled statuses: kept, listed, moved and cancelled through the Mastodon API, and
published by the worker at their time, exactly once, across a restart and a crash."""

from __future__ import annotations

import datetime as dt
from typing import Any

from actors.models import FOLLOW_ACCEPTED
from federation.db import utcnow
from objects.models import Note
from outbox.scheduled import LEASE, ScheduledStatusWorker
from outbox.scheduled_models import ScheduledStatus
from tests.support import Network, Node, call, count, get, running_node, settle
from tests.test_follow_requests import follow_state


def later(minutes: float) -> str:
    return (utcnow() + dt.timedelta(minutes=minutes)).isoformat()


def at(minutes: float) -> Any:
    moment = utcnow() + dt.timedelta(minutes=minutes)
    return lambda: moment


async def schedule(node: Node, token: str, text: str, minutes: float = 10, **extra: Any) -> Any:
    body = {"status": text, "scheduled_at": later(minutes), **extra}
    answer = await call(node, "POST", "/api/v1/statuses", token, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def notes_of(node: Node, actor_id: int) -> int:
    return await count(node, Note, Note.actor_id == actor_id, Note.deleted_at.is_(None))


async def test_a_scheduled_status_is_published_at_its_time_and_federates(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    alice, token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    assert await follow_state(b, bob.uri, alice.uri) == FOLLOW_ACCEPTED

    scheduled = await schedule(a, token, "Workshop opens at nine", spoiler_text="news")
    assert set(scheduled) == {"id", "scheduled_at", "params", "media_attachments"}
    assert scheduled["params"]["text"] == "Workshop opens at nine"
    assert scheduled["params"]["spoiler_text"] == "news"
    assert scheduled["scheduled_at"].endswith("Z")
    assert await notes_of(a, alice.id) == 0
    listed = await get(a, "/api/v1/scheduled_statuses", token)
    assert [s["id"] for s in listed.json()] == [scheduled["id"]]
    one = await get(a, f"/api/v1/scheduled_statuses/{scheduled['id']}", token)
    assert one.json() == scheduled
    _, other_token = await a.user("dan")
    hidden = await get(a, f"/api/v1/scheduled_statuses/{scheduled['id']}", other_token)
    assert hidden.status_code == 404
    assert (await get(a, "/api/v1/scheduled_statuses", other_token)).json() == []

    worker = a.instance.scheduled_worker
    assert await worker.run_once() == 0  # not yet due
    worker.clock = at(11)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # published once
    assert await notes_of(a, alice.id) == 1
    assert (await get(a, "/api/v1/scheduled_statuses", token)).json() == []
    gone = await get(a, f"/api/v1/scheduled_statuses/{scheduled['id']}", token)
    assert gone.status_code == 404
    await settle(a, b)
    home = (await get(b, "/api/v1/timelines/home", bob_token)).json()
    assert [s["spoiler_text"] for s in home] == ["news"]
    assert "Workshop opens at nine" in home[0]["content"]


async def test_too_soon_or_unreadable_times_are_refused(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    for when, words in ((later(2), "at least 5 minutes"), ("next tuesday", "ISO 8601")):
        body = {"status": "soon", "scheduled_at": when}
        refused = await call(a, "POST", "/api/v1/statuses", token, json=body)
        assert refused.status_code == 422, refused.text
        assert words in refused.json()["error"]
    assert await count(a, ScheduledStatus) == 0
    assert await notes_of(a, alice.id) == 0


async def test_moving_and_cancelling(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    first = await schedule(a, token, "moved")
    second = await schedule(a, token, "cancelled")
    path = f"/api/v1/scheduled_statuses/{first['id']}"
    too_soon = await call(a, "PUT", path, token, json={"scheduled_at": later(1)})
    assert too_soon.status_code == 422
    moved = await call(a, "PUT", path, token, json={"scheduled_at": later(60)})
    assert moved.status_code == 200, moved.text
    assert moved.json()["scheduled_at"] > first["scheduled_at"]
    deleted = await call(a, "DELETE", f"/api/v1/scheduled_statuses/{second['id']}", token)
    assert deleted.status_code == 200 and deleted.json() == {}
    again = await call(a, "DELETE", f"/api/v1/scheduled_statuses/{second['id']}", token)
    assert again.status_code == 404
    worker = a.instance.scheduled_worker
    worker.clock = at(30)
    assert await worker.run_once() == 0  # the first moved past it, the second is gone
    worker.clock = at(61)
    assert await worker.run_once() == 1
    assert await notes_of(a, alice.id) == 1


async def test_a_crash_between_claim_and_publish_neither_loses_nor_doubles(
    nodes: Any,
) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    scheduled = await schedule(a, token, "exactly once")
    crashed = ScheduledStatusWorker(
        a.instance.sessions, a.instance.resolver, clock=at(11), identity="crashed"
    )
    [claimed] = await crashed.claim()  # ... and the process dies before publishing
    assert await notes_of(a, alice.id) == 0
    # Held by a worker, it is being published: it can no longer be moved.
    path = f"/api/v1/scheduled_statuses/{scheduled['id']}"
    held = await call(a, "PUT", path, token, json={"scheduled_at": later(60)})
    assert held.status_code == 409 and "being published" in held.json()["error"]
    successor = ScheduledStatusWorker(
        a.instance.sessions, a.instance.resolver, clock=at(11), identity="successor"
    )
    assert await successor.run_once() == 0  # the dead worker's lease still holds it
    successor.clock = at(11 + LEASE.total_seconds() / 60 + 1)
    assert await successor.run_once() == 1
    assert await notes_of(a, alice.id) == 1
    # The first worker wakes up late: its lease is gone, so it posts nothing.
    assert await crashed.publish(claimed) is False
    assert await notes_of(a, alice.id) == 1


async def test_a_scheduled_status_survives_a_restart(nodes: Any, tmp_path: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    await schedule(a, token, "after the restart")
    settings = a.instance.settings
    # Another process on the same database and files, as after a restart.
    async with running_node(
        "a.test", settings.database_url, settings.data_dir, Network()
    ) as restarted:
        worker = restarted.instance.scheduled_worker
        worker.clock = at(11)
        assert await worker.run_once() == 1
        assert await notes_of(restarted, alice.id) == 1
    assert await a.instance.scheduled_worker.run_once() == 0
    assert await notes_of(a, alice.id) == 1

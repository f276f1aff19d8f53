"""An inbox item whose object cannot be fetched waits for its origin as long as a delivery
would (days), in simulated time; what is given up shows in `queue list --failed` and in
/metrics, and `queue retry` puts it back."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx

from federation.db import utcnow
from federation.queue import DONE, FAILED, PENDING
from inbox.models import InboxItem
from objects.models import Note
from tests.support import cli_env, count, run_cli, settle

AS = "https://www.w3.org/ns/activitystreams"


async def _bob_followed_by_alice(nodes):
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    follow = {"type": "Follow", "object": "@bob@b.test"}
    assert (await a.post_outbox("alice", alice_token, follow)).status_code == 201
    await settle(a, b)
    # Posted, and never delivered by value (b's workers are stepped by hand, and are not).
    posted = await b.post_outbox("bob", bob_token, {"type": "Note", "content": "by reference"})
    return a, b, posted.json()["object"]["id"]


async def _create_by_reference(node, note_uri: str) -> int:
    """A Create from bob that names its note by URL only, as some servers send it."""
    activity = {
        "@context": AS,
        "id": f"https://b.test/activities/{uuid.uuid4().hex}",
        "type": "Create",
        "actor": "https://b.test/users/bob",
        "object": note_uri,
    }
    async with node.instance.sessions() as session:
        item = InboxItem(
            activity_uri=activity["id"],
            actor_uri="https://b.test/users/bob",
            type="Create",
            payload=activity,
            next_attempt_at=utcnow(),
        )
        session.add(item)
        await session.commit()
        return item.id


async def _item(node, item_id: int) -> InboxItem:
    async with node.instance.sessions() as session:
        item = await session.get(InboxItem, item_id)
    assert item is not None
    return item


async def _run_at(node, when: dt.datetime) -> None:
    node.instance.inbox_worker.clock = lambda: when
    await node.instance.inbox_worker.run_once()


async def test_fetch_retries_outlast_a_30_minute_outage_of_the_origin(nodes, network):
    a, _, note_uri = await _bob_followed_by_alice(nodes)
    assert await count(a, Note, Note.uri == note_uri) == 0  # b's Create was not delivered
    item_id = await _create_by_reference(a, note_uri)
    network.down.add("b.test")
    start = now = utcnow()
    while now - start < dt.timedelta(minutes=30):  # the origin is down for half an hour
        await _run_at(a, now)
        item = await _item(a, item_id)
        assert item.state == PENDING, (now - start, item.attempts)
        now = max(now, item.next_attempt_at)
    attempts_in_outage = item.attempts
    network.down.discard("b.test")
    await _run_at(a, now)
    assert (await _item(a, item_id)).state == DONE
    assert await count(a, Note, Note.uri == note_uri) == 1
    assert attempts_in_outage >= 8  # the old limit gave up at the 8th failure (~21 min)
    took = (now - start).total_seconds() / 60
    print(f"fetched after {took:.0f} simulated minutes, {attempts_in_outage} attempts")


async def test_a_given_up_item_is_listed_counted_and_retried_by_hand(nodes, network, tmp_path):
    a, _, note_uri = await _bob_followed_by_alice(nodes)
    assert await count(a, Note, Note.uri == note_uri) == 0  # b's Create was not delivered
    item_id = await _create_by_reference(a, note_uri)
    network.down.add("b.test")
    now = utcnow()
    for _ in range(a.instance.settings.delivery_max_attempts):
        await _run_at(a, now)
        now = max(now, (await _item(a, item_id)).next_attempt_at)
    item = await _item(a, item_id)
    assert item.state == FAILED and now - utcnow() > dt.timedelta(days=1)  # days, not minutes
    env = cli_env(tmp_path / "cli", database_url=a.instance.settings.database_url)
    listed = await asyncio.to_thread(run_cli, env, "queue", "list", "--failed")
    assert f"inbox {item_id}  Create" in listed and "could not fetch" in listed
    transport = httpx.ASGITransport(app=a.app, client=("127.0.0.1", 123))
    async with httpx.AsyncClient(transport=transport, base_url="https://a.test") as client:
        metrics = (await client.get("/metrics")).text
    assert 'ourdesign_inbox_queue{state="failed"} 1' in metrics
    retried = await asyncio.to_thread(run_cli, env, "queue", "retry", "inbox", str(item_id))
    assert "1 inbox item(s) due again" in retried
    network.down.discard("b.test")
    await _run_at(a, utcnow())
    assert (await _item(a, item_id)).state == DONE
    assert await count(a, Note, Note.uri == note_uri) == 1
    nothing = await asyncio.to_thread(run_cli, env, "queue", "list", "--failed")
    assert "nothing was given up" in nothing

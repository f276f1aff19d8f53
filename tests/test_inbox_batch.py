"""The inbox worker handles a batch in one transaction, with notes looked up in advance:
activities that depend on each other within one batch must still see each other, and one
failing activity must not hold the others back."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select

from actors.service import new_local_actor
from federation.db import utcnow
from federation.queue import DONE, PENDING
from federation.urls import LocalUrls
from inbox.models import InboxItem
from objects.models import Note

AS = "https://www.w3.org/ns/activitystreams"
REMOTE = LocalUrls("https://remote.test")


async def _remote_actor(node):
    async with node.instance.sessions() as session:
        actor = new_local_actor(REMOTE, "bob")
        actor.local, actor.private_key_pem = False, None
        session.add(actor)
        await session.commit()
    return actor


async def _queue(node, actor, activities: list[dict[str, Any]]) -> None:
    now = utcnow()
    async with node.instance.sessions() as session:
        for activity in activities:
            session.add(
                InboxItem(
                    activity_uri=activity["id"],
                    actor_uri=actor.uri,
                    type=activity["type"],
                    payload=activity,
                    received_at=now,
                    next_attempt_at=now,
                )
            )
        await session.commit()


def _activity(actor, kind: str, obj: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{actor.uri}/activities/{uuid.uuid4().hex}",
        "type": kind,
        "actor": actor.uri,
        "object": obj,
    }


def _note(actor, uri: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": uri,
        "type": "Note",
        "attributedTo": actor.uri,
        "content": content,
        "to": [f"{AS}#Public"],
        **extra,
    }


async def _note_row(node, uri: str) -> Note:
    async with node.instance.sessions() as session:
        note = await session.scalar(select(Note).where(Note.uri == uri))
    assert note is not None, uri
    return note


async def test_activities_in_one_batch_see_each_other(nodes, caplog):
    caplog.set_level(logging.INFO, logger="inbox.worker")
    a = await nodes("a.test")
    bob = await _remote_actor(a)
    first, reply = f"{bob.uri}/notes/1", f"{bob.uri}/notes/2"
    await _queue(
        a,
        bob,
        [
            _activity(bob, "Create", _note(bob, first, "<p>first</p>")),
            _activity(bob, "Update", _note(bob, first, "<p>first, edited</p>")),
            _activity(bob, "Create", _note(bob, reply, "<p>reply</p>", inReplyTo=first)),
            _activity(bob, "Like", first),
            _activity(bob, "Create", _note(bob, first, "<p>a second Create is ignored</p>")),
        ],
    )
    assert await a.instance.inbox_worker.run_once() == 5
    assert "one by one" not in caplog.text  # handled as one batch, not rescued item by item
    note = await _note_row(a, first)
    assert note.content == "<p>first, edited</p>" and note.edited_at is not None
    assert note.replies_count == 1 and note.likes_count == 1
    assert (await _note_row(a, reply)).in_reply_to == first
    async with a.instance.sessions() as session:
        states = set(await session.scalars(select(InboxItem.state)))
    assert states == {DONE}


async def test_an_object_we_cannot_fetch_now_is_retried_without_holding_back_the_batch(
    nodes, network, caplog
):
    caplog.set_level(logging.INFO, logger="inbox.worker")
    a = await nodes("a.test")
    bob = await _remote_actor(a)
    network.down.add("remote.test")
    ok = f"{bob.uri}/notes/ok"
    by_reference = _activity(bob, "Create", f"{bob.uri}/notes/unreachable")
    await _queue(a, bob, [_activity(bob, "Create", _note(bob, ok, "<p>fine</p>")), by_reference])
    assert await a.instance.inbox_worker.run_once() == 2
    assert "one by one" not in caplog.text  # fetched before the batch, not inside it
    assert (await _note_row(a, ok)).content == "<p>fine</p>"
    await _assert_retried(a, by_reference["id"])


async def test_one_failing_activity_does_not_hold_back_its_batch(nodes, caplog):
    caplog.set_level(logging.INFO, logger="inbox.worker")
    a = await nodes("a.test")
    bob = await _remote_actor(a)
    ok = f"{bob.uri}/notes/ok"
    broken = _activity(bob, "Update", {"id": bob.uri, "type": "Person"})  # no inbox, no key
    await _queue(a, bob, [_activity(bob, "Create", _note(bob, ok, "<p>fine</p>")), broken])
    assert await a.instance.inbox_worker.run_once() == 2
    assert "one by one" in caplog.text
    assert (await _note_row(a, ok)).content == "<p>fine</p>"
    await _assert_retried(a, broken["id"])


async def _assert_retried(node, activity_id: str) -> None:
    async with node.instance.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == activity_id))
    assert item.state == PENDING and item.attempts == 1 and item.last_error

"""Three real instances in one process: follow, post, reply, delete, outage."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from actors.models import FOLLOW_ACCEPTED, Follow
from objects.models import Note
from tests.support import settle


async def _follow(follower_node, follower_token, handle):
    response = await follower_node.post_outbox(
        "alice", follower_token, {"type": "Follow", "object": handle}
    )
    assert response.status_code == 201, response.text
    return response


async def test_follow_post_reply_delete_across_three_instances(nodes):
    a, b, c = await nodes("a.test"), await nodes("b.test"), await nodes("c.test")
    alice, alice_token = await a.user("alice")
    bob, bob_token = await b.user("bob")
    _, carol_token = await c.user("carol")

    await _follow(a, alice_token, "@bob@b.test")
    response = await c.post_outbox("carol", carol_token, {"type": "Follow", "object": bob.uri})
    assert response.status_code == 201
    await settle(a, b, c)

    async with a.instance.sessions() as session:
        follow = await session.scalar(select(Follow).where(Follow.follower_id == alice.id))
        assert follow is not None and follow.state == FOLLOW_ACCEPTED

    response = await b.post_outbox("bob", bob_token, {"type": "Note", "content": "Hello makers"})
    assert response.status_code == 201
    note_uri = response.json()["object"]["id"]
    await settle(a, b, c)

    for node in (a, c):
        async with node.instance.sessions() as session:
            note = await session.scalar(select(Note).where(Note.uri == note_uri))
            assert note is not None and "Hello makers" in note.content

    reply = await a.post_outbox(
        "alice", alice_token, {"type": "Note", "content": "Nice!", "inReplyTo": note_uri}
    )
    assert reply.status_code == 201, reply.text
    reply_uri = reply.json()["object"]["id"]
    await settle(a, b, c)
    async with b.instance.sessions() as session:
        threaded = await session.scalar(select(Note).where(Note.uri == reply_uri))
        parent = await session.scalar(select(Note).where(Note.uri == note_uri))
        assert threaded is not None and threaded.in_reply_to == note_uri
        assert parent.replies_count == 1
    async with b.client() as client:
        page = await client.get(
            f"{note_uri}/replies?page=true", headers={"Accept": "application/activity+json"}
        )
    assert page.json()["orderedItems"] == [reply_uri]

    edit = {"type": "Update", "object": {"id": reply_uri, "content": "Nice, and sturdy!"}}
    edited = await a.post_outbox("alice", alice_token, edit)
    assert edited.status_code == 201, edited.text
    forged = await b.post_outbox("bob", bob_token, edit)
    assert forged.status_code == 404  # only the author may edit
    await settle(a, b, c)
    async with b.instance.sessions() as session:
        threaded = await session.scalar(select(Note).where(Note.uri == reply_uri))
        assert "sturdy" in threaded.content and threaded.edited_at is not None

    deleted = await b.post_outbox("bob", bob_token, {"type": "Delete", "object": note_uri})
    assert deleted.status_code == 201, deleted.text
    await settle(a, b, c)
    for node in (a, c):
        async with node.instance.sessions() as session:
            note = await session.scalar(select(Note).where(Note.uri == note_uri))
            assert note.deleted_at is not None and note.content == ""


async def test_replying_to_and_liking_a_note_we_have_never_seen(nodes):
    """The parent is fetched before the transaction: on SQLite's one connection, fetching
    inside it would wait for the connection it holds."""
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    posted = await b.post_outbox("bob", bob_token, {"type": "Note", "content": "Unseen"})
    note_uri = posted.json()["object"]["id"]
    async with asyncio.timeout(10):
        reply = await a.post_outbox(
            "alice", alice_token, {"type": "Note", "content": "Found it", "inReplyTo": note_uri}
        )
        like = await a.post_outbox("alice", alice_token, {"type": "Like", "object": note_uri})
    assert reply.status_code == 201, reply.text
    assert like.status_code == 201, like.text
    async with a.instance.sessions() as session:
        parent = await session.scalar(select(Note).where(Note.uri == note_uri))
    assert parent is not None and parent.replies_count == 1 and parent.likes_count == 1

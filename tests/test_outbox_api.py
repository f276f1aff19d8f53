"""The client-to-server outbox: authentication, validation, and that refusals change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from objects.models import Note
from outbox.models import OutboxActivity


async def _count(node, model):
    async with node.instance.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_outbox_post_needs_the_owners_token(nodes):
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await a.user("bob")
    async with a.client() as client:
        missing = await client.post("/users/alice/outbox", json={"type": "Note", "content": "x"})
    assert missing.status_code == 401 and "Bearer" in missing.json()["error"]
    wrong = await a.post_outbox("alice", "not-a-token", {"type": "Note", "content": "x"})
    assert wrong.status_code == 401
    other = await a.post_outbox("alice", bob_token, {"type": "Note", "content": "x"})
    assert other.status_code == 403
    assert await _count(a, Note) == 0 and await _count(a, OutboxActivity) == 0
    ok = await a.post_outbox("alice", alice_token, {"type": "Note", "content": "x"})
    assert ok.status_code == 201 and ok.headers["location"] == ok.json()["id"]


async def test_bad_submissions_get_clear_errors_and_change_nothing(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    cases = [
        ({"type": "Travel"}, 422, "supported"),
        ({"type": "Note", "content": "  "}, 422, "content"),
        ({"type": "Follow"}, 422, "handle"),
        ({"type": "Undo", "object": "https://a.test/activities/nope"}, 422, "Undo"),
        ({"type": "Delete", "object": "https://a.test/notes/nope"}, 404, "Delete"),
        ({"type": "Follow", "object": "not a handle"}, 422, "@user@host"),
    ]
    for body, status, word in cases:
        response = await a.post_outbox("alice", token, body)
        assert response.status_code == status, (body, response.text)
        assert word in response.json()["error"]
    async with a.client() as client:
        garbage = await client.post(
            "/users/alice/outbox", content=b"{", headers={"Authorization": f"Bearer {token}"}
        )
    assert garbage.status_code == 400
    assert await _count(a, Note) == 0 and await _count(a, OutboxActivity) == 0


async def test_script_in_a_local_note_is_removed(nodes):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    html = '<p onclick="x()">hi<script>alert(1)</script><a href="javascript:evil()">l</a></p>'
    response = await a.post_outbox("alice", token, {"type": "Note", "content": html})
    content = response.json()["object"]["content"]
    assert "script" not in content and "onclick" not in content and "javascript" not in content
    assert "hi" in content

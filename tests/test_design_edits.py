"""After publishing: text fixes travel as Update(Page), licences never change, maintainers can
be added, and deleting a comment uncounts it on its version. Two real instances."""

from __future__ import annotations

from sqlalchemy import select

from objects.design_models import DesignVersion
from outbox.models import OutboxActivity
from tests.support import call, settle
from tests.test_design_api import new_project, version


async def _stored_version(node, uri):
    async with node.instance.sessions() as session:
        return await session.scalar(select(DesignVersion).where(DesignVersion.uri == uri))


async def test_a_text_fix_reaches_followers_and_the_licence_stays(nodes):
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await new_project(a, alice_token, "lamp", name="Desk lamp")
    follow = await call(b, "POST", "/api/v1/follows", bob_token, json={"target": "@lamp@a.test"})
    assert follow.status_code == 202, follow.text
    await settle(a, b)
    published = await version(a, alice_token, "lamp", "CC-BY-SA-4.0", name="Lamp", summary="Tpyo")
    await settle(a, b)
    assert (await _stored_version(b, published["id"])).summary == "Tpyo"

    path = f"/api/v1/versions?uri={published['id']}"
    fixed = await call(
        a, "PATCH", path, alice_token, json={"summary": "Typo fixed", "tags": ["led"]}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["summary"] == "Typo fixed" and fixed.json()["tags"] == ["led"]
    await settle(a, b)
    copy = await _stored_version(b, published["id"])
    assert copy.summary == "Typo fixed" and copy.edited_at is not None
    assert copy.licence_text == "CC-BY-SA-4.0"

    relicensed = await call(a, "PATCH", path, alice_token, json={"licence": "CC-BY-4.0"})
    assert relicensed.status_code == 422
    assert "cannot change" in relicensed.json()["error"]
    stranger = await call(a, "PATCH", path, bob_token, json={"summary": "mine now"})
    assert stranger.status_code == 401  # bob's token is from another instance
    _, carol_token = await a.user("carol")
    not_maintainer = await call(a, "PATCH", path, carol_token, json={"summary": "mine now"})
    assert not_maintainer.status_code == 403
    empty = await call(a, "PATCH", path, alice_token, json={})
    assert empty.status_code == 400
    mine = await _stored_version(a, published["id"])
    assert mine.summary == "Typo fixed" and mine.licence_text == "CC-BY-SA-4.0"
    async with a.instance.sessions() as session:
        updates = await session.scalars(
            select(OutboxActivity).where(OutboxActivity.type == "Update")
        )
        assert len(list(updates)) == 1


async def test_an_added_maintainer_may_publish(nodes):
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await a.user("bob")
    await new_project(a, alice_token, "chair")
    refused = await call(a, "POST", "/api/v1/designs/chair/versions", bob_token, data={})
    assert refused.status_code == 403
    added = await call(
        a, "POST", "/api/v1/designs/chair/maintainers", alice_token, json={"username": "bob"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["maintainers"] == ["https://a.test/users/alice", "https://a.test/users/bob"]
    by_bob = await version(a, bob_token, "chair", "CERN-OHL-S-2.0")
    assert by_bob["authors"] == ["https://a.test/users/bob"]
    for username, status in (("nobody", 422), ("chair", 422)):
        response = await call(
            a, "POST", "/api/v1/designs/chair/maintainers", bob_token, json={"username": username}
        )
        assert response.status_code == status, response.text


async def test_deleting_a_comment_uncounts_it_on_the_version(nodes):
    a = await nodes("a.test")
    _, alice_token = await a.user("alice")
    await new_project(a, alice_token, "stool")
    published = await version(a, alice_token, "stool", "CC0-1.0")
    comment = await call(
        a,
        "POST",
        "/api/v1/comments",
        alice_token,
        json={"in_reply_to": published["id"], "content": "Use birch plywood."},
    )
    assert comment.status_code == 201, comment.text
    assert (await _stored_version(a, published["id"])).replies_count == 1
    deleted = await a.post_outbox(
        "alice", alice_token, {"type": "Delete", "object": comment.json()["id"]}
    )
    assert deleted.status_code == 201, deleted.text
    assert (await _stored_version(a, published["id"])).replies_count == 0

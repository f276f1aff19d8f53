"""Editing statuses: PUT /api/v1/statuses/:id, history and source, here and federated as
an `Update` that another instance keeps in the note's history (only from its author)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from federation.keys import load_rsa_private_pem
from federation.vocab import PUBLIC
from tests.support import call, get, settle, signed_post
from tests.test_mastodon_media import uploaded
from tests.test_mastodon_statuses import post
from tests.test_mastodon_streaming import AsgiStream


async def test_edit_keeps_history_and_source(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    first = await uploaded(a, token, description="Before")
    status = await post(a, token, "First <draft>", media_ids=[first["id"]], language="en")
    assert status["language"] == "en" and status["edited_at"] is None
    path = f"/api/v1/statuses/{status['id']}"
    assert (await call(a, "POST", f"{path}/reblog", bea_token)).is_success

    second = await uploaded(a, token, description="After")
    edit = {
        "status": "Second draft",
        "spoiler_text": "gears",
        "sensitive": True,
        "media_ids": [second["id"]],
        "language": "de",
    }
    edited = await call(a, "PUT", path, token, json=edit)
    assert edited.status_code == 200, edited.text
    shown = edited.json()
    assert shown["id"] == status["id"] and shown["edited_at"] is not None
    assert shown["content"] == "<p>Second draft</p>" and shown["spoiler_text"] == "gears"
    assert shown["sensitive"] is True and shown["language"] == "de"
    assert [m["description"] for m in shown["media_attachments"]] == ["After"]

    history = (await get(a, f"{path}/history")).json()
    assert [h["content"] for h in history] == [status["content"], "<p>Second draft</p>"]
    assert [h["spoiler_text"] for h in history] == ["", "gears"]
    assert [m["description"] for m in history[0]["media_attachments"]] == ["Before"]
    assert history[0]["created_at"] == status["created_at"]
    assert history[1]["created_at"] == shown["edited_at"]
    # Bea boosted it: she is told of the edit, as Mastodon tells.
    [told] = (await get(a, "/api/v1/notifications", bea_token, **{"types[]": "update"})).json()
    assert told["type"] == "update" and told["status"]["id"] == status["id"]
    source = (await get(a, f"{path}/source", token)).json()
    assert source == {"id": status["id"], "text": "Second draft", "spoiler_text": "gears"}

    # Someone else's status, a poll, an empty text or another's upload: refused, unchanged.
    assert (await call(a, "PUT", path, bea_token, json={"status": "mine"})).status_code == 404
    assert (await get(a, f"{path}/source", bea_token)).status_code == 404
    poll = {"status": "x", "poll": {"options": ["a", "b"], "expires_in": 600}}
    assert (await call(a, "PUT", path, token, json=poll)).status_code == 422
    assert (await call(a, "PUT", path, token, json={"status": " "})).status_code == 422
    theirs = await uploaded(a, bea_token)
    stolen = await call(a, "PUT", path, token, json={"status": "x", "media_ids": [theirs["id"]]})
    assert stolen.status_code == 422
    assert len((await get(a, f"{path}/history")).json()) == 2
    never = await post(a, token, "Never edited")
    assert len((await get(a, f"/api/v1/statuses/{never['id']}/history")).json()) == 1


async def test_an_edit_federates_and_the_other_side_keeps_the_history(nodes: Any) -> None:
    a = await nodes("a.test")
    b = await nodes("b.test")
    _, token = await a.user("alice")
    carol, _ = await a.user("carol")
    _, bea_token = await b.user("bea")
    follow = await b.post_outbox("bea", bea_token, {"type": "Follow", "object": "alice@a.test"})
    assert follow.status_code == 201, follow.text
    await settle(a, b)
    status = await post(a, token, "Version one")
    await settle(a, b)
    [remote] = (await get(b, "/api/v1/timelines/home", bea_token)).json()
    assert remote["content"] == "<p>Version one</p>"

    edit = {"status": "Version two", "spoiler_text": "cw"}
    assert (await call(a, "PUT", f"/api/v1/statuses/{status['id']}", token, json=edit)).is_success
    await settle(a, b)
    shown = (await get(b, f"/api/v1/statuses/{remote['id']}", bea_token)).json()
    assert shown["content"] == "<p>Version two</p>" and shown["spoiler_text"] == "cw"
    assert shown["edited_at"] is not None
    history = (await get(b, f"/api/v1/statuses/{remote['id']}/history")).json()
    assert [h["content"] for h in history] == ["<p>Version one</p>", "<p>Version two</p>"]

    # Carol signs an Update of Alice's note naming herself as its author: ignored.
    assert carol.private_key_pem is not None
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://a.test/activities/{uuid.uuid4().hex}",
        "type": "Update",
        "actor": carol.uri,
        "to": [PUBLIC],
        "object": {
            "id": status["uri"],
            "type": "Note",
            "attributedTo": carol.uri,
            "content": "<p>Forged</p>",
            "to": [PUBLIC],
        },
    }
    key = load_rsa_private_pem(carol.private_key_pem)
    body = json.dumps(forged).encode()
    sent = await signed_post(b, "/inbox", body, carol.public_key_id, key)
    # Accepted as signed by Carol; the handler then finds she is not the note's author.
    assert sent.status_code == 202, sent.text
    await settle(a, b)
    shown = (await get(b, f"/api/v1/statuses/{remote['id']}", bea_token)).json()
    assert shown["content"] == "<p>Version two</p>"
    assert len((await get(b, f"/api/v1/statuses/{remote['id']}/history")).json()) == 2


async def test_an_edit_is_streamed_as_status_update(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    status = await post(a, token, "Before")
    async with AsgiStream(a, "/api/v1/streaming/public/local") as stream:
        edit = {"status": "After"}
        assert (
            await call(a, "PUT", f"/api/v1/statuses/{status['id']}", token, json=edit)
        ).is_success
        updated = await stream.next_of("status.update")
    assert updated["id"] == status["id"] and updated["content"] == "<p>After</p>"
    assert updated["edited_at"] is not None

"""Mastodon-shaped deliveries into a real Our Design instance.

mastodon.test is a tiny Starlette app on the in-memory network standing in for a Mastodon
server: it serves a real-shaped actor document (with a key pair made here) and records what
is delivered to it. The payloads in tests/fixtures/mastodon/ follow Mastodon's serializers
(app/serializers/activitypub/*.rb and app/lib/activitypub/adapter.rb); each is signed like
Mastodon signs (draft-cavage, rsa-sha256, over (request-target) host date digest
content-type) and POSTed to the instance's shared inbox.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from federation.keys import generate_rsa_pem, load_public_pem, load_rsa_private_pem
from federation.signatures import parse_signature, verify_signature
from inbox.models import InboxItem
from objects.models import Interaction, Note
from tests.mastodon import FIXTURES, mastodon_fixture
from tests.support import Network, Node, settle, signed_post

ALICE = "https://mastodon.test/users/alice"
ALICE_KEY = f"{ALICE}#main-key"
STATUS = f"{ALICE}/statuses/112233445566778899"
ACTIVITY_JSON = "application/activity+json"


@dataclass
class Delivered:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def activity(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class FakeMastodon:
    """What mastodon.test serves and what it received."""

    actor: dict[str, Any]
    received: list[Delivered] = field(default_factory=list)
    actor_fetches: int = 0
    gone: bool = False

    def app(self) -> Starlette:
        async def actor(request: Request) -> Response:
            self.actor_fetches += 1
            if self.gone:
                return Response(json.dumps({"error": "Gone"}), 410, media_type="application/json")
            return Response(
                json.dumps(self.actor), media_type="application/activity+json; charset=utf-8"
            )

        async def webfinger(request: Request) -> Response:
            if request.query_params.get("resource") != "acct:alice@mastodon.test":
                return Response(status_code=404)
            jrd = (FIXTURES / "webfinger.json").read_text()
            return Response(jrd, media_type="application/jrd+json; charset=utf-8")

        async def inbox(request: Request) -> Response:
            body = await request.body()
            self.received.append(Delivered(request.url.path, dict(request.headers), body))
            return Response(status_code=202)

        return Starlette(
            routes=[
                Route("/users/alice", actor),
                Route("/.well-known/webfinger", webfinger),
                Route("/users/alice/inbox", inbox, methods=["POST"]),
                Route("/inbox", inbox, methods=["POST"]),
            ]
        )


@dataclass
class Scene:
    od: Node
    network: Network
    bob: Actor
    bob_token: str
    local_note: str
    key: rsa.RSAPrivateKey
    public_pem: str
    mastodon: FakeMastodon

    def payload(self, name: str, **values: str) -> dict[str, Any]:
        """A fixture with our instance's URLs (and alice's key) filled in."""
        ours = {"od": f"https://{self.od.domain}", "od_host": self.od.domain}
        doc = mastodon_fixture(name, **values, **ours, local_note=self.local_note)
        for holder in (doc, doc.get("object")):
            if isinstance(holder, dict) and isinstance(holder.get("publicKey"), dict):
                holder["publicKey"]["publicKeyPem"] = self.public_pem
        return doc

    async def deliver(self, activity: dict[str, Any], path: str = "/inbox") -> httpx.Response:
        body = json.dumps(activity).encode()
        response = await signed_post(self.od, path, body, ALICE_KEY, self.key)
        assert "content-type" in response.request.headers["Signature"]  # like Mastodon's
        return response

    async def accept(self, activity: dict[str, Any], path: str = "/inbox") -> None:
        response = await self.deliver(activity, path)
        assert response.status_code == 202, response.text
        assert response.json() == {"status": "accepted", "id": activity["id"]}
        await settle(self.od)
        async with self.od.instance.sessions() as session:
            item = await session.scalar(
                select(InboxItem).where(InboxItem.activity_uri == activity["id"])
            )
        assert item is not None and item.state == "done", item and item.last_error

    async def note(self, uri: str) -> Note | None:
        async with self.od.instance.sessions() as session:
            return await session.scalar(select(Note).where(Note.uri == uri))

    async def alice(self) -> Actor | None:
        async with self.od.instance.sessions() as session:
            return await session.scalar(select(Actor).where(Actor.uri == ALICE))


@pytest.fixture
async def scene(nodes: Any, network: Network) -> Scene:
    od = await nodes("od.test")
    bob, token = await od.user("bob")
    posted = await od.post_outbox("bob", token, {"type": "Note", "content": "Who has a printer?"})
    assert posted.status_code == 201, posted.text
    private_pem, public_pem = generate_rsa_pem()
    scene = Scene(
        od=od,
        network=network,
        bob=bob,
        bob_token=token,
        local_note=posted.json()["object"]["id"],
        key=load_rsa_private_pem(private_pem),
        public_pem=public_pem,
        mastodon=FakeMastodon({}),
    )
    scene.mastodon.actor = scene.payload("actor")
    network.add("mastodon.test", scene.mastodon.app())
    return scene


def test_fixtures_are_mastodon_shaped() -> None:
    """Guard the fixtures themselves: the fields Mastodon really sends are all there."""
    actor = mastodon_fixture("actor")
    context = actor["@context"][2]
    terms = "toot featured featuredTags discoverable indexable memorial alsoKnownAs PropertyValue"
    for term in [*terms.split(), "devices"]:
        assert term in context, term
    names = "featured featuredTags discoverable indexable memorial devices alsoKnownAs attachment"
    for name in [*names.split(), "endpoints", "icon", "image", "publicKey"]:
        assert name in actor, name
    assert actor["attachment"][0]["type"] == "PropertyValue"
    note = mastodon_fixture("create_note")["object"]
    names = "contentMap tag attachment sensitive summary atomUri conversation replies inReplyTo"
    for name in [*names.split(), "to", "cc"]:
        assert name in note, name
    assert {t["type"] for t in note["tag"]} == {"Mention", "Hashtag"}
    image = note["attachment"][0]
    assert image["type"] == "Document" and {"blurhash", "width", "height"} <= set(image)
    delete = mastodon_fixture("delete_note")
    assert delete["object"]["type"] == "Tombstone"


# --- actors and follows -------------------------------------------------------------------


async def test_follow_stores_the_actor_and_accepts(scene: Scene) -> None:
    follow = scene.payload("follow")
    await scene.accept(follow, path="/users/bob/inbox")

    alice = await scene.alice()
    assert alice is not None and not alice.local
    assert (alice.username, alice.domain, alice.type) == ("alice", "mastodon.test", "Person")
    assert alice.name == "Alice Maker"
    assert "open hardware" in alice.summary
    assert alice.url == "https://mastodon.test/@alice"
    assert alice.inbox == f"{ALICE}/inbox"
    assert alice.shared_inbox == "https://mastodon.test/inbox"
    assert alice.outbox == f"{ALICE}/outbox"
    assert alice.followers_url == f"{ALICE}/followers"
    assert alice.following_url == f"{ALICE}/following"
    assert alice.public_key_id == ALICE_KEY
    assert alice.public_key_pem == scene.public_pem
    assert alice.manually_approves_followers is False

    async with scene.od.instance.sessions() as session:
        row = await session.scalar(select(Follow).where(Follow.follower_id == alice.id))
    assert row is not None and row.state == FOLLOW_ACCEPTED and row.followee_id == scene.bob.id
    assert row.uri == follow["id"]

    # The Accept went to Mastodon's shared inbox, signed by bob, and quotes the Follow.
    (accept,) = [d for d in scene.mastodon.received if d.activity["type"] == "Accept"]
    assert accept.path == "/inbox"
    assert accept.activity["actor"] == scene.bob.uri
    assert accept.activity["object"]["id"] == follow["id"]
    assert accept.activity["object"]["actor"] == ALICE
    parsed = parse_signature("POST", "https://mastodon.test/inbox", accept.headers)
    assert parsed.key_id == scene.bob.public_key_id
    verify_signature(parsed, load_public_pem(scene.bob.public_key_pem))

    async with scene.od.client() as client:
        followers = await client.get(
            "/users/bob/followers?page=true", headers={"Accept": ACTIVITY_JSON}
        )
    assert followers.json()["orderedItems"] == [ALICE]


async def test_undo_follow_removes_the_follow(scene: Scene) -> None:
    await scene.accept(scene.payload("follow"))
    alice = await scene.alice()
    assert alice is not None
    await scene.accept(scene.payload("undo_follow"))
    async with scene.od.instance.sessions() as session:
        rows = (await session.scalars(select(Follow).where(Follow.follower_id == alice.id))).all()
    assert rows == []
    async with scene.od.client() as client:
        followers = await client.get("/users/bob/followers", headers={"Accept": ACTIVITY_JSON})
    assert followers.json()["totalItems"] == 0


async def test_update_person_updates_the_profile(scene: Scene) -> None:
    await scene.accept(scene.payload("follow"))
    alice = await scene.alice()
    assert alice is not None and alice.name == "Alice Maker"
    update = scene.payload("update_person")
    assert update["object"]["publicKey"]["publicKeyPem"] == scene.public_pem
    await scene.accept(update)
    alice = await scene.alice()
    assert alice is not None
    assert alice.name == "Alice Maker (she/her)"
    assert "open tractors" in alice.summary
    assert alice.public_key_pem == scene.public_pem


async def test_update_person_cannot_swap_the_key(scene: Scene) -> None:
    await scene.accept(scene.payload("follow"))
    update = scene.payload("update_person")
    _, other_pem = generate_rsa_pem()
    update["object"]["publicKey"] = {
        "id": f"{ALICE}#other-key",
        "owner": ALICE,
        "publicKeyPem": other_pem,
    }
    await scene.accept(update)
    alice = await scene.alice()
    assert alice is not None
    assert alice.name == "Alice Maker"
    assert alice.public_key_pem == scene.public_pem and alice.public_key_id == ALICE_KEY


async def test_our_follow_is_accepted_by_mastodon(scene: Scene) -> None:
    response = await scene.od.post_outbox(
        "bob", scene.bob_token, {"type": "Follow", "object": "@alice@mastodon.test"}
    )
    assert response.status_code == 201, response.text
    follow_id = response.json()["id"]
    await settle(scene.od)
    (follow,) = [d for d in scene.mastodon.received if d.activity["type"] == "Follow"]
    assert follow.path in ("/inbox", "/users/alice/inbox")
    parsed = parse_signature("POST", f"https://mastodon.test{follow.path}", follow.headers)
    verify_signature(parsed, load_public_pem(scene.bob.public_key_pem))
    assert follow.activity["object"] == ALICE and follow.activity["id"] == follow_id
    bob = scene.bob
    async with scene.od.instance.sessions() as session:
        row = await session.scalar(select(Follow).where(Follow.follower_id == bob.id))
    assert row is not None and row.state != FOLLOW_ACCEPTED

    await scene.accept(scene.payload("accept_follow", follow_id=follow_id), "/users/bob/inbox")
    async with scene.od.instance.sessions() as session:
        row = await session.scalar(select(Follow).where(Follow.follower_id == bob.id))
    assert row is not None and row.state == FOLLOW_ACCEPTED


async def test_delete_of_the_actor_removes_it(scene: Scene) -> None:
    await scene.accept(scene.payload("follow"))
    scene.mastodon.gone = True
    await scene.accept(scene.payload("delete_actor"))
    alice = await scene.alice()
    assert alice is not None and alice.deleted_at is not None
    async with scene.od.instance.sessions() as session:
        assert (await session.scalars(select(Follow))).all() == []
    # Whatever else arrives from the deleted account is not acted on.
    await scene.accept(scene.payload("like"))
    assert await _counts(scene) == (0, 0)


async def test_delete_of_an_unknown_gone_actor_is_acknowledged(scene: Scene) -> None:
    scene.mastodon.gone = True
    delete = scene.payload("delete_actor")
    response = await scene.deliver(delete)
    assert response.status_code == 202, response.text
    assert "nothing to do" in response.json()["status"]
    assert await scene.alice() is None
    async with scene.od.instance.sessions() as session:
        assert (await session.scalars(select(InboxItem))).all() == []


# --- notes --------------------------------------------------------------------------------


async def test_create_note_reply_is_stored_sanitised_and_threaded(scene: Scene) -> None:
    create = scene.payload("create_note")
    await scene.accept(create)
    note = await scene.note(STATUS)
    assert note is not None and not note.local
    assert "the new extruder works!" in note.content
    # Mentions and hashtags keep their links; attributes outside the allow-list go.
    assert 'href="https://od.test/@bob"' in note.content
    assert 'href="https://mastodon.test/tags/opendesign"' in note.content
    assert "translate=" not in note.content
    assert 'rel="tag"' not in note.content
    assert note.language == "en"
    assert note.summary == "Printer talk"
    assert note.sensitive is True
    assert note.url == "https://mastodon.test/@alice/112233445566778899"
    assert note.in_reply_to == scene.local_note
    assert note.visibility == "public"
    assert note.to == {"to": create["object"]["to"], "cc": create["object"]["cc"]}
    assert note.published.year == 2024

    parent = await scene.note(scene.local_note)
    assert parent is not None and parent.replies_count == 1
    async with scene.od.client() as client:
        page = await client.get(
            f"{scene.local_note}/replies?page=true", headers={"Accept": ACTIVITY_JSON}
        )
    assert page.json()["orderedItems"] == [STATUS]

    # The same delivery again (Mastodon retries) changes nothing.
    again = await scene.deliver(create)
    assert again.status_code == 202 and again.json()["status"] == "already received"
    await settle(scene.od)
    parent = await scene.note(scene.local_note)
    assert parent is not None and parent.replies_count == 1


async def test_content_comes_from_content_map_without_content(scene: Scene) -> None:
    create = scene.payload("create_note")
    del create["object"]["content"]
    create["object"]["contentMap"] = {"de": "<p>Der neue Extruder läuft!</p>"}
    await scene.accept(create)
    note = await scene.note(STATUS)
    assert note is not None
    assert note.content == "<p>Der neue Extruder läuft!</p>"
    assert note.language == "de"


async def test_hostile_markup_in_a_mastodon_note_is_sanitised(scene: Scene) -> None:
    create = scene.payload("create_note")
    evil = (
        '<p>look<script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)" onclick="alert(4)">here</a></p>'
    )
    create["object"]["content"] = evil
    create["object"]["contentMap"] = {"en": evil}
    await scene.accept(create)
    note = await scene.note(STATUS)
    assert note is not None and "look" in note.content and "here" in note.content
    for bad in ("<script", "alert(", "onerror", "onclick", "javascript:", "<img"):
        assert bad not in note.content.lower(), bad


async def test_direct_message_is_stored_as_direct(scene: Scene) -> None:
    create = scene.payload("create_note")
    for holder in (create, create["object"]):
        holder["to"] = [scene.bob.uri]
        holder["cc"] = []
    create["object"]["inReplyTo"] = None
    await scene.accept(create)
    note = await scene.note(STATUS)
    assert note is not None and note.visibility == "direct"


async def test_followers_only_note_is_stored_as_followers(scene: Scene) -> None:
    create = scene.payload("create_note")
    for holder in (create, create["object"]):
        holder["to"] = [f"{ALICE}/followers"]
        holder["cc"] = [scene.bob.uri]
    await scene.accept(create)
    note = await scene.note(STATUS)
    assert note is not None and note.visibility == "followers"


async def test_update_note_edits_it(scene: Scene) -> None:
    await scene.accept(scene.payload("create_note"))
    await scene.accept(scene.payload("update_note"))
    note = await scene.note(STATUS)
    assert note is not None
    assert note.content == "<p>Edit: the extruder <em>mostly</em> works.</p>"
    assert note.summary is None and note.sensitive is False
    assert note.edited_at is not None
    assert note.in_reply_to == scene.local_note


async def test_delete_tombstones_the_note(scene: Scene) -> None:
    await scene.accept(scene.payload("create_note"))
    await scene.accept(scene.payload("delete_note"))
    note = await scene.note(STATUS)
    assert note is not None
    assert note.deleted_at is not None and note.content == "" and note.summary is None
    parent = await scene.note(scene.local_note)
    assert parent is not None and parent.replies_count == 0
    async with scene.od.client() as client:
        page = await client.get(
            f"{scene.local_note}/replies?page=true", headers={"Accept": ACTIVITY_JSON}
        )
    assert page.json()["orderedItems"] == []


async def test_delete_before_create_is_harmless(scene: Scene) -> None:
    await scene.accept(scene.payload("delete_note"))
    assert await scene.note(STATUS) is None


# --- interactions -------------------------------------------------------------------------


async def _counts(scene: Scene) -> tuple[int, int]:
    note = await scene.note(scene.local_note)
    assert note is not None
    return note.likes_count, note.announces_count


async def test_like_announce_and_undo_like_are_counted(scene: Scene) -> None:
    like = scene.payload("like")
    await scene.accept(like)
    assert await _counts(scene) == (1, 0)

    again = await scene.deliver(like)
    assert again.json()["status"] == "already received"
    await settle(scene.od)
    assert await _counts(scene) == (1, 0)

    await scene.accept(scene.payload("announce"))
    assert await _counts(scene) == (1, 1)
    async with scene.od.instance.sessions() as session:
        kinds = sorted((await session.scalars(select(Interaction.kind))).all())
    assert kinds == ["Announce", "Like"]

    await scene.accept(scene.payload("undo_like"))
    assert await _counts(scene) == (0, 1)


async def test_like_of_an_unknown_note_changes_no_counter(scene: Scene) -> None:
    like = scene.payload("like")
    like["object"] = "https://od.test/notes/does-not-exist"
    await scene.accept(like)
    assert await _counts(scene) == (0, 0)


async def test_actor_is_fetched_once_for_many_deliveries(scene: Scene) -> None:
    for name in ("follow", "like", "announce", "create_note"):
        await scene.accept(scene.payload(name))
    assert scene.mastodon.actor_fetches == 1


async def test_payload_from_another_mastodon_account_is_refused(scene: Scene) -> None:
    """A Like claiming to be from bob@mastodon.test, signed with alice's key."""
    like = copy.deepcopy(scene.payload("like"))
    like["actor"] = "https://mastodon.test/users/bob"
    response = await scene.deliver(like)
    assert response.status_code == 401
    assert "signed by" in response.json()["error"]
    assert await _counts(scene) == (0, 0)

"""A hostile remote instance attacks an inbox: every trick is refused and nothing is stored.

The attacker is a real Our Design instance (evil.test) with a real user whose private key
we read from its database; requests are hand-crafted, signed with our real signing code and
sent through the in-memory network to the victim's real app, database and workers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors.models import Actor
from actors.resolve import ActorResolver
from federation.db import utcnow
from federation.errors import SignatureError, UnsafeURLError
from federation.http import build_http_client
from federation.keys import generate_rsa_pem, load_rsa_private_pem
from federation.settings import Settings
from federation.signatures import sign_cavage, sign_rfc9421
from federation.vocab import PUBLIC
from inbox.models import InboxItem
from inbox.receive import Receiver
from objects.models import Note
from tests.support import Network, Node, settle

ACTIVITY_JSON = "application/activity+json"
HOUR = 3600


@dataclass
class Attacker:
    """A real remote user whose private key we hold."""

    domain: str
    uri: str
    key_id: str
    key: rsa.RSAPrivateKey

    def activity_id(self) -> str:
        return f"https://{self.domain}/activities/{uuid.uuid4().hex}"

    def note_id(self) -> str:
        return f"https://{self.domain}/notes/{uuid.uuid4().hex}"


@dataclass
class Scene:
    network: Network
    victim: Node
    alice: Actor
    alice_token: str
    evil: Node
    mallory: Attacker


async def _attacker(node: Node, username: str) -> Attacker:
    actor, _ = await node.user(username)
    assert actor.private_key_pem is not None
    key = load_rsa_private_pem(actor.private_key_pem)
    return Attacker(node.domain, actor.uri, actor.public_key_id, key)


@pytest.fixture
async def scene(nodes: Callable[..., Any], network: Network) -> Scene:
    victim = await nodes("victim.test")
    evil = await nodes("evil.test")
    alice, alice_token = await victim.user("alice")
    return Scene(network, victim, alice, alice_token, evil, await _attacker(evil, "mallory"))


# --- helpers ------------------------------------------------------------------------------


def create_note(
    attacker: Attacker, content: str = "<p>hello</p>", **overrides: Any
) -> dict[str, Any]:
    note: dict[str, Any] = {
        "id": attacker.note_id(),
        "type": "Note",
        "attributedTo": attacker.uri,
        "content": content,
        "to": [PUBLIC],
        "cc": [],
    }
    note.update(overrides)
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": attacker.activity_id(),
        "type": "Create",
        "actor": attacker.uri,
        "object": note,
        "to": [PUBLIC],
    }


def sign(
    url: str,
    body: bytes,
    key_id: str,
    key: rsa.RSAPrivateKey,
    *,
    dialect: str = "cavage",
    now: float | None = None,
    content_type: str = ACTIVITY_JSON,
) -> dict[str, str]:
    headers = {"Content-Type": content_type}
    signer = sign_cavage if dialect == "cavage" else sign_rfc9421
    headers.update(signer("POST", url, headers, body, key_id, key, now=now))
    return headers


async def post(node: Node, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    async with node.client() as client:
        return await client.post(path, content=body, headers=headers)


async def send(
    scene: Scene,
    activity: dict[str, Any] | bytes,
    *,
    path: str = "/inbox",
    attacker: Attacker | None = None,
    key: rsa.RSAPrivateKey | None = None,
    **sign_options: Any,
) -> httpx.Response:
    """POST `activity` to the victim, signed with the attacker's key id (and `key` if given)."""
    attacker = attacker or scene.mallory
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    url = f"https://{scene.victim.domain}{path}"
    headers = sign(url, body, attacker.key_id, key or attacker.key, **sign_options)
    return await post(scene.victim, path, body, headers)


def refused(response: httpx.Response, status: int, reason: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error, str)
    assert reason.lower() in error.lower(), error
    return error


async def inbox_rows(node: Node, activity_id: str | None = None) -> int:
    query = select(func.count()).select_from(InboxItem)
    if activity_id is not None:
        query = query.where(InboxItem.activity_uri == activity_id)
    async with node.instance.sessions() as session:
        return int(await session.scalar(query) or 0)


async def stored_note(node: Node, uri: str) -> Note | None:
    async with node.instance.sessions() as session:
        return await session.scalar(select(Note).where(Note.uri == uri))


async def assert_nothing_stored(node: Node, activity: dict[str, Any]) -> None:
    assert await inbox_rows(node, activity["id"]) == 0
    await settle(node)
    obj = activity.get("object")
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        assert await stored_note(node, obj["id"]) is None


def requests_to(network: Network, host: str) -> int:
    return sum(1 for request in network.requests if request.url.host == host)


# --- positive controls --------------------------------------------------------------------


async def test_valid_cavage_request_is_accepted_and_processed(scene: Scene) -> None:
    activity = create_note(scene.mallory, "<p>an honest note</p>")
    response = await send(scene, activity)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "id": activity["id"]}
    assert await inbox_rows(scene.victim, activity["id"]) == 1
    await settle(scene.victim)
    note = await stored_note(scene.victim, activity["object"]["id"])
    assert note is not None and "an honest note" in note.content


@pytest.mark.parametrize("path", ["/inbox", "/users/alice/inbox"])
async def test_valid_rfc9421_request_is_accepted(scene: Scene, path: str) -> None:
    activity = create_note(scene.mallory, "<p>signed the new way</p>")
    response = await send(scene, activity, path=path, dialect="rfc9421")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    await settle(scene.victim)
    note = await stored_note(scene.victim, activity["object"]["id"])
    assert note is not None and "signed the new way" in note.content


async def test_replay_within_window_is_stored_once(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    headers = sign("https://victim.test/inbox", body, scene.mallory.key_id, scene.mallory.key)
    first = await post(scene.victim, "/inbox", body, headers)
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    for _ in range(3):
        again = await post(scene.victim, "/inbox", body, headers)
        assert again.status_code == 202, again.text
        assert again.json() == {"status": "already received", "id": activity["id"]}
    assert await inbox_rows(scene.victim, activity["id"]) == 1
    await settle(scene.victim)
    async with scene.victim.instance.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Note).where(Note.uri == activity["object"]["id"])
        )
    assert count == 1


async def test_concurrent_replays_store_one_row(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    headers = sign("https://victim.test/inbox", body, scene.mallory.key_id, scene.mallory.key)
    # Make the victim know the key first so the replays race on the insert, not the fetch.
    await send(scene, create_note(scene.mallory))
    responses = await asyncio.gather(
        *(post(scene.victim, "/inbox", body, headers) for _ in range(5))
    )
    assert all(r.status_code == 202 for r in responses), [r.text for r in responses]
    assert [r.json()["status"] for r in responses].count("accepted") == 1
    assert await inbox_rows(scene.victim, activity["id"]) == 1


# --- signatures ---------------------------------------------------------------------------


async def test_altered_signature_bytes_are_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    headers = sign("https://victim.test/inbox", body, scene.mallory.key_id, scene.mallory.key)
    head, _, rest = headers["Signature"].partition('signature="')
    encoded = rest.rstrip('"')
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 0x01
    headers["Signature"] = f'{head}signature="{base64.b64encode(bytes(raw)).decode()}"'
    response = await post(scene.victim, "/inbox", body, headers)
    refused(response, 401, "does not verify")
    await assert_nothing_stored(scene.victim, activity)


async def test_body_changed_after_signing_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory, "<p>harmless</p>")
    body = json.dumps(activity).encode()
    headers = sign("https://victim.test/inbox", body, scene.mallory.key_id, scene.mallory.key)
    tampered = json.dumps(create_note(scene.mallory, "<p>evil</p>")).encode()
    response = await post(scene.victim, "/inbox", tampered, headers)
    refused(response, 401, "does not match the request body")
    assert await inbox_rows(scene.victim) == 0


@pytest.mark.parametrize("dialect", ["cavage", "rfc9421"])
@pytest.mark.parametrize("skew", [-2 * HOUR, 2 * HOUR], ids=["2h-old", "2h-future"])
async def test_time_outside_window_is_refused(scene: Scene, dialect: str, skew: int) -> None:
    activity = create_note(scene.mallory)
    response = await send(scene, activity, dialect=dialect, now=time.time() + skew)
    error = refused(response, 401, "allowed 3600s")
    assert ("in the future" in error) == (skew > 0)
    await assert_nothing_stored(scene.victim, activity)


async def test_request_replayed_after_the_window_is_refused(scene: Scene) -> None:
    """A request captured two hours ago and replayed now; then a live one replayed later."""
    stale = create_note(scene.mallory)
    response = await send(scene, stale, now=time.time() - 2 * HOUR)
    refused(response, 401, "old")
    await assert_nothing_stored(scene.victim, stale)

    fresh = create_note(scene.mallory)
    body = json.dumps(fresh).encode()
    headers = sign("https://victim.test/inbox", body, scene.mallory.key_id, scene.mallory.key)
    assert (await post(scene.victim, "/inbox", body, headers)).status_code == 202
    receiver = scene.victim.instance.receiver
    real_clock = receiver.clock
    receiver.clock = lambda: real_clock() + 2 * HOUR  # the victim's clock two hours later
    try:
        replay = await post(scene.victim, "/inbox", body, headers)
    finally:
        receiver.clock = real_clock
    refused(replay, 401, "old")
    assert await inbox_rows(scene.victim, fresh["id"]) == 1


async def test_unsigned_post_is_refused_with_a_reason(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    response = await post(
        scene.victim, "/inbox", json.dumps(activity).encode(), {"Content-Type": ACTIVITY_JSON}
    )
    error = refused(response, 401, "not signed")
    assert "sign it" in error
    await assert_nothing_stored(scene.victim, activity)


async def test_missing_digest_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    url = "https://victim.test/inbox"
    # The signature covers a Digest header that was then stripped.
    headers = sign(url, body, scene.mallory.key_id, scene.mallory.key)
    del headers["Digest"]
    refused(await post(scene.victim, "/inbox", body, headers), 401, "digest")
    # A signature made without any digest, sent with a body.
    headers = {"Content-Type": ACTIVITY_JSON}
    headers.update(sign_cavage("POST", url, headers, None, scene.mallory.key_id, scene.mallory.key))
    refused(await post(scene.victim, "/inbox", body, headers), 401, "no 'digest' header")
    await assert_nothing_stored(scene.victim, activity)


async def test_unsigned_digest_is_refused(scene: Scene) -> None:
    """A correct Digest header the signature does not cover proves nothing."""
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    url = "https://victim.test/inbox"
    headers = {"Content-Type": ACTIVITY_JSON}
    headers.update(sign_cavage("POST", url, headers, None, scene.mallory.key_id, scene.mallory.key))
    headers["Digest"] = sign_cavage("POST", url, {}, body, "x", scene.mallory.key)["Digest"]
    refused(await post(scene.victim, "/inbox", body, headers), 401, "does not sign the 'digest'")
    await assert_nothing_stored(scene.victim, activity)


# --- origin -------------------------------------------------------------------------------


async def test_key_of_another_actor_is_refused(scene: Scene, nodes: Callable[..., Any]) -> None:
    third = await nodes("third.test")
    carol, _ = await third.user("carol")
    eve = await _attacker(scene.evil, "eve")
    for claimed in (scene.alice.uri, carol.uri, eve.uri):
        activity = create_note(scene.mallory)
        activity["actor"] = claimed
        activity["object"]["attributedTo"] = claimed
        error = refused(await send(scene, activity), 401, "signed by")
        assert scene.mallory.uri in error and claimed in error
        await assert_nothing_stored(scene.victim, activity)


async def test_activity_id_on_another_host_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    activity["id"] = f"https://victim.test/activities/{uuid.uuid4().hex}"
    refused(await send(scene, activity), 403, "not on the actor's host")
    await assert_nothing_stored(scene.victim, activity)


@pytest.mark.parametrize("kind", ["Create", "Update"])
@pytest.mark.parametrize("host", ["victim.test", "third.test"])
async def test_object_on_another_host_is_refused(scene: Scene, kind: str, host: str) -> None:
    activity = create_note(scene.mallory, id=f"https://{host}/notes/{uuid.uuid4().hex}")
    activity["type"] = kind
    refused(await send(scene, activity), 403, "is not on the host of its actor")
    await assert_nothing_stored(scene.victim, activity)


async def test_object_attributed_to_another_actor_is_refused(scene: Scene) -> None:
    eve = await _attacker(scene.evil, "eve")
    for author in (scene.alice.uri, eve.uri, [{"type": "Person", "id": eve.uri}]):
        activity = create_note(scene.mallory, attributedTo=author)
        refused(await send(scene, activity), 403, "attributed to")
        await assert_nothing_stored(scene.victim, activity)


async def test_delete_of_someone_elses_note_changes_nothing(scene: Scene) -> None:
    posted = await scene.victim.post_outbox(
        "alice", scene.alice_token, {"type": "Note", "content": "mine"}
    )
    note_uri = posted.json()["object"]["id"]
    for obj in (note_uri, {"id": note_uri, "type": "Tombstone"}):
        activity = {
            "id": scene.mallory.activity_id(),
            "type": "Delete",
            "actor": scene.mallory.uri,
            "object": obj,
        }
        response = await send(scene, activity)
        # A bare id cannot be judged before processing; an embedded object on our host can.
        assert response.status_code == (202 if isinstance(obj, str) else 403), response.text
        await settle(scene.victim)
    note = await stored_note(scene.victim, note_uri)
    assert note is not None and note.deleted_at is None and "mine" in note.content


# --- the body -----------------------------------------------------------------------------


async def test_oversized_body_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory, "<p>" + "x" * 1_100_000 + "</p>")
    refused(await send(scene, activity), 413, "larger than")
    await assert_nothing_stored(scene.victim, activity)


async def test_oversized_streamed_body_without_length_is_refused(scene: Scene) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(200):
            yield b"x" * 10_000

    headers = {"Content-Type": ACTIVITY_JSON}
    async with scene.victim.client() as client:
        response = await client.post("/inbox", content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    refused(response, 413, "larger than")
    assert await inbox_rows(scene.victim) == 0


async def test_declared_content_length_over_the_limit_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    headers = sign("https://victim.test/inbox", body, scene.mallory.key_id, scene.mallory.key)
    headers["Content-Length"] = "5000000"
    response = await post(scene.victim, "/inbox", body, headers)
    refused(response, 413, "larger than 1000000 bytes")
    await assert_nothing_stored(scene.victim, activity)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_refused(scene: Scene, content_type: str) -> None:
    activity = create_note(scene.mallory)
    response = await send(scene, activity, content_type=content_type)
    refused(response, 415, "application/activity+json")
    await assert_nothing_stored(scene.victim, activity)


async def test_ld_json_content_type_is_accepted(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    content_type = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    response = await send(scene, activity, content_type=content_type)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2, 3]", "must be a JSON object"),
        (b'"Create"', "must be a JSON object"),
        (b'{"type": "Create", "actor": "https://evil.test/users/mallory"}', "string 'id'"),
        (b'{"id": 5, "type": "Create", "actor": "https://evil.test/users/mallory"}', "'id'"),
        (b'{"id": "https://evil.test/a/1", "actor": "https://evil.test/users/mallory"}', "'type'"),
        (b'{"id": "https://evil.test/a/1", "type": "Create"}', "'actor'"),
    ],
)
async def test_malformed_activity_is_refused(scene: Scene, body: bytes, reason: str) -> None:
    response = await send(scene, body)
    refused(response, 400, reason)
    assert await inbox_rows(scene.victim) == 0


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1" * 5000, "4300 digits"),
        ("NaN", "NaN is not a JSON value"),
        ("Infinity", "Infinity is not a JSON value"),
        ("-Infinity", "Infinity is not a JSON value"),
        ("1e999999", "out of range"),
        ('"a\\u0000b"', "NUL"),
        ('{"k\\u0000": 1}', "NUL"),
    ],
    ids=["huge-int", "nan", "inf", "-inf", "float-overflow", "nul", "nul-key"],
)
async def test_json_the_database_cannot_hold_is_refused(
    scene: Scene, value: str, reason: str
) -> None:
    """Python parses these, but storing them fails (PostgreSQL) or crashes (huge ints)."""
    activity = create_note(scene.mallory)
    activity["extra"] = "__VALUE__"
    body = json.dumps(activity).replace('"__VALUE__"', value).encode()
    refused(await send(scene, body), 400, reason)
    await assert_nothing_stored(scene.victim, activity)


async def test_nul_in_note_content_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory, "<p>a\u0000b</p>")
    refused(await send(scene, activity), 400, "NUL")
    await assert_nothing_stored(scene.victim, activity)


@pytest.mark.parametrize("depth", [100_000, 910, 100])
@pytest.mark.parametrize("where", ["top", "object", "extra"])
@pytest.mark.parametrize("kind", ["list", "dict"])
async def test_deeply_nested_json_is_a_client_error(
    scene: Scene, depth: int, where: str, kind: str
) -> None:
    """Too deep for the parser, or parseable but too deep to store and process safely."""
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    nested = opening * depth + ("" if kind == "list" else "1") + closing * depth
    if where == "top":
        text = nested
    else:
        activity = create_note(scene.mallory)
        activity[where] = "__NESTED__"
        text = json.dumps(activity).replace('"__NESTED__"', nested)
    response = await send(scene, text.encode())
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert isinstance(response.json()["error"], str)
    assert await inbox_rows(scene.victim) == 0
    # The server is still fine afterwards.
    assert (await send(scene, create_note(scene.mallory))).status_code == 202


async def test_reasonably_nested_json_is_accepted(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    activity["object"]["tag"] = [{"type": "Hashtag", "name": "#x", "extra": [[[[{"a": [1]}]]]]}]
    activity["object"]["extension"] = json.loads("[" * 30 + "]" * 30)
    response = await send(scene, activity)
    assert response.status_code == 202, response.text
    await settle(scene.victim)
    assert await stored_note(scene.victim, activity["object"]["id"]) is not None


async def test_overlong_activity_id_is_refused(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    activity["id"] += "x" * 2100
    refused(await send(scene, activity), 400, "longer than 2048")
    assert await inbox_rows(scene.victim) == 0


def _actor_host(network: Network, host: str, **fields: Any) -> Attacker:
    """A non-Our-Design server at `host` serving one actor document, with its key."""
    private_pem, public_pem = generate_rsa_pem()
    uri = f"https://{host}/users/x"
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri,
        "type": "Person",
        "preferredUsername": "x",
        "inbox": f"{uri}/inbox",
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
        **fields,
    }

    async def actor(request: Request) -> Response:
        return Response(json.dumps(doc), media_type=ACTIVITY_JSON)

    network.add(host, Starlette(routes=[Route("/users/x", actor)]))
    return Attacker(host, uri, f"{uri}#main-key", load_rsa_private_pem(private_pem))


@pytest.mark.parametrize(
    "fields",
    [
        {"preferredUsername": "u" * 300},
        {"url": "https://far.test/" + "p" * 2100},
        {"inbox": "https://far.test/users/x/" + "i" * 2100},
        {"followers": "https://far.test/" + "f" * 2100},
        {"endpoints": {"sharedInbox": "https://far.test/" + "s" * 2100}},
    ],
    ids=["username", "url", "inbox", "followers", "sharedInbox"],
)
async def test_actor_document_with_overlong_fields_is_refused(
    scene: Scene, fields: dict[str, Any]
) -> None:
    """Such a document must be refused as invalid, not crash on the database's column size."""
    far = _actor_host(scene.network, "far.test", **fields)
    activity = create_note(far)
    refused(await send(scene, activity, attacker=far), 422, "longer than")
    await assert_nothing_stored(scene.victim, activity)
    async with scene.victim.instance.sessions() as session:
        assert await session.scalar(select(Actor).where(Actor.uri == far.uri)) is None


@pytest.mark.parametrize("field", ["preferredUsername", "url", "inbox"])
async def test_actor_document_with_nul_in_an_identifier_is_refused(
    scene: Scene, field: str
) -> None:
    value = {"preferredUsername": "x\u0000", "url": "https://far.test/@x\u0000"}.get(
        field, "https://far.test/users/x/inbox\u0000"
    )
    far = _actor_host(scene.network, "far.test", **{field: value})
    activity = create_note(far)
    refused(await send(scene, activity, attacker=far), 422, "NUL")
    await assert_nothing_stored(scene.victim, activity)


async def test_actor_with_nul_in_its_name_and_summary_is_accepted_without_it(
    scene: Scene,
) -> None:
    far = _actor_host(scene.network, "far.test", name="Eve\u0000Ni", summary="<p>\u0000hi</p>")
    response = await send(scene, create_note(far), attacker=far)
    assert response.status_code == 202, response.text
    copy = await _victims_copy(scene, far.uri)
    assert (copy.name, copy.summary) == ("EveNi", "<p>hi</p>")


async def test_actor_with_an_overlong_name_is_accepted_with_the_name_cut(scene: Scene) -> None:
    far = _actor_host(scene.network, "far.test", name="N" * 300)
    activity = create_note(far)
    response = await send(scene, activity, attacker=far)
    assert response.status_code == 202, response.text
    assert (await _victims_copy(scene, far.uri)).name == "N" * 255


# --- what gets stored ---------------------------------------------------------------------


async def test_script_injection_is_sanitised(scene: Scene) -> None:
    content = (
        '<p>hi <script>alert(1)</script><img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)">click</a> '
        '<a href="https://example.org/ok" onclick="alert(4)" onmouseover="alert(5)">ok</a>'
        '<span style="background:url(javascript:alert(6))" onerror="alert(7)">s</span>'
        '<iframe src="https://evil.test/"></iframe><svg onload="alert(8)"></svg></p>'
    )
    activity = create_note(scene.mallory, content)
    assert (await send(scene, activity)).status_code == 202
    await settle(scene.victim)
    note = await stored_note(scene.victim, activity["object"]["id"])
    assert note is not None
    stored = note.content.lower()
    for bad in ("<script", "alert(", "onerror", "onclick", "onmouseover", "onload", "javascript:",
                "<img", "<iframe", "<svg", "style="):  # fmt: skip
        assert bad not in stored, (bad, note.content)
    assert "https://example.org/ok" in stored and ">ok</a>" in stored and "hi" in stored


async def test_a_content_warning_is_stored_as_plain_text(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    activity["object"]["summary"] = '<b onclick="x()">Spiders</b> &amp; <script>alert(1)</script>'
    assert (await send(scene, activity)).status_code == 202
    await settle(scene.victim)
    note = await stored_note(scene.victim, activity["object"]["id"])
    assert note is not None and note.summary == "Spiders &"


async def test_script_injection_in_content_map_is_sanitised(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    del activity["object"]["content"]
    activity["object"]["contentMap"] = {"en": "<p>map<script>alert(1)</script></p>"}
    assert (await send(scene, activity)).status_code == 202
    await settle(scene.victim)
    note = await stored_note(scene.victim, activity["object"]["id"])
    assert note is not None and "map" in note.content and "script" not in note.content


# --- keys ---------------------------------------------------------------------------------


async def _victims_copy(scene: Scene, uri: str) -> Actor:
    async with scene.victim.instance.sessions() as session:
        actor = await session.scalar(select(Actor).where(Actor.uri == uri))
    assert actor is not None
    return actor


async def _age_key(scene: Scene, uri: str, seconds: int) -> None:
    """Pretend the victim fetched the actor's key `seconds` ago."""
    async with scene.victim.instance.sessions() as session:
        await session.execute(
            update(Actor)
            .where(Actor.uri == uri)
            .values(key_fetched_at=utcnow() - dt.timedelta(seconds=seconds))
        )
        await session.commit()


async def _rotate(node: Node, uri: str) -> rsa.RSAPrivateKey:
    private_pem, public_pem = generate_rsa_pem()
    async with node.instance.sessions() as session:
        await session.execute(
            update(Actor)
            .where(Actor.uri == uri)
            .values(private_key_pem=private_pem, public_key_pem=public_pem)
        )
        await session.commit()
    return load_rsa_private_pem(private_pem)


async def test_key_rotation_is_picked_up_after_the_refetch_interval(scene: Scene) -> None:
    mallory = scene.mallory
    assert (await send(scene, create_note(mallory))).status_code == 202
    old_pem = (await _victims_copy(scene, mallory.uri)).public_key_pem

    new_key = await _rotate(scene.evil, mallory.uri)
    rotated = create_note(mallory, "<p>after rotation</p>")
    # Fetched moments ago: the victim does not refetch yet, so the new key is not known.
    fetches = requests_to(scene.network, "evil.test")
    refused(await send(scene, rotated, key=new_key), 401, "does not verify")
    assert requests_to(scene.network, "evil.test") == fetches
    assert await inbox_rows(scene.victim, rotated["id"]) == 0

    await _age_key(scene, mallory.uri, HOUR)
    response = await send(scene, rotated, key=new_key)
    assert response.status_code == 202, response.text
    assert requests_to(scene.network, "evil.test") == fetches + 1
    copy = await _victims_copy(scene, mallory.uri)
    assert copy.public_key_pem != old_pem
    await settle(scene.victim)
    note = await stored_note(scene.victim, rotated["object"]["id"])
    assert note is not None and "after rotation" in note.content

    # The old key no longer works.
    refused(await send(scene, create_note(mallory)), 401, "does not verify")


async def test_rotation_to_a_new_key_id_is_fetched_at_once(scene: Scene) -> None:
    mallory = scene.mallory
    assert (await send(scene, create_note(mallory))).status_code == 202
    new_key = await _rotate(scene.evil, mallory.uri)
    new_key_id = f"{mallory.uri}#key-2"
    async with scene.evil.instance.sessions() as session:
        await session.execute(
            update(Actor).where(Actor.uri == mallory.uri).values(public_key_id=new_key_id)
        )
        await session.commit()
    renamed = Attacker("evil.test", mallory.uri, new_key_id, new_key)
    # The victim fetched the actor moments ago, but has never seen this key id.
    response = await send(scene, create_note(renamed), attacker=renamed)
    assert response.status_code == 202, response.text
    copy = await _victims_copy(scene, mallory.uri)
    assert copy.public_key_id == new_key_id
    async with scene.victim.instance.sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Actor).where(Actor.uri == mallory.uri)
        )
    assert rows == 1
    # The old key id is gone from the victim's cache, so it must be fetched, and fails: a
    # key its actor no longer lists authenticates nobody (401).
    refused(await send(scene, create_note(mallory)), 401, "does not belong")


async def test_forged_key_causes_one_refetch_not_a_storm(scene: Scene) -> None:
    mallory = scene.mallory
    assert (await send(scene, create_note(mallory))).status_code == 202
    await _age_key(scene, mallory.uri, HOUR)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    before = requests_to(scene.network, "evil.test")
    forged = create_note(mallory, "<p>forged</p>")
    refused(await send(scene, forged, key=forger), 401, "does not verify")
    assert requests_to(scene.network, "evil.test") == before + 1  # one refetch, same key

    for _ in range(5):
        again = create_note(mallory, "<p>forged again</p>")
        refused(await send(scene, again, key=forger), 401, "does not verify")
        await assert_nothing_stored(scene.victim, again)
    assert requests_to(scene.network, "evil.test") == before + 1
    await assert_nothing_stored(scene.victim, forged)
    # The genuine key still works.
    assert (await send(scene, create_note(mallory))).status_code == 202


async def test_forged_key_for_an_unknown_key_id_is_refused(scene: Scene) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    activity = create_note(scene.mallory)
    refused(await send(scene, activity, key=forger), 401, "does not verify")
    await assert_nothing_stored(scene.victim, activity)
    assert requests_to(scene.network, "evil.test") == 1


async def test_forged_signature_with_a_local_key_id_fetches_nothing(scene: Scene) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alice = Attacker("victim.test", scene.alice.uri, scene.alice.public_key_id, forger)
    activity = create_note(alice)
    refused(await send(scene, activity, attacker=alice), 401, "does not verify")
    await assert_nothing_stored(scene.victim, activity)
    assert [r for r in scene.network.requests if r.method == "GET"] == []


async def test_key_id_whose_document_names_another_key_is_refused(scene: Scene) -> None:
    liar = Attacker(
        "evil.test", scene.mallory.uri, f"{scene.mallory.uri}#other-key", scene.mallory.key
    )
    activity = create_note(liar)
    response = await send(scene, activity, attacker=liar)
    assert response.status_code in (401, 403), response.text
    assert "other-key" in response.json()["error"]
    await assert_nothing_stored(scene.victim, activity)


async def test_unreachable_key_is_refused(scene: Scene) -> None:
    scene.network.down.add("evil.test")
    activity = create_note(scene.mallory)
    refused(await send(scene, activity), 401, "could not fetch the signing key")
    await assert_nothing_stored(scene.victim, activity)


# --- private addresses --------------------------------------------------------------------


@pytest.fixture
async def loopback_hits() -> AsyncIterator[tuple[int, list[int]]]:
    """A server on 127.0.0.1 that would happily serve an actor; it counts connections."""
    hits: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(1)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], hits


async def test_private_address_key_is_never_fetched(
    scene: Scene, loopback_hits: tuple[int, list[int]]
) -> None:
    port, hits = loopback_hits
    settings = Settings(domain="victim.test", allow_private_addresses=False)
    sessions = scene.victim.instance.sessions
    async with build_http_client(settings) as client:
        resolver = ActorResolver(sessions, client, settings, lambda: None)
        for key_id in (f"http://127.0.0.1:{port}/actor#main-key", f"http://localhost:{port}/a"):
            with pytest.raises(UnsafeURLError):
                await resolver.actor_for_key(key_id)
            with pytest.raises(UnsafeURLError):
                await resolver.get_actor(key_id)

        receiver = Receiver(sessions, resolver, window=HOUR)
        loopback = f"http://127.0.0.1:{port}/actor"
        attacker = Attacker(f"127.0.0.1:{port}", loopback, f"{loopback}#k", scene.mallory.key)
        activity = create_note(attacker)
        activity["id"] = f"http://127.0.0.1:{port}/activities/1"
        body = json.dumps(activity).encode()
        url = "https://victim.test/inbox"
        headers = sign(url, body, attacker.key_id, attacker.key)
        with pytest.raises(SignatureError) as caught:
            await receiver.receive("POST", url, headers, body)
    assert caught.value.status == 401
    assert "private or local address" in caught.value.message
    await asyncio.sleep(0.05)
    assert hits == []
    assert await inbox_rows(scene.victim) == 0

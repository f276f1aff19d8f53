"""Side doors around the inbox's signature check, tried by a hostile instance.

A signature made for another host, freshness claimed by unsigned parameters, a key whose
document gives it to another actor, and keyIds that cannot be fetched: each is refused
with a 401, stores nothing, and a failing key is not fetched again on every request.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from actors.key_failures import KeyFailureMemory, KeyFetchRefused
from federation.digests import sha256_digest_header
from federation.errors import FetchError
from federation.signatures import sign_cavage
from tests.test_hostile_inbox import (
    ACTIVITY_JSON,
    HOUR,
    Attacker,
    Scene,
    assert_nothing_stored,
    create_note,
    post,
    refused,
    requests_to,
    scene,
    send,
)

__all__ = ["scene"]  # the fixture, used by name


async def test_signature_made_for_another_host_is_refused(scene: Scene) -> None:
    """A request signed for other.test (Host: other.test) is replayed to us unchanged."""
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    elsewhere = "https://other.test/inbox"
    headers = {"Content-Type": ACTIVITY_JSON}
    headers.update(
        sign_cavage("POST", elsewhere, headers, body, scene.mallory.key_id, scene.mallory.key)
    )
    assert headers["Host"] == "other.test"
    refused(await post(scene.victim, "/inbox", body, headers), 401, "does not verify")
    await assert_nothing_stored(scene.victim, activity)
    # The same request signed for our domain is accepted: the host line is what differs.
    assert (await send(scene, create_note(scene.mallory))).status_code == 202


def _hand_signed(
    attacker: Attacker, body: bytes, covered: str, extra_params: str, date: str | None
) -> dict[str, str]:
    """A cavage signature over `covered`, with unsigned `extra_params` beside it."""
    lines = {
        "(request-target)": "(request-target): post /inbox",
        "host": "host: victim.test",
        "digest": f"digest: {sha256_digest_header(body)}",
        "date": f"date: {date}",
    }
    base = "\n".join(lines[name] for name in covered.split()).encode()
    signature = base64.b64encode(attacker.key.sign(base, padding.PKCS1v15(), hashes.SHA256()))
    headers = {"Content-Type": ACTIVITY_JSON, "Digest": sha256_digest_header(body)}
    if date is not None:
        headers["Date"] = date
    headers["Signature"] = (
        f'keyId="{attacker.key_id}",algorithm="hs2019",headers="{covered}",{extra_params}'
        f'signature="{signature.decode()}"'
    )
    return headers


async def test_unsigned_created_does_not_count_as_freshness(scene: Scene) -> None:
    """A captured request with no Date would be replayable forever if an unsigned created=
    (which anyone can rewrite to now) made it look fresh."""
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    now = int(time.time())
    headers = _hand_signed(
        scene.mallory, body, "(request-target) host digest", f"created={now},", None
    )
    refused(await post(scene.victim, "/inbox", body, headers), 401, "neither a signed Date")
    await assert_nothing_stored(scene.victim, activity)


async def test_unsigned_expires_does_not_extend_a_stale_date(scene: Scene) -> None:
    activity = create_note(scene.mallory)
    body = json.dumps(activity).encode()
    stale = formatdate(time.time() - 2 * HOUR, usegmt=True)
    forever = f"expires={int(time.time()) + 10 * HOUR},"
    headers = _hand_signed(scene.mallory, body, "(request-target) host digest date", forever, stale)
    refused(await post(scene.victim, "/inbox", body, headers), 401, "old")
    await assert_nothing_stored(scene.victim, activity)


async def _mallory_document(scene: Scene) -> dict[str, Any]:
    async with scene.evil.client() as client:
        answer = await client.get(scene.mallory.uri, headers={"Accept": ACTIVITY_JSON})
    doc: dict[str, Any] = answer.json()
    return doc


async def test_key_owned_by_another_actor_is_an_authentication_failure(scene: Scene) -> None:
    """The keyId's document is an actor whose publicKey names mallory as its owner."""
    key_url = "https://evil.test/keys/borrowed"
    impostor = copy.deepcopy(await _mallory_document(scene))
    impostor["id"] = key_url
    scene.network.intercept["evil.test"] = lambda request: (
        httpx.Response(200, json=impostor, headers={"Content-Type": ACTIVITY_JSON})
        if request.url.path == "/keys/borrowed"
        else None
    )
    liar = Attacker("evil.test", scene.mallory.uri, key_url, scene.mallory.key)
    activity = create_note(liar)
    error = refused(await send(scene, activity, attacker=liar), 401, key_url)
    assert "owned by" in error
    await assert_nothing_stored(scene.victim, activity)


async def test_key_document_naming_an_owner_without_that_key_is_401(scene: Scene) -> None:
    key_url = "https://evil.test/keys/claimed"
    key_doc = {"id": key_url, "owner": scene.mallory.uri, "publicKeyPem": "x"}
    scene.network.intercept["evil.test"] = lambda request: (
        httpx.Response(200, json=key_doc, headers={"Content-Type": ACTIVITY_JSON})
        if request.url.path == "/keys/claimed"
        else None
    )
    liar = Attacker("evil.test", scene.mallory.uri, key_url, scene.mallory.key)
    activity = create_note(liar)
    refused(await send(scene, activity, attacker=liar), 401, "does not belong")
    await assert_nothing_stored(scene.victim, activity)


async def test_unknown_key_on_a_dead_host_is_fetched_once_within_the_ttl(scene: Scene) -> None:
    ghost = Attacker(
        "dead.test",
        "https://dead.test/users/ghost",
        "https://dead.test/users/ghost#main-key",
        scene.mallory.key,
    )
    for _ in range(12):
        activity = create_note(ghost)
        refused(await send(scene, activity, attacker=ghost), 401, "signing key")
        await assert_nothing_stored(scene.victim, activity)
    assert requests_to(scene.network, "dead.test") == 1
    # Another key on the same host is not fetched either: the host did not answer.
    other = Attacker(
        "dead.test", "https://dead.test/users/x", "https://dead.test/users/x#k", ghost.key
    )
    refused(await send(scene, create_note(other), attacker=other), 401, "failed moments ago")
    assert requests_to(scene.network, "dead.test") == 1

    # Once the entry is older than the TTL, the key is fetched again (once).
    memory = scene.victim.instance.resolver.key_failures
    memory.clock = lambda: time.monotonic() + memory.seconds + 1
    refused(await send(scene, create_note(ghost), attacker=ghost), 401, "signing key")
    assert requests_to(scene.network, "dead.test") == 2


async def test_a_missing_key_is_remembered_without_shutting_out_its_host(scene: Scene) -> None:
    """A 404 counts against that key only: the host's other actors still get in."""
    gone = Attacker(
        "evil.test",
        "https://evil.test/users/nobody",
        "https://evil.test/users/nobody#main-key",
        scene.mallory.key,
    )
    for _ in range(5):
        refused(await send(scene, create_note(gone), attacker=gone), 401, "signing key")
    fetched = [r for r in scene.network.requests if r.url.path == "/users/nobody"]
    assert len(fetched) == 1
    assert (await send(scene, create_note(scene.mallory))).status_code == 202


def test_the_failure_memory_is_bounded_and_forgets_after_its_ttl() -> None:
    now = [0.0]
    memory = KeyFailureMemory(300, max_entries=100, clock=lambda: now[0])
    gone = FetchError("https://x.test/k0 answered 404")
    for number in range(1000):
        memory.remember(f"https://h{number}.test/k", gone)
    assert len(memory._keys) == 100 and len(memory._hosts) == 0  # a 404 is not the host's
    with pytest.raises(KeyFetchRefused):
        memory.check("https://h999.test/k")
    memory.check("https://h0.test/k")  # the oldest went first
    now[0] = 301.0
    memory.check("https://h999.test/k")  # past the TTL: fetched again

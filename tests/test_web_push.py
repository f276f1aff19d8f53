"""Web Push: Mastodon's subscription API, pushes queued with notifications, and the worker
that encrypts (RFC 8291) and signs (RFC 8292) them for a real push service on loopback."""

from __future__ import annotations

from typing import Any

import httpx
from mastodon import Mastodon
from sqlalchemy import select

from actors.service import token_row
from federation.db import utcnow
from federation.http import build_http_client
from federation.leases import release_identities
from federation.queue import DONE, FAILED, PENDING
from federation.settings import Settings
from inbox.queue_admin import failed_rows, retry_failed
from objects.push_models import PushJob, PushSubscription, VapidKey
from outbox.push_worker import PushWorker
from tests.live import in_thread, live_server, wait_for
from tests.push_receiver import PushService, push_service, unb64url
from tests.support import Node, app_token, call, count, get
from web.ops.cli_worker import queue_names, queue_runners

PATH = "/api/v1/push/subscription"


def form(service: PushService, *alerts: str, policy: str = "all") -> dict[str, str]:
    """The form Mastodon.py sends."""
    keys = service.keys()
    fields = {
        "subscription[endpoint]": service.endpoint,
        "subscription[keys][p256dh]": keys["p256dh"],
        "subscription[keys][auth]": keys["auth"],
        "data[policy]": policy,
    }
    return fields | {f"data[alerts][{name}]": "true" for name in alerts}


async def server_key(node: Node) -> str:
    instance = (await get(node, "/api/v2/instance")).json()
    key: str = instance["configuration"]["vapid"]["public_key"]
    return key


async def jobs(node: Node) -> list[PushJob]:
    async with node.instance.sessions() as session:
        return list(await session.scalars(select(PushJob).order_by(PushJob.id)))


async def worker(node: Node, identity: str, **settings: Any) -> PushWorker:
    """A push worker whose HTTP client is the instance's kind (the SSRF guard), on loopback
    only where `allow_private_addresses` says so, as every loopback test does."""
    options = {"domain": node.domain, "allow_private_addresses": True} | settings
    async with node.instance.sessions() as session:
        vapid = await session.scalar(select(VapidKey))
    assert vapid is not None
    client = build_http_client(Settings(**options))
    return PushWorker(
        node.instance.sessions, client, node.instance.settings, vapid, identity=identity
    )


async def test_subscription_api_in_mastodons_shape(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    token = await app_token(a, alice, "push")  # push alone may subscribe
    service = PushService("https://push.example")
    assert (await get(a, PATH, token)).status_code == 404
    created = await call(a, "POST", PATH, token, data=form(service, "mention", "follow"))
    assert created.status_code == 200, created.text
    entity = created.json()
    assert entity["endpoint"] == service.endpoint and entity["policy"] == "all"
    assert entity["server_key"] == await server_key(a) != ""
    assert entity["alerts"]["mention"] and entity["alerts"]["follow"]
    assert not entity["alerts"]["favourite"] and entity["standard"] is True
    assert (await get(a, PATH, token)).json() == entity

    body = {"data": {"alerts": {"favourite": True, "mention": False}, "policy": "followed"}}
    changed = (await call(a, "PUT", PATH, token, json=body)).json()
    assert changed["alerts"]["favourite"] and changed["alerts"]["follow"]
    assert not changed["alerts"]["mention"] and changed["policy"] == "followed"
    # Subscribing again replaces the token's subscription.
    again = await call(a, "POST", PATH, token, data=form(service, "reblog"))
    assert again.json()["alerts"]["reblog"] and not again.json()["alerts"]["favourite"]
    assert await count(a, PushSubscription) == 1

    assert (await call(a, "DELETE", PATH, token)).json() == {}
    assert (await get(a, PATH, token)).status_code == 404
    assert await count(a, PushSubscription) == 0


async def test_bad_subscriptions_are_refused_and_change_nothing(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    token = await app_token(a, alice, "push")
    reader = await app_token(a, alice, "read")
    service = PushService("https://push.example")
    good = form(service, "mention")
    bad = [
        good | {"subscription[endpoint]": "ftp://push.example/x"},
        good | {"subscription[keys][p256dh]": "AAAA"},
        good | {"subscription[keys][auth]": "not base64!"},
        good | {"data[policy]": "friends"},
        {k: v for k, v in good.items() if k != "subscription[keys][auth]"},
    ]
    for fields in bad:
        answer = await call(a, "POST", PATH, token, data=fields)
        assert answer.status_code == 422, fields
        assert "error" in answer.json()
    assert (await call(a, "POST", PATH, reader, data=good)).status_code == 403
    assert (await call(a, "POST", PATH, data=good)).status_code == 401
    assert await count(a, PushSubscription) == 0


async def test_alerts_and_policy_decide_what_is_queued(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, alice_all = await a.user("alice")
    bob, bob_token = await a.user("bob")
    _, carol_token = await a.user("carol")
    service = PushService("https://push.example")
    token = await app_token(a, alice, "push")
    # Only follows, and only from people alice follows: bob follows first, so no push.
    await call(a, "POST", PATH, token, data=form(service, "follow", policy="followed"))
    follow = await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
    assert follow.status_code == 200, follow.text
    assert await jobs(a) == []
    # From followers: carol follows alice, and she is a follower by then.
    await call(a, "PUT", PATH, token, json={"data": {"policy": "follower"}})
    await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", carol_token)
    [job] = await jobs(a)
    assert job.state == PENDING
    # Alerts that are off queue nothing; policy none neither.
    await call(a, "PUT", PATH, token, json={"data": {"policy": "none"}})
    await call(a, "POST", f"/api/v1/accounts/{alice.id}/unfollow", carol_token)
    await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", carol_token)
    assert len(await jobs(a)) == 1
    assert (await call(a, "POST", f"/api/v1/accounts/{bob.id}/follow", alice_all)).is_success


async def test_a_push_is_encrypted_signed_and_sent_on_loopback(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    bob, bob_token = await a.user("bob")
    token = await app_token(a, alice, "push read")
    async with push_service() as service:
        await call(a, "POST", PATH, token, data=form(service, "follow"))
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
        sender = await worker(a, "one")
        assert await sender.run_once() == 1
        [push] = service.received
        payload = service.decrypt(push)
        claims = service.check_vapid(push, await server_key(a))
    assert claims["sub"].startswith(("mailto:", "https://"))
    [notification] = (await get(a, "/api/v1/notifications", token)).json()
    assert payload["notification_id"] == notification["id"]
    assert payload["notification_type"] == "follow"
    assert payload["title"] == "bob is now following you" or "bob" in payload["title"]
    assert set(payload) == {
        "access_token",
        "preferred_locale",
        "notification_id",
        "notification_type",
        "icon",
        "title",
        "body",
    }
    assert payload["icon"].startswith("http") and int(push.headers["ttl"]) > 0
    [job] = await jobs(a)
    assert job.state == DONE and job.attempts == 1 and job.last_status == 201
    assert bob.id != alice.id


async def test_retries_on_5xx_and_429_and_gone_removes_the_subscription(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    _, bob_token = await a.user("bob")
    token = await app_token(a, alice, "push")
    async with push_service() as service:
        await call(a, "POST", PATH, token, data=form(service, "follow", "mention"))
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
        sender = await worker(a, "one")
        service.answers = [503, 429]
        for status in (503, 429):
            assert await sender.run_once() == 1
            [job] = await jobs(a)
            assert job.state == PENDING and job.last_status == status
            await _due_now(a)
        assert await sender.run_once() == 1
        [job] = await jobs(a)
        assert job.state == DONE and job.attempts == 3
        # A second notification meets a push service that says the subscription is gone.
        await call(a, "POST", "/api/v1/statuses", bob_token, json={"status": "@alice hi"})
        pending = [j for j in await jobs(a) if j.state == PENDING]
        assert len(pending) == 1
        service.answers = [410]
        assert await sender.run_once() == 1
        assert len(service.received) == 4
    assert await count(a, PushSubscription) == 0 and await jobs(a) == []
    assert (await get(a, PATH, token)).status_code == 404


async def test_the_ssrf_guard_refuses_a_loopback_endpoint(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    _, bob_token = await a.user("bob")
    token = await app_token(a, alice, "push")
    async with push_service() as service:
        await call(a, "POST", PATH, token, data=form(service, "follow"))
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
        guarded = await worker(a, "guarded", allow_private_addresses=False)
        assert await guarded.run_once() == 1
        assert service.received == []
    [job] = await jobs(a)
    assert job.state == FAILED and "private or local address" in (job.last_error or "")
    admin, _ = await a.user("ada", role="admin")
    metrics = await get(a, "/metrics", await app_token(a, admin, "admin:read"))
    assert 'ourdesign_push_queue{state="failed"} 1' in metrics.text, metrics.text


async def test_a_crash_after_sending_sends_again(nodes: Any) -> None:
    """At least once: a worker that dies after the push service took a push, before it
    wrote so, leaves the job due again, and the next worker sends it again."""
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    _, bob_token = await a.user("bob")
    token = await app_token(a, alice, "push")
    async with push_service() as service:
        await call(a, "POST", PATH, token, data=form(service, "follow"))
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
        crashing = await worker(a, "crashing")
        lease = crashing.leases.token()
        async with a.instance.sessions() as session:
            [claimed] = await crashing.leases.claim(session, lease, limit=10)
            push = await crashing._push_of(session, claimed)
            await session.commit()
        assert push is not None
        await crashing._send(push)  # sent; the process dies before writing the outcome
        assert len(service.received) == 1 and (await jobs(a))[0].state == PENDING
        # The next process releases what the dead one held, and sends again.
        assert await release_identities(a.instance.sessions, ["crashing"]) == 1
        assert await (await worker(a, "next")).run_once() == 1
        first, second = (service.decrypt(p) for p in service.received)
    assert first["notification_id"] == second["notification_id"]
    [job] = await jobs(a)
    assert job.state == DONE


async def test_the_instances_own_worker_pushes(new_database: Any, tmp_path: Any) -> None:
    """A real instance on loopback, its workers running: the key made at its first start is
    the one that signs, and stays the same after a restart."""
    database = await new_database()
    async with live_server(database, tmp_path / "a") as a, push_service() as service:
        alice, _ = await a.user("alice")
        _, bob_token = await a.user("bob")
        key = await server_key_live(a)
        async with httpx.AsyncClient(base_url=f"http://{a.domain}") as client:
            token = await app_token(a, alice, "push")
            headers = {"Authorization": f"Bearer {token}"}
            created = await client.post(PATH, data=form(service, "follow"), headers=headers)
            assert created.json()["server_key"] == key
            follow = await client.post(
                f"/api/v1/accounts/{alice.id}/follow",
                headers={"Authorization": f"Bearer {bob_token}"},
            )
            assert follow.status_code == 200, follow.text
        push = await wait_for(lambda: service.received and service.received[0])
        assert service.decrypt(push)["notification_type"] == "follow"
        service.check_vapid(push, key)
    async with live_server(database, tmp_path / "a") as again:
        assert await server_key_live(again) == key


async def server_key_live(node: Node) -> str:
    async with httpx.AsyncClient(base_url=f"http://{node.domain}") as client:
        key: str = (await client.get("/api/v2/instance")).json()["configuration"]["vapid"][
            "public_key"
        ]
    return key


async def _due_now(node: Node) -> None:
    """Skip the backoff (the test does not wait ten seconds)."""
    async with node.instance.sessions() as session:
        for job in await session.scalars(select(PushJob)):
            job.next_attempt_at = job.created_at
        await session.commit()


async def test_mastodon_py_subscribes_and_its_app_reads_the_push(
    new_database: Any, tmp_path: Any
) -> None:
    """Mastodon.py's push calls (it sends standard base64 keys, and `policy` outside
    `data`), and the app's next step: fetching the notification the push names."""
    async with live_server(await new_database(), tmp_path / "a") as a, push_service() as service:
        alice, _ = await a.user("alice")
        _, bob_token = await a.user("bob")
        token = await app_token(a, alice, "read push")
        client = await in_thread(Mastodon, access_token=token, api_base_url=f"http://{a.domain}")
        keys = {"pubkey": unb64url(service.keys()["p256dh"]), "auth": service.auth}
        subscribed = await in_thread(
            client.push_subscription_set,
            service.endpoint,
            keys,
            follow_events=True,
            mention_events=False,
            policy="follower",
        )
        key = await server_key_live(a)
        assert subscribed.server_key == key and subscribed.policy == "follower"
        assert subscribed.alerts.follow is True and subscribed.alerts.mention is False
        updated = await in_thread(client.push_subscription_update, policy="all")
        assert updated.policy == "all" and updated.alerts.follow is True
        assert (await in_thread(client.push_subscription)).id == updated.id
        async with httpx.AsyncClient(base_url=f"http://{a.domain}") as http:
            follow = await http.post(
                f"/api/v1/accounts/{alice.id}/follow",
                headers={"Authorization": f"Bearer {bob_token}"},
            )
            assert follow.status_code == 200, follow.text
        push = await wait_for(lambda: service.received and service.received[0])
        payload = service.decrypt(push)
        service.check_vapid(push, key)
        shown = await in_thread(client.notifications, id=payload["notification_id"])
        assert shown.type == "follow" and shown.account.username == "bob"
        await in_thread(client.push_subscription_delete)
        assert await count(a, PushSubscription) == 0


async def test_a_revoked_tokens_subscription_is_told_nothing(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    _, bob_token = await a.user("bob")
    _, carol_token = await a.user("carol")
    token = await app_token(a, alice, "push")
    async with push_service() as service:
        await call(a, "POST", PATH, token, data=form(service, "follow"))
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
        assert len(await jobs(a)) == 1
        async with a.instance.sessions() as session:
            row = await token_row(session, token)
            assert row is not None
            row.revoked_at = utcnow()  # as /oauth/revoke does
            await session.commit()
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", carol_token)
        assert len(await jobs(a)) == 1  # nothing new queued
        assert await (await worker(a, "one")).run_once() == 1
        assert service.received == []  # the queued one is dropped, not sent
    assert await count(a, PushSubscription) == 0 and await jobs(a) == []


async def test_a_given_up_push_is_listed_and_retried_by_hand(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, _ = await a.user("alice")
    _, bob_token = await a.user("bob")
    token = await app_token(a, alice, "push")
    async with push_service() as service:
        await call(a, "POST", PATH, token, data=form(service, "follow"))
        await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", bob_token)
        service.answers = [400]  # refused: not retried on its own
        assert await (await worker(a, "one")).run_once() == 1
        async with a.instance.sessions() as session:
            [given_up] = await failed_rows(session, "push")
            assert given_up.last_status == 400 and service.endpoint in given_up.what
            assert await retry_failed(session, "push", [given_up.id]) == 1
            await session.commit()
        assert await (await worker(a, "two")).run_once() == 1
        assert len(service.received) == 2
    [job] = await jobs(a)
    assert job.state == DONE


async def test_a_worker_process_can_run_the_push_queue(nodes: Any) -> None:
    a = await nodes("a.test")
    assert queue_names("push,delivery") == ["push", "delivery"]
    push = a.instance.push_worker
    assert push is not None
    assert queue_runners(a.instance, ["push"]) == [push.run_forever]

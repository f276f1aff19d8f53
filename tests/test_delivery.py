"""Durable delivery: outages, crashes mid-batch, retries, and signature fallback."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from sqlalchemy import func, select

from federation.db import utcnow
from objects.models import Note
from outbox.delivery import DeliveryWorker
from outbox.models import Delivery, RemoteHost
from tests.support import settle


async def _pair(nodes):
    """a.test's alice follows b.test's bob; returns (a, b, bob_token)."""
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice_token = await a.user("alice")
    _, bob_token = await b.user("bob")
    assert (
        await a.post_outbox("alice", alice_token, {"type": "Follow", "object": "@bob@b.test"})
    ).status_code == 201
    await settle(a, b)
    return a, b, bob_token


async def _post(b, token, text):
    response = await b.post_outbox("bob", token, {"type": "Note", "content": text})
    assert response.status_code == 201, response.text
    return response.json()["object"]["id"]


async def _deliveries(node):
    async with node.instance.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def _notes_on(node, uri):
    async with node.instance.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Note).where(Note.uri == uri))


def _later(node, seconds):
    node.instance.delivery_worker.clock = lambda: utcnow() + dt.timedelta(seconds=seconds)


async def test_delivery_succeeds_after_the_host_comes_back(nodes, network):
    a, b, token = await _pair(nodes)
    network.down.add("a.test")
    uri = await _post(b, token, "while you were out")
    await b.instance.delivery_worker.run_once()
    [row] = [d for d in await _deliveries(b) if d.state == "pending"]
    assert row.attempts == 1 and "ConnectError" in row.last_error
    assert row.next_attempt_at > utcnow()
    assert await b.instance.delivery_worker.run_once() == 0  # not due yet

    for step in range(1, 6):  # keeps failing: the host is marked unavailable
        _later(b, 7 * 3600 * step)
        await b.instance.delivery_worker.run_once()
    async with b.instance.sessions() as session:
        host = await session.get(RemoteHost, "a.test")
        assert host.unavailable_since is not None

    network.down.discard("a.test")
    _later(b, 7 * 3600 * 7)
    await b.instance.delivery_worker.run_once()
    await settle(a, b)
    assert await _notes_on(a, uri) == 1
    async with b.instance.sessions() as session:
        host = await session.get(RemoteHost, "a.test")
        assert host.unavailable_since is None and host.consecutive_failures == 0


async def test_unavailable_host_resumes_when_it_sends_us_something(nodes, network):
    a, b, token = await _pair(nodes)
    network.down.add("a.test")
    uri = await _post(b, token, "queued")
    for step in range(1, 6):
        _later(b, 7 * 3600 * step)
        await b.instance.delivery_worker.run_once()
    network.down.discard("a.test")
    b.instance.delivery_worker.clock = utcnow

    # a.test writes to b.test: b sees it is alive and makes its deliveries due now.
    alice_token = (await a.user("alice2"))[1]
    await a.post_outbox("alice2", alice_token, {"type": "Follow", "object": "@bob@b.test"})
    await settle(a, b)
    assert await _notes_on(a, uri) == 1


async def test_a_crash_mid_batch_loses_no_delivery(nodes, network):
    a, b, token = await _pair(nodes)
    c = await nodes("c.test")
    carol_token = (await c.user("carol"))[1]
    await c.post_outbox("carol", carol_token, {"type": "Follow", "object": "@bob@b.test"})
    await settle(a, b, c)
    uris = [await _post(b, token, f"post {i}") for i in range(5)]

    started, never = asyncio.Event(), asyncio.Event()

    async def hang(request):
        started.set()
        await never.wait()

    original = network.handle_async_request

    async def stalling(request):
        if request.url.host == "c.test":
            await hang(request)
        return await original(request)

    network.handle_async_request = stalling
    batch = asyncio.create_task(b.instance.delivery_worker.run_once())
    await asyncio.wait_for(started.wait(), 5)
    batch.cancel()  # the process dies here: nothing after this line of the batch runs
    await asyncio.gather(batch, return_exceptions=True)
    network.handle_async_request = original
    stuck = [d for d in await _deliveries(b) if d.host == "c.test" and d.state != "done"]
    assert len(stuck) == len(uris) and all(d.state == "pending" for d in stuck)

    restarted = DeliveryWorker(b.instance.sessions, b.instance.client, b.instance.settings)
    restarted.clock = lambda: utcnow() + dt.timedelta(minutes=3)  # past the dead worker's lease
    await restarted.run_once()
    await settle(a, b, c)
    for uri in uris:
        assert await _notes_on(a, uri) == 1
        assert await _notes_on(c, uri) == 1
    assert all(d.state == "done" for d in await _deliveries(b))


async def test_401_to_draft_cavage_retries_with_rfc9421_and_remembers(nodes, network):
    a, b, token = await _pair(nodes)

    def only_rfc9421(request: httpx.Request):
        if request.method == "POST" and "signature-input" not in request.headers:
            return httpx.Response(401, json={"error": "we only take RFC 9421"})
        return None

    network.intercept["a.test"] = only_rfc9421
    first = await _post(b, token, "first")
    await settle(a, b)
    assert await _notes_on(a, first) == 1
    async with b.instance.sessions() as session:
        assert (await session.get(RemoteHost, "a.test")).signature_dialect == "rfc9421"
    before = len(network.requests)
    second = await _post(b, token, "second")
    await settle(a, b)
    assert await _notes_on(a, second) == 1
    posts = [r for r in network.requests[before:] if r.method == "POST" and r.url.host == "a.test"]
    assert len(posts) == 1 and "signature-input" in posts[0].headers


async def test_4xx_is_final_but_429_retries_after_retry_after(nodes, network):
    _, b, token = await _pair(nodes)
    network.intercept["a.test"] = lambda r: httpx.Response(403, text="blocked")
    await _post(b, token, "refused")
    await b.instance.delivery_worker.run_once()
    refused = (await _deliveries(b))[-1]
    assert (refused.state, refused.attempts, refused.last_status) == ("failed", 1, 403)

    network.intercept["a.test"] = lambda r: httpx.Response(429, headers={"Retry-After": "3600"})
    await _post(b, token, "slow down")
    await b.instance.delivery_worker.run_once()
    limited = (await _deliveries(b))[-1]
    assert limited.state == "pending" and limited.last_status == 429
    assert limited.next_attempt_at >= utcnow() + dt.timedelta(seconds=3500)

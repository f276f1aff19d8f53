"""Deliver once, in order, and stop cleanly: leases under slow peers, kills and stops.

Real servers on loopback: a sink that answers slowly (tests.sink) receives from an origin
instance, whose deliveries are sent by in-process workers or by `ourdesign` processes that
the tests kill (-9) or stop (SIGTERM). Leases are short here so that a slow answer outlasts
one; they are renewed while the batch works."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal

from sqlalchemy import select

from federation.db import utcnow
from federation.leases import queue_models
from federation.queue import CANCELLED, DONE, PENDING, finish_held
from outbox.models import Delivery, OutboxActivity
from tests.origin import origin_settings, running_origin, start_process, stop_process
from tests.sink import running_sink, wait_until
from web.instance_start import open_instance


async def _all_done(origin, count):
    rows = await origin.deliveries()
    return len(rows) == count and all(row.state == DONE for row in rows)


async def _creation_order(origin, inbox_url):
    """The activity ids sent to `inbox_url`, in the order they were created."""
    async with origin.instance.sessions() as session:
        query = (
            select(OutboxActivity.uri)
            .join(Delivery, Delivery.activity_id == OutboxActivity.id)
            .where(Delivery.inbox_url == inbox_url, Delivery.state == DONE)
            .order_by(Delivery.id)
        )
        return list(await session.scalars(query))


async def test_two_workers_and_a_peer_slower_than_the_lease_send_each_delivery_once(
    new_database, tmp_path
):
    lease = 0.6
    async with running_sink(delay=1.5) as sink:  # each answer outlasts the lease
        inboxes = [sink.inbox(f"i{n}") for n in range(4)]
        settings = origin_settings(await new_database(), tmp_path / "a", queue_lease_seconds=lease)
        async with (
            running_origin(settings, inboxes) as origin,
            open_instance(settings.with_changes(data_dir=tmp_path / "b")) as second,
        ):
            for n in range(3):
                await origin.note(f"note {n}")
            stop = asyncio.Event()
            workers = [
                asyncio.create_task(origin.instance.delivery_worker.run_forever(stop)),
                asyncio.create_task(second.delivery_worker.run_forever(stop)),
            ]
            took = await wait_until(lambda: _all_done(origin, 12), 30)
            stop.set()
            await asyncio.gather(*workers)
            for inbox in inboxes:
                name = inbox.rsplit("/", 1)[-1]
                assert sink.order(name) == await _creation_order(origin, inbox)
    assert sink.delay > lease
    assert len(sink.answered) == 12 and sink.duplicates() == 0
    print(f"two workers, 12 deliveries, answers {sink.delay}s, lease {lease}s: {took:.1f}s, 0 dup")


async def test_a_worker_killed_mid_batch_resumes_at_once_and_resends_only_what_was_on_the_wire(
    new_database, tmp_path
):
    async with running_sink(delay=1.0) as sink:
        inboxes = [sink.inbox(f"i{n}") for n in range(8)]
        # A long lease: rows a dead worker held would wait a minute if nobody released them.
        settings = origin_settings(await new_database(), tmp_path / "a", queue_lease_seconds=60)
        async with running_origin(settings, inboxes) as origin:
            for n in range(4):
                await origin.note(f"note {n}")
            worker = await start_process(settings, tmp_path / "worker", "worker")
            await wait_until(lambda: len(sink.answered) >= 8 and sink.in_flight >= 8, 30)
            await asyncio.sleep(0.3)  # mid-attempt: the answers come a second apart
            on_the_wire = sink.in_flight
            await stop_process(worker, signal.SIGKILL)
            restarted = await start_process(settings, tmp_path / "worker", "worker")
            took = await wait_until(lambda: _all_done(origin, 32), 30)
            await stop_process(restarted, signal.SIGTERM)
    received = {(r.inbox, r.activity) for r in sink.answered}
    assert len(received) == 32  # nothing lost
    resent = len(sink.started) - 32
    assert on_the_wire > 0 and resent <= on_the_wire
    assert took < 15  # not the lease's 60 s: the restarted process released it at once
    print(f"kill -9: {on_the_wire} on the wire, {resent} POSTs resent, rest in {took:.1f}s")


async def test_sigterm_with_slow_peers_stops_within_15_seconds_and_loses_nothing(
    new_database, tmp_path
):
    async with running_sink(delay=60) as sink:  # peers that never answer in time
        inboxes = [sink.inbox(f"i{n}") for n in range(16)]
        settings = origin_settings(
            await new_database(),
            tmp_path / "a",
            queue_lease_seconds=30,
            http_timeout_seconds=60,
            delivery_concurrency=8,  # so each process claims 8 of the 16 inboxes
        )
        async with running_origin(settings, inboxes) as origin:
            for n in range(2):
                await origin.note(f"note {n}")
            data = tmp_path / "node"
            served = await start_process(settings, data, "serve", "--port", "0")
            worker = await start_process(settings, data, "worker")
            await wait_until(lambda: sink.in_flight >= 16, 30)
            stops = await asyncio.gather(
                stop_process(served, signal.SIGTERM), stop_process(worker, signal.SIGTERM)
            )
            rows = await origin.deliveries()
    assert max(stops) < 15, stops
    # uvicorn ends by re-raising the SIGTERM it caught, as systemd expects of a clean stop.
    assert served.returncode in (0, -signal.SIGTERM) and worker.returncode == 0
    assert len(rows) == 32 and all(row.state == PENDING for row in rows)
    assert all(row.lease_token is None and row.locked_until is None for row in rows)
    print(f"SIGTERM with peers answering in 60 s: serve {stops[0]:.1f}s, worker {stops[1]:.1f}s")


async def test_per_inbox_order_holds_across_an_outage_and_delete_cancels_unsent_creates(
    new_database, tmp_path
):
    async with running_sink() as sink:
        inboxes = [sink.inbox("x"), sink.inbox("y")]
        settings = origin_settings(await new_database(), tmp_path / "a")
        async with running_origin(settings, inboxes) as origin:
            worker = origin.instance.delivery_worker
            sink.down = True
            notes = [await origin.note(f"note {n}") for n in range(6)]
            assert await worker.run_once() == 2  # one head per inbox; the rest wait behind
            # note 0's Create was tried (the peer may have it); note 2's never was.
            for gone in (notes[2], notes[0]):
                await origin.post({"type": "Delete", "object": gone["object"]["id"]})
            for step in range(1, 4):
                worker.clock = lambda step=step: utcnow() + dt.timedelta(hours=step)
                await worker.run_once()  # still down: nothing overtakes the failing head
            sink.down = False
            worker.clock = lambda: utcnow() + dt.timedelta(hours=6)
            while await worker.run_once():
                pass
            rows = await origin.deliveries()
    creates = [n["id"] for n in notes]
    delete_of_0 = [r.activity for r in sink.answered if r.type == "Delete"]
    for name in ("x", "y"):
        assert sink.order(name) == [*creates[1:2], *creates[3:], *delete_of_0[:1]]
    assert len(delete_of_0) == 2  # one per inbox, of note 0 only: note 2 was never sent
    assert {r.state for r in rows} == {DONE, CANCELLED}
    assert sum(r.state == CANCELLED for r in rows) == 4  # two Creates, to two inboxes


async def test_a_delete_waits_for_its_create_already_on_the_wire(new_database, tmp_path):
    async with running_sink(delay=1.0) as sink:
        settings = origin_settings(await new_database(), tmp_path / "a")
        async with running_origin(settings, [sink.inbox("x")]) as origin:
            worker = origin.instance.delivery_worker
            note = await origin.note("quickly regretted")
            sending = asyncio.create_task(worker.run_once())
            await wait_until(lambda: sink.in_flight == 1, 10)
            await origin.post({"type": "Delete", "object": note["object"]["id"]})
            assert await worker.run_once() == 0  # the Delete waits behind its Create
            await sending
            assert await worker.run_once() == 1
            rows = await origin.deliveries()
    assert [r.state for r in rows] == [DONE, DONE]
    assert [r.type for r in sink.answered] == ["Create", "Delete"]


async def test_a_worker_whose_lease_ran_out_cannot_write_over_the_new_holder(
    new_database, tmp_path
):
    """The side door: an outcome written late, by a worker that lost its claim, changes
    nothing; every queue table has the token column the kernel relies on."""
    settings = origin_settings(await new_database(), tmp_path / "a", queue_lease_seconds=1)
    async with running_origin(settings, ["http://127.0.0.1:9/inbox/x"]) as origin:
        await origin.note("once")
        leases = origin.instance.delivery_worker.leases
        async with origin.instance.sessions() as session:
            [first] = await leases.claim(session, "late.1", limit=10)
            await session.commit()
        leases.clock = lambda: utcnow() + dt.timedelta(seconds=2)  # past the first lease
        async with origin.instance.sessions() as session:
            [second] = await leases.claim(session, "new.1", limit=10)
            late = await finish_held(session, Delivery, first.id, "late.1", {"state": DONE})
            await session.commit()
        [row] = await origin.deliveries()
    assert first.id == second.id and late is False
    assert row.state == PENDING and row.lease_token == "new.1"
    assert {m.__tablename__ for m in queue_models()} >= {
        "deliveries",
        "inbox_items",
        "outgoing_mail",
        "thumbnail_jobs",
    }


async def test_one_busy_inbox_does_not_crowd_out_the_others(new_database, tmp_path):
    settings = origin_settings(await new_database(), tmp_path / "a")
    async with running_origin(settings, ["http://127.0.0.1:9/inbox/busy"]) as origin:
        for n in range(6):
            await origin.note(f"backlog {n}")
        [first, *_] = await origin.deliveries()
        async with origin.instance.sessions() as session:
            session.add(
                Delivery(
                    activity_id=first.activity_id,
                    inbox_url="http://127.0.0.1:9/inbox/quiet",
                    host=first.host,
                    next_attempt_at=utcnow(),
                )
            )
            await session.commit()
        leases = origin.instance.delivery_worker.leases
        async with origin.instance.sessions() as session:
            claimed = await leases.claim(
                session, "w.1", limit=3, in_order_of=Delivery.inbox_url, per_key=2
            )
            await session.commit()
    inboxes = [row.inbox_url.rsplit("/", 1)[-1] for row in claimed]
    assert inboxes == ["busy", "busy", "quiet"]  # the two oldest of the busy one, in order
    assert claimed[0].id < claimed[1].id

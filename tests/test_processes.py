"""Many processes on one PostgreSQL database: `serve --workers N`, `worker --queues ...`,
and the LISTEN/NOTIFY that wakes each process when another commits (federation.notify).

The processes are real `ourdesign` processes on loopback ports. Their polls are a safety
net of SAFETY_POLL_SECONDS (5 s) once they hear notices, so each latency asserted below,
well under a second, holds only because the notice woke them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from federation.db import make_engine
from federation.notify import CONTENT, CommitNotices
from tests.live import free_port
from tests.origin import origin_settings, running_origin, start_process, stop_process
from tests.sink import running_sink, wait_until
from tests.support import ourdesign

ON_POSTGRES = pytest.mark.parametrize("new_database", ["postgresql"], indirect=True)
# Under the 5 s a process polls at while it hears notices, with room for a busy machine
# (the latency itself is printed here and measured by bench/scale.py, not judged).
PROMPT_SECONDS = 2.0


@contextlib.asynccontextmanager
async def ourdesign_process(
    settings, data_dir: Path, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await start_process(settings, data_dir, *args)
    try:
        yield process
    finally:
        await stop_process(process, signal.SIGTERM)


async def serving(port: int) -> None:
    async def ready() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"http://127.0.0.1:{port}/api/v1/streaming/health")
                return answer.status_code == 200
        return False

    await wait_until(ready, 60, step=0.1)


def web_children(pid: int) -> list[str]:
    """The processes uvicorn's supervisor (`pid`) started to serve requests."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    lines = [Path(f"/proc/{child}/cmdline").read_bytes() for child in children]
    return [line.decode() for line in lines if b"spawn_main" in line]


async def next_update(lines: AsyncIterator[str]) -> dict:
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "update":
            return json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream ended")


@ON_POSTGRES
async def test_a_note_posted_through_one_web_process_streams_and_shows_in_another(
    new_database, tmp_path
):
    settings = origin_settings(await new_database(), tmp_path / "setup")
    # Alice and her token (and a follower nobody delivers to: no queue workers run here).
    async with running_origin(settings, ["http://127.0.0.1:9/inbox/nobody"]) as origin:
        auth = {"Authorization": f"Bearer {origin.token}"}
    ports = free_port(), free_port()
    async with (
        ourdesign_process(
            settings, tmp_path / "a", "serve", "--port", str(ports[0]), "--no-queue-workers"
        ),
        ourdesign_process(
            settings, tmp_path / "b", "serve", "--port", str(ports[1]), "--no-queue-workers"
        ),
    ):
        await asyncio.gather(*(serving(port) for port in ports))
        writer = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", headers=auth)
        reader = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[1]}", headers=auth)
        async with (
            writer,
            reader,
            reader.stream("GET", "/api/v1/streaming/public/local", timeout=30) as stream,
        ):
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            took = []
            timeline = "/api/v1/timelines/public?local=true"
            for n in range(3):
                assert (await reader.get(timeline)).status_code == 200  # kept in B's cache
                posted = await writer.post("/api/v1/statuses", data={"status": f"note {n}"})
                assert posted.status_code == 200, posted.text
                began = time.monotonic()
                async with asyncio.timeout(10):
                    update = await next_update(lines)
                took.append(time.monotonic() - began)
                assert update["id"] == posted.json()["id"]
                # The notice that woke B's stream also made its kept answers stale.
                assert (await reader.get(timeline)).json()[0]["id"] == update["id"]
    print(f"streamed by the other web process after {', '.join(f'{t:.3f}' for t in took)} s")
    assert max(took) < PROMPT_SECONDS


@ON_POSTGRES
async def test_two_web_processes_queue_and_a_worker_process_sends_at_once(new_database, tmp_path):
    async with running_sink() as sink:
        settings = origin_settings(await new_database(), tmp_path / "setup")
        async with running_origin(settings, [sink.inbox("i0")]) as origin:
            auth = {"Authorization": f"Bearer {origin.token}"}
        port = free_port()
        async with (
            ourdesign_process(
                settings,
                tmp_path / "web",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--no-queue-workers",
            ) as web,
            ourdesign_process(settings, tmp_path / "worker", "worker", "--queues", "delivery"),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=auth) as client,
        ):
            await serving(port)
            assert len(web_children(web.pid)) == 2
            took = []
            for n in range(4):
                posted = await client.post(
                    "/users/alice/outbox", json={"type": "Note", "content": f"{n}"}
                )
                assert posted.status_code == 201, posted.text
                began = time.monotonic()
                # The first waits for the worker process to start.
                await wait_until(lambda n=n: len(sink.answered) > n, 60, step=0.01)
                took.append(time.monotonic() - began)
    print(f"sent by the worker process after {', '.join(f'{t:.3f}' for t in took[1:])} s")
    assert max(took[1:]) < PROMPT_SECONDS
    assert sink.duplicates() == 0


@ON_POSTGRES
async def test_a_notice_is_heard_only_once_its_transaction_commits(new_database, tmp_path):
    settings = origin_settings(await new_database(), tmp_path)
    engine = make_engine(settings)
    sender, listener = CommitNotices(), CommitNotices()
    sender.watch(engine)
    heard = asyncio.Event()
    listener.on(CONTENT, heard.set)
    stop = asyncio.Event()
    listening = asyncio.create_task(listener.listen_forever(settings.database_url, stop))
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        await asyncio.sleep(0.1)
        heard.clear()  # the catch-up call on connecting
        async with engine.connect() as conn:
            await conn.execute(text("DELETE FROM notes WHERE id = -1"))
            await conn.rollback()
            await conn.execute(text("DELETE FROM notes WHERE id = -1"))
            await asyncio.sleep(0.3)
            assert not heard.is_set()  # neither rolled back nor still open
            await conn.commit()
        await asyncio.wait_for(heard.wait(), 2)
    finally:
        stop.set()
        await listening
        await engine.dispose()


def test_many_web_processes_are_refused_on_sqlite(tmp_path):
    refused = ourdesign(tmp_path, "serve", "--workers", "2", check=False)
    assert refused.returncode == 2
    assert "--workers 2 needs PostgreSQL" in refused.stderr


def test_unknown_queues_are_refused(tmp_path):
    refused = ourdesign(tmp_path, "worker", "--queues", "inbox,outbox", check=False)
    assert refused.returncode == 2
    assert "not outbox" in refused.stderr and "delivery" in refused.stderr

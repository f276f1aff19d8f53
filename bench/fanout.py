"""Fan-out: one post to 5,000 followers on 500 remote hosts, delivered to a real sink server.

    python bench/fanout.py --db sqlite|postgresql [--followers 5000] [--hosts 500]
        [--workers 2] [--slow SECONDS] [--lease SECONDS]

The instance runs in this process with its workers; its HTTP client's connection pool maps
every host name (h0.sink.test ...) to a sink server in a child process on 127.0.0.1, so each
host still gets its own connections, Host header and signature. The database is seeded
directly with remote followers (10 per host, all with the host's shared inbox); the note is
posted through the C2S outbox. Prints the time from the POST to the sink's last delivery, and
the duplicates the sink received (0 expected, with any number of workers and however slowly
the peers answer: `--workers 2 --slow 3 --lease 2` makes each answer outlast the lease).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpcore
import httpx
from sqlalchemy import func, insert, select

# Run as `python bench/fanout.py`, this folder heads sys.path, and bench/inbox.py would shadow
# the project's `inbox` package; the project root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.service import create_person, create_token
from bench.common import (
    child,
    free_port,
    load_note,
    print_table,
    raw_exchange,
    temp_database,
    wait_ready,
)
from federation.http import DEFAULT_LIMITS
from federation.settings import Settings
from federation.vocab import PUBLIC
from outbox.models import Delivery
from web.app import create_app
from web.instance import Instance
from web.instance_start import open_instance

DOMAIN = "origin.bench.test"
USER = "poster"


class SinkBackend(httpcore.AsyncNetworkBackend):
    """Connects to the sink whatever host the URL names; TCP connections are counted."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connections += 1
        return await self._inner.connect_tcp(
            "127.0.0.1", self.port, timeout, local_address, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def sink_transport(backend: SinkBackend) -> httpx.AsyncHTTPTransport:
    """The production transport and limits, with the pool's sockets going to the sink."""
    transport = httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)
    transport._pool = httpcore.AsyncConnectionPool(
        max_connections=DEFAULT_LIMITS.max_connections,
        max_keepalive_connections=DEFAULT_LIMITS.max_keepalive_connections,
        keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=backend,
    )
    return transport


async def seed(instance: Instance, followers: int, hosts: int) -> tuple[Actor, str]:
    """A local poster with a token, and `followers` remote followers spread over `hosts`."""
    async with instance.sessions() as session:
        poster = await create_person(
            session, instance.urls, username=USER, email="poster@bench.test", password="benchmark"
        )
        token = await create_token(session, poster, "bench")
        await session.commit()
    rows: list[dict[str, Any]] = []
    for n in range(followers):
        host = f"h{n % hosts}.sink.test"
        uri = f"http://{host}/users/u{n}"
        rows.append(
            {
                "uri": uri,
                "type": "Person",
                "local": False,
                "username": f"u{n}",
                "domain": host,
                "inbox": f"{uri}/inbox",
                "shared_inbox": f"http://{host}/inbox",
                "public_key_id": f"{uri}#main-key",
                "public_key_pem": "(not used: followers only receive)",
            }
        )
    async with instance.engine.begin() as conn:
        await conn.execute(insert(Actor), rows)
        ids = (await conn.execute(select(Actor.id, Actor.uri).where(Actor.local.is_(False)))).all()
        await conn.execute(
            insert(Follow),
            [
                {
                    "uri": f"{uri}/follows/1",
                    "follower_id": actor_id,
                    "followee_id": poster.id,
                    "state": FOLLOW_ACCEPTED,
                }
                for actor_id, uri in ids
            ],
        )
    return poster, token


async def sink_stats(port: int) -> tuple[dict[str, int], float, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = b"GET /_stats HTTP/1.1\r\nHost: sink\r\n\r\n"
        stats = json.loads((await raw_exchange(reader, writer, request))[1])
    finally:
        writer.close()
    return stats["per_host"], stats["first"], stats["last"]


@contextlib.asynccontextmanager
async def more_workers(settings: Settings, backend: SinkBackend, count: int) -> AsyncIterator[None]:
    """`count` more delivery workers on the same database, each an instance of its own (its
    own engine, HTTP client and worker identity), as `ourdesign worker` processes would be."""
    async with contextlib.AsyncExitStack() as stack:
        stop = asyncio.Event()
        tasks = []
        for n in range(count):
            other = settings.with_changes(data_dir=settings.data_dir / f"worker{n}")
            instance = await stack.enter_async_context(
                open_instance(other, transport=sink_transport(backend))
            )
            tasks.append(asyncio.create_task(instance.delivery_worker.run_forever(stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def delivery_states(instance: Instance) -> dict[str, int]:
    async with instance.sessions() as session:
        query = select(Delivery.state, func.count()).group_by(Delivery.state)
        return {state: count for state, count in (await session.execute(query)).all()}


async def run(args: argparse.Namespace) -> None:
    sink_port = free_port()
    async with temp_database(args.db) as (url, data_dir):
        with child("sink", str(sink_port), str(args.slow)) as sink:
            await wait_ready(f"http://127.0.0.1:{sink_port}/_stats", sink)
            backend = SinkBackend(sink_port)
            settings = Settings(
                domain=DOMAIN,
                scheme="http",
                data_dir=data_dir,
                database_url=url,
                queue_lease_seconds=args.lease,
            )
            app = create_app(settings, transport=sink_transport(backend), run_workers=True)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{DOMAIN}"
                ) as client,
                more_workers(settings, backend, args.workers - 1),
            ):
                instance: Instance = app.state.instance
                started = time.perf_counter()
                _, token = await seed(instance, args.followers, args.hosts)
                print(f"seeded {args.followers} followers in {time.perf_counter() - started:.1f}s")

                load, cpu0, t0 = load_note(), time.process_time(), time.time()
                response = await client.post(
                    f"/users/{USER}/outbox",
                    json={
                        "type": "Note",
                        "content": "A new design: a cargo bike frame.",
                        "to": [PUBLIC],
                    },
                    headers={"Authorization": f"Bearer {token}"},
                )
                t_posted = time.time()
                deadline = time.monotonic() + args.timeout
                per_host, first, last = await sink_stats(sink_port)
                while len(per_host) < args.hosts and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)  # the sink reports the exact time of the last POST
                    per_host, first, last = await sink_stats(sink_port)
                states = await delivery_states(instance)
                while states.get("pending") and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                    states = await delivery_states(instance)
                t_recorded, cpu1 = time.time(), time.process_time()

    requests = sum(per_host.values())
    # One activity per host (shared inboxes): every request past the first to a host is a
    # duplicate.
    duplicates = requests - len(per_host)
    spent = (last - t0) if last else float("nan")
    print_table(
        "settings",
        [
            ("backend", args.db),
            ("followers", args.followers),
            ("hosts", args.hosts),
            (
                "delivery concurrency",
                f"{settings.delivery_concurrency} ({settings.delivery_per_host} per host)",
            ),
            ("delivery workers", args.workers),
            ("peer answers after s", args.slow),
            ("lease s (renewed)", args.lease),
            ("machine before posting", load),
        ],
    )
    print_table(
        "results",
        [
            ("outbox POST status", response.status_code),
            ("outbox POST took ms", (t_posted - t0) * 1000),
            ("delivery rows created", sum(states.values())),
            ("delivery rows by state", dict(sorted(states.items()))),
            ("requests received by the sink", requests),
            ("duplicates (0 expected)", duplicates),
            ("distinct hosts reached", len(per_host)),
            ("max requests per host", max(per_host.values(), default=0)),
            ("TCP connections opened", backend.connections),
            ("post -> first delivery s", (first - t0) if first else float("nan")),
            ("post -> last delivery s", spent),
            ("deliveries/s", requests / spent if requests else 0.0),
            ("all hosts reached", len(per_host) >= args.hosts),
            ("post -> rows all recorded s", t_recorded - t0),
            ("instance CPU (this process) s", cpu1 - cpu0),
        ],
    )
    if response.status_code != 201:
        print(f"  outbox answered: {response.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--followers", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after, s")
    parser.add_argument("--workers", type=int, default=1, help="delivery workers (1 or more)")
    parser.add_argument("--slow", type=float, default=0.0, help="the peers answer after, s")
    parser.add_argument("--lease", type=float, default=300.0, help="queue_lease_seconds")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

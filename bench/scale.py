"""Scaling out on PostgreSQL: 1 then 2 web processes, 1 then 2 worker processes.

    python bench/scale.py [--activities 3000] [--followers 2000] [--seconds 10]
                          [--clients 8]

Every process is a real `ourdesign` process on one throw-away PostgreSQL database:
`serve --workers N --no-queue-workers` for the web, `worker --queues inbox` or
`worker --queues delivery` for the work. Measured, for each count:

- pages: `--clients` keep-alive connections (raw HTTP from this process) GET alice's
  profile page for `--seconds`; requests/s, p99, and the RSS of `serve` (its supervisor
  and web processes together, the most seen while loaded);
- inbox processing: `--activities` signed Create(Note)s are accepted by the web process
  while no inbox worker runs; then the worker processes start, and the time until every
  one is processed gives processed/s;
- delivery: alice (followed by `--followers` remote actors, each with its own inbox on a
  sink server on loopback) posts while no delivery worker runs; then the worker
  processes start, and the time until the sink has every delivery gives deliveries/s.

On 2 cores shared with this load generator, the ideal growth from 1 to 2 is about 1.8x.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.models import FOLLOW_ACCEPTED, Actor, Follow
from actors.service import create_person, create_token
from bench.common import (
    child,
    free_port,
    latency_summary,
    load_note,
    print_table,
    raw_exchange,
    serve_http,
    server_env,
    temp_database,
    wait_ready,
)
from bench.inbox import make_actors, prepare, send_all
from federation.settings import Settings
from web.instance import open_instance

ROOT = Path(__file__).resolve().parent.parent
USER = "alice"


@contextlib.contextmanager
def ourdesign(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`ourdesign ARGS` as its own process; stopped with SIGTERM on exit."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OURDESIGN_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from web.ops.cli import main; main()", *args],
        env={**inherited, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def workers(env: dict[str, str], queue: str, count: int, data_dir: Path) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for n in range(count):
            own = env | {"OURDESIGN_DATA_DIR": str(data_dir / f"{queue}-{n}")}
            stack.enter_context(ourdesign(own, "worker", "--queues", queue))
        yield


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (Linux /proc), in MB."""
    return sum(process_rss_mb(pid))


def process_rss_mb(pid: int) -> list[float]:
    """Resident memory of a process and of each of its descendants, in MB."""
    found: list[float] = []
    pending = [pid]
    while pending:
        each = pending.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            status = Path(f"/proc/{each}/status").read_text()
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
            found.append(int(rss.split()[1]) / 1024)
            children = Path(f"/proc/{each}/task/{each}/children").read_text().split()
            pending += [int(child) for child in children]
    return found


async def seed(settings: Settings, sink_port: int, followers: int) -> str:
    """Alice, her token, and her followers, each with an inbox on the sink."""
    async with open_instance(settings) as instance:
        async with instance.sessions() as session:
            alice = await create_person(
                session, instance.urls, username=USER, email="a@bench.test", password="benchmark"
            )
            token = await create_token(session, alice, "bench")
            await session.commit()
        base = f"http://127.0.0.1:{sink_port}"
        rows = [
            {
                "uri": f"{base}/users/f{n}",
                "type": "Person",
                "local": False,
                "username": f"f{n}",
                "domain": f"127.0.0.1:{sink_port}",
                "inbox": f"{base}/inbox/f{n}",
                "public_key_id": f"{base}/users/f{n}#key",
                "public_key_pem": "(not used: followers only receive)",
            }
            for n in range(followers)
        ]
        async with instance.engine.begin() as conn:
            await conn.execute(insert(Actor), rows)
            ids = (await conn.execute(select(Actor.id).where(Actor.local.is_(False)))).scalars()
            follows = [
                {"uri": f"{base}/follows/{i}", "follower_id": i, "followee_id": alice.id}
                for i in ids
            ]
            await conn.execute(insert(Follow), [f | {"state": FOLLOW_ACCEPTED} for f in follows])
    return token


async def pages(port: int, clients: int, seconds: float, serve_pid: int) -> tuple[float, ...]:
    request = (
        f"GET /users/{USER} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    rss = [0.0, 0.0]
    stop = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            began = time.perf_counter()
            status, _ = await raw_exchange(reader, writer, request)
            latencies.append(time.perf_counter() - began)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    async def watch_rss() -> None:
        while time.perf_counter() < stop:
            each = process_rss_mb(serve_pid)
            rss[0], rss[1] = max(rss[0], sum(each)), max(rss[1], max(each, default=0.0))
            await asyncio.sleep(0.5)

    await client_warmup(port, request)
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)), watch_rss())
    spent = time.perf_counter() - began
    ok = statuses.get(200, 0)
    _, _, p99, _ = latency_summary(sorted(ms * 1000 for ms in latencies))
    return ok / spent, p99, rss[0], rss[1], sum(statuses.values()) - ok


async def client_warmup(port: int, request: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(20):
        await raw_exchange(reader, writer, request)
    writer.close()


async def count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar() or 0)


async def until(engine: AsyncEngine, sql: str, target: int, seconds: float = 600) -> float:
    """Seconds until `sql` counts `target` rows."""
    began = time.perf_counter()
    while await count(engine, sql) < target:
        if time.perf_counter() - began > seconds:
            raise SystemExit(f"gave up waiting for {target} rows of: {sql}")
        await asyncio.sleep(0.05)
    return time.perf_counter() - began


async def run(args: argparse.Namespace) -> None:
    sink_port, key_port = free_port(), free_port()
    actors, docs = make_actors(f"http://127.0.0.1:{key_port}", 20)

    def key_doc(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return (200, docs[path]) if method == "GET" and path in docs else (404, b"{}")

    key_server = await serve_http(key_doc, key_port)
    rows: list[tuple[str, object]] = []
    async with temp_database("postgresql") as (url, data_dir):
        engine = create_async_engine(url)
        with child("sink", str(sink_port)) as sink:
            await wait_ready(f"http://127.0.0.1:{sink_port}/_stats", sink)
            for processes in (1, 2):
                port = free_port()
                env = server_env(
                    port,
                    data_dir / "web",
                    url,
                    allow_private_addresses="true",
                    log_level="warning",
                    delivery_per_host="64",
                    delivery_concurrency="64",
                )
                if processes == 1:
                    settings = Settings.from_env(env)
                    token = await seed(settings, sink_port, args.followers)
                with ourdesign(
                    env,
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(processes),
                    "--no-queue-workers",
                ) as serve:
                    await wait_ready(f"http://127.0.0.1:{port}/.well-known/nodeinfo", serve)
                    rate, p99, rss, largest, errors = await pages(
                        port, args.clients, args.seconds, serve.pid
                    )
                    rows += [
                        (f"pages/s, {processes} web process(es)", rate),
                        ("  p99 ms", p99),
                        ("  RSS of serve MB, all its processes (max)", rss),
                        ("  RSS MB of its largest process (max)", largest),
                        ("  non-200 answers", errors),
                    ]
                    # The same serve processes take the inbox and the posts of both worker runs.
                    if processes == 2:
                        rows += await work_runs(args, env, port, engine, token, data_dir, actors)
                        rows.append(("RSS of serve MB after the work", tree_rss_mb(serve.pid)))
        await engine.dispose()
    key_server.close()
    print_table(
        "settings",
        [
            ("database", "PostgreSQL (throw-away)"),
            ("page clients, seconds", f"{args.clients}, {args.seconds}"),
            ("activities per inbox run", args.activities),
            ("followers per post", args.followers),
            ("machine", f"{load_note()}"),
        ],
    )
    print_table("results", rows)


async def rate_between(engine: AsyncEngine, table: str, column: str, ids: tuple[int, int]) -> float:
    """Rows of `table` with ids in (ids] finished per second, from the first finish to the
    last (so that a worker process's start is not counted)."""
    sql = (
        f"SELECT count(*), min({column}), max({column}) FROM {table}"
        f" WHERE id > {ids[0]} AND id <= {ids[1]} AND state = 'done'"
    )
    async with engine.connect() as conn:
        done, first, last = (await conn.execute(text(sql))).one()
    spent = (last - first).total_seconds() if first and last else 0.0
    return (done - 1) / spent if spent > 0 else float("nan")


async def max_id(engine: AsyncEngine, table: str) -> int:
    return await count(engine, f"SELECT coalesce(max(id), 0) FROM {table}")


async def work_runs(
    args: argparse.Namespace,
    env: dict[str, str],
    port: int,
    engine: AsyncEngine,
    token: str,
    data_dir: Path,
    actors: list[tuple[str, Any]],
) -> list[tuple[str, object]]:
    """For 1 then 2 worker processes: a backlog is queued while none runs, then they start."""
    rows: list[tuple[str, object]] = []
    warm = [prepare(port, uri, key, -1) for uri, key in actors]
    await send_all(port, warm, 8, "raw")  # the web process fetches and keeps each key
    with workers(env, "inbox", 1, data_dir):
        await until(engine, "SELECT count(*) FROM inbox_items WHERE state = 'done'", len(warm))
    for processes in (1, 2):
        first = await max_id(engine, "inbox_items")
        batch = [prepare(port, *actors[n % len(actors)], n) for n in range(args.activities)]
        results = await send_all(port, batch, 16, "raw")
        accepted = sum(1 for _, status, _ in results if status == 202)
        last = await max_id(engine, "inbox_items")
        done_sql = f"SELECT count(*) FROM inbox_items WHERE id > {first} AND state = 'done'"
        with workers(env, "inbox", processes, data_dir):
            await until(engine, done_sql, accepted)
        rate = await rate_between(engine, "inbox_items", "processed_at", (first, last))
        rows.append((f"inbox processed/s, {processes} worker process(es)", rate))

        first = await max_id(engine, "deliveries")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            posted = await client.post(
                f"/users/{USER}/outbox",
                json={"type": "Note", "content": f"run {processes}"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert posted.status_code == 201, posted.text
        last = await max_id(engine, "deliveries")
        done_sql = f"SELECT count(*) FROM deliveries WHERE id > {first} AND state = 'done'"
        with workers(env, "delivery", processes, data_dir):
            await until(engine, done_sql, last - first)
        rate = await rate_between(engine, "deliveries", "delivered_at", (first, last))
        rows.append((f"deliveries/s, {processes} worker process(es)", rate))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=3000)
    parser.add_argument("--followers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
